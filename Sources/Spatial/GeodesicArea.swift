import CGeodesic
import Geo

/// Surface on the WGS 84 ellipsoid by Karney's algorithm (PROJ's geodesic.h): what PostGIS's
/// `ST_Area(geography)` computes, so `districts.area_km2` and a GIS tool agree to the square metre.
public enum GeodesicArea {
    /// Square kilometres of a MultiPolygon: outer rings minus holes.
    public static func km2(_ shape: MultiPolygon) -> Double {
        var geodesic = geod_geodesic()
        geod_init(&geodesic, 6_378_137, 1 / 298.257223563)
        var total = 0.0
        for polygon in shape.polygons {
            total += ring(polygon.outer, &geodesic)
            for hole in polygon.holes { total -= ring(hole, &geodesic) }
        }
        return total / 1e6
    }

    private static func ring(_ ring: Ring, _ geodesic: inout geod_geodesic) -> Double {
        var lats = ring.points.map(\.lat), lons = ring.points.map(\.lon)
        // A closed ring repeats its first point; the algorithm closes it by itself.
        if lats.count > 1, lats.first == lats.last, lons.first == lons.last { lats.removeLast(); lons.removeLast() }
        guard lats.count >= 3 else { return 0 }
        var area = 0.0, perimeter = 0.0
        geod_polygonarea(&geodesic, &lats, &lons, Int32(lats.count), &area, &perimeter)
        return abs(area)
    }
}
