import CLibProj
import Geo

/// A transformation from a coordinate reference system to WGS 84 longitude/latitude, by PROJ
/// (`proj_create_crs_to_crs`, axis order normalised: easting/x then northing/y in, longitude then
/// latitude out). PROJ picks the operation from its database; no network grids are fetched.
///
/// One PROJ context per transform: use one from one thread at a time (each input file's clean
/// stage makes its own).
public final class CRSTransform: @unchecked Sendable {
    /// The source CRS as written (`EPSG:2263`, `ESRI:102696`).
    public let source: String
    private let context: OpaquePointer
    private let operation: OpaquePointer

    /// Fails with PROJ's reason when the CRS is unknown or no operation to WGS 84 exists.
    public init(from source: String) throws {
        self.source = source
        guard let context = proj_context_create() else { throw CRSError(crs: source, problem: "PROJ could not create a context") }
        proj_context_use_proj4_init_rules(context, 0)
        guard let raw = proj_create_crs_to_crs(context, source, "EPSG:4326", nil) else {
            let reason = Self.message(context)
            proj_context_destroy(context)
            throw CRSError(crs: source, problem: reason)
        }
        let normalized = proj_normalize_for_visualization(context, raw)
        proj_destroy(raw)
        guard let normalized else {
            let reason = Self.message(context)
            proj_context_destroy(context)
            throw CRSError(crs: source, problem: reason)
        }
        self.context = context
        operation = normalized
    }

    deinit {
        proj_destroy(operation)
        proj_context_destroy(context)
    }

    /// Longitude and latitude of the point (x, y) of the source CRS, or nil when PROJ cannot
    /// transform it (outside the CRS's domain) or the answer is not finite.
    public func toWGS84(x: Double, y: Double) -> GeoPoint? {
        proj_errno_reset(operation)
        let out = proj_trans(operation, PJ_FWD, proj_coord(x, y, 0, 0))
        let lon = out.xy.x, lat = out.xy.y
        guard proj_errno(operation) == 0, lon.isFinite, lat.isFinite, (-180...180).contains(lon), (-90...90).contains(lat) else { return nil }
        return GeoPoint(lon: lon, lat: lat)
    }

    private static func message(_ context: OpaquePointer) -> String {
        let code = proj_context_errno(context)
        guard code != 0, let text = proj_context_errno_string(context, code) else { return "unknown CRS or no transformation to WGS 84" }
        return String(cString: text)
    }
}

/// A CRS PROJ does not know, or cannot take to WGS 84.
public struct CRSError: Error, CustomStringConvertible, Sendable {
    public var crs: String
    public var problem: String
    public var description: String { "CRS \(crs): \(problem)" }
}
