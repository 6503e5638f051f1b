import Readers
import Analytics
import Geo
import Spatial

/// A district (Kuwait "area") with its governorate, keyed by its stable code (names repeat).
public struct District: Sendable {
    public var code: String
    public var name: String
    public var governorateCode: String?
    public var governorateName: String?
    public var geometry: MultiPolygon
    /// The code an export's `area_code` column names this district by (`boundaries.area_code`'s
    /// property; by default the district code).
    public var areaCode: String?
    /// Surface on the WGS 84 ellipsoid (as PostGIS's geography ST_Area).
    public var areaKm2: Double { GeodesicArea.km2(geometry) }
}

/// The district polygons of a pipeline, with each district's governorate, a spatial index and
/// the area-name gazetteer.
public struct DistrictLayer: Sendable {
    public let districts: [District]
    public let index: PolygonIndex
    public let gazetteer: Gazetteer
    public let nearestMetres: Double
    /// District index by its area code (the first district with a code wins).
    let byAreaCode: [String: Int]
    /// Features of the boundary files skipped for a `null` geometry ("file, feature N").
    public internal(set) var skippedFeatures: [String] = []

    public init(districts: [District], aliasesFile: String? = nil, nearestMetres: Double = 250) throws {
        self.districts = districts
        index = PolygonIndex(districts.map(\.geometry))
        gazetteer = try Gazetteer(districts: districts, aliasFile: aliasesFile)
        self.nearestMetres = nearestMetres
        var byAreaCode: [String: Int] = [:]
        for (i, district) in districts.enumerated() {
            let code = district.areaCode ?? district.code
            if byAreaCode[code] == nil { byAreaCode[code] = i }
        }
        self.byAreaCode = byAreaCode
    }

    /// Loads districts (and governorates, when the pipeline names them) and validates them:
    /// closed rings of at least 4 finite points (checked by the reader), non-empty unique codes.
    ///
    /// A district's governorate is the one containing most of its surface, estimated on a regular
    /// 16×16 grid of sample points over the district's bounding box (the two files do not nest
    /// exactly: see fixtures/boundaries/kuwait/ATTRIBUTION.md).
    public static func load(_ boundaries: PipelineDefinition.Boundaries) throws -> DistrictLayer {
        // Positions in another CRS are taken to WGS 84 by PROJ as they are read.
        let transform = try boundaries.crs.map { crs -> (GeoPoint) -> GeoPoint? in
            let crs = try CRSTransform(from: crs)
            return { crs.toWGS84(x: $0.lon, y: $0.lat) }
        }
        var skipped: [String] = []
        let features = try readBoundaries(boundaries.districtsFile, transform: transform, skipped: &skipped)
        var seen: Set<String> = []
        var districts: [District] = []
        for feature in features {
            guard let code = feature.properties[boundaries.districtCodeProperty], !code.isEmpty else {
                throw BoundaryError(file: boundaries.districtsFile, feature: feature.index, problem: "property \(boundaries.districtCodeProperty) (the district code) is missing")
            }
            guard seen.insert(code).inserted else {
                throw BoundaryError(file: boundaries.districtsFile, feature: feature.index, problem: "duplicate district code \(code)")
            }
            districts.append(District(code: code, name: feature.properties[boundaries.districtNameProperty] ?? code, geometry: feature.geometry,
                                      areaCode: feature.properties[boundaries.areaCodeProperty ?? boundaries.districtCodeProperty]))
        }

        if let governoratesFile = boundaries.governoratesFile {
            let governorates = try readBoundaries(governoratesFile, transform: transform, skipped: &skipped)
            for i in districts.indices {
                let box = districts[i].geometry.boundingBox
                var votes = [Int](repeating: 0, count: governorates.count)
                let n = 16
                for gx in 0..<n {
                    for gy in 0..<n {
                        let p = GeoPoint(lon: box.minLon + (Double(gx) + 0.5) / Double(n) * (box.maxLon - box.minLon),
                                         lat: box.minLat + (Double(gy) + 0.5) / Double(n) * (box.maxLat - box.minLat))
                        guard districts[i].geometry.contains(p) else { continue }
                        if let g = governorates.firstIndex(where: { $0.geometry.contains(p) }) { votes[g] += 1 }
                    }
                }
                if let best = votes.indices.max(by: { votes[$0] < votes[$1] }), votes[best] > 0 {
                    districts[i].governorateCode = governorates[best].properties[boundaries.governorateCodeProperty]
                    districts[i].governorateName = governorates[best].properties[boundaries.governorateNameProperty]
                }
            }
        }
        var layer = try DistrictLayer(districts: districts, aliasesFile: boundaries.aliasesFile, nearestMetres: boundaries.nearestMetres)
        layer.skippedFeatures = skipped
        return layer
    }

