import CLibCSV
import Foundation
import PropertyBased
import Testing
import TestSupport
@testable import KhareetatyCore
@testable import Readers

func readAll(_ source: RecordSource) throws -> [RawRecord] {
    var records: [RawRecord] = []
    while let record = try source.nextRecord() { records.append(record) }
    return records
}

@Suite struct GzipAndEncodingTests {
    @Test func gzipInputsReadTheSameAsPlainOnes() throws {
        let plain = repoPath("fixtures/incidents/kuwait-sample.csv")
        let compressed = try temporaryFile("sample.csv.gz", contents: "")
        try shell("/bin/gzip", ["-c", plain]).write(to: URL(fileURLWithPath: compressed))
        let a = try readAll(CSVReader(path: plain)), b = try readAll(CSVReader(path: compressed))
        #expect(a.count > 300)
        #expect(a.map(\.fields) == b.map(\.fields))
        #expect(a.map(\.sourceLine) == b.map(\.sourceLine))
        #expect(try InputFile.fingerprint(path: compressed).sha256 != InputFile.fingerprint(path: plain).sha256)
    }

    @Test func corruptGzipIsAnInputError() throws {
        let plain = repoPath("fixtures/incidents/kuwait-sample.csv")
        var data = try shell("/bin/gzip", ["-c", plain])
        data = data.prefix(data.count / 2)  // truncated in the middle of the deflate stream
        let path = try temporaryFile("cut.csv.gz", contents: "")
        try data.write(to: URL(fileURLWithPath: path))
        var thrown: InputError?
        do { _ = try readAll(CSVReader(path: path)).count } catch let error as InputError { thrown = error }
        #expect(thrown?.description.contains("truncated or corrupt gzip") == true)
    }

    @Test func sha256MatchesTheReference() throws {
        let path = repoPath("fixtures/incidents/kuwait-sample.csv")
        let reference = String(decoding: try shell("/usr/bin/sha256sum", [path]), as: UTF8.self).prefix(64)
        #expect(try InputFile.fingerprint(path: path).sha256 == String(reference))
    }

    /// Every byte 0x80–0xFF against Python's cp1256 codec (the reference implementation).
    @Test func windows1256AgreesWithPython() throws {
        let script = "import sys; sys.stdout.write(bytes(range(0x80, 0x100)).decode('cp1256'))"
        let expected = String(decoding: try shell("/usr/bin/python3", ["-c", script]), as: UTF8.self)
        let ours = (0x80...0xFF).map { UInt8($0) }.withUnsafeBytes { LegacyEncoding.windows1256.decode($0) }
        #expect(Array(ours.unicodeScalars) == Array(expected.unicodeScalars))
        let latin = (0x80...0xFF).map { UInt8($0) }.withUnsafeBytes { LegacyEncoding.latin1.decode($0) }
        #expect(latin.unicodeScalars.map(\.value) == Array(0x80...0xFF))
    }

    @Test func nonUTF8FieldsAreTranscodedOrMarkedInvalid() throws {
        var bytes = Data("id,area\n1,".utf8)
        bytes.append(contentsOf: [0xC7, 0xE1, 0xD3, 0xC7, 0xE1, 0xE3, 0xED, 0xC9])  // السالمية in windows-1256
        bytes.append(contentsOf: Array("\n2,Salmiya\n".utf8))
        let path = try temporaryFile("legacy.csv", contents: "")
        try bytes.write(to: URL(fileURLWithPath: path))

        let transcoded = try readAll(CSVReader(path: path, legacyEncoding: .windows1256))
        #expect(transcoded[0].fields[1] == "السالمية")
        #expect(transcoded[0].encoding == .transcoded(.windows1256))
        #expect(transcoded[1].encoding == .utf8)

        let strict = try readAll(CSVReader(path: path))
        #expect(strict[0].encoding == .invalid)
        #expect(strict[1].encoding == .utf8)
    }

    @Test func oversizedFieldsAreCapped() throws {
        let path = try temporaryFile("big.csv", contents: "id,v\n1,\"" + String(repeating: "x", count: 20_000) + "\"\n")
        do {
            _ = try readAll(CSVReader(path: path, maxFieldBytes: 10_000))
            Issue.record("accepted an oversized field")
        } catch let error as InputError {
            #expect(error.line == 2)
            #expect(error.field == "v")
        }
    }

    @Test func oversizedRecordsAreCappedByBytesAndFields() throws {
        // Many fields each under the field cap: the record as a whole is over its cap.
        let wide = try temporaryFile("wide.csv", contents: "id,v\n1,2\n" + Array(repeating: String(repeating: "x", count: 900), count: 40).joined(separator: ",") + "\n")
        do {
            _ = try readAll(CSVReader(path: wide, maxFieldBytes: 1_000, maxRecordBytes: 20_000))
            Issue.record("accepted an oversized record")
        } catch let error as InputError {
            #expect(error.line == 3 && error.problem.contains("longer than 20000 bytes"))
        }
        // A line of empty fields: tiny in bytes, over the field count.
        let many = try temporaryFile("many.csv", contents: "id,v\n" + String(repeating: ",", count: 20_000) + "\n")
        #expect(throws: InputError.self) { _ = try readAll(CSVReader(path: many)) }
        // Under both caps nothing changes: the record is read (and rejected later for its field count).
        let fine = try temporaryFile("fine.csv", contents: "id,v\n" + String(repeating: "a,", count: 500) + "a\n")
        #expect(try readAll(CSVReader(path: fine)).first?.fields.count == 501)
    }

