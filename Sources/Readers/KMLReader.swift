import Foundation
import Geo

/// Reads the polygons of a KML file with libxml2's streaming reader (through `XMLStream`, so the
/// same refusals of DTDs and entities apply): each `Placemark` with a `Polygon` (or several in a
/// `MultiGeometry`) becomes a feature; `outerBoundaryIs`/`innerBoundaryIs` rings give the outer
/// ring and the holes. Properties: the placemark's `<name>` as `name`, and every
/// `<SimpleData name="…">` / `<Data name="…"><value>` of its `ExtendedData`.
/// Placemarks without a polygon (labels, lines) are skipped.
public enum KMLReader {
    public static func readFeatures(path: String) throws -> [Feature] {
        let stream: XMLStream
        do { stream = try XMLStream(path: path) } catch let error as InputError {
            throw BoundaryError(file: path, problem: error.problem)
        }
        var features: [Feature] = []
        var placemarks = 0
        var properties: [String: String] = [:]
        var polygons: [Polygon] = []
        var outer: Ring?
        var holes: [Ring] = []
        var inPlacemark = false, inOuter = false, inInner = false
        var capture: String?   // property (or "coordinates") whose text is being collected
        var text = ""

        do {
            while let node = try stream.next() {
                switch node {
                case .element(let name, let isEmpty, _):
                    switch name {
                    case "Placemark":
                        inPlacemark = true; placemarks += 1
                        properties = [:]; polygons = []
                    case "Polygon": outer = nil; holes = []
                    case "outerBoundaryIs": inOuter = true
                    case "innerBoundaryIs": inInner = true
                    case "coordinates" where inPlacemark && !isEmpty: capture = "coordinates"; text = ""
                    case "name" where inPlacemark && capture == nil && !isEmpty: capture = "name"; text = ""
                    case "SimpleData" where inPlacemark && !isEmpty:
                        capture = stream.attributes()["name"]; text = ""
                    case "Data" where inPlacemark:
                        if let key = stream.attributes()["name"] { capture = "data:" + key }
                    case "value" where capture?.hasPrefix("data:") == true: text = ""
                    default: break
                    }
                case .text(let value):
                    if capture != nil { text += value }
                case .endElement(let name, _):
                    switch name {
                    case "coordinates" where capture == "coordinates":
                        let ring = try GeoJSON.validatedRing(try parseCoordinates(text, file: path, feature: placemarks), file: path, feature: placemarks)
                        if inInner { holes.append(ring) } else if inOuter { outer = ring }
                        capture = nil
                    case "outerBoundaryIs": inOuter = false
                    case "innerBoundaryIs": inInner = false
                    case "Polygon":
                        guard let outer else { throw BoundaryError(file: path, feature: placemarks, problem: "a Polygon without an outerBoundaryIs ring") }
                        polygons.append(Polygon(outer: outer, holes: holes))
                    case "name" where capture == "name", "SimpleData":
                        if let key = capture { properties[key] = text.trimmingCharacters(in: .whitespacesAndNewlines) }
                        capture = nil
                    case "value" where capture?.hasPrefix("data:") == true:
                        properties[String(capture!.dropFirst(5))] = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    case "Data": capture = nil
                    case "Placemark":
                        inPlacemark = false
                        if !polygons.isEmpty {
                            features.append(Feature(properties: properties, geometry: MultiPolygon(polygons), index: placemarks))
                        }
                    default: break
                    }
                case .other: break
                }
            }
        } catch let error as InputError {
            throw BoundaryError(file: path, problem: error.description)
        }
        return features
    }

    /// `lon,lat[,alt]` tuples separated by white space.
    static func parseCoordinates(_ text: String, file: String, feature: Int) throws -> [GeoPoint] {
        try text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).map { tuple in
            let parts = tuple.split(separator: ",")
            guard parts.count >= 2, let lon = Double(parts[0]), let lat = Double(parts[1]) else {
                throw BoundaryError(file: file, feature: feature, problem: "coordinates \"\(tuple.prefix(40))\" are not lon,lat[,alt]")
            }
            return GeoPoint(lon: lon, lat: lat)
        }
    }
}
