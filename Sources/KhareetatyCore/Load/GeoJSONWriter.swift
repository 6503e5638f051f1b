import Foundation
import Geo

extension MultiPolygon {
    /// GeoJSON geometry text (MultiPolygon). Coordinates are written in Swift's shortest
    /// round-trip form, so the text holds exactly the geometry the geocoder used.
    public var geoJSON: String {
        func ring(_ r: Ring) -> String {
            "[" + r.points.map { "[\(format($0.lon)),\(format($0.lat))]" }.joined(separator: ",") + "]"
        }
        let polys = polygons.map { "[" + ([$0.outer] + $0.holes).map(ring).joined(separator: ",") + "]" }
        return "{\"type\":\"MultiPolygon\",\"coordinates\":[" + polys.joined(separator: ",") + "]}"
    }

    private func format(_ value: Double) -> String { "\(value)" }
}