    /// GeoJSON, or KML when the file name says so (`.kml`, `.kml.gz`; KML is WGS 84 by definition).
    static func readBoundaries(_ path: String, transform: ((GeoPoint) -> GeoPoint?)? = nil, skipped: inout [String]) throws -> [Feature] {
        let lower = path.lowercased()
        if lower.hasSuffix(".kml") || lower.hasSuffix(".kml.gz") { return try KMLReader.readFeatures(path: path) }
        let (features, nulls) = try GeoJSON.read(path: path, transform: transform)
        skipped += nulls.map { "\(path), feature \($0)" }
        return features
    }

    /// The district containing the point, if any (the index answers as a scan in file order would).
    public func locate(_ point: GeoPoint) -> District? {
        index.locate(point).map { districts[$0] }
    }

    /// Where an incident goes, and how: point in polygon, else the nearest district within the
    /// snap distance; without a usable point, the export's area code, else the area name through
    /// the gazetteer. Where a point and an area code both place it, `codeDisagrees` says whether
    /// they name different districts (the point's answer is kept: a disagreement is counted, never
    /// resolved).
    public func place(lat: Double?, lon: Double?, areaName: String?, areaCode: String? = nil)
        -> (district: District?, method: GeocodeMethod, detail: String?, codeDisagrees: Bool) {
        let (i, method, detail, disagrees) = placeIndex(lat: lat, lon: lon, areaName: areaName, areaCode: areaCode)
        return (i.map { districts[$0] }, method, detail, disagrees)
    }

    /// `place`, with the district as its index in `districts` (the geocode stage's hot path: a
    /// `District` returned by value retains its six strings and arrays per incident).
    func placeIndex(lat: Double?, lon: Double?, areaName: String?, areaCode: String? = nil)
        -> (district: Int?, method: GeocodeMethod, detail: String?, codeDisagrees: Bool) {
        let coded = areaCode.flatMap { byAreaCode[$0] }
        func byPoint(_ i: Int, _ method: GeocodeMethod, _ detail: String?) -> (Int?, GeocodeMethod, String?, Bool) {
            guard let areaCode, coded != i else { return (i, method, detail, false) }
            let note = coded.map { "the export's area code \(areaCode) is \(districts[$0].name) (\(districts[$0].code))" }
                ?? "the export's area code \(areaCode) names no area"
            return (i, method, detail.map { $0 + "; " + note } ?? note, true)
        }
        if let lat, let lon {
            let point = GeoPoint(lon: lon, lat: lat)
            if let i = index.locate(point) { return byPoint(i, .point, nil) }
            if nearestMetres > 0, let (i, metres) = index.nearest(point, withinMetres: nearestMetres) {
                return byPoint(i, .nearest, "\(Int(metres.rounded())) m from the area's boundary")
            }
            if let coded { return (coded, .areaCode, "point inside no area; placed by the export's area code", false) }
            return (nil, .none, "point inside no area and more than \(Int(nearestMetres)) m from every area"
                    + (areaCode.map { "; unknown area code \($0)" } ?? ""), false)
        }
        if let coded { return (coded, .areaCode, nil, false) }
        if let areaCode, areaName?.isEmpty ?? true { return (nil, .none, "no coordinates and an unknown area code \(areaCode)", false) }
        guard let areaName, !areaName.isEmpty else { return (nil, .none, "no coordinates and no area name", false) }
        switch gazetteer.match(areaName) {
        case .district(let i): return (i, .name, nil, false)
        case .ambiguous(let found):
            return (nil, .none, "ambiguous area name \"\(areaName)\": " + found.map { "\(districts[$0].name) (\(districts[$0].code))" }.joined(separator: ", "), false)
        case .unknown: return (nil, .none, "unknown area name \"\(areaName)\"", false)
        }
    }
}

/// Geocode: places every incident in its district (see `DistrictLayer.place`), or says why not.
public struct GeocodeStage: Stage {
    public let layer: DistrictLayer
    public init(layer: DistrictLayer) { self.layer = layer }

    public mutating func process(_ batch: IncidentBatch) throws -> PlacedBatch {
        var placed = PlacedBatch(rejects: batch.rejects)
        placed.incidents.reserveCapacity(batch.incidents.count)
        for var incident in batch.incidents {
            let (i, method, detail, disagrees) = layer.placeIndex(lat: incident.lat, lon: incident.lon, areaName: incident.areaName,
                                                                  areaCode: incident.areaCode)
            if disagrees { incident.flags.append(.areaCodeDisagrees) }
            placed.incidents.append(PlacedIncident(incident: incident, placement: Placement(
                districtCode: i.map { layer.districts[$0].code }, governorateCode: i.flatMap { layer.districts[$0].governorateCode },
                geocodeMethod: method, geocodeDetail: detail, districtIndex: i)))
        }
        return placed
    }
}

extension DistrictLayer: AreaLayer {
    public func shape(_ area: Int) -> MultiPolygon { districts[area].geometry }
}
