import Foundation
import Geo

/// One hot-spot analysis of one window's incidents, free of any database: the scale chosen from
/// the data, the grid over the study area, the counts, Gi* z-scores, the tails of each local sum
/// under the null, and the confidence bins. `make eval` runs exactly this on simulated data.
public struct HotspotAnalysis: Sendable {
    public enum Status: String, Sendable { case ok, insufficientData = "insufficient_data" }

    public var status: Status
    /// Incidents of the window inside the study area (the N of the test).
    public var incidents: Int
    public var scale: HotspotScale
    public var grid: HotspotGrid
    public var counts: [Double]
    public var z: [Double]
    public var tails: [GetisOrd.Tails]
    public var bins: [Int]
    public var settings: HotspotSettings

    /// The grid's projection: the configured EPSG code, or the UTM zone of the layer's centre.
    public static func projection(layer: some AreaLayer, settings: HotspotSettings) -> (TransverseMercator, epsg: Int) {
        if let epsg = settings.crsEPSG, let tm = TransverseMercator.utm(epsg: epsg) { return (tm, epsg) }
        let box = layer.index.box
        let (zone, north) = TransverseMercator.utmZone(of: GeoPoint(lon: (box.minLon + box.maxLon) / 2, lat: (box.minLat + box.maxLat) / 2))
        return (TransverseMercator.utm(zone: zone, north: north), (north ? 32600 : 32700) + zone)
    }

    /// Grids are costly to lay (point-in-polygon samples per cell) and the same for every window
    /// and date with the same scale and study area: a backfill keeps them here.
    public final class GridCache: @unchecked Sendable {
        private var grids: [String: HotspotGrid] = [:]
        private let lock = NSLock()
        public init() {}
        func grid(layer: some AreaLayer, study: Set<Int>, projection: TransverseMercator, cell: Double) -> HotspotGrid {
            let key = "\(projection.proj)|\(cell)|\(study.sorted().map(String.init).joined(separator: ","))"
            lock.lock(); defer { lock.unlock() }
            if let grid = grids[key] { return grid }
            if grids.count > 16 { grids.removeAll(); attachments.removeAll() }
            let grid = HotspotGrid(layer: layer, studyDistricts: study, projection: projection, cellMetres: cell, id: key)
            grids[key] = grid
            return grid
        }

        /// What a caller derives from a grid once and reuses on every date it is used (each
        /// cell's district and outline, say), kept as long as the grid is.
        private var attachments: [String: AnyObject] = [:]
        public func attachment<T: AnyObject>(for grid: HotspotGrid, make: () -> T) -> T {
            let key = "\(grid.id)|\(T.self)"
            lock.lock(); defer { lock.unlock() }
            if let found = attachments[key] as? T { return found }
            let made = make()
            attachments[key] = made
            return made
        }

        private var areas: [String: Double] = [:]
        func studySquareMetres(layer: some AreaLayer, study: Set<Int>, projection: TransverseMercator) -> Double {
            let key = "\(projection.proj)|\(study.sorted().map(String.init).joined(separator: ","))"
            lock.lock(); defer { lock.unlock() }
            if let area = areas[key] { return area }
            if areas.count > 64 { areas.removeAll() }
            let area = HotspotScale.studySquareMetres(layer: layer, study: study, projection: projection)
            areas[key] = area
            return area
        }
    }

    /// Projected points of incidents that lie in a study district (by the layer's own index).
    static func studyPoints(_ points: [GeoPoint], layer: some AreaLayer, study: Set<Int>, projection: TransverseMercator) -> [(x: Double, y: Double)] {
        points.compactMap { p in
            guard let d = layer.index.locate(p), study.contains(d) else { return nil }
            return projection.forward(p)
        }
    }

    public static func run(points: [GeoPoint], layer: some AreaLayer, study: Set<Int>, settings: HotspotSettings, fdr: Bool,
                           cache: GridCache = GridCache()) -> HotspotAnalysis {
        let (projection, _) = projection(layer: layer, settings: settings)
        let projected = studyPoints(points, layer: layer, study: study, projection: projection)
        let scale = HotspotScale.choose(points: projected, settings: settings,
                                        studySquareMetres: cache.studySquareMetres(layer: layer, study: study, projection: projection))
        let grid = cache.grid(layer: layer, study: study, projection: projection, cell: scale.cellMetres)
        var counts = [Double](repeating: 0, count: grid.cells.count)
        for p in projected { if let s = grid.slot(x: p.x, y: p.y) { counts[s] += 1 } }
        let n = Int(counts.reduce(0, +))
        let z = GetisOrd.zScores(counts, neighbours: grid.neighbours)
        guard n >= settings.minIncidents, grid.cells.count > 1 else {
            return HotspotAnalysis(status: .insufficientData, incidents: n, scale: scale, grid: grid, counts: counts, z: z,
                                   tails: counts.map { _ in GetisOrd.Tails(hot: 1, cold: 1) }, bins: counts.map { _ in 0 }, settings: settings)
        }
        let tails = switch settings.inference {
        case .csrExact: GetisOrd.csrTails(counts: counts, neighbours: grid.neighbours, share: grid.share)
        case .permutation: GetisOrd.permutationTails(counts: counts, neighbours: grid.neighbours, permutations: settings.permutations, seed: settings.seed)
        }
        return HotspotAnalysis(status: .ok, incidents: n, scale: scale, grid: grid, counts: counts, z: z, tails: tails,
                               bins: GetisOrd.bins(tails: tails, fdr: fdr), settings: settings)
    }

