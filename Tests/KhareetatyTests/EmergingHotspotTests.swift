import Foundation
import Postgres
import Testing
@testable import KhareetatyCore

/// Each of the 17 emerging hot-spot patterns on a hand-built 12-week series (bins and z-scores),
/// and the cold mirror of each hot one.
@Suite struct EmergingHotspotTests {
    static let hot: [(EmergingPattern, [Int], [Double])] = [
        (.newHot, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.5]),
        (.consecutiveHot, [0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 3], [0, 0.1, 0, 0.2, 0, 0.1, 0, 0.3, 0.5, 2.1, 2.2, 3.1]),
        (.intensifyingHot, Array(repeating: 3, count: 12), (0..<12).map { 2.6 + 0.2 * Double($0) }),
        (.persistentHot, Array(repeating: 3, count: 12), [3, 2.8, 3.1, 2.9, 3, 2.7, 3.2, 2.8, 3, 2.9, 3.1, 2.9]),
        (.diminishingHot, Array(repeating: 3, count: 12), (0..<12).map { 4.8 - 0.2 * Double($0) }),
        (.sporadicHot, [2, 0, 0, 2, 0, 2, 0, 0, 0, 0, 0, 3], [2, 0.5, 0.4, 2.1, 0.2, 2.2, 0.3, 0.1, 0.2, 0.3, 0.4, 3]),
        (.oscillatingHot, [-2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], [-2.2, -0.5, 0, 0.1, 0, 0.2, 0, 0.1, 0, 0.2, 0.4, 3]),
        (.historicalHot, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0], [3, 3.1, 2.9, 3, 3.2, 3, 2.8, 3, 3.1, 2.9, 3, 1.2]),
    ]

    @Test(arguments: hot.indices)
    func hotPatternAndItsColdMirror(index: Int) {
        let (pattern, bins, z) = Self.hot[index]
        #expect(EmergingPattern.classify(bins: bins, z: z, alpha: 0.05).pattern == pattern)
        let mirror = EmergingPattern(rawValue: pattern.rawValue.replacingOccurrences(of: "hot", with: "cold"))!
        #expect(EmergingPattern.classify(bins: bins.map { -$0 }, z: z.map { -$0 }, alpha: 0.05).pattern == mirror)
    }

    @Test func noPattern() {
        #expect(EmergingPattern.classify(bins: Array(repeating: 0, count: 12), z: Array(repeating: 0, count: 12), alpha: 0.05).pattern == .noPattern)
        // Hot once in the past, not now, far from 90% of the weeks.
        let past = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(EmergingPattern.classify(bins: past, z: past.map(Double.init), alpha: 0.05).pattern == .noPattern)
    }

    @Test func allSeventeenAreCovered() {
        let tested = Set(Self.hot.map(\.0)).union(Self.hot.map { EmergingPattern(rawValue: $0.0.rawValue.replacingOccurrences(of: "hot", with: "cold"))! })
            .union([.noPattern])
        #expect(tested == Set(EmergingPattern.allCases))
        #expect(EmergingPattern.allCases.count == 17)
    }

    /// The fixture holds 24 days: four weekly steps, fewer than the ten an emerging pattern needs.
    /// Its grid row says so, and not one pattern is named (the old method named hundreds).
    @Test func theFixtureIsTooShortForEmergingPatterns() throws {
        try withScratchSchema { db, schema in
            let runner = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24")
            let summary = try runner.run()
            let s = quoteIdentifier(schema)
            for table in ["district_trends", "hotspot_grids", "hotspot_cells"] {
                #expect(try db.query("SELECT count(*) > 0 FROM \(s).\(table) WHERE as_of_date = '2026-11-24'").scalar == "t", "\(table) is empty")
            }
            let row = try db.query("SELECT status, steps_with_data, window_days FROM \(s).hotspot_grids WHERE analysis = 'emerging'").rows
            #expect(row.count == 1 && row[0][0] == "insufficient_data" && row[0][2] == "84", "\(row)")
            #expect(Int(row.first?[1] ?? "99")! < 10)
            #expect(summary.emergingCells == 0)
            #expect(try db.query("SELECT count(*) FROM \(s).emerging_hotspots").scalar == "0")
            #expect(summary.hotspotAnalyses.contains { $0.hasPrefix("emerging hot spots, 12 weeks: insufficient data") }, "\(summary.hotspotAnalyses)")
            // Re-running the same as-of date replaces, never duplicates.
            var again = runner
            again.force = true
            _ = try again.run()
            #expect(try db.query("SELECT count(*) FROM \(s).hotspot_grids WHERE as_of_date = '2026-11-24'").scalar == "3")
        }
    }
}
