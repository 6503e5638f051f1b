import Analytics
import Foundation
import Geo
import KhareetatyCore

/// `make eval`: the hot-spot method on simulated data where the truth is known, over many seeds.
///   - complete spatial randomness (a homogeneous Poisson process over the union of the areas:
///     uniform in projected metres, kept where a point falls in an area) at 50 / 500 / 5,000 /
///     50,000 incidents per window: the share of runs with any significant cell (target ≤ 5 % at
///     95 %; ≤ the nominal level at each level);
///   - planted clusters (incidents uniform in a 250 m disc around a random point of the areas) of
///     20, 50 and 100 incidents on a 1,000-incident random background: recall (a cluster is found
///     when a significant hot cell's centre lies within 500 m of its centre) and precision (the share
///     of significant cells whose centre lies within 1 km of a cluster);
///   - emerging hot spots on 12 weekly steps of random data: the share of runs naming any pattern.
/// Every analysis is `HotspotAnalysis.run` / `EmergingAnalysis.run` with the pipeline's settings,
/// the study area chosen from the simulated incidents themselves (the hardest case for validity).
func evaluate() throws {
    let seeds = Int(argument("--seeds", default: "20"))!
    let pipeline = try PipelineDefinition.load(path: argument("--pipeline", default: "pipelines/nightly.yaml"))
    let out = argument("--out", default: "")
    let layer = try DistrictLayer.load(pipeline.boundaries)
    let settings = pipeline.aggregate
    let (projection, epsg) = HotspotAnalysis.projection(layer: layer, settings: settings.hotspot)
    var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
    for d in layer.districts { for r in d.geometry.rings { for p in r.points {
        let (x, y) = projection.forward(p); minX = min(minX, x); minY = min(minY, y); maxX = max(maxX, x); maxY = max(maxY, y)
    } } }
    func randomPoint(_ g: inout SplitMix64) -> GeoPoint {
        while true {
            let p = projection.inverse(x: minX + g.unit() * (maxX - minX), y: minY + g.unit() * (maxY - minY))
            if layer.index.locate(p) != nil { return p }
        }
    }
    func disc(_ centre: GeoPoint, radius: Double, _ g: inout SplitMix64) -> GeoPoint {
        let (cx, cy) = projection.forward(centre)
        while true {
            let (dx, dy) = ((g.unit() * 2 - 1) * radius, (g.unit() * 2 - 1) * radius)
            if dx * dx + dy * dy <= radius * radius {
                let p = projection.inverse(x: cx + dx, y: cy + dy)
                if layer.index.locate(p) != nil { return p }
            }
        }
    }
    func active(_ points: [GeoPoint]) -> Set<Int> { Set(points.compactMap { layer.index.locate($0) }) }
    let cache = HotspotAnalysis.GridCache()
    let started = Date()
    var lines: [String] = []
    func say(_ line: String) { print(line); lines.append(line) }

    say("Method: Gi* (binary weights, self included, the 8 surrounding cells), significance exact under complete spatial randomness (`\(settings.hotspot.inference.rawValue)`), Benjamini–Hochberg FDR, cell size from the incidents' spacing within \(Int(settings.hotspot.cellMin))–\(Int(settings.hotspot.cellMax)) m, grid in EPSG:\(epsg), \(seeds) seeds per row.")
    say("")
    say("**Complete spatial randomness** (no clustering at all): share of runs with any significant cell.")
    say("")
    say("| incidents per window | runs | any cell ≥ 90 % (nominal 10 %) | any cell ≥ 95 % (target ≤ 5 %) | any cell ≥ 99 % (nominal 1 %) | significant cells, mean | cell size, median | cells, median |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in [50, 500, 5_000, 50_000] {
        var any = [0, 0, 0], cells = 0, sizes: [Double] = [], counts: [Int] = []
        for seed in 0..<seeds {
            var g = SplitMix64(seed: UInt64(1_000 * n + seed))
            let points = (0..<n).map { _ in randomPoint(&g) }
            let a = HotspotAnalysis.run(points: points, layer: layer, study: active(points), settings: settings.hotspot, fdr: settings.fdr, cache: cache)
            for (i, level) in [1, 2, 3].enumerated() where a.bins.contains(where: { abs($0) >= level }) { any[i] += 1 }
            cells += a.bins.filter { $0 != 0 }.count
            sizes.append(a.scale.cellMetres); counts.append(a.grid.cells.count)
        }
        func pct(_ k: Int) -> String { String(format: "%.0f %% (%d)", Double(k) / Double(seeds) * 100, k) }
        say("| \(n) | \(seeds) | \(pct(any[0])) | \(pct(any[1])) | \(pct(any[2])) | \(String(format: "%.2f", Double(cells) / Double(seeds))) | \(Int(sizes.sorted()[seeds / 2])) m | \(counts.sorted()[seeds / 2]) |")
    }

    say("")
    say("**Planted clusters** on a 1,000-incident random background: each run plants one cluster of each size (250 m radius).")
    say("")
    say("| cluster size | clusters | found | recall |")
    say("|---:|---:|---:|---:|")
    let sizes = [20, 50, 100]
    var found = [Int](repeating: 0, count: sizes.count)
    var significant = 0, near = 0, cellSizes: [Double] = []
    for seed in 0..<seeds {
        var g = SplitMix64(seed: UInt64(777_000 + seed))
        var points = (0..<1_000).map { _ in randomPoint(&g) }
        let centres = sizes.map { _ in randomPoint(&g) }
        for (size, centre) in zip(sizes, centres) { points += (0..<size).map { _ in disc(centre, radius: 250, &g) } }
        let a = HotspotAnalysis.run(points: points, layer: layer, study: active(points), settings: settings.hotspot, fdr: settings.fdr, cache: cache)
        cellSizes.append(a.scale.cellMetres)
        let centresXY = centres.map { projection.forward($0) }
        func distance(_ slot: Int, _ c: (x: Double, y: Double)) -> Double {
            let cell = a.grid.cells[slot]
            let (x, y) = ((Double(cell.col) + 0.5) * a.grid.cellMetres, (Double(cell.row) + 0.5) * a.grid.cellMetres)
            return ((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)).squareRoot()
        }
        for (k, c) in centresXY.enumerated() where a.bins.indices.contains(where: { a.bins[$0] > 0 && distance($0, c) <= 500 }) { found[k] += 1 }
        for slot in a.bins.indices where a.bins[slot] != 0 {
            significant += 1
            if centresXY.contains(where: { distance(slot, $0) <= 1_000 }) { near += 1 }
        }
    }
    for (k, size) in sizes.enumerated() {
        say("| \(size) | \(seeds) | \(found[k]) | \(String(format: "%.0f %%", Double(found[k]) / Double(seeds) * 100)) |")
    }
    say("")
    say(String(format: "Precision: %d of %d significant cells (%.1f %%) lie within 1 km of a planted cluster (target ≥ 90 %%); cell size chosen: median %d m.",
               near, significant, significant == 0 ? 0 : Double(near) / Double(significant) * 100, Int(cellSizes.sorted()[seeds / 2])))

    say("")
    say("**Emerging hot spots** on 12 weekly steps of complete spatial randomness: share of runs naming any hot or cold pattern.")
    say("")
    say("| incidents per week | runs | runs with any pattern | runs with enough steps |")
    say("|---:|---:|---:|---:|")
    for perWeek in [50, 500] {
        var withPattern = 0, enough = 0
        for seed in 0..<seeds {
            var g = SplitMix64(seed: UInt64(555_000 + perWeek * 100 + seed))
            let steps = (0..<settings.trendWeeks).map { _ in (0..<perWeek).map { _ in randomPoint(&g) } }
            let e = EmergingAnalysis.run(steps: steps, layer: layer, study: active(steps.flatMap { $0 }), settings: settings.hotspot, fdr: settings.fdr, cache: cache)
            guard e.status == .ok else { continue }
            enough += 1
            let named = e.grid.cells.indices.contains { slot in
                let bins = e.bins.map { Int($0[slot]) }
                return bins.contains { $0 != 0 } && EmergingPattern.classify(bins: bins, z: e.z.map { $0[slot] }, alpha: settings.alpha).pattern != .noPattern
            }
            if named { withPattern += 1 }
        }
        say("| \(perWeek) | \(seeds) | \(withPattern) (\(String(format: "%.0f %%", Double(withPattern) / Double(seeds) * 100))) | \(enough) |")
    }
    say("")
    say(String(format: "Took %.0f s (`khareetaty-bench eval --seeds %d`, release build).", Date().timeIntervalSince(started), seeds))

    guard !out.isEmpty else { return }
    // Replace the measured section of the document, keep the rest.
    let doc = try String(contentsOfFile: out, encoding: .utf8)
    guard let begin = doc.range(of: "<!-- eval:begin -->"), let end = doc.range(of: "<!-- eval:end -->") else {
        throw NSError(domain: "eval", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(out) has no <!-- eval:begin --> … <!-- eval:end --> section"])
    }
    var machine = "\(ProcessInfo.processInfo.activeProcessorCount) cores"
    if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8).split(separator: "\n").first(where: { $0.hasPrefix("model name") }) {
        machine = cpu.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }.map { "\($0), " } ?? "" + machine
        machine += "\(ProcessInfo.processInfo.activeProcessorCount) cores"
    }
    let stamp = ISO8601DateFormatter().string(from: Date())
    let body = "<!-- eval:begin -->\nMeasured \(stamp) by `make eval` on \(machine).\n\n" + lines.joined(separator: "\n") + "\n"
    try (String(doc[..<begin.lowerBound]) + body + String(doc[end.lowerBound...])).write(toFile: out, atomically: true, encoding: .utf8)
}
