import Foundation
import Testing
@testable import KhareetatyCore
@testable import Readers

@Suite struct CSVReaderTests {
    func read(_ text: String, delimiter: UInt8 = UInt8(ascii: ",")) throws -> (header: [String], records: [RawRecord]) {
        let path = try temporaryFile("in.csv", contents: text)
        let reader = try CSVReader(path: path, delimiter: delimiter)
        var records: [RawRecord] = []
        while let record = try reader.nextRecord() { records.append(record) }
        return (reader.header, records)
    }

    @Test func quotedFieldsNewlinesAndLineNumbers() throws {
        let (header, records) = try read("id,text\n1,plain\n2,\"two\nlines\"\n3,\"a \"\"quoted\"\" word, with comma\"\n4,\n")
        #expect(header == ["id", "text"])
        #expect(records.map(\.fields) == [["1", "plain"], ["2", "two\nlines"], ["3", "a \"quoted\" word, with comma"], ["4", ""]])
        #expect(records.map(\.sourceLine) == [2, 3, 5, 6])
    }

    @Test func crlfBomAndNoFinalNewline() throws {
        let (header, records) = try read("\u{FEFF}id,v\r\n1,a\r\n2,b")
        #expect(header == ["id", "v"])
        #expect(records.map(\.fields) == [["1", "a"], ["2", "b"]])
        #expect(records.map(\.sourceLine) == [2, 3])
    }

    @Test func otherDelimiters() throws {
        let (_, records) = try read("a;b\nx;\"y;z\"\n", delimiter: UInt8(ascii: ";"))
        #expect(records.map(\.fields) == [["x", "y;z"]])
    }

    @Test func unterminatedQuoteNamesTheLine() throws {
        do {
            _ = try read("id,v\n1,ok\n2,\"never closed\n3,x\n")
            Issue.record("accepted an unterminated quote")
        } catch let error as InputError {
            #expect(error.line == 3)
            #expect(error.description.contains("unterminated quote"))
            #expect(error.exitCode == .dataError)
        }
    }

    @Test func aMalformedRecordIsKeptForRejectionAndReadingGoesOn() throws {
        let (_, records) = try read("id,v\n1,ok\n2,\"closed\"junk\n3,fine\n")
        #expect(records.count == 3)
        #expect(records[1].parseError != nil)
        #expect(records[1].sourceLine == 3)
        #expect(records[1].fields == ["2,\"closed\"junk"])
        #expect(records[2].fields == ["3", "fine"])
        #expect(records[2].parseError == nil)
    }

    @Test func aMalformedRecordAcrossAReadChunkKeepsAllItsRawText() throws {
        // The record starts 6 bytes before the first 1 MiB read chunk ends and spans two lines.
        let filler = String(repeating: "1,ok\n", count: ((1 << 20) - 6) / 5 - 1)
        let (_, records) = try read("id,v\n" + filler + "7,\"multi\nline\"junk\n8,fine\n")
        let bad = try #require(records.first { $0.parseError != nil })
        #expect(bad.fields == ["7,\"multi\nline\"junk"])
        #expect(bad.sourceLine == ((1 << 20) - 6) / 5 + 1)
        #expect(records.last?.fields == ["8", "fine"])
        #expect(records.filter { $0.parseError != nil }.count == 1)
    }

    @Test func emptyFileNeedsAHeader() throws {
        #expect(throws: InputError.self) { try read("") }
    }

    @Test func longFilesStreamAcrossReadChunks() throws {
        // More than one 1 MiB read chunk, with records straddling chunk borders.
        var text = "id,payload\n"
        for i in 0..<40_000 { text += "\(i),\"\(String(repeating: "p", count: i % 50))\n\(i)\"\n" }
        let (_, records) = try read(text)
        #expect(records.count == 40_000)
        #expect(records.last?.fields == ["39999", String(repeating: "p", count: 39_999 % 50) + "\n39999"])
        #expect(records.last?.sourceLine == 2 + 39_999 * 2)
    }
}
