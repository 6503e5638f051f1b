import Foundation
import Geo
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore
@testable import Readers

/// No single value in any field may stop a load: the extremes of every numeric field, overlong
/// ids and oversized XML tags are rejected (or refused) with a reason, never a trap.
@Suite struct PoisonRecordTests {
    static let header = ["incident_id", "occurred_at", "category", "latitude", "longitude", "area", "description", "updated_at"]
    static let good = ["P1", "2026-11-24T10:00:00+03:00", "theft", "29.33", "48.07", "Salmiya", "d", ""]

    /// Extremes of every shape a timestamp may take in the nightly pipeline (ISO, pattern, epoch seconds).
    static let extremeTimestamps = [
        "200000000000000", "9300000000000", "9223372036854775807", "9223372036854775808", "99999999999999999999999",
        "0", "00000000000000000000000000000000000001", "-1", "-9223372036854775808",
        "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+14:00", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00",
        "99/99/9999 99:99", "31/12/9999 23:59:59", "01/01/0000 00:00", "2026-11-24T10:00:00+99:99", "1e308",
    ]
    /// Extremes of a coordinate.
    static let extremeNumbers = ["1e308", "-1e308", "1e309", "-1e309", "nan", "inf", "-inf", "4.9e-324", "-0", "0x1p-1074",
                                 "179769313486231570000000000000000000000000000000000", "29.3" + String(repeating: "3", count: 5000)]

