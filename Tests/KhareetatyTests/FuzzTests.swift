import Foundation
import PropertyBased
import Testing
import TestSupport
@testable import KhareetatyCore
@testable import Readers

/// Random and mutated bytes into the readers and the clean stage: the only acceptable outcomes
/// are records or an `InputError` naming the file; nothing crashes or hangs, and every record read
/// leaves the clean stage as exactly one incident or one reject.
@Suite struct FuzzTests {
    /// Bytes that matter to CSV, XML and UTF-8, with ordinary text between them.
    static let byte = Gen.oneOf(
        Gen.element(of: Array(",\"\n\r\t<>&/=; ".utf8) + [0x00, 0xFF, 0xC3, 0xA9, 0xD8, 0xB3, 0xEF, 0xBB, 0xBF, 0x80]).compactMap { $0 },
        Gen.int(in: 0x20...0x7E).map { UInt8($0) },
        Gen.int(in: 0...255).map { UInt8($0) }
    )
    static let header = "incident_id,occurred_at,category,latitude,longitude,area\n"

    static func pipeline() throws -> PipelineDefinition {
        try PipelineDefinition.load(path: try temporaryFile("fuzz.yaml", contents: """
            name: fuzz
            inputs: [x.csv]
            encoding: windows-1256
            columns: {incident_id: incident_id, occurred_at: occurred_at, category: category, lat: latitude, lon: longitude, area_name: area}
            boundaries: {districts: b.geojson}

            """))
    }

    /// Reads every record (or stops at an InputError), then cleans them: the sum must hold.
    func readAndClean(_ makeSource: () throws -> RecordSource, file: String) throws {
        let started = Date()
        var records: [RawRecord] = []
        do {
            let source = try makeSource()
            while let record = try source.nextRecord() {
                records.append(record)
                #expect(records.count < 1_000_000)
            }
            var stage = try CleanStage(pipeline: try Self.pipeline(), header: source.header, file: file)
            let batch = try stage.process(records)
            #expect(batch.incidents.count + batch.rejects.count == records.count)
            #expect(Set(batch.incidents.map(\.sourceLine) + batch.rejects.map(\.sourceLine)).count <= records.count)
        } catch let error as InputError {
            #expect(error.file == file && !error.problem.isEmpty)
        }
        #expect(Date().timeIntervalSince(started) < 5, "a 4 KB input took over 5 s")
    }

    @Test func randomCSVBytes() async throws {
        await propertyCheck(count: 1500, input: Gen.bool, Self.byte.array(of: 0...4000)) { withHeader, bytes in
            let path = try temporaryFile("fuzz.csv", contents: "")
            try Data((withHeader ? Array(Self.header.utf8) : []) + bytes).write(to: URL(fileURLWithPath: path))
            try readAndClean({ try CSVReader(path: path, legacyEncoding: .windows1256, maxFieldBytes: 512) }, file: path)
        }
    }

    @Test func mutatedXMLFeeds() async throws {
        let feed = Array(try Data(contentsOf: URL(fileURLWithPath: repoPath("fixtures/incidents/xml/kuwait-feed.xml"))))
        // Up to 12 edits at random places: overwrite, insert or delete a byte.
        let edit = zip(Gen.int(in: 0...2), Gen.int(in: 0...(feed.count - 1)), Self.byte)
        await propertyCheck(count: 1500, input: edit.array(of: 1...12)) { edits in
            var bytes = feed
            for (kind, position, byte) in edits {
                let at = min(position, max(bytes.count - 1, 0))
                switch kind {
                case 0 where !bytes.isEmpty: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: if !bytes.isEmpty { bytes.remove(at: at) }
                }
            }
            let path = try temporaryFile("fuzz.xml", contents: "")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try readAndClean({ try XMLFeedReader(path: path, maxFieldBytes: 512) }, file: path)
        }
    }

    @Test func randomXMLBytes() async throws {
        await propertyCheck(count: 500, input: Self.byte.array(of: 0...3000)) { bytes in
            let path = try temporaryFile("fuzz.xml", contents: "")
            try Data(Array("<incidents><incident ".utf8) + bytes).write(to: URL(fileURLWithPath: path))
            try readAndClean({ try XMLFeedReader(path: path, maxFieldBytes: 512) }, file: path)
        }
    }

    /// A value for one field: extremes of numbers and timestamps, long digit runs, random text.
    static let fieldValue = Gen.oneOf(
        Gen.element(of: PoisonRecordTests.extremeTimestamps + PoisonRecordTests.extremeNumbers + ["", " ", "-", "+", ".", "e", "1e", "NaN"]).compactMap { $0 },
        Gen.int(in: 0...9).map { String($0) }.array(of: 1...40).map { $0.joined() },
        Gen.oneOf(Gen.element(of: Array("0123456789-+.:/ TZe".utf8)).compactMap { $0 }, Gen.int(in: 0x20...0x7E).map { UInt8($0) })
            .array(of: 0...30).map { String(decoding: $0, as: UTF8.self) },
        Gen.int(in: 200...400).map { String(repeating: "x", count: $0) }
    )

    /// Field-level mutations of every column of a good record: each leaves the clean stage as one
    /// incident or one reject, and what is kept is inside every range later stages rely on.
    @Test func mutatedFieldsOfEveryColumn() async throws {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        let edit = zip(Gen.int(in: 0...(PoisonRecordTests.header.count - 1)), Self.fieldValue)
        await propertyCheck(count: 3000, input: edit.array(of: 1...3)) { edits in
            var fields = PoisonRecordTests.good
            for (column, value) in edits { fields[column] = value }
            var stage = try CleanStage(pipeline: pipeline, header: PoisonRecordTests.header, file: "fuzz.csv")
            let batch = try stage.process([RawRecord(fields: fields, sourceFile: "fuzz.csv", sourceLine: 2)])
            #expect(batch.incidents.count + batch.rejects.count == 1)
            for incident in batch.incidents {
                #expect(!incident.incidentID.isEmpty && incident.incidentID.utf8.count <= CleanStage.maxIDBytes)
                #expect(CleanStage.representable.contains(incident.occurredAt))
                #expect(incident.updatedAt.map(CleanStage.representable.contains) ?? true)
                #expect(incident.lat.map { (28.5...30.15).contains($0) } ?? true)
                #expect(incident.lon.map { (46.5...48.7).contains($0) } ?? true)
            }
        }
    }
}
