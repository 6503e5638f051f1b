import Foundation
import Postgres
import PropertyBased
import Testing
@testable import KhareetatyCore

/// The hand-written binary COPY encoder against PostgreSQL's own parsing: every generated row is
/// written once by `withBinaryCopy` and once as text parameters of an INSERT (the server parses
/// each value itself), and the two tables must hold the same multiset of rows.
@Suite struct BinaryCopyTests {
    struct Row: Sendable {
        var text: String?
        var int4: Int32?
        var int8: Int64?
        var float8: Double?
        var day: Int32?
        var seconds: Int64?
        var uuid: [UInt8]
        var array: [String]
        var flag: Bool?
    }

    static let character = Gen.oneOf(
        Gen.character(in: " "..."~"),
        Gen.character(in: "\u{600}"..."\u{6FF}"),
        Gen.element(of: ["\\", "\t", "\n", "\r", "{", "}", "\"", ",", "é", "🚓", "\u{FEFF}", "N"]).compactMap { $0 }
    )
    static let text = character.string(of: 0...16)
    static let row = zip(
        text.optional,
        Gen.int(in: Int(Int32.min)...Int(Int32.max)).map { Int32($0) }.optional,
        Gen.int(in: Int.min...Int.max).map { Int64($0) }.optional,
        Gen.oneOf(Gen.double(in: -1e9...1e9), Gen.element(of: [0.0, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 29.3375]).compactMap { $0 }).optional,
        Gen.int(in: -200_000...200_000).map { Int32($0) }.optional,                      // 1422 … 2517 AD
        Gen.int(in: -5_000_000_000...5_000_000_000).map { Int64($0) }.optional,          // 1811 … 2128
        Gen.int(in: 0...255).map { UInt8($0) }.array(of: 16),
        text.array(of: 0...4),
        Gen.bool.optional
    ).map { Row(text: $0.0, int4: $0.1, int8: $0.2, float8: $0.3, day: $0.4, seconds: $0.5, uuid: $0.6, array: $0.7, flag: $0.8) }

    static let columns = ["t", "i4", "i8", "f8", "d", "ts", "u", "a", "b"]
    static let tableDefinition = "(t text, i4 integer, i8 bigint, f8 double precision, d date, ts timestamptz, u uuid, a text[], b boolean)"

    @Test func anyRowsMatchTheServersOwnParsing() async throws {
        let db = try connectTestDatabase()
        let schema = "t_binary_" + UUID().uuidString.prefix(8).lowercased()
        try db.execute("CREATE SCHEMA \(quoteIdentifier(schema))")
        defer { _ = try? db.execute("DROP SCHEMA \(quoteIdentifier(schema)) CASCADE") }
        do {
            let binary = quoteIdentifier(schema) + ".binary_rows", reference = quoteIdentifier(schema) + ".reference_rows"
            try db.execute("CREATE TABLE \(binary) \(Self.tableDefinition); CREATE TABLE \(reference) \(Self.tableDefinition)")
            await propertyCheck(count: 200, input: Self.row.array(of: 1...25)) { rows in
                try db.execute("TRUNCATE \(binary), \(reference)")
                let copied = try db.withBinaryCopy(into: binary, columns: Self.columns) { writer in
                    for row in rows {
                        try writer.append(text: row.text)
                        writer.append(int4: row.int4)
                        writer.append(int8: row.int8)
                        writer.append(float8: row.float8)
                        writer.append(dateDaysSince1970: row.day)
                        writer.append(timestamptzEpochSeconds: row.seconds)
                        writer.append(uuid: row.uuid)
                        try writer.append(textArray: row.array)
                        writer.append(bool: row.flag)
                        try writer.endRow()
                    }
                }
                #expect(copied == rows.count)
                for row in rows {
                    let json = String(decoding: try JSONSerialization.data(withJSONObject: row.array), as: UTF8.self)
                    try db.query("""
                        INSERT INTO \(reference) VALUES ($1, $2::integer, $3::bigint, $4::double precision,
                            DATE '1970-01-01' + $5::integer, to_timestamp($6::bigint), $7::uuid,
                            ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), $9::boolean)
                        """, [row.text, row.int4.map(String.init), row.int8.map(String.init), row.float8.map { "\($0)" },
                              row.day.map(String.init), row.seconds.map(String.init),
                              row.uuid.map { String(format: "%02x", $0) }.joined(), json, row.flag.map { $0 ? "true" : "false" }])
                }
                let difference = try db.query("""
                    SELECT count(*) FROM ((TABLE \(binary) EXCEPT ALL TABLE \(reference)) UNION ALL (TABLE \(reference) EXCEPT ALL TABLE \(binary))) d
                    """).scalar
                #expect(difference == "0")
            }
        }
    }

