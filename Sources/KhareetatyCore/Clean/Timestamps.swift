import Foundation
import Readers

/// Civil-date arithmetic without Calendar (hot path): Howard Hinnant's days_from_civil.
public enum CivilDate {
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) for days since 1970-01-01.
    public static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days since 1970-01-01 of a calendar date written exactly `YYYY-MM-DD`, or nil if it is not one.
    static func parseISODate(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1 else { return nil }
        let days = Self.days(year: y, month: m, day: d)
        return civil(days: days) == (y, m, d) ? days : nil  // rejects 2026-02-30
    }

    /// Yesterday's date (YYYY-MM-DD) in `timeZone`: what a nightly run reports on.
    public static func yesterday(in timeZone: TimeZone, now: Date = Date()) -> String {
        let today = TimestampParser(timeZone: timeZone).localDay(of: Int64(now.timeIntervalSince1970))
        return isoDate(days: Int(today) - 1)
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func isoDate(days: Int) -> String {
        let (y, m, d) = civil(days: days)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// A PostgreSQL `date[]` literal of days since 1970-01-01, ascending (for `unnest($1::date[])`).
    static func arrayLiteral(days: some Sequence<Int32>) -> String {
        "{" + days.sorted().map { isoDate(days: Int($0)) }.joined(separator: ",") + "}"
    }

    static func isoTimestamp(epochSeconds s: Int64) -> String {
        let days = Int((s >= 0 ? s : s - 86_399) / 86_400)
        let secs = Int(s - Int64(days) * 86_400)
        return isoDate(days: days) + String(format: " %02d:%02d:%02d+00", secs / 3600, secs / 60 % 60, secs % 60)
    }
}

/// Parses the timestamp shapes a pipeline accepts (tried in order): ISO 8601
/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]]` with an optional `Z` or `±HH[:MM]` offset or a bare date,
/// epoch seconds or milliseconds, and C `strptime` formats such as `%d/%m/%Y %H:%M` (glibc's
/// parser: unpadded fields, any literal, `%z` offsets). A timestamp without an offset is local
/// time in the pipeline's zone.
struct TimestampParser {
    let timeZone: TimeZone
    let formats: [TimestampFormat]
    /// Per format: what strptime needs, prepared once (nil for the hand-parsed formats).
    private let prepared: [StrptimeFormat?]
    /// The zone's offset when it never changes (Asia/Kuwait: +3, no daylight saving): then no
    /// per-record time-zone lookup is needed, which is both the hot path and, in Foundation on
    /// Linux, a per-thread cache that grows with every distinct instant asked about.
    let fixedOffset: Int64?

    init(timeZone: TimeZone, formats: [TimestampFormat] = [.iso8601]) {
        self.timeZone = timeZone
        self.formats = formats
        prepared = formats.map { format in
            guard case .strptime(let text) = format else { return nil }
            return StrptimeFormat(text)
        }
        let probes = [0.0, 946_684_800, 1_577_836_800, Date().timeIntervalSince1970].map { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: $0)) }
        let noTransitions = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: 0)) == nil
        fixedOffset = noTransitions && Set(probes).count == 1 ? Int64(probes[0]) : nil
    }

    @inline(__always)
    private func offset(at epochSeconds: Int64) -> Int64 {
        if let fixedOffset { return fixedOffset }
        return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(epochSeconds))))
    }

    /// Epoch seconds (UTC), or nil when the text matches none of the formats.
    func parse(_ text: Substring) -> Int64? { parseWithPrecision(text)?.seconds }

    /// Epoch seconds (UTC) and how precise the text was: a month-only format gives the first
    /// instant of the month, local time, and `.month`.
    func parseWithPrecision(_ text: Substring) -> (seconds: Int64, precision: TimePrecision)? {
        for index in formats.indices {
            let parsed: Int64?
            switch formats[index] {  // no payload bound: nothing retained per record
            case .iso8601: parsed = parseISO(text)
            case .epochSeconds: parsed = parseEpoch(text, divisor: 1)
            case .epochMillis: parsed = parseEpoch(text, divisor: 1000)
            case .strptime:
                guard let prepared = prepared[index], let fields = prepared.parse(text), let wall = Self.wall(fields) else { continue }
                return (fields.offsetSeconds.map { wall - Int64($0) } ?? localToUTC(wall), fields.day == nil ? .month : .day)
            }
            if let parsed { return (parsed, .day) }
        }
        return nil
    }

    /// Days since 1970-01-01 of the calendar date `text` names (its time of day, if any, left
    /// aside), by the pipeline's formats: for a date column whose time is in another column.
    func parseDay(_ text: Substring) -> Int? {
        for index in formats.indices {
            switch formats[index] {
            case .iso8601:
                // The whole text must be ISO 8601 (a date, or a date and a time); its date is the
                // calendar date written, whatever offset follows.
                guard parseISO(text) != nil, let day = CivilDate.parseISODate(String(text.prefix(10))) else { continue }
                return day
            case .epochSeconds, .epochMillis:
                guard let seconds = parseEpoch(text, divisor: formats[index] == .epochSeconds ? 1 : 1000) else { continue }
                return Int(localDay(of: seconds))
            case .strptime:
                guard let prepared = prepared[index], let fields = prepared.parse(text), let day = fields.day,
                      Self.wall(fields) != nil else { continue }
                return CivilDate.days(year: fields.year, month: fields.month, day: day)
            }
        }
        return nil
    }

    /// Wall-clock seconds of strptime's fields (a month-only date: its first day), or nil when
    /// the date does not exist (31 February) or a field is out of range.
    private static func wall(_ f: StrptimeFormat.Fields) -> Int64? {
        let day = f.day ?? 1
        guard (1...12).contains(f.month), day >= 1, day <= CivilDate.daysInMonth(f.year, f.month),
              (0...23).contains(f.hour), (0...59).contains(f.minute), (0...60).contains(f.second) else { return nil }
        return Int64(CivilDate.days(year: f.year, month: f.month, day: day)) * 86_400
            + Int64(f.hour * 3600 + f.minute * 60 + min(f.second, 59))
    }

    /// Local wall-clock `day` plus `secondsOfDay` → UTC epoch seconds.
    func instant(day: Int, secondsOfDay: Int) -> Int64 {
        localToUTC(Int64(day) * 86_400 + Int64(secondsOfDay))
    }

    /// A time of day from its own column: `H`, `HH` (an hour), `HMM`/`HHMM` (military time),
    /// `H:MM`, `H:MM:SS`, each with an optional `AM`/`PM`. Seconds since midnight, or nil.
    static func secondsOfDay(_ text: Substring) -> Int? {
        var body = text.trimmingCharacters(in: .whitespaces).uppercased()
        var pm: Bool?
        if body.hasSuffix("AM") || body.hasSuffix("PM") {
            pm = body.hasSuffix("PM")
            body = String(body.dropLast(2)).trimmingCharacters(in: .whitespaces)
        }
        var h = 0, m = 0, sec = 0
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        if parts.count == 1 {
            let digits = parts[0]
            switch digits.count {
            case 1, 2: h = Int(digits)!
            default: h = Int(digits.dropLast(2))!; m = Int(digits.suffix(2))!
            }
        } else {
            guard parts.dropFirst().allSatisfy({ $0.count == 2 }), parts[0].count <= 2 else { return nil }
            h = Int(parts[0])!; m = Int(parts[1])!
            if parts.count == 3 { sec = Int(parts[2])! }
        }
        if let pm {
            guard (1...12).contains(h) else { return nil }
            h = h % 12 + (pm ? 12 : 0)
        }
        guard h <= 23, m <= 59, sec <= 59 else { return nil }
        return h * 3600 + m * 60 + sec
    }

    private func parseEpoch(_ text: Substring, divisor: Int64) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int64(text) else { return nil }
        return value / divisor
    }

    /// Wall-clock seconds in the pipeline's zone → UTC epoch seconds. The offset is looked up at
    /// the wall time taken as UTC, then again at the instant that gives, so that zones with
    /// daylight saving (e.g. America/Los_Angeles) are right outside the hour of a transition.
    private func localToUTC(_ wall: Int64) -> Int64 {
        wall - offset(at: wall - offset(at: wall))
    }

    private func parseISO(_ text: Substring) -> Int64? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for i in at..<(at + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard let year = digits(0, 4), b.count >= 10, b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
              (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year, month) else { return nil }
        var hour = 0, minute = 0, second = 0
        var i = 10
        if i < b.count, b[i] == 84 || b[i] == 32 {  // 'T' or ' '
            guard let h = digits(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let m = digits(i + 4, 2) else { return nil }
            hour = h; minute = m; i += 6
            if i < b.count, b[i] == 58 {
                guard let s = digits(i + 1, 2) else { return nil }
                second = s; i += 3
                if i < b.count, b[i] == 46 {  // fractional seconds: accepted, truncated
                    i += 1
                    while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
                }
            }
            guard hour <= 23, minute <= 59, second <= 60 else { return nil }
        }
        let days = CivilDate.days(year: year, month: month, day: day)
        let wall = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59))
        if i == b.count { return localToUTC(wall) }
        if b[i] == 90, i + 1 == b.count { return wall }  // 'Z'
        guard b[i] == 43 || b[i] == 45, let oh = digits(i + 1, 2) else { return nil }
        var om = 0
        var j = i + 3
        if j < b.count, b[j] == 58 { j += 1 }
        if j < b.count {
            guard let m = digits(j, 2), j + 2 == b.count else { return nil }
            om = m
        }
        guard oh <= 14, om <= 59 else { return nil }
        let offset = Int64(oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
        return wall - offset
    }

    /// Local calendar day (days since epoch) of an instant in the pipeline's zone.
    func localDay(of epochSeconds: Int64) -> Int32 {
        let local = epochSeconds + offset(at: epochSeconds)
        return Int32((local >= 0 ? local : local - 86_399) / 86_400)
    }

}

