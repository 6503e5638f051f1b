import Foundation

/// A feature from a boundary file: its properties (as text) and its (multi)polygon.
public struct Feature: Sendable {
    public let properties: [String: String]
    public let geometry: MultiPolygon
    /// 1-based position in the file's feature list, for error messages.
    public let index: Int

    public init(properties: [String: String], geometry: MultiPolygon, index: Int) {
        self.properties = properties
        self.geometry = geometry
        self.index = index
    }
}

/// A boundary file that does not hold what we need, with the place and the reason.
public struct BoundaryError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var feature: Int?
    public var problem: String
    public init(file: String, feature: Int? = nil, problem: String) {
        self.file = file
        self.feature = feature
        self.problem = problem
    }
    public var description: String {
        "\(file)" + (feature.map { ", feature \($0)" } ?? "") + ": \(problem)"
    }
}

public enum GeoJSON {
    /// Reads the Polygon and MultiPolygon features of a GeoJSON FeatureCollection, validating every
    /// ring (closed, at least 4 points, finite coordinates). Other geometry types are an error.
    /// A feature whose geometry is `null` (valid GeoJSON: a feature without a place) is skipped.
    public static func readFeatures(path: String) throws -> [Feature] { try read(path: path).features }

    /// The same, with the features skipped for a null geometry (their 1-based positions), and
    /// positions of another CRS taken to WGS 84 degrees by `transform` (nil: not transformable)
    /// before the rings are checked.
    public static func read(path: String, transform: ((GeoPoint) -> GeoPoint?)? = nil) throws -> (features: [Feature], nullGeometries: [Int]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BoundaryError(file: path, problem: "cannot read the file")
        }
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw BoundaryError(file: path, problem: "not valid JSON: \(error.localizedDescription)")
        }
        guard let collection = root as? [String: Any], collection["type"] as? String == "FeatureCollection",
              let features = collection["features"] as? [[String: Any]] else {
            throw BoundaryError(file: path, problem: "expected a GeoJSON FeatureCollection")
        }
        var nullGeometries: [Int] = []
        let read = try features.enumerated().compactMap { offset, feature -> Feature? in
            let index = offset + 1
            if feature["geometry"] is NSNull {
                nullGeometries.append(index)
                return nil
            }
            let properties = (feature["properties"] as? [String: Any] ?? [:]).compactMapValues { value -> String? in
                switch value {
                case let s as String: return s
                case let n as NSNumber: return n.stringValue
                default: return nil
                }
            }
            guard let geometry = feature["geometry"] as? [String: Any], let type = geometry["type"] as? String,
                  let coordinates = geometry["coordinates"] as? [Any] else {
                throw BoundaryError(file: path, feature: index, problem: "missing geometry")
            }
            let polygons: [Polygon]
            switch type {
            case "Polygon": polygons = [try polygon(coordinates, file: path, feature: index, transform: transform)]
            case "MultiPolygon": polygons = try coordinates.map { try polygon($0 as? [Any] ?? [], file: path, feature: index, transform: transform) }
            default: throw BoundaryError(file: path, feature: index, problem: "geometry type \(type) is not a Polygon or MultiPolygon")
            }
            return Feature(properties: properties, geometry: MultiPolygon(polygons), index: index)
        }
        return (read, nullGeometries)
    }

    private static func polygon(_ rings: [Any], file: String, feature: Int, transform: ((GeoPoint) -> GeoPoint?)?) throws -> Polygon {
        let parsed = try rings.map { try ring($0, file: file, feature: feature, transform: transform) }
        guard let outer = parsed.first else { throw BoundaryError(file: file, feature: feature, problem: "polygon without rings") }
        return Polygon(outer: outer, holes: Array(parsed.dropFirst()))
    }

    /// Checks a ring read from any format: at least 4 finite points in degrees, first equal to last.
    public static func validatedRing(_ points: [GeoPoint], file: String, feature: Int) throws -> Ring {
        guard points.allSatisfy({ $0.lon.isFinite && $0.lat.isFinite }) else {
            throw BoundaryError(file: file, feature: feature, problem: "a position is not two finite numbers")
        }
        if let outside = points.first(where: { !(-180...180).contains($0.lon) || !(-90...90).contains($0.lat) }) {
            throw BoundaryError(file: file, feature: feature,
                                problem: "position (\(outside.lon), \(outside.lat)) is not a longitude −180…180 and latitude −90…90 (boundaries are read as WGS 84 degrees)")
        }
        guard points.count >= 4 else { throw BoundaryError(file: file, feature: feature, problem: "ring has \(points.count) points; at least 4 are needed") }
        guard points.first == points.last else { throw BoundaryError(file: file, feature: feature, problem: "ring is not closed (first point differs from last)") }
        return Ring(points)
    }

    private static func ring(_ value: Any, file: String, feature: Int, transform: ((GeoPoint) -> GeoPoint?)?) throws -> Ring {
        guard let positions = value as? [[Any]] else { throw BoundaryError(file: file, feature: feature, problem: "ring is not a list of positions") }
        let points = try positions.map { position -> GeoPoint in
            guard position.count >= 2, let lon = (position[0] as? NSNumber)?.doubleValue, let lat = (position[1] as? NSNumber)?.doubleValue,
                  lon.isFinite, lat.isFinite else {
                throw BoundaryError(file: file, feature: feature, problem: "position is not two finite numbers")
            }
            guard let transform else { return GeoPoint(lon: lon, lat: lat) }
            guard let moved = transform(GeoPoint(lon: lon, lat: lat)) else {
                throw BoundaryError(file: file, feature: feature, problem: "position (\(lon), \(lat)) cannot be taken from the boundaries' CRS to WGS 84")
            }
            return moved
        }
        return try validatedRing(points, file: file, feature: feature)
    }
}
