import Analytics
import Foundation
import Geo
import Postgres

/// `hotspot_grids` and `hotspot_cells` for one as-of date: one analysis per window (docs/ANALYTICS.md),
/// its choices and state on the grid row, and the cells with incidents or a non-zero bin.
enum Hotspots {
    /// Layer indices of the study districts as of `asOf`: those with an incident in the `studyDays`
    /// days up to it, or every district.
    static func studyDistricts(db: Transaction, schema: String, asOf: String, layer: DistrictLayer,
                               settings: AggregateSettings) throws -> Set<Int> {
        let day = CivilDate.parseISODate(asOf)!
        return try AggregateInputs(db: db, schema: schema, layer: layer, dates: [day], settings: settings)
            .studyDistricts(asOf: day, settings: settings.hotspot)
    }

    static func rebuild(db: Transaction, schema: String, asOf day: Int, inputs: AggregateInputs, layer: DistrictLayer, settings: AggregateSettings,
                        cache: HotspotAnalysis.GridCache) throws -> (cells: Int, grids: [GridRow]) {
        // The caller has removed the date's rows (`DerivedTables`).
        let s = quoteIdentifier(schema), asOf = CivilDate.isoDate(days: day)
        let study = try inputs.studyDistricts(asOf: day, settings: settings.hotspot)
        let all = try inputs.points(asOf: day, days: settings.hotspotWindows.max() ?? 7)
        var written = 0, rows: [GridRow] = []
        for window in settings.hotspotWindows {
            let analysis = HotspotAnalysis.run(points: all.filter { $0.back < window }.map(\.point), layer: layer, study: study,
                                               settings: settings.hotspot, fdr: settings.fdr, cache: cache)
            let row = GridRow(analysis: "hotspot", windowDays: window, status: analysis.status, incidents: analysis.incidents,
                              scale: analysis.scale, grid: analysis.grid, studyAreas: study.count, counts: analysis.counts,
                              settings: settings, stepsWithData: nil)
            try row.insert(db: db, schema: schema, asOf: asOf)
            rows.append(row)
            let grid = analysis.grid
            let labels = cache.attachment(for: grid) { CellLabels(grid: grid) }
            let order = cache.attachment(for: grid) { KeyOrder(grid: grid) }
            written += try db.withCopy(into: "\(s).hotspot_cells", layout: Cell.layout) { emit in
                for slot in order.slots where analysis.counts[slot] > 0 || analysis.bins[slot] != 0 {
                    let (c, r) = grid.cells[slot]
                    let label = labels.label(slot, grid: grid, layer: layer)
                    try emit(Cell(asOf: Int32(day), window: window, col: c, row: r, centre: label.centre,
                                  district: label.district, count: Int(analysis.counts[slot]),
                                  z: analysis.z[slot],
                                  // No analysis (too few incidents): no p-value either.
                                  p: analysis.status == .ok ? analysis.tails[slot].p : nil,
                                  bin: analysis.bins[slot], geometry: label.geometry))
                }
            }
        }
        return (written, rows)
    }

    /// One `hotspot_cells` row.
    struct Cell {
        /// Days since 1970-01-01.
        let asOf: Int32
        let window: Int, col: Int, row: Int
        let centre: GeoPoint
        let district: String?
        let count: Int
        let z: Double, p: Double?
        let bin: Int
        let geometry: String

        /// Binary: a map date writes up to `hotspot_max_cells` rows, and text COPY spent more on
        /// printing and parsing their numbers than on storing them.
        static let layout = BinaryCopyLayout<Cell>(columns: [
            "as_of_date", "window_days", "cell_col", "cell_row", "centroid_lat", "centroid_lon", "district_code",
            "incident_count", "gi_z", "gi_p", "gi_bin", "geometry_geojson",
        ]) { cell, w in
            try w.date("as_of_date", cell.asOf)
            try w.int4("window_days", Int32(cell.window))
            try w.int4("cell_col", Int32(cell.col))
            try w.int4("cell_row", Int32(cell.row))
            try w.float8("centroid_lat", cell.centre.lat)
            try w.float8("centroid_lon", cell.centre.lon)
            try w.text("district_code", cell.district)
            try w.int4("incident_count", Int32(cell.count))
            try w.float8("gi_z", cell.z)
            try w.float8("gi_p", cell.p)
            try w.int4("gi_bin", Int32(cell.bin))
            try w.text("geometry_geojson", cell.geometry)
        }
    }

    /// A grid's cells in the primary key's order (column, then row; the grid lists them by row):
    /// a map's rows go into the key's B-tree in order, a third faster than scattered.
    final class KeyOrder: @unchecked Sendable {
        let slots: [Int]
        init(grid: HotspotGrid) {
            slots = grid.cells.indices.sorted { (grid.cells[$0].col, grid.cells[$0].row) < (grid.cells[$1].col, grid.cells[$1].row) }
        }
    }

