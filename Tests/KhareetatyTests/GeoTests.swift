import Foundation
import Geo
import Postgres
import Testing
import TestSupport
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

    /// Reference check (issue 4): the final assignment (point in polygon, else nearest within
    /// 250 m) of 200,000 points — half uniform over Kuwait's bounding box, half within ~20 m of
    /// area borders, 1% of those exactly on vertices — against PostGIS on the same polygons:
    /// a point PostGIS covers by one area gets that area; by two (a shared border), one of them;
    /// by none, the nearest area within 250 m (PostGIS geography distance, 5 m margin) or none.
    @Test func assignmentsAgreeWithPostGIS() throws {
        let layer = try kuwaitLayer()
        var generator = SplitMix64(seed: 20261125)
        var points: [GeoPoint] = []
        for _ in 0..<100_000 {
            points.append(GeoPoint(lon: 46.55 + generator.unit() * (48.43 - 46.55), lat: 28.52 + generator.unit() * (30.11 - 28.52)))
        }
        let edges = layer.districts.flatMap { d in d.geometry.rings.flatMap { r in zip(r.points, r.points.dropFirst()).map { ($0, $1) } } }
        for i in 0..<100_000 {
            let (a, b) = edges[Int(generator.next() % UInt64(edges.count))]
            if i % 100 == 0 { points.append(a); continue }  // exactly on a vertex
            let t = generator.unit()
            let (dx, dy) = (b.lon - a.lon, b.lat - a.lat)
            let length = max((dx * dx + dy * dy).squareRoot(), 1e-12)
            let offset = (generator.unit() - 0.5) * 4e-4  // up to ±0.0002° (~20 m) across the edge
            points.append(GeoPoint(lon: a.lon + t * dx - dy / length * offset, lat: a.lat + t * dy + dx / length * offset))
        }

        try withScratchSchema { db, schema in
            try db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            let s = quoteIdentifier(schema)
            try db.execute("CREATE TABLE \(s).d (idx int, geojson text); CREATE TABLE \(s).p (id int, lon float8, lat float8)")
            try db.withCopy(into: "\(s).d", columns: ["idx", "geojson"]) { writer in
                for (i, district) in layer.districts.enumerated() { try writer.writeRow([String(i), district.geometry.geoJSON]) }
            }
            try db.withCopy(into: "\(s).p", columns: ["id", "lon", "lat"]) { writer in
                for (i, p) in points.enumerated() { try writer.writeRow([String(i), "\(p.lon)", "\(p.lat)"]) }
            }
            try db.execute("""
                CREATE TABLE \(s).dg AS SELECT idx, ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326) AS g FROM \(s).d;
                CREATE INDEX ON \(s).dg USING gist (g);
                CREATE TABLE \(s).pg AS SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g FROM \(s).p;
                ANALYZE \(s).dg; ANALYZE \(s).pg;
                """)
            let covering = try db.query("""
                SELECT p.id, string_agg(d.idx::text, ',' ORDER BY d.idx) FROM \(s).pg p
                JOIN \(s).dg d ON ST_Covers(d.g, p.g) GROUP BY p.id
                """).rows
            var byPoint: [Int: [Int]] = [:]
            for row in covering { byPoint[Int(row[0]!)!] = row[1]!.split(separator: ",").map { Int($0)! } }

            var failures: [String] = []
            var single = 0, shared = 0
            for (id, expected) in byPoint {
                let ours = layer.place(lat: points[id].lat, lon: points[id].lon, areaName: nil)
                let index = ours.district.flatMap { d in layer.districts.firstIndex { $0.code == d.code } }
                if expected.count == 1 { single += 1 } else { shared += 1 }
                if index == nil || !expected.contains(index!) {
                    failures.append("\(points[id]): PostGIS \(expected), ours \(index.map(String.init) ?? "none") by \(ours.method)")
                }
            }
            #expect(failures.isEmpty, "\(failures.count) disagreements, e.g. \(failures.prefix(5))")
            #expect(single > 100_000 && shared > 100, "the sample must exercise interiors (\(single)) and shared borders (\(shared))")

            // Outside every area: nearest within 250 m, measured by PostGIS on the spheroid. The
            // boundaries are drawn straight in lon/lat (as ST_Covers and our index read them), so
            // they are densified first: a geography edge would be a geodesic, which bows away from
            // a long straight desert border by tens of metres.
            try db.execute("CREATE TABLE \(s).dseg AS SELECT idx, g, ST_Segmentize(g, 0.0002)::geography AS gg FROM \(s).dg")
            let nearest = try db.query("""
                SELECT p.id, d.idx, ST_Distance(d.gg, p.g::geography) FROM \(s).pg p
                JOIN \(s).dseg d ON ST_DWithin(d.g, p.g, 0.004)
                WHERE NOT EXISTS (SELECT 1 FROM \(s).dg c WHERE ST_Covers(c.g, p.g))
                """).rows
            var distances: [Int: [(Int, Double)]] = [:]
            for row in nearest { distances[Int(row[0]!)!, default: []].append((Int(row[1]!)!, Double(row[2]!)!)) }
            var snapped = 0
            for id in points.indices where byPoint[id] == nil {
                let ours = layer.place(lat: points[id].lat, lon: points[id].lon, areaName: nil)
                let best = distances[id]?.map(\.1).min() ?? .infinity
                if best < 245 {
                    snapped += 1
                    let index = ours.district.flatMap { d in layer.districts.firstIndex { $0.code == d.code } }
                    let acceptable = Set(distances[id]!.filter { $0.1 <= best + 5 }.map(\.0))
                    if ours.method != .nearest || index == nil || !acceptable.contains(index!) {
                        failures.append("\(points[id]) outside: PostGIS nearest \(acceptable) at \(Int(best)) m, ours \(ours.method) \(index.map(String.init) ?? "-")")
                    }
                } else if best > 255 && ours.method != .none {
                    failures.append("\(points[id]) is \(Int(best)) m from every area, ours \(ours.method)")
                }
            }
            #expect(failures.isEmpty, "\(failures.count) disagreements, e.g. \(failures.prefix(5))")
            #expect(snapped > 1_000, "the sample must exercise the nearest snap (\(snapped))")
        }
    }
}

/// The grid build's shortcut: a row's inverse (the northing part computed once) gives exactly
/// `inverse`, and the sampling variant (powers as products) agrees to far below a centimetre.
@Suite struct InverseRowTests {
    @Test func aRowsInverseIsTheInverse() {
        for tm in [TransverseMercator.utm(zone: 38, north: true), TransverseMercator(lon0: 47.7, lat0: 29.3)] {
            for y in stride(from: -50_000.0, through: 3_400_000, by: 345_678.9) {
                let row = tm.inverseRow(y: y)
                for x in stride(from: -200_000.0, through: 900_000, by: 123_456.7) {
                    let exact = tm.inverse(x: x, y: y), viaRow = row.point(x: x), sample = row.samplePoint(x: x)
                    #expect(viaRow.lon == exact.lon && viaRow.lat == exact.lat)
                    #expect(abs(sample.lon - exact.lon) < 1e-11 && abs(sample.lat - exact.lat) < 1e-11)
                }
            }
        }
    }
}
