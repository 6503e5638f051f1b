import Foundation
import Geo
import Postgres
import Testing
@testable import KhareetatyCore

@Suite struct GeoTests {
    func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Ring {
        Ring([GeoPoint(lon: x0, lat: y0), GeoPoint(lon: x1, lat: y0), GeoPoint(lon: x1, lat: y1), GeoPoint(lon: x0, lat: y1), GeoPoint(lon: x0, lat: y0)])
    }

    @Test func holesAreOutside() {
        let shape = MultiPolygon([Polygon(outer: square(0, 0, 10, 10), holes: [square(4, 4, 6, 6)])])
        #expect(shape.contains(GeoPoint(lon: 1, lat: 1)))
        #expect(!shape.contains(GeoPoint(lon: 5, lat: 5)))
        #expect(!shape.contains(GeoPoint(lon: 11, lat: 5)))
    }

    @Test func multiPolygonParts() {
        let shape = MultiPolygon([Polygon(outer: square(0, 0, 1, 1)), Polygon(outer: square(5, 5, 6, 6))])
        #expect(shape.contains(GeoPoint(lon: 0.5, lat: 0.5)))
        #expect(shape.contains(GeoPoint(lon: 5.5, lat: 5.5)))
        #expect(!shape.contains(GeoPoint(lon: 3, lat: 3)))
    }

    @Test func pointOnASharedEdgeBelongsToExactlyOneNeighbour() {
        let left = MultiPolygon([Polygon(outer: square(0, 0, 1, 1))])
        let right = MultiPolygon([Polygon(outer: square(1, 0, 2, 1))])
        for lat in stride(from: 0.05, to: 1, by: 0.1) {
            let p = GeoPoint(lon: 1, lat: lat)
            #expect([left.contains(p), right.contains(p)].filter { $0 }.count == 1)
        }
    }

    @Test func areaOfAKnownSquare() {
        // 0.1° × 0.1° at 29.3°N: 11.132 km × (11.132 km · cos 29.3°) ≈ 108.1 km²
        let shape = MultiPolygon([Polygon(outer: square(47.9, 29.25, 48.0, 29.35))])
        let expected = 11.132 * 11.132 * cos(29.3 * .pi / 180)
        #expect(abs(shape.areaKm2 - expected) / expected < 0.005)
    }

    @Test(arguments: [
        (#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0.5]]]}}]}"#, "not closed"),
        (#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}"#, "at least 4"),
        (#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#, "not a Polygon"),
        (#"{"type":"Feature"}"#, "FeatureCollection"),
    ])
    func invalidBoundariesAreRejected(json: String, problem: String) throws {
        let path = try temporaryFile("b.geojson", contents: json)
        do {
            _ = try GeoJSON.readFeatures(path: path)
            Issue.record("accepted invalid boundaries")
        } catch let error as BoundaryError {
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    func kuwaitLayer() throws -> DistrictLayer {
        try DistrictLayer.load(PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml")).boundaries)
    }

    @Test func kuwaitLayerHas137DistrictsEachWithAGovernorate() throws {
        let layer = try kuwaitLayer()
        #expect(layer.districts.count == 137)
        #expect(Set(layer.districts.map(\.code)).count == 137)
        #expect(layer.districts.allSatisfy { $0.governorateCode != nil })
        #expect(Set(layer.districts.compactMap(\.governorateCode)).count == 6)
    }

    /// Reference check: our point-in-polygon against PostGIS ST_Covers for random points over Kuwait.
    @Test func agreesWithPostGIS() throws {
        let layer = try kuwaitLayer()
        try withScratchSchema { db, schema in
            try db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            let s = quoteIdentifier(schema)
            try db.execute("CREATE TABLE \(s).d (code text, geojson text); CREATE TABLE \(s).p (id int, lon float8, lat float8)")
            try db.withCopy(into: "\(s).d", columns: ["code", "geojson"]) { writer in
                for district in layer.districts { try writer.writeRow([district.code, district.geometry.geoJSON]) }
            }
            var generator = SplitMix64(seed: 42)
            var points: [GeoPoint] = []
            for _ in 0..<4_000 {
                points.append(GeoPoint(lon: 46.55 + generator.unit() * (48.43 - 46.55), lat: 28.52 + generator.unit() * (30.11 - 28.52)))
            }
            try db.withCopy(into: "\(s).p", columns: ["id", "lon", "lat"]) { writer in
                for (i, p) in points.enumerated() { try writer.writeRow([String(i), "\(p.lon)", "\(p.lat)"]) }
            }
            let rows = try db.query("""
                SELECT p.id, min(d.code) FROM \(s).p p
                LEFT JOIN \(s).d d ON ST_Covers(ST_GeomFromGeoJSON(d.geojson), ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
                GROUP BY p.id ORDER BY p.id
                """).rows
            #expect(rows.count == points.count)
            var inside = 0, disagreements: [String] = []
            for row in rows {
                let id = Int(row[0]!)!
                let ours = layer.locate(points[id])?.code
                if ours != nil { inside += 1 }
                if ours != row[1] { disagreements.append("\(points[id]): ours \(ours ?? "none"), PostGIS \(row[1] ?? "none")") }
            }
            #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
            #expect(inside > 500)  // the sample really exercises the polygons
        }
    }
}

/// Deterministic random numbers for reproducible reference checks.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
