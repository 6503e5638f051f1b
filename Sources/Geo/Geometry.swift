import Foundation

/// A WGS 84 position in degrees.
public struct GeoPoint: Hashable, Sendable {
    public var lon: Double
    public var lat: Double
    public init(lon: Double, lat: Double) {
        self.lon = lon
        self.lat = lat
    }
}

/// An axis-aligned box in degrees.
public struct BoundingBox: Sendable, Equatable {
    public var minLon: Double, minLat: Double, maxLon: Double, maxLat: Double

    public init(minLon: Double, minLat: Double, maxLon: Double, maxLat: Double) {
        self.minLon = minLon; self.minLat = minLat; self.maxLon = maxLon; self.maxLat = maxLat
    }

    public init<S: Sequence>(enclosing points: S) where S.Element == GeoPoint {
        self.init(minLon: .infinity, minLat: .infinity, maxLon: -.infinity, maxLat: -.infinity)
        for p in points { extend(p) }
    }

    public mutating func extend(_ p: GeoPoint) {
        minLon = min(minLon, p.lon); maxLon = max(maxLon, p.lon)
        minLat = min(minLat, p.lat); maxLat = max(maxLat, p.lat)
    }

    public mutating func extend(_ box: BoundingBox) {
        minLon = min(minLon, box.minLon); maxLon = max(maxLon, box.maxLon)
        minLat = min(minLat, box.minLat); maxLat = max(maxLat, box.maxLat)
    }

    public func contains(_ p: GeoPoint) -> Bool {
        p.lon >= minLon && p.lon <= maxLon && p.lat >= minLat && p.lat <= maxLat
    }
}

/// A closed ring: first point equals last, at least 4 points (validated by the loaders).
public struct Ring: Sendable {
    public let points: [GeoPoint]
    public init(_ points: [GeoPoint]) { self.points = points }

    /// Signed area in square degrees (shoelace); positive when counter-clockwise.
    public var signedArea: Double {
        var sum = 0.0
        for i in 0..<(points.count - 1) {
            sum += points[i].lon * points[i + 1].lat - points[i + 1].lon * points[i].lat
        }
        return sum / 2
    }
}

/// An outer ring with zero or more holes.
public struct Polygon: Sendable {
    public let outer: Ring
    public let holes: [Ring]
    public init(outer: Ring, holes: [Ring] = []) {
        self.outer = outer
        self.holes = holes
    }
}

/// One or more polygons (a GeoJSON Polygon is a MultiPolygon of one).
public struct MultiPolygon: Sendable {
    public let polygons: [Polygon]
    public let boundingBox: BoundingBox

    public init(_ polygons: [Polygon]) {
        self.polygons = polygons
        var box = BoundingBox(enclosing: [])
        for polygon in polygons { box.extend(BoundingBox(enclosing: polygon.outer.points)) }
        boundingBox = box
    }

    /// Every ring, outer and inner: the even-odd rule over all of them gives containment with holes.
    public var rings: [Ring] { polygons.flatMap { [$0.outer] + $0.holes } }

    /// Point in polygon by the even-odd crossing rule over all rings (so holes are excluded), with
    /// half-open edges (an edge includes its lower endpoint, excludes its upper): a point on an
    /// edge shared by two neighbours is counted in exactly one of them.
    public func contains(_ p: GeoPoint) -> Bool {
        guard boundingBox.contains(p) else { return false }
        var inside = false
        for polygon in polygons {
            for ring in [polygon.outer] + polygon.holes {
                let pts = ring.points
                var j = pts.count - 1
                for i in 0..<pts.count {
                    let a = pts[i], b = pts[j]
                    if (a.lat > p.lat) != (b.lat > p.lat) {
                        let x = (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon
                        if p.lon < x { inside.toggle() }
                    }
                    j = i
                }
            }
        }
        return inside
    }

    /// Area in km², from the shoelace formula in a local equirectangular projection at each
    /// polygon's mean latitude (error well under 0.5% for district-sized shapes at Kuwait's latitude).
    public var areaKm2: Double {
        var total = 0.0
        for polygon in polygons {
            let lat0 = polygon.outer.points.map(\.lat).reduce(0, +) / Double(polygon.outer.points.count)
            let kmPerDegLat = 111.32
            let kmPerDegLon = 111.32 * cos(lat0 * .pi / 180)
            let squareDegrees = abs(polygon.outer.signedArea) - polygon.holes.reduce(0) { $0 + abs($1.signedArea) }
            total += squareDegrees * kmPerDegLat * kmPerDegLon
        }
        return total
    }
}
