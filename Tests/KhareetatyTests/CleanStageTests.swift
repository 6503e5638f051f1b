import Foundation
import Geo
import Testing
import TestSupport
@testable import KhareetatyCore
@testable import Readers

@Suite struct CleanStageTests {
    let header = ["incident_id", "occurred_at", "category", "latitude", "longitude", "area", "description", "updated_at"]

    func stage() throws -> CleanStage {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        return try CleanStage(pipeline: pipeline, header: header, file: "test.csv")
    }

    func record(_ fields: [String], line: Int = 2) -> RawRecord {
        RawRecord(fields: fields, sourceFile: "test.csv", sourceLine: line)
    }

    @Test func aGoodRecordBecomesAnIncident() throws {
        var clean = try stage()
        let output = try clean.process([record(["A1", "2026-11-24T23:30:00+03:00", " Traffic Accident ", "29.33", "48.07", "Salmiya", "d", ""])])
        #expect(output.rejects.isEmpty)
        let incident = try #require(output.incidents.first)
        #expect(incident.incidentID == "A1")
        #expect(incident.category == "traffic_accident")
        #expect(incident.lat == 29.33 && incident.lon == 48.07)
        #expect(CivilDate.isoDate(days: Int(incident.localDay)) == "2026-11-24")
        #expect(incident.sourceLine == 2)
    }

    @Test(arguments: [
        (["", "2026-11-24T10:00:00Z", "theft", "29.3", "48.0", "", "", ""], RejectReason.missingID),
        (["A", "yesterday", "theft", "29.3", "48.0", "", "", ""], .badTimestamp),
        (["A", "", "theft", "29.3", "48.0", "", "", ""], .badTimestamp),
        (["A", "2026-11-24T10:00:00Z", "  ", "29.3", "48.0", "", "", ""], .missingCategory),
        (["A", "2026-11-24T10:00:00Z", "theft", "north", "48.0", "", "", ""], .badCoordinates),
        (["A", "2026-11-24T10:00:00Z", "theft", "40.0", "48.0", "", "", ""], .badCoordinates),
        (["A", "2026-11-24T10:00:00Z", "theft"], .wrongFieldCount),
    ])
    func badRecordsAreRejectedWithAReason(fields: [String], reason: RejectReason) throws {
        var clean = try stage()
        let output = try clean.process([record(fields, line: 7)])
        #expect(output.incidents.isEmpty)
        let reject = try #require(output.rejects.first)
        #expect(reject.reason == reason)
        #expect(reject.sourceLine == 7)
        #expect(reject.raw == fields.joined(separator: ","))
    }

    @Test func missingOrZeroCoordinatesAreKeptWithoutAPoint() throws {
        var clean = try stage()
        let output = try clean.process([
            record(["A", "2026-11-24T10:00:00Z", "theft", "", "", "Salmiya", "", ""]),
            record(["B", "2026-11-24T10:00:00Z", "theft", "0", "0", "Salmiya", "", ""]),
        ])
        #expect(output.rejects.isEmpty)
        #expect(output.incidents.map(\.lat) == [nil, nil])
        #expect(output.incidents.map(\.areaName) == ["Salmiya", "Salmiya"])
    }

    @Test func everyRecordLeavesAsExactlyOneOutcome() throws {
        var clean = try stage()
        var generator = SplitMix64(seed: 7)
        let pieces = ["", "A1", "2026-11-24T10:00:00Z", "bad", "29.3", "48.0", "theft", "0", "x\"y", "99"]
        let batch = (0..<5_000).map { i in
            record((0..<(generator.next() % 2 == 0 ? 8 : Int(generator.next() % 10))).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }, line: i + 2)
        }
        let output = try clean.process(batch)
        #expect(output.incidents.count + output.rejects.count == batch.count)
    }

    @Test func headerWithoutAMappedColumnNamesIt() throws {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        do {
            _ = try CleanStage(pipeline: pipeline, header: ["incident_id", "when"], file: "x.csv")
            Issue.record("accepted a header without the mapped columns")
        } catch let error as InputError {
            #expect(error.file == "x.csv")
            #expect(error.field != nil)
        }
    }
}

@Suite struct PipelineDefinitionTests {
    func write(_ yaml: String) throws -> String { try temporaryFile("p.yaml", contents: yaml) }

    let minimal = """
        name: t
        inputs: [data/in.csv]
        columns: {incident_id: id, occurred_at: ts, category: cat}
        boundaries: {districts: b.geojson}

        """

