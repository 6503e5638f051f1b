import Analytics
import Foundation
import Postgres

/// Settings of the aggregate stage (the pipeline's `aggregate:` section).
public struct AggregateSettings: Sendable {
    /// Weekly counts the Mann-Kendall trend looks at.
    public var trendWeeks = 12
    /// Significance level of the trend and change labels.
    public var alpha = 0.05
    /// The first day the data covers (ISO date), when the stored incidents start later than the
    /// real history; nil: the first stored day. Days before it are missing, never zero.
    public var historyStart: String?
    /// Hot-spot windows in days, each ending on the as-of date.
    public var hotspotWindows = [7, 28]
    /// Benjamini–Hochberg correction of the Gi* confidence bins (ArcGIS's default).
    public var fdr = true
    /// The derived tables a run computes beyond `district_daily` (always kept): all by default.
    public var tables = Set(Table.allCases)
    public var hotspot = Hotspot()

    public enum Table: String, Sendable, CaseIterable {
        case trends, hotspots, emerging
    }

    /// How hot spots are found (docs/ANALYTICS.md): the analytics module's settings.
    public typealias Hotspot = HotspotSettings
}

/// `district_trends` for one as-of date D, from `district_daily`. The history starts on the first
/// stored day (or the pipeline's later `history_start`); a day before it is *missing*, a day after
/// it without incidents is zero.
///   count_7d    incidents on D−6 … D;            count_28d on D−27 … D
///   baseline_7d mean of the four 7-day windows before the current one (D−34 … D−7); null unless
///               the history covers that whole window
///   change_pct  (count_7d − baseline) / baseline × 100;  poisson_z (count_7d − baseline) / √baseline
///               (null when the baseline is 0 or not covered)
///   change_p    exact two-sided test of equal weekly rates: given the five weeks' total T,
///               count_7d ~ Binomial(T, 1/5) (null when not covered)
///   change_label increase / decrease at change_p < alpha, else no_change; too_few when T < 5;
///               insufficient_data when the history does not cover D−34 … D
///   mk_*, sen_slope  Mann-Kendall on the last `weeks` weekly counts (weeks ending on D, oldest
///               first); label rising / falling at p < alpha, else no_trend; when the history is
///               shorter than `weeks` weeks: null statistics and `insufficient_data`.
/// One row per district of the layer × category seen in the window (plus `all`), zeros included.
enum DistrictTrends {
    /// Fewer incidents than this in the five weeks (current + baseline): no change is judged.
    static let minimumForChange = 5

    static func rebuild(db: PostgresConnection, schema: String, asOf: String, settings: AggregateSettings) throws -> Int {
        let s = quoteIdentifier(schema)
        let weeks = settings.trendWeeks
        let span = max(7 * weeks, 35)
        var counts: [String: [String: [Int]]] = [:]  // district → category → counts by days back
        var categories: Set<String> = ["all"]
        for row in try db.query("""
            SELECT district_code, category, ($1::date - local_date), incident_count FROM \(s).district_daily
            WHERE local_date BETWEEN $1::date - ($2::int - 1) AND $1::date
            """, [asOf, String(span)]).typedRows {
            let (district, category, back, n) = (try row.text(0), try row.text(1), try row.int(2), try row.int(3))
            categories.insert(category)
            counts[district, default: [:]][category, default: [Int](repeating: 0, count: span)][back] += n
        }
        let districts = try db.query("SELECT code FROM \(s).districts ORDER BY code").rows.compactMap { $0[0] }
        // Days from the history's first day to D (negative: D is before it); nil: no history at all.
        let earliest = try db.query("SELECT min(local_date)::text FROM \(s).incidents").scalar ?? nil
        let historyDays: Int? = earliest.flatMap(CivilDate.parseISODate).map { first in
            let start = max(first, settings.historyStart.flatMap(CivilDate.parseISODate) ?? first)
            return CivilDate.parseISODate(asOf)! - start
        }
        let enoughHistory = (historyDays ?? -1) >= weeks * 7 - 1
        let baselineCovered = (historyDays ?? -1) >= 34

        try db.query("DELETE FROM \(s).district_trends WHERE as_of_date = $1::date", [asOf])
        let columns = ["as_of_date", "district_code", "category", "count_7d", "count_28d", "baseline_7d", "change_pct", "poisson_z",
                       "change_p", "change_label", "weeks", "mk_s", "mk_tau", "mk_z", "mk_p", "sen_slope", "trend_label"]
        return try db.withCopy(into: "\(s).district_trends", columns: columns) { writer in
            let zeros = [Int](repeating: 0, count: span)
            for district in districts {
                for category in categories.sorted() {
                    let c = counts[district]?[category] ?? zeros
                    func window(_ from: Int, _ length: Int) -> Int { c[from..<(from + length)].reduce(0, +) }
                    let count7 = window(0, 7), count28 = window(0, 28)
                    let baselineTotal = window(7, 28)
                    let baseline = Double(baselineTotal) / 4
                    try writer.append(asOf)
                    try writer.append(district)
                    try writer.append(category)
                    try writer.append(count7)
                    try writer.append(count28)
                    if baselineCovered {
                        let p = Binomial.ratePValue(count7, exposureA: 1, baselineTotal, exposureB: 4)
                        try writer.append(baseline)
                        try writer.append(baseline > 0 ? (Double(count7) - baseline) / baseline * 100 : nil)
                        try writer.append(baseline > 0 ? (Double(count7) - baseline) / baseline.squareRoot() : nil)
                        try writer.append(p)
                        try writer.append(count7 + baselineTotal < Self.minimumForChange ? "too_few"
                                          : p < settings.alpha ? (Double(count7) > baseline ? "increase" : "decrease") : "no_change")
                    } else {
                        for _ in 0..<4 { try writer.append(nil as String?) }
                        try writer.append("insufficient_data")
                    }
                    try writer.append(weeks)
                    let series = (0..<weeks).reversed().map { Double(window(7 * $0, 7)) }
                    if enoughHistory, let mk = MannKendall(series) {
                        try writer.append(mk.s)
                        try writer.append(mk.tau)
                        try writer.append(mk.z)
                        try writer.append(mk.p)
                        try writer.append(mk.senSlope)
                        try writer.append(mk.p < settings.alpha ? (mk.z > 0 ? "rising" : "falling") : "no_trend")
                    } else {
                        for _ in 0..<5 { try writer.append(nil as String?) }
                        try writer.append("insufficient_data")
                    }
                    try writer.endRow()
                }
            }
        }
    }
}
