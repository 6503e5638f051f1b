import Foundation
import Geo
import Spatial

/// What is wrong with a boundary layer, reported (never silently fixed): areas that are not valid
/// polygons as PostGIS's `ST_IsValid` sees them (GEOS's own check: self-intersections, rings
/// touching themselves, holes outside their shell…), pairs of areas that overlap, with an estimate
/// of the overlapping area, and features skipped for a `null` geometry.
public struct BoundaryReport: Sendable {
    public struct Invalid: Sendable {
        public var code: String, name: String
        /// GEOS's reason (as `ST_IsValidReason` words it) and where.
        public var reason: String
        public var location: GeoPoint?
    }
    public struct Overlap: Sendable {
        public var first: String, second: String
        /// Estimated on a 40×40 grid of sample points over the two areas' common bounding box.
        public var areaKm2: Double
    }

    public var invalid: [Invalid] = []
    public var overlaps: [Overlap] = []
    public var skippedFeatures: [String] = []
    public var isClean: Bool { invalid.isEmpty && overlaps.isEmpty && skippedFeatures.isEmpty }

    public init(layer: DistrictLayer) {
        invalid = layer.districts.compactMap { district in
            Validity.check(district.geometry).map { Invalid(code: district.code, name: district.name, reason: $0.reason, location: $0.location) }
        }
        skippedFeatures = layer.skippedFeatures
        var pairs: Set<[Int]> = []
        for c in layer.index.crossings() where c.first != c.second { pairs.insert([c.first, c.second]) }
        // An area wholly inside another crosses no edge: test a point inside each area too.
        for (i, district) in layer.districts.enumerated() {
            guard let inside = Self.interiorPoint(district.geometry) else { continue }
            for (j, other) in layer.districts.enumerated() where j != i && other.geometry.contains(inside) {
                pairs.insert([min(i, j), max(i, j)])
            }
        }
        overlaps = pairs.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }.map { pair in
            let a = layer.districts[pair[0]], b = layer.districts[pair[1]]
            return Overlap(first: a.code, second: b.code, areaKm2: Self.sharedArea(a.geometry, b.geometry))
        }
    }

    /// A point inside the shape: the centroid of the first fan triangle of its first outer ring
    /// that lies inside it.
    static func interiorPoint(_ shape: MultiPolygon) -> GeoPoint? {
        let ring = shape.polygons[0].outer.points
        guard ring.count >= 4 else { return nil }
        for k in 1..<(ring.count - 2) {
            let p = GeoPoint(lon: (ring[0].lon + ring[k].lon + ring[k + 1].lon) / 3, lat: (ring[0].lat + ring[k].lat + ring[k + 1].lat) / 3)
            if shape.contains(p) { return p }
        }
        return nil
    }

    static func sharedArea(_ a: MultiPolygon, _ b: MultiPolygon) -> Double {
        let box = BoundingBox(minLon: max(a.boundingBox.minLon, b.boundingBox.minLon), minLat: max(a.boundingBox.minLat, b.boundingBox.minLat),
                              maxLon: min(a.boundingBox.maxLon, b.boundingBox.maxLon), maxLat: min(a.boundingBox.maxLat, b.boundingBox.maxLat))
        guard box.minLon < box.maxLon, box.minLat < box.maxLat else { return 0 }
        let n = 40
        var both = 0
        for i in 0..<n {
            for j in 0..<n {
                let p = GeoPoint(lon: box.minLon + (Double(i) + 0.5) / Double(n) * (box.maxLon - box.minLon),
                                 lat: box.minLat + (Double(j) + 0.5) / Double(n) * (box.maxLat - box.minLat))
                if a.contains(p) && b.contains(p) { both += 1 }
            }
        }
        let cell = MultiPolygon([Polygon(outer: Ring([GeoPoint(lon: box.minLon, lat: box.minLat), GeoPoint(lon: box.maxLon, lat: box.minLat),
                                                      GeoPoint(lon: box.maxLon, lat: box.maxLat), GeoPoint(lon: box.minLon, lat: box.maxLat),
                                                      GeoPoint(lon: box.minLon, lat: box.minLat)]))])
        return cell.areaKm2 * Double(both) / Double(n * n)
    }

    /// One line for `check` and the run log.
    public var summary: String {
        if isClean { return "every area a valid polygon, no overlaps" }
        var parts: [String] = []
        if !invalid.isEmpty {
            parts.append("not valid (as ST_IsValid): " + invalid.map { bad in
                "\(bad.name) (\(bad.code)): \(bad.reason)" + (bad.location.map { String(format: " at %.6f, %.6f", $0.lon, $0.lat) } ?? "")
            }.joined(separator: ", "))
        }
        if !skippedFeatures.isEmpty {
            parts.append("skipped for a null geometry: \(skippedFeatures.count) (" + skippedFeatures.joined(separator: "; ") + ")")
        }
        if !overlaps.isEmpty {
            parts.append("overlapping: " + overlaps.map { String(format: "%@ / %@ ≈ %.3f km²", $0.first, $0.second, $0.areaKm2) }.joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }
}
