import Foundation
import Geo
import Testing
@testable import Analytics

// The fast paths of the grid analyses (compressed neighbour lists, the binomial tail memo, the
// FDR thresholds from the small p-values only, the row-wise slot lookup) against the plain
// computations they replaced, on random inputs.

/// A layer of square areas for grid tests: `squares` are (minLon, minLat, size in degrees).
struct SquareLayer: AreaLayer {
    let shapes: [MultiPolygon]
    let index: PolygonIndex
    init(_ squares: [(Double, Double, Double)]) {
        shapes = squares.map { (lon, lat, size) in
            MultiPolygon([Polygon(outer: Ring([GeoPoint(lon: lon, lat: lat), GeoPoint(lon: lon + size, lat: lat),
                                               GeoPoint(lon: lon + size, lat: lat + size), GeoPoint(lon: lon, lat: lat + size),
                                               GeoPoint(lon: lon, lat: lat)]))])
        }
        index = PolygonIndex(shapes)
    }
    func shape(_ area: Int) -> MultiPolygon { shapes[area] }
}

@Suite struct GridKernelTests {
    static func randomLists(cells: Int, generator: inout SplitMix64) -> [[Int32]] {
        (0..<cells).map { _ in (0..<Int(generator.next() % 9)).map { _ in Int32(generator.next() % UInt64(cells)) } }
    }

    @Test func compressedNeighboursHoldTheSameListsAndSums() {
        var generator = SplitMix64(seed: 5)
        for cells in [0, 1, 7, 500] {
            let lists = Self.randomLists(cells: cells, generator: &generator)
            let neighbours = Neighbours(lists)
            #expect(neighbours.count == cells)
            #expect(neighbours.map(Array.init) == lists)
            let x = (0..<cells).map { _ in Double(generator.next() % 5) }
            let plain = lists.indices.map { i in lists[i].reduce(x[i]) { $0 + x[Int($1)] } }
            #expect(neighbours.localSums(x) == plain)
            #expect(neighbours.degreeRange == (cells == 0 ? (0, 0) : (lists.map(\.count).min()!, lists.map(\.count).max()!)))
        }
    }

    @Test func memoisedTailsEqualTheDirectBinomialOfEveryCell() {
        var generator = SplitMix64(seed: 9)
        let cells = 2_000
        let lists = Self.randomLists(cells: cells, generator: &generator)
        // Mostly whole cells (shared q) and mostly zeros, as on a real grid.
        let share = (0..<cells).map { _ in generator.next() % 4 == 0 ? Double(1 + generator.next() % 16) / 16 : 1 }
        let counts = (0..<cells).map { _ in generator.next() % 3 == 0 ? Double(generator.next() % 4) : 0 }
        let tails = GetisOrd.csrTails(counts: counts, neighbours: Neighbours(lists), share: share)
        let total = share.reduce(0, +), n = Int(counts.reduce(0, +))
        for i in 0..<cells {
            let q = lists[i].reduce(share[i]) { $0 + share[Int($1)] } / total
            let k = Int(lists[i].reduce(counts[i]) { $0 + counts[Int($1)] })
            #expect(tails[i] == GetisOrd.Tails(hot: Binomial.upperTail(k, trials: n, probability: q), cold: Binomial.lowerTail(k, trials: n, probability: q)))
        }
    }

    /// Benjamini–Hochberg over every p, sorted whole: what `bins(p:sign:fdr:)` did before it
    /// sorted only the p-values that can pass.
    static func plainBins(p: [Double], sign: [Int]) -> [Int] {
        let levels: [(alpha: Double, bin: Int)] = [(0.01, 3), (0.05, 2), (0.10, 1)]
        let sorted = p.sorted(), n = Double(p.count)
        let critical = levels.map { level in
            var threshold = -1.0
            for (k, value) in sorted.enumerated() where value <= Double(k + 1) / n * level.alpha { threshold = value }
            return threshold
        }
        return p.indices.map { i in
            guard sign[i] != 0 else { return 0 }
            for (index, level) in levels.enumerated() where p[i] <= critical[index] && critical[index] >= 0 { return sign[i] * level.bin }
            return 0
        }
    }

    @Test func fdrThresholdsFromTheSmallPValuesAloneAreTheSame() {
        var generator = SplitMix64(seed: 21)
        for round in 0..<200 {
            let n = 1 + Int(generator.next() % 400)
            // A mix of tiny p (signal), ties, and the bulk of large ones.
            let p = (0..<n).map { _ -> Double in
                switch generator.next() % 5 {
                case 0: return generator.unit() * 0.001 * Double(round % 7)
                case 1: return [0.01, 0.05, 0.1, 1][Int(generator.next() % 4)]
                default: return generator.unit()
                }
            }
            let sign = (0..<n).map { _ in Int(generator.next() % 3) - 1 }
            #expect(GetisOrd.bins(p: p, sign: sign, fdr: true) == Self.plainBins(p: p, sign: sign), "round \(round)")
        }
    }