    public var neighbourRange: (min: Int, max: Int) { grid.neighbours.degreeRange }
}

/// Emerging hot-spot analysis over weekly steps (oldest first), as ArcGIS's Emerging Hot Spot
/// Analysis builds it: one grid for all steps (its scale chosen from all their incidents); the
/// neighbourhood of a cell at step t is its spatial neighbourhood at steps t − 1 and t (time-step
/// interval 1). Under complete spatial randomness within each step, the space-time local sum is
/// Binomial(N_{t−1} + N_t, share of the neighbourhood), so each step is tested exactly and
/// FDR-corrected across cells. A step is analysed only when its space-time window holds at least
/// `minIncidents`; with fewer than `emergingMinSteps` analysed steps there is no pattern at all.
/// A step is significant for the patterns at 95 % confidence or more.
public struct EmergingAnalysis: Sendable {
    public var status: HotspotAnalysis.Status
    public var incidents: Int
    public var stepsWithData: Int
    public var scale: HotspotScale
    public var grid: HotspotGrid
    /// Per step (oldest first), per cell.
    public var counts: [[Double]]
    public var z: [[Double]]
    public var bins: [[Int8]]

    public static func run(steps: [[GeoPoint]], layer: some AreaLayer, study: Set<Int>, settings: HotspotSettings, fdr: Bool,
                           cache: HotspotAnalysis.GridCache = .init()) -> EmergingAnalysis {
        let (projection, _) = HotspotAnalysis.projection(layer: layer, settings: settings)
        let projected = steps.map { HotspotAnalysis.studyPoints($0, layer: layer, study: study, projection: projection) }
        let scale = HotspotScale.choose(points: projected.flatMap { $0 }, settings: settings,
                                        studySquareMetres: cache.studySquareMetres(layer: layer, study: study, projection: projection))
        let grid = cache.grid(layer: layer, study: study, projection: projection, cell: scale.cellMetres)
        let counts = projected.map { points in
            var c = [Double](repeating: 0, count: grid.cells.count)
            for p in points { if let s = grid.slot(x: p.x, y: p.y) { c[s] += 1 } }
            return c
        }
        let totals = counts.map { Int($0.reduce(0, +)) }
        let totalShare = grid.share.reduce(0, +)
        let q = grid.neighbours.neighbourhoodShares(grid.share, total: max(totalShare, 1e-300))
        let sums = counts.map { grid.neighbours.localSums($0) }
        var z: [[Double]] = [], bins: [[Int8]] = []
        var analysed = 0
        for t in counts.indices {
            let window = t > 0 ? [t - 1, t] : [t]
            let n = window.reduce(0) { $0 + totals[$1] }
            guard n >= settings.minIncidents, grid.cells.count > 1 else {
                z.append([Double](repeating: 0, count: grid.cells.count)); bins.append([Int8](repeating: 0, count: grid.cells.count)); continue
            }
            analysed += 1
            var stepZ = [Double](), tails = [GetisOrd.Tails]()
            stepZ.reserveCapacity(grid.cells.count); tails.reserveCapacity(grid.cells.count)
            var memo = GetisOrd.TailMemo(trials: n)
            for i in grid.cells.indices {
                var local = 0.0
                for s in window { local += sums[s][i] }
                let mean = Double(n) * q[i], sd = (Double(n) * q[i] * (1 - q[i])).squareRoot()
                stepZ.append(sd > 0 ? (local - mean) / sd : 0)
                tails.append(memo.binomial(Int(local.rounded()), q[i]))
            }
            z.append(stepZ)
            // A step counts as a hot (cold) spot at 95 % or more: twelve steps tested at 90 % would name
            // a pattern in about one run of five on random data (make eval).
            bins.append(GetisOrd.bins(tails: tails, fdr: fdr).map { abs($0) >= 2 ? Int8($0) : 0 })
        }
        let status: HotspotAnalysis.Status = analysed >= settings.emergingMinSteps ? .ok : .insufficientData
        return EmergingAnalysis(status: status, incidents: totals.reduce(0, +), stepsWithData: analysed, scale: scale, grid: grid,
                                counts: counts, z: z, bins: bins)
    }
}
