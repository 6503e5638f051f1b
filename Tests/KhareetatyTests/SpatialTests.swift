import Foundation
import Geo
import Postgres
import Spatial
import Testing
import TestSupport
@testable import KhareetatyCore

/// Boundary validity against PostGIS's ST_IsValid, and CRS transformations against pyproj.
@Suite struct SpatialTests {
    /// Crafted shapes, valid and not: each is read from PostGIS's GeoJSON of it and checked by
    /// both; validity and the reason's words must agree.
    static let shapes = [
        "POLYGON((0 0,1 0,1 1,0 1,0 0))",
        "POLYGON((0 0,1 1,1 0,0 1,0 0))",                                             // bow-tie
        "POLYGON((0 0,2 0,1 1,2 2,0 2,1 1,0 0))",                                     // ring touching itself at a vertex
        "POLYGON((0 0,1 0,1 1,0 1,0 0),(2 2,3 2,3 3,2 3,2 2))",                       // hole outside its shell
        "POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,9 1,9 9,1 9,1 1),(2 2,8 2,8 8,2 8,2 2))",  // nested holes
        "POLYGON((0 0,2 0,2 1,3 1,2 1,2 2,0 2,0 0))",                                 // a spike
        "POLYGON((0 0,4 0,4 4,0 4,0 0),(0 2,2 0,4 2,2 4,0 2))",                       // interior cut in pieces
        "MULTIPOLYGON(((0 0,2 0,2 2,0 2,0 0)),((1 1,3 1,3 3,1 3,1 1)))",              // overlapping parts
        "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 0,2 0,2 1,1 1,1 0)))",              // parts sharing an edge
        "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 1,2 1,2 2,1 2,1 1)))",              // parts touching at a point: valid
        "POLYGON((0 0,4 0,4 4,0 4,0 0),(0 2,1 1,2 2,1 3,0 2))",                       // hole touching the shell once: valid
        "POLYGON((0 0,1 0,1 0,1 1,0 1,0 0))",                                         // a repeated point: valid
        "POLYGON((47 29,47.1 29,47.1 29.1,47.05 29.05,47 29.1,47 29))",               // valid, in degrees
        "POLYGON((0 0,3 0,3 3,0 3,0 0),(1 1,2 1,2 2,1 2,1 1),(1 1,2 1,2 0.5,1 0.5,1 1))",  // holes sharing an edge
    ]

    @Test func validityAgreesWithPostGIS() throws {
        try withScratchSchema { db, schema in
            try db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            var features: [String] = []
            var postgis: [(valid: Bool, reason: String)] = []
            for wkt in Self.shapes {
                let row = try #require(try db.query("""
                    SELECT ST_AsGeoJSON(g), ST_IsValid(g), ST_IsValidReason(g) FROM (SELECT ST_GeomFromText($1) AS g) x
                    """, [wkt]).typedRows.first)
                features.append(#"{"type":"Feature","properties":{},"geometry":"# + (try row.text(0)) + "}")
                // "Self-intersection[1 1]" → "Self-intersection"
                postgis.append((try row.bool(1), String(try row.text(2).prefix { $0 != "[" })))
            }
            let file = try temporaryFile("shapes.geojson", contents: #"{"type":"FeatureCollection","features":["# + features.joined(separator: ",") + "]}")
            let read = try GeoJSON.readFeatures(path: file)
            #expect(read.count == Self.shapes.count)
            for (i, feature) in read.enumerated() {
                let ours = Validity.check(feature.geometry)
                #expect((ours == nil) == postgis[i].valid, "\(Self.shapes[i]): ours \(String(describing: ours)), PostGIS \(postgis[i])")
                if let ours { #expect(ours.reason == postgis[i].reason, "\(Self.shapes[i])") }
            }
            #expect(postgis.filter { !$0.valid }.count >= 9)
        }
    }

    @Test func aNullGeometryIsSkippedAndCounted() throws {
        let layer = try DistrictLayer.load(try PipelineDefinition.load(path: repoPath("fixtures/replay/renamed-columns/pipeline.yaml")).boundaries)
        #expect(layer.districts.map(\.code).sorted() == ["A1", "A2", "B1", "B2", "X"])
        let report = BoundaryReport(layer: layer)
        #expect(report.skippedFeatures.count == 1 && report.skippedFeatures[0].hasSuffix("feature 6"))
        #expect(report.invalid.map(\.code) == ["X"] && report.invalid[0].reason == "Self-intersection")
        #expect(report.summary.contains("skipped for a null geometry: 1") && report.summary.contains("X (X): Self-intersection"))
    }

    /// PROJ's answers against pyproj's (its own PROJ) for points over St. Louis in Missouri East
    /// State Plane (US feet) and New York Long Island (ftUS): within a centimetre.
    @Test(arguments: ["ESRI:102696", "EPSG:2263", "EPSG:32638"])
    func transformsAgreeWithPyproj(crs: String) throws {
        let centre: (Double, Double) = switch crs {
        case "ESRI:102696": (893_000, 1_020_000)
        case "EPSG:2263": (990_000, 200_000)
        default: (300_000, 3_250_000)  // UTM 38N, metres: Kuwait
        }
        var points: [(Double, Double)] = []
        var rng = SplitMix64(seed: 11)
        for _ in 0..<300 { points.append((centre.0 + (rng.unit() - 0.5) * 60_000, centre.1 + (rng.unit() - 0.5) * 60_000)) }
        let script = """
            import json, sys, pyproj
            t = pyproj.Transformer.from_crs('\(crs)', 'EPSG:4326', always_xy=True)
            print(json.dumps([t.transform(x, y) for x, y in json.load(sys.stdin)]))
            """
        let expected = try #require(try pyref(script, input: points.map { [$0.0, $0.1] }) as? [[Double]])
        let transform = try CRSTransform(from: crs)
        let metresPerDegree = 111_320.0
        var worst = 0.0
        for (i, (x, y)) in points.enumerated() {
            let ours = try #require(transform.toWGS84(x: x, y: y))
            let dLon = (ours.lon - expected[i][0]) * metresPerDegree * cos(ours.lat * .pi / 180), dLat = (ours.lat - expected[i][1]) * metresPerDegree
            worst = max(worst, (dLon * dLon + dLat * dLat).squareRoot())
        }
        #expect(worst <= 0.01, "worst difference \(worst) m")
    }

    @Test func anUnknownCRSIsAConfigurationErrorNamingTheKey() throws {
        let path = try temporaryFile("pipeline.yaml", contents: """
            name: t
            coordinates: {crs: "EPSG:999999"}
            columns: {incident_id: i, occurred_at: d, category: c}
            boundaries: {districts: \(repoPath("fixtures/boundaries/synthetic/grid-2x2.geojson"))}
            """)
        do {
            _ = try PipelineDefinition.load(path: path)
            Issue.record("an unknown CRS was accepted")
        } catch let error as ConfigError {
            #expect(error.key == "coordinates.crs" && error.description.contains("EPSG:999999"))
        }
    }
}
