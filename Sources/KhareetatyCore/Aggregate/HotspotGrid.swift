import Foundation
import Geo
import Postgres

/// The square grid of the hot-spot analysis: cells of `cellMetres` in a Transverse Mercator
/// projection centred on the layer, covering every cell that touches an area (its centre or a
/// corner lies in an area, or an area vertex lies in it), zero-count cells included. Neighbours:
/// the 8 surrounding study-area cells (distance band = cell × √2).
public struct HotspotGrid: Sendable {
    public let projection: TransverseMercator
    public let cellMetres: Double
    public let originX: Double, originY: Double
    public let columns: Int, rows: Int
    /// Study-area cells as row * columns + col, ascending.
    public let cells: [Int32]
    /// Position of a grid cell in `cells`, or -1 outside the study area.
    let slot: [Int32]
    public let neighbours: [[Int32]]

    public init(layer: DistrictLayer, cellMetres: Double) {
        let box = layer.index.box
        let projection = TransverseMercator(lon0: ((box.minLon + box.maxLon) / 2 * 100).rounded() / 100,
                                            lat0: ((box.minLat + box.maxLat) / 2 * 100).rounded() / 100)
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for p in [GeoPoint(lon: box.minLon, lat: box.minLat), GeoPoint(lon: box.maxLon, lat: box.minLat),
                  GeoPoint(lon: box.minLon, lat: box.maxLat), GeoPoint(lon: box.maxLon, lat: box.maxLat),
                  GeoPoint(lon: projection.lon0, lat: box.minLat), GeoPoint(lon: projection.lon0, lat: box.maxLat)] {
            let (x, y) = projection.forward(p)
            minX = min(minX, x); minY = min(minY, y); maxX = max(maxX, x); maxY = max(maxY, y)
        }
        let originX = (minX / cellMetres).rounded(.down) * cellMetres, originY = (minY / cellMetres).rounded(.down) * cellMetres
        let columns = Int(((maxX - originX) / cellMetres).rounded(.up)) + 1, rows = Int(((maxY - originY) / cellMetres).rounded(.up)) + 1

        // Corners are shared by four cells: locate each once.
        var cornerIn = [Bool](repeating: false, count: (columns + 1) * (rows + 1))
        for r in 0...rows {
            for c in 0...columns {
                let p = projection.inverse(x: originX + Double(c) * cellMetres, y: originY + Double(r) * cellMetres)
                cornerIn[r * (columns + 1) + c] = layer.index.locate(p) != nil
            }
        }
        var touched = [Bool](repeating: false, count: columns * rows)
        for district in layer.districts {
            for ring in district.geometry.rings {
                for p in ring.points {
                    let (x, y) = projection.forward(p)
                    let (c, r) = (Int((x - originX) / cellMetres), Int((y - originY) / cellMetres))
                    if c >= 0, c < columns, r >= 0, r < rows { touched[r * columns + c] = true }
                }
            }
        }
        var cells: [Int32] = []
        var slot = [Int32](repeating: -1, count: columns * rows)
        for r in 0..<rows {
            for c in 0..<columns {
                let index = r * columns + c
                var inside = touched[index]
                    || cornerIn[r * (columns + 1) + c] || cornerIn[r * (columns + 1) + c + 1]
                    || cornerIn[(r + 1) * (columns + 1) + c] || cornerIn[(r + 1) * (columns + 1) + c + 1]
                if !inside {
                    let centre = projection.inverse(x: originX + (Double(c) + 0.5) * cellMetres, y: originY + (Double(r) + 0.5) * cellMetres)
                    inside = layer.index.locate(centre) != nil
                }
                if inside { slot[index] = Int32(cells.count); cells.append(Int32(index)) }
            }
        }
        neighbours = cells.map { cell in
            let (c, r) = (Int(cell) % columns, Int(cell) / columns)
            var out: [Int32] = []
            for dr in -1...1 { for dc in -1...1 where !(dr == 0 && dc == 0) {
                let (cc, rr) = (c + dc, r + dr)
                if cc >= 0, cc < columns, rr >= 0, rr < rows, slot[rr * columns + cc] >= 0 { out.append(slot[rr * columns + cc]) }
            } }
            return out
        }
        self.projection = projection
        self.cellMetres = cellMetres
        self.originX = originX
        self.originY = originY
        self.columns = columns
        self.rows = rows
        self.cells = cells
        self.slot = slot
    }

    /// The study-area slot of a point, or nil when it lies outside the study area.
    public func slot(of p: GeoPoint) -> Int? {
        let (x, y) = projection.forward(p)
        let (c, r) = (Int(((x - originX) / cellMetres).rounded(.down)), Int(((y - originY) / cellMetres).rounded(.down)))
        guard c >= 0, c < columns, r >= 0, r < rows else { return nil }
        let s = slot[r * columns + c]
        return s >= 0 ? Int(s) : nil
    }

