import Foundation
import Testing
@testable import KhareetatyCore

@Suite struct TimestampTests {
    let kuwait = TimestampParser(timeZone: TimeZone(identifier: "Asia/Kuwait")!)

    /// Reference: Foundation's ISO 8601 parser.
    func reference(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }

    @Test(arguments: ["2026-11-24T21:15:00+03:00", "2026-11-24T18:15:00Z", "1999-12-31T23:59:59-05:30", "2024-02-29T00:00:00+00:00"])
    func agreesWithFoundation(text: String) {
        #expect(kuwait.parse(Substring(text)) == reference(text))
    }

    @Test func randomInstantsAgreeWithFoundation() {
        var rng = SystemRandomNumberGenerator()
        let formatter = ISO8601DateFormatter()
        for _ in 0..<2_000 {
            let seconds = Int64.random(in: 0...4_102_444_800, using: &rng)
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(kuwait.parse(Substring(text)) == seconds, "\(text)")
        }
    }

    @Test func naiveTimesAreKuwaitLocal() {
        #expect(kuwait.parse("2026-11-24 21:15") == reference("2026-11-24T18:15:00Z"))
        #expect(kuwait.parse("2026-11-24") == reference("2026-11-23T21:00:00Z"))
        #expect(kuwait.parse("2026-11-24T21:15:30.250") == reference("2026-11-24T18:15:30Z"))
    }

    @Test(arguments: ["2026-02-30T10:00:00Z", "2026-13-01", "31/02/2026 10:00", "2026-11-24T25:00", "2026-11-24T10:00+3", "2026-11-24X", ""])
    func rejectsInvalid(text: String) {
        #expect(kuwait.parse(Substring(text)) == nil)
    }

    @Test func localDayUsesThePipelineZone() {
        // 22:30 UTC on the 24th is 01:30 on the 25th in Kuwait.
        let instant = reference("2026-11-24T22:30:00Z")!
        #expect(CivilDate.isoDate(days: Int(kuwait.localDay(of: instant))) == "2026-11-25")
        let utc = TimestampParser(timeZone: TimeZone(identifier: "UTC")!)
        #expect(CivilDate.isoDate(days: Int(utc.localDay(of: instant))) == "2026-11-24")
    }

    @Test func civilDatesRoundTrip() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (y, m, d) = CivilDate.civil(days: days)
            #expect(CivilDate.days(year: y, month: m, day: d) == days)
        }
    }
}
