import Foundation
import Geo
import Testing
import TestSupport
@testable import KhareetatyCore
@testable import Readers

/// Geocoding with the real Kuwait layer: holes, multipolygons, borders, islands, the sea, the
/// nearest snap and the gazetteer. Expected areas are found from the data, not typed in.
@Suite struct GeocodeTests {
    static let layer: DistrictLayer = {
        try! DistrictLayer.load(PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml")).boundaries)
    }()
    var layer: DistrictLayer { Self.layer }

    func district(named name: String) throws -> District {
        let found = layer.districts.filter { $0.name == name }
        try #require(found.count == 1, "\(name) is not a unique area name")
        return found[0]
    }

    /// A point surely inside a ring: the centroid of a triangle fanned from its first vertex,
    /// tried until one lies inside (rings here are simple polygons).
    func interiorPoint(of district: District, polygon: Int = 0) -> GeoPoint {
        let ring = district.geometry.polygons[polygon].outer.points
        for i in 1..<(ring.count - 2) {
            let p = GeoPoint(lon: (ring[0].lon + ring[i].lon + ring[i + 1].lon) / 3, lat: (ring[0].lat + ring[i].lat + ring[i + 1].lat) / 3)
            if district.geometry.contains(p) { return p }
        }
        return ring[0]
    }

    @Test func holesBelongToTheAreaInside() throws {
        for (outer, inner) in [("Rehab", "Rabiya"), ("Bar_Elahmadi", "Saba_Elahmad")] {
            let o = try district(named: outer), i = try district(named: inner)
            #expect(!o.geometry.polygons[0].holes.isEmpty)
            let p = interiorPoint(of: i)
            #expect(layer.place(lat: p.lat, lon: p.lon, areaName: nil).district?.code == i.code, "\(inner) inside \(outer)'s hole")
            let q = interiorPoint(of: o)
            #expect(layer.place(lat: q.lat, lon: q.lon, areaName: nil).district?.code == o.code)
        }
    }

    @Test func everyPartOfAMultiPolygonCounts() throws {
        let multi = layer.districts.filter { $0.geometry.polygons.count > 1 }
        #expect(multi.count == 2)
        for d in multi {
            for part in d.geometry.polygons.indices {
                let p = interiorPoint(of: d, polygon: part)
                #expect(layer.place(lat: p.lat, lon: p.lon, areaName: nil).district?.code == d.code, "\(d.name) part \(part)")
            }
        }
    }

    @Test func sharedVerticesAndEdgesGoToExactlyOneArea() throws {
        // Every vertex shared by two or more areas: exactly one of them gets it, by the point method.
        var owners: [GeoPoint: Set<String>] = [:]
        for d in layer.districts { for ring in d.geometry.rings { for p in ring.points { owners[p, default: []].insert(d.code) } } }
        let shared = owners.filter { $0.value.count >= 2 }
        #expect(shared.count > 500)
        for (p, codes) in shared {
            let placed = layer.place(lat: p.lat, lon: p.lon, areaName: nil)
            let containing = layer.districts.filter { $0.geometry.contains(p) }.map(\.code)
            #expect(containing.count <= 1, "\(p) counted in \(containing)")
            #expect(placed.district.map { codes.contains($0.code) } == true, "\(p) placed in \(placed.district?.name ?? "none") by \(placed.method)")
        }
    }

    @Test func indexAnswersExactlyAsTheLinearScan() {
        var generator = SplitMix64(seed: 99)
        for _ in 0..<200_000 {
            let p = GeoPoint(lon: 46.5 + generator.unit() * 2.0, lat: 28.5 + generator.unit() * 1.65)
            let linear = layer.districts.firstIndex { $0.geometry.contains(p) }
            #expect(layer.index.locate(p) == linear)
        }
    }

    @Test func islandsTheSeaAndUnmappedLand() throws {
        let failaka = try district(named: "Fylaka")
        let p = interiorPoint(of: failaka)
        #expect(layer.place(lat: p.lat, lon: p.lon, areaName: nil).district?.code == failaka.code)
        // Open water of the Gulf, east of Kuwait City, far from any shore.
        let sea = layer.place(lat: 29.45, lon: 48.25, areaName: nil)
        #expect(sea.method == .none && sea.district == nil)
        #expect(sea.detail?.contains("250 m") == true)
        // Bubiyan Island has no area polygon (see the boundary attribution): unassigned, with the reason.
        let bubiyan = layer.place(lat: 29.78, lon: 48.25, areaName: nil)
        #expect(bubiyan.method == .none)
    }

    @Test func nearestSnapIsMeasuredInMetres() throws {
        // Walk east from a point inside Salmiya until the point leaves every area: the coast.
        let salmiya = try district(named: "Salmiya")
        var p = interiorPoint(of: salmiya)
        while layer.index.locate(p) != nil { p.lon += 0.00001 }
        let metresPerDegLon = 111_320 * cos(p.lat * .pi / 180)
        let near = GeoPoint(lon: p.lon + 100 / metresPerDegLon, lat: p.lat)
        let placed = layer.place(lat: near.lat, lon: near.lon, areaName: nil)
        #expect(placed.method == .nearest)
        #expect(placed.district?.code == salmiya.code || layer.index.locate(near) == nil)
        let metres = try #require(layer.index.nearest(near, withinMetres: 250)?.metres)
        #expect(metres > 1 && metres <= 101)
        let far = GeoPoint(lon: p.lon + 2_000 / metresPerDegLon, lat: p.lat)
        #expect(layer.place(lat: far.lat, lon: far.lon, areaName: nil).method == .none)
    }

    @Test(arguments: [
        ("السالمية", "Salmiya"), ("سالميه", "Salmiya"), ("Al-Salmiya", "Salmiya"), ("SALMIYAH", "Salmiya"), ("As Salimiyah", "Salmiya"),
        ("جليب الشيوخ", "Jleeb_Al- Shiyoukh"), ("Jleeb Al-Shuyoukh", "Jleeb_Al- Shiyoukh"), ("الفروانيه", "Farwaniya"),
        ("Bneid Al-Gar", "Bnaid_Al-QR"), ("الأحمدي", "Elahmdi"), ("Ahmadi", "Elahmdi"), ("Failaka", "Fylaka"), ("Hawally", "Hawalli"),
        ("el-jahra", "Jahra"), ("  kaifan  ", "Kifan"),
    ])
    func areaNamesResolveThroughTheGazetteer(name: String, area: String) throws {
        let placed = layer.place(lat: nil, lon: nil, areaName: name)
        #expect(placed.method == .name)
        #expect(placed.district?.code == (try district(named: area)).code, "\(name)")
    }

    @Test func ambiguousAndUnknownNamesAreNeverGuessed() {
        let ambiguous = layer.place(lat: nil, lon: nil, areaName: "Abdali")
        #expect(ambiguous.method == .none && ambiguous.district == nil)
        #expect(ambiguous.detail?.contains("ambiguous") == true)
        let unknown = layer.place(lat: nil, lon: nil, areaName: "Atlantis")
        #expect(unknown.method == .none && unknown.detail?.contains("unknown area name") == true)
        #expect(layer.place(lat: nil, lon: nil, areaName: nil).detail == "no coordinates and no area name")
    }

    @Test func aliasFileMustNameRealAreas() throws {
        let path = try temporaryFile("areas.yaml", contents: "Atlantis: [Lost City]\n")
        #expect(throws: ConfigError.self) { try Gazetteer(districts: layer.districts, aliasFile: path) }
    }
}

@Suite struct KMLBoundaryTests {
    @Test func kmlLoadsTheSameLayerAsGeoJSON() throws {
        var boundaries = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml")).boundaries
        let fromJSON = try DistrictLayer.load(boundaries)
        boundaries.districtsFile = repoPath("fixtures/boundaries/kuwait/kuwait-areas.kml")
        let fromKML = try DistrictLayer.load(boundaries)
        #expect(fromKML.districts.map(\.code) == fromJSON.districts.map(\.code))
        #expect(fromKML.districts.map(\.name) == fromJSON.districts.map(\.name))
        #expect(fromKML.districts.map(\.governorateCode) == fromJSON.districts.map(\.governorateCode))
        #expect(fromKML.districts.map { $0.geometry.polygons.map(\.holes.count) } == fromJSON.districts.map { $0.geometry.polygons.map(\.holes.count) })
        var generator = SplitMix64(seed: 3)
        for _ in 0..<50_000 {
            let p = GeoPoint(lon: 46.5 + generator.unit() * 2.0, lat: 28.5 + generator.unit() * 1.65)
            #expect(fromKML.index.locate(p) == fromJSON.index.locate(p))
        }
    }