    @Test func everyCellIsFoundByItsSlotAndItsNeighboursAreTheSurroundingCells() throws {
        // Two areas apart and one touching the first: rows with gaps, rows of one cell.
        let layer = SquareLayer([(47.90, 29.30, 0.02), (47.92, 29.31, 0.005), (48.00, 29.20, 0.01)])
        let projection = TransverseMercator.utm(zone: 38, north: true)
        let grid = HotspotGrid(layer: layer, studyDistricts: [0, 1, 2], projection: projection, cellMetres: 250)
        var slotOf: [String: Int] = [:]
        for (slot, cell) in grid.cells.enumerated() { slotOf["\(cell.col),\(cell.row)"] = slot }
        #expect(grid.cells.count > 100)
        for (slot, cell) in grid.cells.enumerated() {
            #expect(grid.slot(col: cell.col, row: cell.row) == slot)
            #expect(grid.slot(x: (Double(cell.col) + 0.3) * 250, y: (Double(cell.row) + 0.9) * 250) == slot)
            var expected: [Int32] = []
            for dr in -1...1 { for dc in -1...1 where !(dr == 0 && dc == 0) {
                if let s = slotOf["\(cell.col + dc),\(cell.row + dr)"] { expected.append(Int32(s)) }
            } }
            #expect(Array(grid.neighbours[slot]) == expected)
        }
        // Cells around the grid's edges and far away are not in it.
        let (cols, rows) = (grid.cells.map(\.col), grid.cells.map(\.row))
        for row in (rows.min()! - 2)...(rows.max()! + 2) {
            for col in (cols.min()! - 2)...(cols.max()! + 2) where slotOf["\(col),\(row)"] == nil {
                #expect(grid.slot(col: col, row: row) == nil)
            }
        }
        #expect(grid.slot(x: .nan, y: 0) == nil)
    }

    @Test func aStudyAreaTooLargeForTheCellLimitGetsLargerCellsAndSaysWhy() throws {
        let projection = TransverseMercator.utm(zone: 38, north: true)
        // About 111 × 96 km: 10,600 km².
        let layer = SquareLayer([(47.5, 29.0, 1.0)])
        let area = HotspotScale.studySquareMetres(layer: layer, study: [0], projection: projection)
        #expect(abs(area / 1e6 - 10_700) < 300, "\(area / 1e6) km²")
        var generator = SplitMix64(seed: 3)
        // Incidents 50 m apart on average: 100 m cells by the spacing alone.
        let points = (0..<4_000).map { _ in (x: 400_000 + generator.unit() * 3_000, y: 3_250_000 + generator.unit() * 3_000) }
        var settings = HotspotSettings()
        let free = HotspotScale.choose(points: points, settings: settings, studySquareMetres: nil)
        #expect(free.cellMetres == 100)
        let capped = HotspotScale.choose(points: points, settings: settings, studySquareMetres: area)
        // 250,000 cells over 10,700 km² need ≥ 207 m: the next ladder step is 250 m.
        #expect(capped.cellMetres == 250)
        #expect(capped.reason.contains("aggregate.hotspot_max_cells (250000)") && capped.reason.contains("raised to 250 m"), "\(capped.reason)")
        settings.maxCells = 2_000_000
        #expect(HotspotScale.choose(points: points, settings: settings, studySquareMetres: area).cellMetres == 100)
        // A fixed size is the analyst's: kept.
        settings.maxCells = 1_000
        settings.cellMetres = 150
        #expect(HotspotScale.choose(points: points, settings: settings, studySquareMetres: area).cellMetres == 150)
    }
}

/// The scale's median nearest-neighbour distance (bucketed search) equals a brute-force one on
/// point sets under the sampling threshold: clustered, repeated locations, on a line, spread out.
@Suite struct NearestNeighbourTests {
    @Test func bucketedSearchEqualsBruteForce() {
        var random = SplitMix64(seed: 20261203)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        for trial in 0..<60 {
            let n = 2 + Int(uniform() * 1500)
            let spread = [1.0, 50, 5_000, 200_000][trial % 4]
            var points: [(x: Double, y: Double)] = []
            for _ in 0..<n {
                switch trial % 5 {
                case 0 where !points.isEmpty && uniform() < 0.4: points.append(points[Int(uniform() * Double(points.count))])  // same address
                case 1: points.append((x: uniform() * spread, y: 7))                                                            // on a line
                case 2: points.append((x: 1000 + uniform() * 30, y: 2000 + uniform() * 30))                                     // one cluster
                default: points.append((x: uniform() * spread, y: uniform() * spread))
                }
            }
            var nearest: [Double] = []
            for p in points {
                var best = Double.infinity
                for q in points {
                    let d = ((q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y)).squareRoot()
                    if d > 0 && d < best { best = d }
                }
                if best.isFinite { nearest.append(best) }
            }
            nearest.sort()
            let m = nearest.count / 2
            let expected: Double? = nearest.isEmpty ? nil : nearest.count % 2 == 1 ? nearest[m] : (nearest[m - 1] + nearest[m]) / 2
            #expect(NearestNeighbour.medianDistance(points) == expected, "trial \(trial): \(n) points")
        }
    }
}