    /// Corner of a cell, in lon/lat.
    func corner(_ c: Int, _ r: Int) -> GeoPoint {
        projection.inverse(x: originX + Double(c) * cellMetres, y: originY + Double(r) * cellMetres)
    }
}

/// `hotspot_grids` and `hotspot_cells` for one as-of date: Gi* per study-area cell for each window.
enum Hotspots {
    static func rebuild(db: PostgresConnection, schema: String, asOf: String, grid: HotspotGrid, layer: DistrictLayer,
                        settings: AggregateSettings) throws -> Int {
        let s = quoteIdentifier(schema)
        try db.query("DELETE FROM \(s).hotspot_cells WHERE as_of_date = $1::date", [asOf])
        try db.query("DELETE FROM \(s).hotspot_grids WHERE as_of_date = $1::date", [asOf])
        var written = 0
        for window in settings.hotspotWindows {
            var counts = [Double](repeating: 0, count: grid.cells.count)
            try db.forEachRow("""
                SELECT lat, lon FROM \(s).incidents
                WHERE local_date BETWEEN $1::date - ($2::int - 1) AND $1::date AND lat IS NOT NULL
                """, [asOf, String(window)]) { row in
                guard let lat = row[0].flatMap(Double.init), let lon = row[1].flatMap(Double.init),
                      let slot = grid.slot(of: GeoPoint(lon: lon, lat: lat)) else { return }
                counts[slot] += 1
            }
            let z = GetisOrd.zScores(counts, neighbours: grid.neighbours)
            let bins = GetisOrd.bins(z: z, fdr: settings.fdr)
            let n = Double(counts.count)
            let mean = counts.reduce(0, +) / max(n, 1)
            let std = max(0, counts.reduce(0) { $0 + $1 * $1 } / max(n, 1) - mean * mean).squareRoot()
            try db.query("""
                INSERT INTO \(s).hotspot_grids (as_of_date, window_days, projection, origin_x, origin_y, cell_size_m, n_cells, mean_count,
                                                std_count, band_m, fdr)
                VALUES ($1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """, [asOf, String(window), grid.projection.proj, "\(grid.originX)", "\(grid.originY)", "\(grid.cellMetres)",
                      String(grid.cells.count), "\(mean)", "\(std)", "\(grid.cellMetres * 2.0.squareRoot())", settings.fdr ? "t" : "f"])
            written += try db.withCopy(into: "\(s).hotspot_cells", columns: [
                "as_of_date", "window_days", "cell_col", "cell_row", "centroid_lat", "centroid_lon", "district_code", "incident_count",
                "gi_z", "gi_p", "gi_bin", "geometry_geojson",
            ]) { writer in
                for (slot, cell) in grid.cells.enumerated() where counts[slot] > 0 || bins[slot] != 0 {
                    let (c, r) = (Int(cell) % grid.columns, Int(cell) / grid.columns)
                    let centre = grid.projection.inverse(x: grid.originX + (Double(c) + 0.5) * grid.cellMetres,
                                                         y: grid.originY + (Double(r) + 0.5) * grid.cellMetres)
                    let ring = [grid.corner(c, r), grid.corner(c + 1, r), grid.corner(c + 1, r + 1), grid.corner(c, r + 1), grid.corner(c, r)]
                    try writer.append(asOf)
                    try writer.append(window)
                    try writer.append(c)
                    try writer.append(r)
                    try writer.append(centre.lat)
                    try writer.append(centre.lon)
                    try writer.append(mostlyIn(c, r, grid: grid, layer: layer))
                    try writer.append(Int(counts[slot]))
                    try writer.append(z[slot])
                    try writer.append(GetisOrd.pValue(z[slot]))
                    try writer.append(bins[slot])
                    try writer.append(MultiPolygon([Polygon(outer: Ring(ring))]).geoJSON)
                    try writer.endRow()
                }
            }
        }
        return written
    }

    /// The district holding most of a cell, by a 3×3 sample of points in it.
    static func mostlyIn(_ c: Int, _ r: Int, grid: HotspotGrid, layer: DistrictLayer) -> String? {
        var votes: [Int: Int] = [:]
        for i in 0..<3 {
            for j in 0..<3 {
                let p = grid.projection.inverse(x: grid.originX + (Double(c) + (Double(i) + 0.5) / 3) * grid.cellMetres,
                                                y: grid.originY + (Double(r) + (Double(j) + 0.5) / 3) * grid.cellMetres)
                if let d = layer.index.locate(p) { votes[d, default: 0] += 1 }
            }
        }
        return votes.max { ($0.value, -$0.key) < ($1.value, -$1.key) }.map { layer.districts[$0.key].code }
    }
}