    func stage() throws -> CleanStage {
        try CleanStage(pipeline: try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml")), header: Self.header, file: "poison.csv")
    }

    func outcome(_ fields: [String]) throws -> Result<Incident, Reject> {
        var clean = try stage()
        let batch = try clean.process([RawRecord(fields: fields, sourceFile: "poison.csv", sourceLine: 2)])
        #expect(batch.incidents.count + batch.rejects.count == 1)
        if let reject = batch.rejects.first { return .failure(reject) }
        return .success(try #require(batch.incidents.first))
    }

    func reason(_ fields: [String]) throws -> RejectReason? {
        if case .failure(let reject) = try outcome(fields) { return reject.reason }
        return nil
    }

    @Test func theTimestampsThatTrappedAreRejectedAsOutOfRange() throws {
        var fields = Self.good
        fields[1] = "200000000000000"  // epoch seconds, year ~6.3 million
        #expect(try reason(fields) == .timestampOutOfRange)
        fields = Self.good
        fields[7] = "9300000000000"  // updated_at: microseconds overflow Int64
        #expect(try reason(fields) == .timestampOutOfRange)
        fields[7] = "2026-11-24T11:00:00+03:00"
        #expect(try reason(fields) == nil)
    }

    @Test func everyExtremeValueOfEveryNumericFieldLeavesAsOneOutcome() throws {
        for value in Self.extremeTimestamps {
            for column in [1, 7] {
                var fields = Self.good
                fields[column] = value
                if case .success(let incident) = try outcome(fields) {
                    // Kept: then the value was a real instant inside what PostgreSQL and the day numbers hold.
                    #expect(CleanStage.representable.contains(incident.occurredAt))
                    #expect(incident.updatedAt.map(CleanStage.representable.contains) ?? true)
                }
            }
        }
        for value in Self.extremeNumbers {
            for column in [3, 4] {
                var fields = Self.good
                fields[column] = value
                let result = try outcome(fields)
                if case .success(let incident) = result {
                    #expect(incident.lat.map { $0.isFinite && (28.5...30.15).contains($0) } ?? true)
                    #expect(incident.lon.map { $0.isFinite && (46.5...48.7).contains($0) } ?? true)
                }
            }
        }
    }

    @Test func anIDOverTheLimitIsRejectedAndOneAtTheLimitIsKept() throws {
        var fields = Self.good
        fields[0] = String(repeating: "x", count: CleanStage.maxIDBytes)
        #expect(try reason(fields) == nil)
        fields[0] = String(repeating: "x", count: 3000)
        #expect(try reason(fields) == .idTooLong)
        fields[0] = String(repeating: "س", count: CleanStage.maxIDBytes / 2 + 1)  // 2 bytes each: over by bytes, not characters
        #expect(try reason(fields) == .idTooLong)
    }

    @Test func timestampPatternsMustUseTheUsualWidths() {
        #expect(TimestampFormat("dd/MM/yyyy HH:mm") != nil)
        #expect(TimestampFormat("dd/MM/yyyyyyyyyyyyyyyyyyyyyyyy") == nil)  // 24 digits of year overflow an Int
        #expect(TimestampFormat("dd/MM/yyyy HH:mm:sss") == nil)
        #expect(TimestampFormat("dd/MM/yyyy dd") == nil)
    }

    /// The whole path, on the real database: a file of good rows and poison rows loads the good ones,
    /// rejects the others with their reasons, and the run succeeds with the sum proved.
    @Test func aNightlyRunWithPoisonRowsLoadsTheRestAndAccountsForEveryRow() throws {
        var lines = [Self.header.joined(separator: ",")]
        for i in 1...200 { lines.append("G\(i),2026-11-2\(i % 4)T10:00:00+03:00,theft,29.33,48.07,Salmiya,d,") }
        lines.append("B1,200000000000000,theft,29.33,48.07,Salmiya,d,")
        lines.append("B2,2026-11-24T10:00:00+03:00,theft,29.33,48.07,Salmiya,d,9300000000000")
        lines.append(String(repeating: "L", count: 3000) + ",2026-11-24T10:00:00+03:00,theft,29.33,48.07,Salmiya,d,")
        lines.append("B4,2026-11-24T10:00:00+03:00,theft,1e308,-1e308,Salmiya,d,")
        let input = try temporaryFile("poison.csv", contents: lines.joined(separator: "\n") + "\n")
        try withScratchSchema { db, schema in
            var runner = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: [input])
            runner.pipeline.aggregate.tables = []
            let summary = try runner.run()
            #expect(summary.status == "succeeded")
            #expect(summary.rowsRead == 204 && summary.rowsLoaded == 200 && summary.rowsRejected == 4)
            #expect(summary.rejectsByReason == ["timestamp_out_of_range": 2, "id_too_long": 1, "bad_coordinates": 1])
            let stored = try db.query("SELECT reason_code, count(*) FROM \(quoteIdentifier(schema)).incident_rejects GROUP BY 1 ORDER BY 1").rows.map { "\($0[0]!)=\($0[1]!)" }
            #expect(stored == ["bad_coordinates=1", "id_too_long=1", "timestamp_out_of_range=2"])
        }
    }

    @Test func boundaryCoordinatesOutsideDegreesAreAConfigurationErrorNotACrash() throws {
        for position in ["[1e308,29]", "[-1e308,29]", "[181,29]", "[-180.5,29]", "[47.5,90.5]", "[47.5,-1e308]"] {
            let path = try temporaryFile("b.geojson", contents: """
                {"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"A"},
                 "geometry":{"type":"Polygon","coordinates":[[[47,29],\(position),[48,30],[47,29]]]}}]}
                """)
            #expect(throws: BoundaryError.self) { try GeoJSON.readFeatures(path: path) }
            do { _ = try GeoJSON.readFeatures(path: path) } catch let error as BoundaryError {
                #expect(error.feature == 1 && error.problem.contains("WGS 84"))
            }
        }
    }

    @Test func thePolygonIndexIsTotalForAnyPoint() {
        let square = MultiPolygon([Polygon(outer: Ring([GeoPoint(lon: 47, lat: 29), GeoPoint(lon: 48, lat: 29), GeoPoint(lon: 48, lat: 30),
                                                         GeoPoint(lon: 47, lat: 30), GeoPoint(lon: 47, lat: 29)]), holes: [])])
        let index = PolygonIndex([square])
        for v in [1e308, -1e308, .infinity, -.infinity, .nan, 0, 47.5] {
            _ = index.locate(GeoPoint(lon: v, lat: 29.5))
            _ = index.locate(GeoPoint(lon: 47.5, lat: v))
        }
        #expect(index.locate(GeoPoint(lon: 47.5, lat: 29.5)) == 0)
    }

    /// libxml2 checks duplicate attributes in quadratic time: a start tag past the cap is refused
    /// before the parser sees it, quickly, naming the line.
    @Test func anXMLTagWithTooManyAttributesIsRefusedFast() throws {
        let attributes = (0..<40_000).map { "a\($0)=\"1\"" }.joined(separator: " ")
        let path = try temporaryFile("many.xml", contents: "<incidents>\n<incident incident_id=\"X\"/>\n<incident \(attributes)/>\n</incidents>\n")
        let started = Date()
        let reader = try XMLFeedReader(path: path)
        #expect(try reader.nextRecord() != nil)
        do {
            _ = try reader.nextRecord()
            Issue.record("40,000 attributes were accepted")
        } catch let error as InputError {
            #expect(error.line == 3 && error.problem.contains("more than 1000 attributes"))
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func markupLimitsCountOnlyStartTags() {
        var limits = MarkupLimits()
        limits.maxAttributes = 2
        // Quotes in text, comments, CDATA and instructions are not attributes; three in one tag are too many.
        let fine = #"<?xml version="1.0" encoding="UTF-8"?><a x="1" y='2'>"q" "r" "s"<!-- "1" "2" "3" --><![CDATA[ "1" "2" "3" ]]></a>"#
        #expect(Array(fine.utf8).withUnsafeBytes { limits.scan($0) })
        // Fed in one-byte chunks: state carries across reads.
        var chunked = MarkupLimits()
        chunked.maxAttributes = 2
        let bad = "<r>\n<a x=\"1\" y=\"2\" z=\"3\"/></r>"
        var ok = true
        for byte in Array(bad.utf8) where ok { ok = [byte].withUnsafeBytes { chunked.scan($0) } }
        #expect(!ok && chunked.violation?.line == 2)
    }
}