    @Test func nulInTextIsRefusedAndTheConnectionStaysUsable() throws {
        try withScratchSchema { db, schema in
            let t = quoteIdentifier(schema) + ".n"
            try db.execute("CREATE TABLE \(t) (t text)")
            #expect(throws: PostgresError.self) {
                try db.withBinaryCopy(into: t, columns: ["t"]) { writer in
                    try writer.append(text: "ok"); try writer.endRow()
                    try writer.append(text: "a\u{0}b"); try writer.endRow()
                }
            }
            #expect(try db.query("SELECT count(*) FROM \(t)").scalar == "0")  // the whole COPY was aborted
        }
    }

    @Test func wrongFieldCountIsCaughtBeforeTheServer() throws {
        try withScratchSchema { db, schema in
            let t = quoteIdentifier(schema) + ".w"
            try db.execute("CREATE TABLE \(t) (a int, b int)")
            #expect(throws: PostgresError.self) {
                try db.withBinaryCopy(into: t, columns: ["a", "b"]) { writer in
                    writer.append(int4: 1); try writer.endRow()
                }
            }
            #expect(try db.query("SELECT 1").scalar == "1")
        }
    }

    @Test func uuidTextParses() {
        #expect(BinaryCopyWriter.uuidBytes("00112233-4455-6677-8899-aabbccddeeff") == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        #expect(BinaryCopyWriter.uuidBytes("not-a-uuid") == nil)
        #expect(BinaryCopyWriter.uuidBytes("0011223344556677889900aabbccddeeff") == nil)
    }
}

@Suite struct SeenFilterTests {
    @Test func neverMissesARepeat() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...1_000_000).map { "KW-\($0)" }.array(of: 1...300)) { ids in
            var filter = SeenFilter(log2Words: 6)  // small, so false positives happen too
            var seen = Set<String>()
            for id in ids {
                let maybe = filter.insert(id)
                if seen.contains(id) { #expect(maybe, "a repeat of \(id) was missed") }
                seen.insert(id)
            }
        }
    }

    @Test func aBatchAnswersAsOneByOne() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...400).map { "KW-\($0)" }.array(of: 0...300).array(of: 1...4)) { batches in
            var single = SeenFilter(log2Words: 6), batched = SeenFilter(log2Words: 6)
            var answers: [Bool] = []
            for ids in batches {
                let expected = ids.map { single.insert($0) }
                batched.insert(count: ids.count, id: { ids[$0] }, into: &answers)
                #expect(answers == expected)
            }
        }
    }

    @Test func fewFalsePositivesAtItsSize() {
        var filter = SeenFilter()
        var falsePositives = 0
        for i in 0..<1_000_000 where filter.insert("B-\(i)") { falsePositives += 1 }
        #expect(falsePositives < 200, "\(falsePositives) false positives in a million distinct ids")
    }
}

@Suite struct TrimTests {
    static let character = Gen.oneOf(
        Gen.character(in: "a"..."c"),
        Gen.element(of: [" ", "\t", "\u{A0}", "\u{2003}", "\u{3000}", "\u{202F}", "\u{200B}", "\u{FEFF}", "\u{1680}", "ل", "é", "e\u{301}"] as [Character]).compactMap { $0 }
    )

    @Test func agreesWithFoundationsWhitespaces() async {
        await propertyCheck(count: 2000, input: Self.character.string(of: 0...10)) { text in
            #expect(CleanStage.trimmingWhitespace(text) == text.trimmingCharacters(in: .whitespaces))
        }
    }
}
