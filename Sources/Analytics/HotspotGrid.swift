import Foundation
import Geo

/// The square grid of a hot-spot analysis, in the pipeline's fixed projected CRS (UTM) with its
/// origin at the CRS's (0, 0): a cell (col, row) is [col·size, (col+1)·size) × [row·size, (row+1)·size)
/// in projected metres, so a cell id means the same place whatever the boundary file holds.
///
/// Only the study area is gridded: the cells touching the study areas (the districts where
/// incidents can happen, see `HotspotAnalysis.studyDistricts`), each with the share of it that
/// lies in them (from a 4×4 sample of points), which the null model of the test needs.
/// Neighbours: the 8 surrounding study-area cells (distance band = cell × √2).
public struct HotspotGrid: Sendable {
    public let projection: TransverseMercator
    public let cellMetres: Double
    /// Study-area cells, ascending by (row, col).
    public let cells: [(col: Int, row: Int)]
    /// Share of each cell inside the study areas, (0, 1].
    public let share: [Double]
    public let neighbours: [[Int32]]
    let slotOf: [Int64: Int32]

    static func key(_ col: Int, _ row: Int) -> Int64 { Int64(col) << 32 | Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: row))) }

    public init(layer: some AreaLayer, studyDistricts: Set<Int>, projection: TransverseMercator, cellMetres: Double) {
        let size = cellMetres, samples = 4
        // A cell a boundary vertex lies in belongs to the study area even if no sample point does.
        var touched: Set<Int64> = []
        var boxes: [(minX: Double, minY: Double, maxX: Double, maxY: Double)] = []
        for d in studyDistricts.sorted() {
            var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
            for ring in layer.shape(d).rings {
                for p in ring.points {
                    let (x, y) = projection.forward(p)
                    guard x.isFinite, y.isFinite else { continue }
                    minX = min(minX, x); minY = min(minY, y); maxX = max(maxX, x); maxY = max(maxY, y)
                    touched.insert(Self.key(Int((x / size).rounded(.down)), Int((y / size).rounded(.down))))
                }
            }
            if minX.isFinite { boxes.append((minX, minY, maxX, maxY)) }
        }
        // Every cell of the study boxes, once: a dense byte per cell over their union (0 not yet
        // visited, 1 outside, 2 a touched sliver, 3 + n for n samples inside), scanned row by row.
        // Hoisted out of the 16 samples a cell: the index (a protocol property: a copy, retained,
        // per access), study membership as an array, and the inverse projection's northing part,
        // shared by every sample of a row.
        let index = layer.index
        var isStudy = [Bool](repeating: false, count: (studyDistricts.max() ?? -1) + 1)
        for d in studyDistricts { isStudy[d] = true }
        func cellOf(_ v: Double) -> Int { Int((v / size).rounded(.down)) }
        let col0 = boxes.map { cellOf($0.minX) }.min() ?? 0, col1 = boxes.map { cellOf($0.maxX) }.max() ?? -1
        let row0 = boxes.map { cellOf($0.minY) }.min() ?? 0, row1 = boxes.map { cellOf($0.maxY) }.max() ?? -1
        let width = max(col1 - col0 + 1, 0)
        var state = [UInt8](repeating: 0, count: width * max(row1 - row0 + 1, 0))
        for box in boxes {
            for row in cellOf(box.minY)...cellOf(box.maxY) {
                let sampleRows = (0..<samples).map { j in projection.inverseRow(y: (Double(row) + (Double(j) + 0.5) / Double(samples)) * size) }
                for col in cellOf(box.minX)...cellOf(box.maxX) {
                    let at = (row - row0) * width + (col - col0)
                    guard state[at] == 0 else { continue }
                    var hits = 0
                    for i in 0..<samples {
                        let x = (Double(col) + (Double(i) + 0.5) / Double(samples)) * size
                        for j in 0..<samples {
                            if let hit = index.locate(sampleRows[j].samplePoint(x: x)), hit < isStudy.count, isStudy[hit] { hits += 1 }
                        }
                    }
                    // A touched cell no sample point fell in still holds a sliver: half a sample.
                    state[at] = hits > 0 ? UInt8(3 + hits) : (touched.contains(Self.key(col, row)) ? 2 : 1)
                }
            }
        }
        // Row-major: the kept cells come out ordered by (row, col).
        var kept: [(key: Int64, col: Int, row: Int, share: Double)] = []
        for (at, code) in state.enumerated() where code >= 2 {
            let col = col0 + at % width, row = row0 + at / width
            kept.append((Self.key(col, row), col, row, code == 2 ? 0.5 / Double(samples * samples) : Double(Int(code) - 3) / Double(samples * samples)))
        }
        var slotOf: [Int64: Int32] = [:]
        slotOf.reserveCapacity(kept.count)
        for (slot, cell) in kept.enumerated() { slotOf[cell.key] = Int32(slot) }
        self.projection = projection
        self.cellMetres = size
        self.cells = kept.map { ($0.col, $0.row) }
        self.share = kept.map(\.share)
        self.slotOf = slotOf
        self.neighbours = kept.map { cell in
            var out: [Int32] = []
            for dr in -1...1 { for dc in -1...1 where !(dr == 0 && dc == 0) {
                if let s = slotOf[Self.key(cell.col + dc, cell.row + dr)] { out.append(s) }
            } }
            return out
        }
    }

    /// The study-area slot of a projected point, or nil outside the study area.
    public func slot(x: Double, y: Double) -> Int? {
        guard x.isFinite, y.isFinite else { return nil }
        return slotOf[Self.key(Int((x / cellMetres).rounded(.down)), Int((y / cellMetres).rounded(.down)))].map(Int.init)
    }

    public func slot(of p: GeoPoint) -> Int? {
        let (x, y) = projection.forward(p)
        return slot(x: x, y: y)
    }

    /// Corner (col + dc, row + dr) of the grid, in lon/lat.
    public func corner(_ col: Int, _ row: Int) -> GeoPoint {
        projection.inverse(x: Double(col) * cellMetres, y: Double(row) * cellMetres)
    }

    public func centre(_ col: Int, _ row: Int) -> GeoPoint {
        projection.inverse(x: (Double(col) + 0.5) * cellMetres, y: (Double(row) + 0.5) * cellMetres)
    }
}