    @Test func brokenKMLIsABoundaryError() throws {
        let open = try temporaryFile("b.kml", contents: """
            <kml><Document><Placemark><name>x</name><Polygon><outerBoundaryIs><LinearRing>
            <coordinates>0,0 1,0 1,1 0,0.5</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>
            """)
        #expect(throws: BoundaryError.self) { try KMLReader.readFeatures(path: open) }
        let hostile = try temporaryFile("h.kml", contents: "<?xml version=\"1.0\"?><!DOCTYPE kml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><kml>&x;</kml>")
        #expect(throws: BoundaryError.self) { try KMLReader.readFeatures(path: hostile) }
    }
}

@Suite struct BoundaryReportTests {
    func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> [GeoPoint] {
        [GeoPoint(lon: x0, lat: y0), GeoPoint(lon: x1, lat: y0), GeoPoint(lon: x1, lat: y1), GeoPoint(lon: x0, lat: y1), GeoPoint(lon: x0, lat: y0)]
    }
    func district(_ code: String, _ ring: [GeoPoint]) -> District {
        District(code: code, name: code, geometry: MultiPolygon([Polygon(outer: Ring(ring))]))
    }

    @Test func kuwaitAreasAreCleanAsTheirAttributionSays() throws {
        let layer = try DistrictLayer.load(PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml")).boundaries)
        let report = BoundaryReport(layer: layer)
        #expect(report.isClean, "\(report.summary)")
    }

    @Test func selfIntersectionsAndOverlapsAreReportedWithTheirArea() throws {
        let bowtie = [GeoPoint(lon: 48.0, lat: 29.0), GeoPoint(lon: 48.1, lat: 29.1), GeoPoint(lon: 48.1, lat: 29.0), GeoPoint(lon: 48.0, lat: 29.1), GeoPoint(lon: 48.0, lat: 29.0)]
        let layer = try DistrictLayer(districts: [
            district("A", square(47.0, 29.0, 47.2, 29.2)),
            district("B", square(47.1, 29.1, 47.3, 29.3)),   // overlaps A by 0.1° × 0.1°
            district("C", square(47.2, 29.0, 47.4, 29.1)),   // shares an edge with nothing, touches A's corner region
            district("D", bowtie),
            district("E", square(47.21, 29.21, 47.22, 29.22)),  // wholly inside B: no edge crosses
        ])
        let report = BoundaryReport(layer: layer)
        #expect(report.invalid.map(\.code) == ["D"] && report.invalid.first?.reason == "Self-intersection")
        #expect(report.overlaps.map { [$0.first, $0.second] } == [["A", "B"], ["B", "E"]])
        let expected = MultiPolygon([Polygon(outer: Ring(square(47.1, 29.1, 47.2, 29.2)))]).areaKm2
        #expect(abs(report.overlaps[0].areaKm2 - expected) / expected < 0.1)
        #expect(report.summary.contains("km²"))
    }
}
