import CLibGEOS
import Geo

/// OGC validity of a (multi)polygon by GEOS's `GEOSisValidDetail` — the function PostGIS's
/// `ST_IsValid` / `ST_IsValidReason` call, so what PostGIS calls invalid is invalid here too:
/// self-intersections (proper crossings, rings touching themselves, spikes), holes outside their
/// shell or nested, a polygon's interior cut in two, overlapping parts of a multipolygon.
public enum Validity {
    public struct Problem: Sendable, Equatable {
        /// GEOS's reason, e.g. "Self-intersection", "Ring Self-intersection", "Hole lies outside shell".
        public var reason: String
        /// Where, when GEOS says.
        public var location: GeoPoint?
    }

    /// nil when valid.
    public static func check(_ shape: MultiPolygon) -> Problem? {
        guard let handle = GEOS_init_r() else { return Problem(reason: "GEOS could not start", location: nil) }
        defer { GEOS_finish_r(handle) }
        guard let geometry = makeMultiPolygon(shape, handle) else {
            return Problem(reason: "GEOS could not build the geometry (a ring with too few points, or not closed)", location: nil)
        }
        defer { GEOSGeom_destroy_r(handle, geometry) }
        var reason: UnsafeMutablePointer<CChar>?
        var location: OpaquePointer?
        let valid = GEOSisValidDetail_r(handle, geometry, 0, &reason, &location)
        defer {
            if let reason { GEOSFree_r(handle, reason) }
            if let location { GEOSGeom_destroy_r(handle, location) }
        }
        guard valid == 0 else { return nil }
        var point: GeoPoint?
        if let location {
            var x = 0.0, y = 0.0
            if GEOSGeomGetX_r(handle, location, &x) == 1, GEOSGeomGetY_r(handle, location, &y) == 1 { point = GeoPoint(lon: x, lat: y) }
        }
        return Problem(reason: reason.map { String(cString: $0) } ?? "invalid", location: point)
    }

    private static func makeRing(_ ring: Ring, _ handle: GEOSContextHandle_t) -> OpaquePointer? {
        guard let sequence = GEOSCoordSeq_create_r(handle, UInt32(ring.points.count), 2) else { return nil }
        for (i, p) in ring.points.enumerated() { GEOSCoordSeq_setXY_r(handle, sequence, UInt32(i), p.lon, p.lat) }
        return GEOSGeom_createLinearRing_r(handle, sequence)  // takes the sequence
    }

    private static func makeMultiPolygon(_ shape: MultiPolygon, _ handle: GEOSContextHandle_t) -> OpaquePointer? {
        var polygons: [OpaquePointer?] = []
        for polygon in shape.polygons {
            guard let shell = makeRing(polygon.outer, handle) else {
                polygons.forEach { GEOSGeom_destroy_r(handle, $0) }
                return nil
            }
            var holes: [OpaquePointer?] = []
            for hole in polygon.holes {
                guard let ring = makeRing(hole, handle) else {
                    GEOSGeom_destroy_r(handle, shell)
                    holes.forEach { GEOSGeom_destroy_r(handle, $0) }
                    polygons.forEach { GEOSGeom_destroy_r(handle, $0) }
                    return nil
                }
                holes.append(ring)
            }
            let made = holes.withUnsafeMutableBufferPointer { GEOSGeom_createPolygon_r(handle, shell, $0.baseAddress, UInt32($0.count)) }
            polygons.append(made)
        }
        return polygons.withUnsafeMutableBufferPointer {
            GEOSGeom_createCollection_r(handle, Int32(GEOS_MULTIPOLYGON.rawValue), $0.baseAddress, UInt32($0.count))
        }
    }
}