/// The scale of a hot-spot analysis, chosen from the incidents as ArcGIS's Optimized Hot Spot
/// Analysis does: the cell size follows the incidents' spacing (the median distance from an
/// incident to its nearest other incident location), rounded down to a step of a fixed ladder so
/// that cells line up from one day to the next, and kept within [cell_min, cell_max]. An explicit
/// `hotspot_cell_m` overrides it.
public struct HotspotScale: Sendable, Equatable {
    public var cellMetres: Double
    public var medianNearestMetres: Double?
    public var reason: String

    public static let ladder: [Double] = [100, 125, 150, 200, 250, 300, 400, 500, 600, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000]

    public static func choose(points: [(x: Double, y: Double)], settings: HotspotSettings) -> HotspotScale {
        if let fixed = settings.cellMetres {
            return HotspotScale(cellMetres: fixed, medianNearestMetres: nil, reason: "cell \(Int(fixed)) m set by aggregate.hotspot_cell_m")
        }
        let nearest = NearestNeighbour.medianDistance(points)
        let bounds = "kept within \(Int(settings.cellMin))–\(Int(settings.cellMax)) m"
        guard let nearest else {
            return HotspotScale(cellMetres: settings.cellMax, medianNearestMetres: nil,
                                reason: "cell \(Int(settings.cellMax)) m (the largest allowed): fewer than two distinct incident locations")
        }
        let snapped = ladder.last { $0 <= nearest } ?? ladder[0]
        let cell = min(settings.cellMax, max(settings.cellMin, snapped))
        return HotspotScale(cellMetres: cell, medianNearestMetres: nearest,
                            reason: String(format: "cell %d m from the median nearest-neighbour distance %.0f m of %d incidents (ladder step at or below it, %@)",
                                           Int(cell), nearest, points.count, bounds))
    }
}

/// Nearest-neighbour distances between incident locations, by bucketing points in squares of
/// about the expected spacing and searching outward ring by ring.
enum NearestNeighbour {
    /// Median over incidents of the distance to the nearest *other location* (incidents at the
    /// same point, e.g. one address or a snapped centroid, are one location). At most 20,000
    /// incidents are measured (an even sample); nil with fewer than two distinct locations.
    static func medianDistance(_ points: [(x: Double, y: Double)]) -> Double? {
        guard points.count >= 2 else { return nil }
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for p in points { minX = min(minX, p.x); minY = min(minY, p.y); maxX = max(maxX, p.x); maxY = max(maxY, p.y) }
        let area = max((maxX - minX) * (maxY - minY), 1)
        let bucket = max(10, (area / Double(points.count)).squareRoot())
        var buckets: [Int64: [Int]] = [:]
        func key(_ c: Int, _ r: Int) -> Int64 { HotspotGrid.key(c, r) }
        for (i, p) in points.enumerated() {
            buckets[key(Int(((p.x - minX) / bucket).rounded(.down)), Int(((p.y - minY) / bucket).rounded(.down))), default: []].append(i)
        }
        let stride = max(1, points.count / 20_000)
        var distances: [Double] = []
        for i in Swift.stride(from: 0, to: points.count, by: stride) {
            let p = points[i]
            let (c, r) = (Int(((p.x - minX) / bucket).rounded(.down)), Int(((p.y - minY) / bucket).rounded(.down)))
            var best = Double.infinity
            var ring = 0
            while true {
                for dr in -ring...ring {
                    for dc in -ring...ring where max(abs(dr), abs(dc)) == ring {
                        for j in buckets[key(c + dc, r + dr)] ?? [] {
                            let d = ((points[j].x - p.x) * (points[j].x - p.x) + (points[j].y - p.y) * (points[j].y - p.y)).squareRoot()
                            if d > 0 && d < best { best = d }
                        }
                    }
                }
                // Every point within ring × bucket has been seen.
                if best <= Double(ring) * bucket { break }
                ring += 1
                if Double(ring) * bucket > (maxX - minX) + (maxY - minY) + bucket { break }
            }
            if best.isFinite { distances.append(best) }
        }
        guard !distances.isEmpty else { return nil }
        distances.sort()
        let m = distances.count / 2
        return distances.count % 2 == 1 ? distances[m] : (distances[m - 1] + distances[m]) / 2
    }
}
