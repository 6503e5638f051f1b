import Foundation
import Geo

extension MultiPolygon {
    /// GeoJSON geometry text (MultiPolygon), coordinates to 7 decimals (~1 cm).
    public var geoJSON: String {
        func ring(_ r: Ring) -> String {
            "[" + r.points.map { "[\(format($0.lon)),\(format($0.lat))]" }.joined(separator: ",") + "]"
        }
        let polys = polygons.map { "[" + ([$0.outer] + $0.holes).map(ring).joined(separator: ",") + "]" }
        return "{\"type\":\"MultiPolygon\",\"coordinates\":[" + polys.joined(separator: ",") + "]}"
    }

    private func format(_ value: Double) -> String {
        var text = String(format: "%.7f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