    @Test func relativePathsResolveAgainstThePipelineFile() throws {
        let path = try write(minimal)
        let pipeline = try PipelineDefinition.load(path: path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(pipeline.inputs == [folder + "/data/in.csv"])
        #expect(pipeline.boundaries.districtsFile == folder + "/b.geojson")
        #expect(pipeline.timeZone.identifier == "Asia/Kuwait")
    }

    @Test(arguments: [
        ("extra: 1\n", "extra"),
        ("timezone: Mars/Olympus\n", "timezone"),
        ("csv: {delimiter: ab}\n", "csv.delimiter"),
        ("columns: {colour: c}\n", "columns.colour"),
    ])
    func problemsNameTheKey(addition: String, key: String) throws {
        let yaml = minimal.replacingOccurrences(of: "columns: {incident_id: id, occurred_at: ts, category: cat}",
                                                with: addition.hasPrefix("columns") ? "columns: {incident_id: id, occurred_at: ts, category: cat, colour: c}" : "columns: {incident_id: id, occurred_at: ts, category: cat}")
            + (addition.hasPrefix("columns") ? "" : addition)
        do {
            _ = try PipelineDefinition.load(path: try write(yaml))
            Issue.record("accepted \(addition)")
        } catch let error as ConfigError {
            #expect(error.key == key)
            #expect(error.exitCode == .usage)
        }
    }

    @Test func requiredColumnsMustBeMapped() throws {
        let yaml = minimal.replacingOccurrences(of: ", category: cat", with: "")
        do {
            _ = try PipelineDefinition.load(path: try write(yaml))
            Issue.record("accepted a pipeline without a category column")
        } catch let error as ConfigError {
            #expect(error.key == "columns.category")
        }
    }
}

/// The stages compose into a typed chain and run on in-memory batches, no database involved.
@Suite struct StageCompositionTests {
    struct CountingStage<Item: Sendable>: Stage {
        var seen = 0, finished = 0
        mutating func finish() throws { finished += 1 }
        mutating func process(_ batch: RecordBatch<Item>) throws -> RecordBatch<Item> {
            seen += batch.incidents.count + batch.rejects.count
            return batch
        }
    }

    /// The streaming loop every run uses: batches of the given size (the last one shorter), each
    /// through the stages, every record accounted for.
    @Test func aSourceStreamsInBatchesThroughTheStages() throws {
        let header = "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n"
        let rows = (1...7).map { "S\($0),2026-11-20T10:00:00+03:00,theft,29.3375,48.0716,,,\n" }.joined() + ",2026-11-20T10:00:00+03:00,theft,,,,,\n"
        let path = try temporaryFile("stream.csv", contents: header + rows)
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        let source = try CSVReader(path: path)
        var stages = try CleanStage(pipeline: pipeline, header: source.header, file: path).then(CountingStage<Incident>())
        var sizes: [Int] = [], kept = 0, rejected = 0
        try source.stream(batchesOf: 3, through: &stages) { batch in
            sizes.append(batch.rowsRead)
            kept += batch.output.incidents.count
            rejected += batch.output.rejects.count
        }
        #expect(sizes == [3, 3, 2])
        #expect(kept == 7 && rejected == 1 && stages.second.seen == 8)
    }

    @Test func cleanThenGeocodeInMemory() throws {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        let header = ["incident_id", "occurred_at", "category", "latitude", "longitude", "area", "description", "updated_at"]
        let layer = try DistrictLayer.load(pipeline.boundaries)
        var chain = try CleanStage(pipeline: pipeline, header: header, file: "mem.csv")
            .then(GeocodeStage(layer: layer))
            .then(CountingStage<PlacedIncident>())
        let batch = [
            RawRecord(fields: ["A", "2026-11-20T10:00:00+03:00", "theft", "29.3375", "48.0716", "", "", ""], sourceFile: "mem.csv", sourceLine: 2),
            RawRecord(fields: ["B", "2026-11-20T10:00:00+03:00", "theft", "", "", "Salmiya", "", ""], sourceFile: "mem.csv", sourceLine: 3),
            RawRecord(fields: ["", "2026-11-20T10:00:00+03:00", "theft", "", "", "", "", ""], sourceFile: "mem.csv", sourceLine: 4),
        ]
        let output = try chain.process(batch)
        #expect(chain.second.seen == 3)
        // The end of the stream reaches every stage of the chain, once.
        try chain.finish()
        #expect(chain.second.finished == 1)
        #expect(output.incidents.map(\.placement.geocodeMethod) == [.point, .name])
        let salmiya = try #require(layer.districts.first { $0.name == "Salmiya" })
        #expect(output.incidents[0].placement.districtCode == salmiya.code)
        #expect(output.incidents[0].placement.governorateCode == salmiya.governorateCode)
        #expect(output.rejects.map(\.reason) == [.missingID])
    }
}