    /// Each grid cell's centre, district and square, made when first written: the same on every
    /// date the grid is used (a backfill writes the same cells month after month).
    final class CellLabels: @unchecked Sendable {
        struct Label { let centre: GeoPoint; let district: String?; let geometry: String }
        private var labels: [Label?]
        init(grid: HotspotGrid) { labels = [Label?](repeating: nil, count: grid.cells.count) }
        func label(_ slot: Int, grid: HotspotGrid, layer: DistrictLayer) -> Label {
            if let label = labels[slot] { return label }
            let (c, r) = grid.cells[slot]
            let label = Label(centre: grid.centre(c, r), district: mostlyIn(c, r, grid: grid, layer: layer), geometry: square(c, r, grid: grid))
            labels[slot] = label
            return label
        }
    }

    /// A cell's square as GeoJSON (WGS 84).
    static func square(_ c: Int, _ r: Int, grid: HotspotGrid) -> String {
        let ring = [grid.corner(c, r), grid.corner(c + 1, r), grid.corner(c + 1, r + 1), grid.corner(c, r + 1), grid.corner(c, r)]
        return MultiPolygon([Polygon(outer: Ring(ring))]).geoJSON
    }

    /// The district holding most of a cell, by a 3×3 sample of points in it.
    static func mostlyIn(_ c: Int, _ r: Int, grid: HotspotGrid, layer: DistrictLayer) -> String? {
        var votes: [Int: Int] = [:]
        for i in 0..<3 {
            for j in 0..<3 {
                let p = grid.projection.inverse(x: (Double(c) + (Double(i) + 0.5) / 3) * grid.cellMetres,
                                                y: (Double(r) + (Double(j) + 0.5) / 3) * grid.cellMetres)
                if let d = layer.index.locate(p) { votes[d, default: 0] += 1 }
            }
        }
        return votes.max { ($0.value, -$0.key) < ($1.value, -$1.key) }.map { layer.districts[$0.key].code }
    }
}

/// One row of `hotspot_grids`: what was analysed, in which state, and every choice made, so an
/// analyst (and the run summary) can tell why a map looks the way it does.
public struct GridRow: Sendable {
    public var analysis: String
    public var windowDays: Int
    public var status: HotspotAnalysis.Status
    public var incidents: Int
    public var scale: HotspotScale
    var grid: HotspotGrid
    public var studyAreas: Int
    var counts: [Double]
    var settings: AggregateSettings
    public var stepsWithData: Int?

    public var cellMetres: Double { grid.cellMetres }
    public var cellCount: Int { grid.cells.count }

    /// One line for the run summary.
    public var summary: String {
        let what = analysis == "hotspot" ? "hot spots, \(windowDays) days" : "emerging hot spots, \(windowDays / 7) weeks"
        let state = status == .ok ? "analysed" : "insufficient data (at least \(settings.hotspot.minIncidents) incidents needed"
            + (analysis == "emerging" ? " in each of \(settings.hotspot.emergingMinSteps) steps" : "") + ")"
        return "\(what): \(state); \(incidents) incidents, \(grid.cells.count) cells of \(Int(grid.cellMetres)) m over \(studyAreas) areas"
            + (stepsWithData.map { ", \($0) steps with data" } ?? "") + "; \(scale.reason)"
    }

    func insert(db: Transaction, schema: String, asOf: String) throws {
        let n = Double(max(counts.count, 1))
        let mean = counts.reduce(0, +) / n
        let std = max(0, counts.reduce(0) { $0 + $1 * $1 } / n - mean * mean).squareRoot()
        let degrees = grid.neighbours.degreeRange
        let epsg = settings.hotspot.crsEPSG.map { "EPSG:\($0)" } ?? "EPSG:\(Self.epsg(of: grid.projection))"
        let permutation = settings.hotspot.inference == .permutation
        try db.query("""
            INSERT INTO \(quoteIdentifier(schema)).hotspot_grids (as_of_date, analysis, window_days, status, n_incidents, projection, crs,
                origin_x, origin_y, cell_size_m, n_cells, mean_count, std_count, band_m, fdr, inference, permutations, seed,
                nn_median_m, neighbours_min, neighbours_max, study_areas, steps_with_data, scale_reason)
            VALUES ($1::date, $2, $3, $4, $5, $6, $7, 0, 0, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
            """, [asOf, analysis, String(windowDays), status.rawValue, String(incidents), grid.projection.proj, epsg,
                  "\(grid.cellMetres)", String(grid.cells.count), "\(mean)", "\(std)", "\(grid.cellMetres * 2.0.squareRoot())",
                  settings.fdr ? "t" : "f", settings.hotspot.inference.rawValue, permutation ? String(settings.hotspot.permutations) : nil,
                  permutation ? String(settings.hotspot.seed) : nil, scale.medianNearestMetres.map { "\($0)" },
                  String(degrees.min), String(degrees.max), String(studyAreas), stepsWithData.map(String.init),
                  scale.reason])
    }

    static func epsg(of tm: TransverseMercator) -> Int {
        (tm.falseNorthing == 0 ? 32600 : 32700) + Int(((tm.lon0 + 183) / 6).rounded())
    }
}
