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
    public let neighbours: Neighbours
    /// Cells of grid row `firstRow + r` are slots `rowStart[r] ..< rowStart[r + 1]`.
    let firstRow: Int
    let rowStart: [Int32]

    static func key(_ col: Int, _ row: Int) -> Int64 { Int64(col) << 32 | Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: row))) }

    /// What the grid was laid for (CRS, cell size, study areas): equal ids, equal grids.
    public let id: String

    public init(layer: some AreaLayer, studyDistricts: Set<Int>, projection: TransverseMercator, cellMetres: Double, id: String? = nil) {
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
        // Row-major: the kept cells come out ordered by (row, col). The state array becomes each
        // box cell's slot (−1: none) for the neighbour lookups, then is dropped.
        var cells: [(col: Int, row: Int)] = [], share: [Double] = []
        var slotAt = [Int32](repeating: -1, count: state.count)
        let height = state.count / max(width, 1)
        var rowStart = [Int32](repeating: 0, count: height + 1)
        for (at, code) in state.enumerated() where code >= 2 {
            let col = col0 + at % width, row = row0 + at / width
            slotAt[at] = Int32(cells.count)
            rowStart[row - row0 + 1] = Int32(cells.count + 1)
            cells.append((col, row))
            share.append(code == 2 ? 0.5 / Double(samples * samples) : Double(Int(code) - 3) / Double(samples * samples))
        }
        for r in rowStart.indices.dropFirst() { rowStart[r] = max(rowStart[r], rowStart[r - 1]) }
        var offsets = [Int32](), targets = [Int32]()
        offsets.reserveCapacity(cells.count + 1)
        targets.reserveCapacity(cells.count * 8)
        offsets.append(0)
        for cell in cells {
            for dr in -1...1 { for dc in -1...1 where !(dr == 0 && dc == 0) {
                let (c, r) = (cell.col + dc - col0, cell.row + dr - row0)
                guard c >= 0, c < width, r >= 0, r < height else { continue }
                let s = slotAt[r * width + c]
                if s >= 0 { targets.append(s) }
            } }
            offsets.append(Int32(targets.count))
        }
        self.projection = projection
        self.cellMetres = size
        self.id = id ?? "\(projection.proj)|\(size)|\(studyDistricts.sorted().map(String.init).joined(separator: ","))"
        self.cells = cells
        self.share = share
        self.neighbours = Neighbours(offsets: offsets, targets: targets)
        self.firstRow = row0
        self.rowStart = rowStart
    }

    /// The study-area slot of a projected point, or nil outside the study area.
    public func slot(x: Double, y: Double) -> Int? {
        guard x.isFinite, y.isFinite else { return nil }
        return slot(col: Int((x / cellMetres).rounded(.down)), row: Int((y / cellMetres).rounded(.down)))
    }

    /// The slot of cell (col, row): a binary search among its row's cells, ordered by col.
    public func slot(col: Int, row: Int) -> Int? {
        let r = row - firstRow
        guard r >= 0, r + 1 < rowStart.count else { return nil }
        var (lo, hi) = (Int(rowStart[r]), Int(rowStart[r + 1]))
        while lo < hi {
            let mid = (lo + hi) / 2
            if cells[mid].col < col { lo = mid + 1 } else { hi = mid }
        }
        return lo < Int(rowStart[r + 1]) && cells[lo].col == col ? lo : nil
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

    /// `studySquareMetres`: the study area's size in the grid's CRS; the cell grows up the ladder
    /// until the study area holds at most `settings.maxCells` cells (nil: no limit).
    public static func choose(points: [(x: Double, y: Double)], settings: HotspotSettings, studySquareMetres: Double? = nil) -> HotspotScale {
        if let fixed = settings.cellMetres {
            return HotspotScale(cellMetres: fixed, medianNearestMetres: nil, reason: "cell \(Int(fixed)) m set by aggregate.hotspot_cell_m")
        }
        let nearest = NearestNeighbour.medianDistance(points)
        let bounds = "kept within \(Int(settings.cellMin))–\(Int(settings.cellMax)) m"
        var scale: HotspotScale
        if let nearest {
            let snapped = ladder.last { $0 <= nearest } ?? ladder[0]
            let cell = min(settings.cellMax, max(settings.cellMin, snapped))
            scale = HotspotScale(cellMetres: cell, medianNearestMetres: nearest,
                                 reason: String(format: "cell %d m from the median nearest-neighbour distance %.0f m of %d incidents (ladder step at or below it, %@)",
                                                Int(cell), nearest, points.count, bounds))
        } else {
            scale = HotspotScale(cellMetres: settings.cellMax, medianNearestMetres: nil,
                                 reason: "cell \(Int(settings.cellMax)) m (the largest allowed): fewer than two distinct incident locations")
        }
        // A country-sized study area at street-block cells would be millions of cells (Kuwait at
        // 100 m: 1.8 million, a gigabyte for the emerging analysis): the size that keeps it under
        // the limit wins, and says so.
        if let area = studySquareMetres, area / (scale.cellMetres * scale.cellMetres) > Double(settings.maxCells) {
            let needed = (area / Double(settings.maxCells)).squareRoot()
            let cell = ladder.first { $0 >= needed } ?? (needed / 1000).rounded(.up) * 1000
            scale.reason += String(format: "; raised to %d m: the study area's %.0f km² would be %.0f cells of %d m, more than aggregate.hotspot_max_cells (%d)",
                                   Int(cell), area / 1e6, area / (scale.cellMetres * scale.cellMetres), Int(scale.cellMetres), settings.maxCells)
            scale.cellMetres = cell
        }
        return scale
    }

    /// The area of the study districts in the projection's plane (square metres): the shoelace
    /// over their projected rings, holes subtracted.
    public static func studySquareMetres(layer: some AreaLayer, study: Set<Int>, projection: TransverseMercator) -> Double {
        var total = 0.0
        for d in study {
            for polygon in layer.shape(d).polygons {
                func area(_ ring: Ring) -> Double {
                    let xy = ring.points.map { projection.forward($0) }
                    guard xy.count > 2 else { return 0 }
                    var sum = 0.0
                    for i in xy.indices {
                        let (a, b) = (xy[i], xy[(i + 1) % xy.count])
                        sum += a.x * b.y - b.x * a.y
                    }
                    return abs(sum) / 2
                }
                total += area(polygon.outer) - polygon.holes.reduce(0) { $0 + area($1) }
            }
        }
        return total
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
        // Buckets as a dense grid over the bounding box (about one point a bucket on average): each
        // bucket's points are a range of `members`, found by arithmetic instead of a hashed array
        // per bucket. (What still costs: a bucket in a dense cluster holds thousands of points, and
        // each of them scans it.)
        let columns = Int(((maxX - minX) / bucket).rounded(.down)) + 1, rows = Int(((maxY - minY) / bucket).rounded(.down)) + 1
        func cell(_ p: (x: Double, y: Double)) -> (c: Int, r: Int) {
            (Int(((p.x - minX) / bucket).rounded(.down)), Int(((p.y - minY) / bucket).rounded(.down)))
        }
        var start = [Int32](repeating: 0, count: columns * rows + 1)
        for p in points { let (c, r) = cell(p); start[r * columns + c + 1] += 1 }
        for i in 1..<start.count { start[i] += start[i - 1] }
        var members = [Int32](repeating: 0, count: points.count), fill = start
        for (i, p) in points.enumerated() {
            let (c, r) = cell(p)
            members[Int(fill[r * columns + c])] = Int32(i)
            fill[r * columns + c] += 1
        }
        let stride = max(1, points.count / 20_000)
        var distances: [Double] = []
        for i in Swift.stride(from: 0, to: points.count, by: stride) {
            let p = points[i]
            let (c, r) = cell(p)
            var best = Double.infinity
            var ring = 0
            while true {
                for dr in -ring...ring where r + dr >= 0 && r + dr < rows {
                    for dc in -ring...ring where max(abs(dr), abs(dc)) == ring && c + dc >= 0 && c + dc < columns {
                        let b = (r + dr) * columns + c + dc
                        for m in start[b]..<start[b + 1] {
                            let q = points[Int(members[Int(m)])]
                            let d = ((q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y)).squareRoot()
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
