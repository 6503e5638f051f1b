import Foundation
import Geo
import KhareetatyCore

/// `khareetaty-bench generate --rows N --out FILE [--messy 0.005] [--seed S] [--pipeline FILE]`:
/// deterministic synthetic incidents in the nightly export's schema, over the real Kuwait areas.
///   - most points fall in the small, dense urban areas (weight ∝ 1/√km², so Kuwait City's blocks
///     outweigh the desert), placed inside their polygon by rejection sampling against the index;
///   - 4% fall in six tight clusters (σ ≈ 150 m), two of which only start in the last six weeks
///     (so the emerging hot-spot analysis has something to find);
///   - 1% fall outside every area (sea, desert), the rest of the country's share of GPS noise;
///   - a year of timestamps ending on 2025-11-24 (the bench's as-of date), with a daily rhythm
///     (quiet mornings, busy evenings), written as ISO 8601 with the +03:00 offset;
///   - eight categories with unequal shares, a few in Arabic;
///   - `--messy` of the rows broken in the ways real exports are (bad timestamp, empty category,
///     coordinates outside the box, swapped lat/lon, unknown category, a re-sent id): every one
///     of them has a defined fate, so the run's accounting still has to add up.
func generateIncidents() throws {
    guard let rows = Int(argument("--rows", default: "")), rows > 0 else { usage() }
    let out = argument("--out", default: "")
    guard !out.isEmpty else { usage() }
    let messyShare = Double(argument("--messy", default: "0.005"))!
    var rng = SplitMix64(seed: UInt64(argument("--seed", default: "20261125"))!)
    let pipeline = try PipelineDefinition.load(path: argument("--pipeline", default: "pipelines/nightly.yaml"))
    let layer = try DistrictLayer.load(pipeline.boundaries)
    let box = layer.index.box

    // Area choice: cumulative weights ∝ 1/√area.
    var cumulative: [Double] = []
    var total = 0.0
    for district in layer.districts {
        total += 1 / max(district.areaKm2, 0.5).squareRoot()
        cumulative.append(total)
    }
    func pickArea(_ u: Double) -> Int {
        let target = u * total
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
    func pointIn(area: Int) -> GeoPoint {
        let b = layer.districts[area].geometry.boundingBox
        for _ in 0..<200 {
            let p = GeoPoint(lon: b.minLon + rng.unit() * (b.maxLon - b.minLon), lat: b.minLat + rng.unit() * (b.maxLat - b.minLat))
            if layer.index.locate(p) == area { return p }
        }
        return layer.districts[area].geometry.rings[0].points[0]
    }
    func outsidePoint() -> GeoPoint {
        while true {
            let p = GeoPoint(lon: box.minLon + rng.unit() * (box.maxLon - box.minLon), lat: box.minLat + rng.unit() * (box.maxLat - box.minLat))
            if layer.index.locate(p) == nil { return p }
        }
    }
    // Six hot clusters in dense areas; the last two are new (last 42 days only).
    let clusters = (0..<6).map { _ in pointIn(area: pickArea(rng.unit())) }
    func gaussian() -> Double {  // Box–Muller
        let u = max(rng.unit(), 1e-12), v = rng.unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    let categories = ["theft", "traffic accident", "assault", "drugs", "burglary", "vehicle theft", "fraud", "vandalism", "سرقة", "حادث مروري"]
    let categoryWeights: [Double] = [22, 20, 12, 9, 8, 7, 6, 6, 6, 4]
    let categoryTotal = categoryWeights.reduce(0, +)
    // Share of incidents by local hour: quiet 03:00–08:00, busiest 18:00–23:00.
    let hourWeights: [Double] = [5, 4, 3, 2, 1.5, 1.5, 2, 3, 4, 4, 4.5, 5, 5, 5, 5, 5.5, 6, 6.5, 7.5, 8, 8, 8, 7.5, 6]
    let hourTotal = hourWeights.reduce(0, +)
    func weighted(_ weights: [Double], _ sum: Double) -> Int {
        var target = rng.unit() * sum
        for (i, w) in weights.enumerated() { target -= w; if target < 0 { return i } }
        return weights.count - 1
    }

    let lastDay = 20_416  // 2025-11-24, days since 1970-01-01
    let days = 364
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 20)
    FileManager.default.createFile(atPath: out, contents: nil)
    guard let handle = FileHandle(forWritingAtPath: out) else { throw CocoaError(.fileWriteUnknown) }
    defer { try? handle.close() }
    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { handle.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
    }
    func iso(_ day: Int, _ secondOfDay: Int) -> String {
        let (y, m, d) = CivilDate.civil(days: day)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d+03:00", y, m, d, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }
    func coordinate(_ value: Double) -> String { String(format: "%.6f", value) }

    write("incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n")
    for i in 0..<rows {
        let roll = rng.unit()
        var day = lastDay - Int(rng.next() % UInt64(days))
        let point: GeoPoint
        if roll < 0.01 {
            point = outsidePoint()
        } else if roll < 0.05 {
            let c = Int(rng.next() % 6)
            if c >= 4 { day = lastDay - Int(rng.next() % 42) }
            let centre = clusters[c]
            let metresPerDegreeLat = 110_950.0, metresPerDegreeLon = 111_320.0 * cos(centre.lat * .pi / 180)
            point = GeoPoint(lon: centre.lon + gaussian() * 150 / metresPerDegreeLon, lat: centre.lat + gaussian() * 150 / metresPerDegreeLat)
        } else {
            point = pointIn(area: pickArea(rng.unit()))
        }
        let second = weighted(hourWeights, hourTotal) * 3600 + Int(rng.next() % 3600)
        var id = "B-\(String(i, radix: 10))"
        var occurred = iso(day, second)
        var category = categories[weighted(categoryWeights, categoryTotal)]
        var lat = coordinate(point.lat), lon = coordinate(point.lon)
        var updated = ""
        if rng.unit() < messyShare {
            switch rng.next() % 6 {
            case 0: occurred = "31/02/2025 25:61"                       // rejected: bad_timestamp
            case 1: category = ""                                       // rejected: missing_category
            case 2: lat = "35.000000"; lon = "51.000000"                // rejected: bad_coordinates
            case 3: swap(&lat, &lon)                                    // kept, flagged swapped_coordinates
            case 4: category = "camel racing dispute"                   // kept as other, flagged unknown_category
            default:                                                    // a re-send of an earlier id: a duplicate
                if i > 0 { id = "B-\(String(Int(rng.next() % UInt64(i)), radix: 10))"; updated = iso(lastDay, 43_200) }
            }
        }
        write("\(id),\(occurred),\(category),\(lat),\(lon),,synthetic,\(updated)\n")
    }
    handle.write(Data(buffer))
}

func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: khareetaty-bench geocode [--points N] [--pipeline FILE]
               khareetaty-bench generate --rows N --out FILE [--messy SHARE] [--seed S] [--pipeline FILE]
               khareetaty-bench eval [--seeds N] [--out FILE] [--pipeline FILE]

        """.utf8))
    exit(2)
}
