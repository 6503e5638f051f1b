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
    /// Which as-of dates of a backfill get the grid tables (hot spots, emerging hot spots).
    public var backfillGrids = BackfillGrids.monthly

    /// A grid analysis of one date costs about what a day's trends for a whole month do, and its
    /// cells are most of a backfill's rows: a backfill computes the maps for some dates only (the
    /// range's last date always); nightly runs compute them for their date.
    public enum BackfillGrids: String, Sendable, CaseIterable {
        /// Every date.
        case daily
        /// Every 7th date counted back from the range's last date (the emerging analysis' steps).
        case weekly
        /// The last date of each calendar month in the range.
        case monthly

        /// The grid dates among `days`, for a backfill whose last date is `rangeEnd`. (A chunk is
        /// one calendar month, or less at the range's ends: its last day is a month's last or the range's.)
        func dates(in days: ClosedRange<Int>, rangeEnd: Int) -> [Int] {
            switch self {
            case .daily: return Array(days)
            case .weekly: return days.filter { (rangeEnd - $0) % 7 == 0 }
            case .monthly: return [days.upperBound]
            }
        }
    }

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

    /// The rows of every as-of date in `days`, from one read of the daily counts they look back on.
    static func rebuild(db: Transaction, schema: String, days: ClosedRange<Int>, settings: AggregateSettings) throws -> Int {
        let s = quoteIdentifier(schema)
        let weeks = settings.trendWeeks
        let span = max(7 * weeks, 35)
        let start = days.lowerBound - span + 1, length = days.upperBound - start + 1
        // Prefix sums by day from `start`: sums[d][c][i] = incidents of days start ..< start + i.
        var daily: [String: [String: [Int]]] = [:]
        var byCategory: [String: [Int]] = [:]   // every district: is a category seen in a window
        for row in try db.query("""
            SELECT district_code, category, local_date - $1::date, incident_count FROM \(s).district_daily
            WHERE local_date BETWEEN $1::date AND $2::date
            """, [CivilDate.isoDate(days: start), CivilDate.isoDate(days: days.upperBound)]).typedRows {
            let (district, category, day, n) = (try row.text(0), try row.text(1), try row.int(2), try row.int(3))
            daily[district, default: [:]][category, default: [Int](repeating: 0, count: length)][day] += n
            byCategory[category, default: [Int](repeating: 0, count: length)][day] += n
        }
        func prefix(_ c: [Int]) -> [Int] { var out = [0]; out.reserveCapacity(c.count + 1); for n in c { out.append(out.last! + n) }; return out }
        let sums = daily.mapValues { $0.mapValues(prefix) }
        let categoryTotals = byCategory.mapValues(prefix)
        let zeros = [Int](repeating: 0, count: length + 1)
        let districts = try db.query("SELECT code FROM \(s).districts ORDER BY code").rows.compactMap { $0[0] }
        // The history's first day (nil: no history at all).
        let earliest = try db.query("SELECT min(local_date)::text FROM \(s).incidents WHERE time_precision <> 'month'").scalar ?? nil
        let historyStart: Int? = earliest.flatMap(CivilDate.parseISODate).map { first in
            max(first, settings.historyStart.flatMap(CivilDate.parseISODate) ?? first)
        }

        try db.query("DELETE FROM \(s).district_trends WHERE as_of_date BETWEEN $1::date AND $2::date",
                     [CivilDate.isoDate(days: days.lowerBound), CivilDate.isoDate(days: days.upperBound)])
        return try db.withCopy(into: "\(s).district_trends", layout: Row.layout) { emit in
            for day in days {
                let asOf = Int32(day), at = day - start
                // Days from the history's first day to D (negative: D is before it).
                let historyDays = historyStart.map { day - $0 }
                let enoughHistory = (historyDays ?? -1) >= weeks * 7 - 1
                let baselineCovered = (historyDays ?? -1) >= 34
                // Categories with an incident in this date's span, and `all`.
                let categories = (Set(categoryTotals.filter { $0.value[at + 1] - $0.value[at + 1 - span] > 0 }.keys)).union(["all"]).sorted()
                for district in districts {
                    for category in categories {
                        let c = sums[district]?[category] ?? zeros
                        // Incidents of the `length` days ending `from` days before D.
                        func window(_ from: Int, _ length: Int) -> Int { c[at + 1 - from] - c[at + 1 - from - length] }
                        var row = Row(asOf: asOf, district: district, category: category, count7: window(0, 7), count28: window(0, 28),
                                      weeks: weeks)
                        let baselineTotal = window(7, 28)
                        let baseline = Double(baselineTotal) / 4
                        if baselineCovered {
                            let p = Binomial.ratePValue(row.count7, exposureA: 1, baselineTotal, exposureB: 4)
                            row.baseline = baseline
                            // Stored for people: a percent to one decimal (no 220.00000000000003).
                            row.changePct = baseline > 0 ? ((Double(row.count7) - baseline) / baseline * 1000).rounded() / 10 : nil
                            row.poissonZ = baseline > 0 ? (Double(row.count7) - baseline) / baseline.squareRoot() : nil
                            row.changeP = p
                            row.changeLabel = row.count7 + baselineTotal < Self.minimumForChange ? "too_few"
                                : p < settings.alpha ? (Double(row.count7) > baseline ? "increase" : "decrease") : "no_change"
                        }
                        let series = (0..<weeks).reversed().map { Double(window(7 * $0, 7)) }
                        if enoughHistory, let mk = MannKendall(series) {
                            row.trend = mk
                            row.trendLabel = mk.p < settings.alpha ? (mk.z > 0 ? "rising" : "falling") : "no_trend"
                        }
                        try emit(row)
                    }
                }
            }
        }
    }

    /// One `district_trends` row; the statistics stay NULL, and the labels `insufficient_data`,
    /// where the history does not cover them.
    struct Row {
        /// Days since 1970-01-01.
        let asOf: Int32
        let district: String, category: String
        let count7: Int, count28: Int
        var baseline: Double?, changePct: Double?, poissonZ: Double?, changeP: Double?
        var changeLabel = "insufficient_data"
        let weeks: Int
        var trend: MannKendall?
        var trendLabel = "insufficient_data"

        init(asOf: Int32, district: String, category: String, count7: Int, count28: Int, weeks: Int) {
            (self.asOf, self.district, self.category, self.count7, self.count28, self.weeks) = (asOf, district, category, count7, count28, weeks)
        }

        /// Binary: a year's backfill writes half a million rows of a dozen numbers each, which text
        /// COPY printed and the server parsed back.
        static let layout = BinaryCopyLayout<Row>(columns: [
            "as_of_date", "district_code", "category", "count_7d", "count_28d", "baseline_7d", "change_pct", "poisson_z", "change_p",
            "change_label", "weeks", "mk_s", "mk_tau", "mk_z", "mk_p", "sen_slope", "trend_label",
        ]) { row, w in
            try w.date("as_of_date", row.asOf)
            try w.text("district_code", row.district)
            try w.text("category", row.category)
            try w.int4("count_7d", Int32(row.count7))
            try w.int4("count_28d", Int32(row.count28))
            try w.float8("baseline_7d", row.baseline)
            try w.float8("change_pct", row.changePct)
            try w.float8("poisson_z", row.poissonZ)
            try w.float8("change_p", row.changeP)
            try w.text("change_label", row.changeLabel)
            try w.int4("weeks", Int32(row.weeks))
            try w.float8("mk_s", row.trend?.s)
            try w.float8("mk_tau", row.trend?.tau)
            try w.float8("mk_z", row.trend?.z)
            try w.float8("mk_p", row.trend?.p)
            try w.float8("sen_slope", row.trend?.senSlope)
            try w.text("trend_label", row.trendLabel)
        }
    }
}
