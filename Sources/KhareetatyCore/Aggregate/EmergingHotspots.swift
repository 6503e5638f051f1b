import Analytics
import Foundation
import Geo
import Postgres

/// The 17 patterns of ArcGIS "Emerging Hot Spot Analysis" (see docs/EMERGING_HOTSPOTS.md for the
/// rules as implemented, and their source).
public enum EmergingPattern: String, Sendable, CaseIterable {
    case newHot = "new_hot_spot", consecutiveHot = "consecutive_hot_spot", intensifyingHot = "intensifying_hot_spot"
    case persistentHot = "persistent_hot_spot", diminishingHot = "diminishing_hot_spot", sporadicHot = "sporadic_hot_spot"
    case oscillatingHot = "oscillating_hot_spot", historicalHot = "historical_hot_spot"
    case newCold = "new_cold_spot", consecutiveCold = "consecutive_cold_spot", intensifyingCold = "intensifying_cold_spot"
    case persistentCold = "persistent_cold_spot", diminishingCold = "diminishing_cold_spot", sporadicCold = "sporadic_cold_spot"
    case oscillatingCold = "oscillating_cold_spot", historicalCold = "historical_cold_spot"
    case noPattern = "no_pattern"

    /// Classifies one location from its Gi* bins and z-scores per time step (oldest first). A step
    /// is a significant hot (cold) spot when its bin is positive (negative), i.e. at ≥ 90% confidence.
    public static func classify(bins: [Int], z: [Double], alpha: Double) -> (pattern: EmergingPattern, trend: MannKendall?) {
        let trend = MannKendall(z)
        guard let last = bins.last else { return (.noPattern, trend) }
        let n = Double(bins.count)
        let trendSign: Int = {
            guard let trend, trend.p < alpha else { return 0 }
            return trend.z > 0 ? 1 : (trend.z < 0 ? -1 : 0)
        }()
        // One side at a time: `side` = +1 hot, −1 cold. Patterns are mirrored.
        func pattern(side: Int) -> EmergingPattern? {
            let mine = bins.map { $0 * side > 0 }, other = bins.map { $0 * side < 0 }
            let mineCount = mine.filter { $0 }.count, otherCount = other.filter { $0 }.count
            let share = Double(mineCount) / n
            let lastIsMine = last * side > 0
            let hot = side > 0
            if !lastIsMine { return share >= 0.9 ? (hot ? .historicalHot : .historicalCold) : nil }
            if share >= 0.9 {
                // Intensifying: the clustering grows stronger (hot: z rising; cold: z falling).
                if trendSign == side { return hot ? .intensifyingHot : .intensifyingCold }
                if trendSign == -side { return hot ? .diminishingHot : .diminishingCold }
                return hot ? .persistentHot : .persistentCold
            }
            if mineCount + otherCount == 1 { return hot ? .newHot : .newCold }  // the final step is the only significant one
            if otherCount > 0 { return hot ? .oscillatingHot : .oscillatingCold }
            // The final uninterrupted run; consecutive when nothing of this side came before it.
            var run = 0
            for isMine in mine.reversed() { if isMine { run += 1 } else { break } }
            if run >= 2 && mineCount == run { return hot ? .consecutiveHot : .consecutiveCold }
            return hot ? .sporadicHot : .sporadicCold
        }
        return (pattern(side: 1) ?? pattern(side: -1) ?? .noPattern, trend)
    }
}

/// `emerging_hotspots` for one as-of date: the space-time analysis of the last `weeks` weekly
/// steps (the latest ending on the as-of date; `EmergingAnalysis`), the Mann-Kendall trend of each
/// cell's z-scores and its pattern. Its grid row says whether there were enough steps with data;
/// without them nothing is stored but that row. Stored: every cell with a pattern or any incident.
enum EmergingHotspots {
    static func rebuild(db: Transaction, schema: String, asOf day: Int, inputs: AggregateInputs, layer: DistrictLayer, settings: AggregateSettings,
                        cache: HotspotAnalysis.GridCache) throws -> (cells: Int, grid: GridRow) {
        // The caller has removed the date's rows (`DerivedTables`).
        let s = quoteIdentifier(schema), asOf = CivilDate.isoDate(days: day)
        let weeks = settings.trendWeeks
        var steps = [[GeoPoint]](repeating: [], count: weeks)
        for (point, back) in try inputs.points(asOf: day, days: weeks * 7) {
            steps[weeks - 1 - back / 7].append(point)  // oldest week first
        }
        let study = try inputs.studyDistricts(asOf: day, settings: settings.hotspot)
        let analysis = EmergingAnalysis.run(steps: steps, layer: layer, study: study, settings: settings.hotspot, fdr: settings.fdr, cache: cache)
        let row = GridRow(analysis: "emerging", windowDays: 7 * weeks, status: analysis.status, incidents: analysis.incidents,
                          scale: analysis.scale, grid: analysis.grid, studyAreas: study.count, counts: analysis.counts.last ?? [],
                          settings: settings, stepsWithData: analysis.stepsWithData)
        try row.insert(db: db, schema: schema, asOf: asOf)
        guard analysis.status == .ok else { return (0, row) }
        let grid = analysis.grid
        let labels = cache.attachment(for: grid) { Hotspots.CellLabels(grid: grid) }
        let written = try db.withCopy(into: "\(s).emerging_hotspots", layout: Cell.layout) { emit in
            for (slot, cell) in grid.cells.enumerated() {
                let cellBins = (0..<weeks).map { Int(analysis.bins[$0][slot]) }
                let hadIncidents = (0..<weeks).contains(where: { analysis.counts[$0][slot] > 0 })
                // Never significant and never an incident: no pattern, nothing to store.
                if !hadIncidents && cellBins.allSatisfy({ $0 == 0 }) { continue }
                let series = (0..<weeks).map { analysis.z[$0][slot] }
                let (pattern, trend) = EmergingPattern.classify(bins: cellBins, z: series, alpha: settings.alpha)
                guard pattern != .noPattern || hadIncidents else { continue }
                let label = labels.label(slot, grid: grid, layer: layer)
                try emit(Cell(asOf: asOf, col: cell.col, row: cell.row, weeks: weeks, trend: trend, pattern: pattern,
                              centre: label.centre, district: label.district, geometry: label.geometry))
            }
        }
        return (written, row)
    }

    /// One `emerging_hotspots` row.
    struct Cell {
        let asOf: String, col: Int, row: Int, weeks: Int
        let trend: MannKendall?
        let pattern: EmergingPattern
        let centre: GeoPoint
        let district: String?
        let geometry: String

        static let layout = CopyLayout<Cell>([
            .init("as_of_date") { $0.asOf },
            .init("cell_col") { $0.col },
            .init("cell_row") { $0.row },
            .init("weeks") { $0.weeks },
            .init("mk_tau") { $0.trend?.tau },
            .init("mk_z") { $0.trend?.z },
            .init("mk_p") { $0.trend?.p },
            .init("pattern") { $0.pattern.rawValue },
            .init("centroid_lat") { $0.centre.lat },
            .init("centroid_lon") { $0.centre.lon },
            .init("district_code") { $0.district },
            .init("geometry_geojson") { $0.geometry },
        ])
    }
}