    @Test func truncatedQuotedFieldNamesLineAndField() throws {
        let path = try temporaryFile("cut.csv", contents: "id,when,text\n1,2026-11-01,ok\n2,2026-11-02,\"cut off")
        do {
            _ = try readAll(CSVReader(path: path))
            Issue.record("accepted a truncated file")
        } catch let error as InputError {
            #expect(error.line == 3)
            #expect(error.field == "text")
            #expect(error.description.contains("cut.csv:3 (field text)"))
        }
    }
}

/// Property: any table of strings written by a standard CSV writer (libcsv's csv_write, which
/// quotes every field) reads back exactly, whatever the quotes, commas, CR/LF and Unicode inside.
@Suite struct CSVRoundTripProperties {
    static func write(_ rows: [[String]]) -> Data {
        var out = Data()
        for row in rows {
            for (i, field) in row.enumerated() {
                if i > 0 { out.append(0x2C) }
                let source = Array(field.utf8)
                var dest = [UInt8](repeating: 0, count: source.count * 2 + 2)
                let written = source.withUnsafeBytes { src in
                    dest.withUnsafeMutableBytes { csv_write($0.baseAddress, $0.count, src.baseAddress, src.count) }
                }
                out.append(contentsOf: dest.prefix(written))
            }
            out.append(contentsOf: [0x0D, 0x0A])
        }
        return out
    }

    /// Printable ASCII, Arabic, and the characters CSV has to get right.
    static let character = Gen.oneOf(
        Gen.character(in: " "..."~"),
        Gen.character(in: "\u{600}"..."\u{6FF}"),
        Gen.element(of: [",", "\"", "\n", "\r", "\r\n", "\u{0}", "\t", "é", "🚓", "\u{FEFF}"]).compactMap { $0 }
    )

    @Test func anyTableReadsBackExactly() async throws {
        let rowsGen = Self.character.string(of: 0...12).array(of: 5).array(of: 1...20)
        await propertyCheck(count: 300, input: Gen.int(in: 1...5), rowsGen) { columns, wideRows in
            let rows = wideRows.map { Array($0.prefix(columns)) }
            let header = (0..<columns).map { "c\($0)" }
            let data = Self.write([header] + rows)
            let path = try temporaryFile("prop.csv", contents: "")
            try data.write(to: URL(fileURLWithPath: path))
            let records = try readAll(CSVReader(path: path))
            #expect(records.map(\.fields) == rows)
            #expect(records.allSatisfy { $0.parseError == nil && $0.encoding == .utf8 })
        }
    }
}

@Suite struct XMLFeedTests {
    let feed = repoPath("fixtures/incidents/xml/kuwait-feed.xml")

    func field(_ record: RawRecord, _ name: PipelineDefinition.Field) -> String {
        record.fields[PipelineDefinition.Field.allCases.firstIndex(of: name)!]
    }

    @Test func attributesChildrenCDATAAndLines() throws {
        let records = try readAll(XMLFeedReader(path: feed))
        #expect(records.count == 5)
        #expect(records.map(\.sourceLine) == [4, 5, 13, 17, 18])
        #expect(field(records[0], .lat) == "29.3375")
        #expect(field(records[1], .category) == "حادث مروري")
        #expect(field(records[1], .description) == "Collision at a junction; <two> cars & a bus")
        #expect(field(records[2], .lat) == "")
        #expect(field(records[4], .updatedAt) == "2026-11-22T01:00:00+03:00")
    }

    @Test func gzipFeedsToo() throws {
        let compressed = try temporaryFile("feed.xml.gz", contents: "")
        try shell("/bin/gzip", ["-c", feed]).write(to: URL(fileURLWithPath: compressed))
        #expect(try readAll(XMLFeedReader(path: compressed)).map(\.fields) == readAll(XMLFeedReader(path: feed)).map(\.fields))
    }

    @Test(arguments: [
        ("xxe.xml", "DOCTYPE"),
        ("billion-laughs.xml", "entit"),
        ("external-dtd.xml", "DOCTYPE"),
        ("truncated.xml", "malformed XML"),
    ])
    func hostileDocumentsAreRefused(file: String, problem: String) throws {
        let started = Date()
        do {
            _ = try readAll(XMLFeedReader(path: repoPath("fixtures/incidents/xml/hostile/" + file)))
            Issue.record("\(file) was accepted")
        } catch let error as InputError {
            #expect(error.description.contains(problem), "\(error)")
            #expect(!error.description.contains("root:"), "file contents leaked")
        }
        #expect(Date().timeIntervalSince(started) < 5, "refusal must be immediate, not after expanding")
    }

    @Test func wrongRootIsRefused() throws {
        let path = try temporaryFile("r.xml", contents: "<reports><incident incident_id=\"1\"/></reports>")
        #expect(throws: InputError.self) { try readAll(XMLFeedReader(path: path)) }
    }
}
