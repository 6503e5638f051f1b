// khareetaty-bench: benchmarks of the product's hand-rolled kernels (run by `make bench`).
//   khareetaty-bench geocode [--points N] [--pipeline FILE]    the kernel: a Markdown table for docs/BENCHMARKS.md
//   khareetaty-bench generate --rows N --out FILE [...]       synthetic incidents for the whole-run benchmarks (Generate.swift)
//   khareetaty-bench eval [--seeds N] [--out docs/ANALYTICS.md] the hot-spot method on simulated data (Evaluate.swift, `make eval`)
import Foundation
import Geo
import KhareetatyCore

func argument(_ name: String, default value: String) -> String {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return value }
    return args[i + 1]
}

/// Best of `repeats` runs, in points per second (one thread).
func rate(_ points: [GeoPoint], repeats: Int = 5, _ body: ([GeoPoint]) -> Int) -> (perSecond: Double, checksum: Int) {
    var best = Double.infinity, checksum = 0
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        checksum = body(points)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return (Double(points.count) / best, checksum)
}

func geocodeBench() throws {
    let count = Int(argument("--points", default: "2000000"))!
    let pipeline = try PipelineDefinition.load(path: argument("--pipeline", default: "pipelines/nightly.yaml"))
    let buildStart = Date()
    let layer = try DistrictLayer.load(pipeline.boundaries)
    let buildSeconds = Date().timeIntervalSince(buildStart)
    let box = layer.index.box
    var generator = SplitMix64(seed: 20261125)

    let uniform = (0..<count).map { _ in
        GeoPoint(lon: box.minLon + generator.unit() * (box.maxLon - box.minLon), lat: box.minLat + generator.unit() * (box.maxLat - box.minLat))
    }
    // Incident-like: most points in the populated coastal strip's small areas (the 40 smallest).
    let small = layer.districts.sorted { $0.areaKm2 < $1.areaKm2 }.prefix(40).map(\.geometry.boundingBox)
    let urban = (0..<count).map { _ -> GeoPoint in
        let b = small[Int(generator.next() % UInt64(small.count))]
        return GeoPoint(lon: b.minLon + generator.unit() * (b.maxLon - b.minLon), lat: b.minLat + generator.unit() * (b.maxLat - b.minLat))
    }
    // Worst case: every point within ~20 m of an area border.
    let edges = layer.districts.flatMap { d in d.geometry.rings.flatMap { r in zip(r.points, r.points.dropFirst()).map { ($0, $1) } } }
    let border = (0..<count).map { _ -> GeoPoint in
        let (a, b) = edges[Int(generator.next() % UInt64(edges.count))]
        let t = generator.unit(), o = (generator.unit() - 0.5) * 4e-4
        return GeoPoint(lon: a.lon + t * (b.lon - a.lon) + o, lat: a.lat + t * (b.lat - a.lat) + o)
    }

    let rayCast: ([GeoPoint]) -> Int = { points in
        var sum = 0
        for p in points { sum &+= layer.districts.firstIndex { $0.geometry.contains(p) } ?? -1 }
        return sum
    }
    let indexed: ([GeoPoint]) -> Int = { points in
        var sum = 0
        for p in points { sum &+= layer.index.locate(p) ?? -1 }
        return sum
    }

    print("| points (\(count) each, one core) | indexed, points/s | plain ray cast (bbox first), points/s | speed-up |")
    print("|---|---:|---:|---:|")
    for (name, points) in [("uniform over Kuwait's bounding box", uniform), ("incident-like: the 40 smallest (urban) areas", urban),
                           ("worst case: within ~20 m of a border", border)] {
        let fast = rate(points, indexed)
        let slow = rate(Array(points.prefix(max(count / 20, 1000))), repeats: 2, rayCast)
        precondition(fast.checksum == rayCast(points), "index and ray cast disagree on \(name)")
        print(String(format: "| %@ | %.1f M | %.2f M | %.0f× |", name, fast.perSecond / 1e6, slow.perSecond / 1e6, fast.perSecond / slow.perSecond))
    }
    print("")
    print(String(format: "Layer: %d areas, %d vertices; layer load and index build %.0f ms (%d×%d grid, %.1f%% of cells need an edge test).",
                 layer.districts.count, layer.districts.reduce(0) { $0 + $1.geometry.rings.reduce(0) { $0 + $1.points.count } },
                 buildSeconds * 1000, layer.index.gridSize.columns, layer.index.gridSize.rows, layer.index.boundaryCellShare * 100))
}

switch CommandLine.arguments.dropFirst().first {
case "geocode": try geocodeBench()
case "generate": try generateIncidents()
case "eval": try evaluate()
default: usage()
}
