import Foundation
import Postgres
import Testing
@testable import KhareetatyCore

/// The libpq layer against the real local PostgreSQL.
@Suite struct PostgresTests {
    @Test func unreachableServerIsAConnectionError() throws {
        // A port nothing listens on, in a socket directory that exists: fails at once.
        do {
            _ = try PostgresConnection(conninfo: "postgresql:///x?host=/tmp&port=1&connect_timeout=2")
            Issue.record("connected to nothing")
        } catch let error as PostgresError {
            #expect(error.kind == .connection)
            #expect(error.isTransient)
        }
    }

    @Test func unreachableDatabaseIsExit75AndRedacted() throws {
        var settings = Settings()
        settings.databaseURL = "postgresql://loader:s3cr3t@127.0.0.1:1/db"
        settings.connectTimeoutSeconds = 2
        settings.connectRetries = 0
        do {
            _ = try Database.connect(settings)
            Issue.record("connected to nothing")
        } catch let error as DatabaseUnavailable {
            #expect(error.exitCode == .temporaryFailure)
            #expect(!error.description.contains("s3cr3t"))
        }
    }

    /// Rows are read through typed accessors: a NULL or a wrong type is an error naming the column.
    @Test func typedRowsThrowNamingTheColumnInsteadOfTrapping() throws {
        let db = try connectTestDatabase()
        let row = try #require(try db.query("SELECT 42 AS n, 2.5 AS x, true AS b, NULL::int AS missing, 'abc' AS word").typedRows.first)
        #expect(try row.int(0) == 42 && row.double(1) == 2.5 && row.bool(2) && row.text(4) == "abc")
        #expect(row[3] == nil)
        do { _ = try row.int(3); Issue.record("NULL read as an integer") } catch let error as PostgresError {
            #expect(error.message == "column missing is NULL")
        }
        do { _ = try row.int(4); Issue.record("text read as an integer") } catch let error as PostgresError {
            #expect(error.message == "column word is not an integer")
        }
    }

    @Test func parametersTravelApartFromSQL() throws {
        let db = try connectTestDatabase()
        let hostile = "x'); DROP TABLE pg_class; --"
        let result = try db.query("SELECT $1::text AS a, $2::text AS b, $3::int + 1 AS c", [hostile, nil, "41"])
        #expect(result.columns == ["a", "b", "c"])
        #expect(result.rows == [[hostile, nil, "42"]])
    }

    @Test func serverErrorsCarrySQLState() throws {
        try withScratchSchema { db, schema in
            let t = quoteIdentifier(schema) + ".u"
            try db.execute("CREATE TABLE \(t) (id int PRIMARY KEY)")
            try db.query("INSERT INTO \(t) VALUES (1)")
            do {
                try db.query("INSERT INTO \(t) VALUES ($1)", ["1"])
                Issue.record("duplicate accepted")
            } catch let error as PostgresError {
                #expect(error.kind == .query)
                #expect(error.sqlState == "23505")
                #expect(error.detail?.contains("(id)=(1)") == true)
                #expect(!error.isTransient)
            }
            // The connection is still usable after an error.
            #expect(try db.query("SELECT count(*) FROM \(t)").scalar == "1")
        }
    }

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() throws {
        struct Boom: Error {}
        try withScratchSchema { db, schema in
            let t = quoteIdentifier(schema) + ".t"
            try db.execute("CREATE TABLE \(t) (v text)")
            try db.withTransaction { try $0.query("INSERT INTO \(t) VALUES ('kept')") }
            #expect(throws: Boom.self) {
                try db.withTransaction { db in
                    try db.query("INSERT INTO \(t) VALUES ('lost')")
                    throw Boom()
                }
            }
            #expect(try db.query("SELECT string_agg(v, ',') FROM \(t)").scalar == "kept")
            // A server error inside the body also rolls back and leaves the connection idle.
            #expect(throws: PostgresError.self) {
                try db.withTransaction { db in
                    try db.query("INSERT INTO \(t) VALUES ('lost too')")
                    try db.execute("SELECT 1/0")
                }
            }
            #expect(try db.query("SELECT count(*) FROM \(t)").scalar == "1")
        }
    }

    @Test func copyRoundTripsEveryAwkwardByte() throws {
        let values: [String?] = [
            "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "\\.", "", nil,
            "عربي — السالمية", "emoji 🚓", "quote \" and ' and ,", String(repeating: "x", count: 300_000),
        ]
        try withScratchSchema { db, schema in
            let t = quoteIdentifier(schema) + ".c"
            try db.execute("CREATE TABLE \(t) (i int, v text)")
            let count = try db.withCopy(into: t, columns: ["i", "v"]) { writer in
                for (i, value) in values.enumerated() { try writer.writeRow([String(i), value]) }
            }
            #expect(count == values.count)
            let rows = try db.query("SELECT v FROM \(t) ORDER BY i").rows.map { $0[0] }
            #expect(rows == values)
        }
    }

    @Test func failedCopyLeavesNothingAndConnectionUsable() throws {
        try withScratchSchema { db, schema in
            let t = quoteIdentifier(schema) + ".c"
            try db.execute("CREATE TABLE \(t) (v text)")
            #expect(throws: PostgresError.self) {
                try db.withCopy(into: t, columns: ["v"]) { writer in
                    for i in 0..<50_000 { try writer.writeRow(["row \(i)"]) }  // more than one flush
                    try writer.writeRow(["nul \u{0} byte"])
                }
            }
            #expect(try db.query("SELECT count(*) FROM \(t)").scalar == "0")
            // A server-side failure (bad integer) is reported with its SQLSTATE.
            let numbers = quoteIdentifier(schema) + ".n"
            try db.execute("CREATE TABLE \(numbers) (n int)")
            do {
                try db.withCopy(into: numbers, columns: ["n"]) { try $0.writeRow(["not a number"]) }
                Issue.record("bad integer accepted")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22P02")
            }
            #expect(try db.query("SELECT 1").scalar == "1")
        }
    }

    /// A layout names each value's column beside it: a table whose columns are in another order
    /// still gets every value in its own column, in text and in binary.
    @Test func copyLayoutsPutEachValueInItsNamedColumn() throws {
        struct Row { let id: Int; let label: String?; let score: Double? }
        let rows = [Row(id: 1, label: "one", score: 0.5), Row(id: 2, label: nil, score: nil), Row(id: 3, label: "ثلاثة\t3", score: -1e300)]
        try withScratchSchema { db, schema in
            let text = quoteIdentifier(schema) + ".t", binary = quoteIdentifier(schema) + ".b"
            for table in [text, binary] { try db.execute("CREATE TABLE \(table) (score float8, label text, id int)") }
            let written = try db.withTransaction { tx in
                try tx.copy(rows, into: text, layout: CopyLayout<Row>([
                    .init("id") { $0.id }, .init("label") { $0.label }, .init("score") { $0.score },
                ]))
                + tx.withCopy(into: binary, layout: BinaryCopyLayout<Row>(columns: ["id", "label", "score"]) { row, w in
                    try w.int4("id", Int32(row.id)); try w.text("label", row.label); try w.float8("score", row.score)
                }) { emit in for row in rows { try emit(row) } }
            }
            #expect(written == 2 * rows.count)
            for table in [text, binary] {
                let stored = try db.query("SELECT id, label, score FROM \(table) ORDER BY id").typedRows
                #expect(try stored.map { try $0.int(0) } == rows.map(\.id))
                #expect(stored.map { $0[1] } == rows.map(\.label))
                #expect(try stored.map { $0[2] == nil ? nil : try $0.double(2) } == rows.map(\.score))
            }
        }
    }

    /// A binary layout whose appends do not follow its column list fails on the first row, before
    /// the server sees a byte of it, and the COPY leaves nothing.
    @Test func aBinaryLayoutWritingAnotherColumnFailsOnItsFirstRow() throws {
        try withScratchSchema { db, schema in
            let t = quoteIdentifier(schema) + ".b"
            try db.execute("CREATE TABLE \(t) (a int, b int)")
            let swapped = BinaryCopyLayout<Int>(columns: ["a", "b"]) { n, w in try w.int4("b", Int32(n)); try w.int4("a", 0) }
            let short = BinaryCopyLayout<Int>(columns: ["a", "b"]) { n, w in try w.int4("a", Int32(n)) }
            for layout in [swapped, short] {
                do {
                    try db.withTransaction { tx in try tx.withCopy(into: t, layout: layout) { emit in try emit(1) } }
                    Issue.record("a layout that does not follow its columns was written")
                } catch let error as PostgresError {
                    #expect(error.kind == .client && error.message.contains("COPY layout"), "\(error)")
                }
            }
            #expect(try db.query("SELECT count(*) FROM \(t)").scalar == "0")
        }
    }

    /// The transaction's handle ends with its body: kept past it, it refuses to run anything
    /// instead of running statements outside any transaction.
    @Test func aTransactionHandleKeptPastItsBodyRefusesToRun() throws {
        let db = try connectTestDatabase()
        let kept = try db.withTransaction { tx -> Transaction in
            let one = try tx.query("SELECT 1").scalar
            #expect(one == "1")
            return tx
        }
        do {
            try kept.execute("SELECT 1")
            Issue.record("an ended transaction's handle ran a statement")
        } catch let error as PostgresError {
            #expect(error.kind == .client && error.message.contains("after its transaction ended"))
        }
        // A body that throws ends its handle too, and the connection is usable afterwards.
        var thrown: Transaction?
        #expect(throws: PostgresError.self) {
            try db.withTransaction { tx in
                thrown = tx
                try tx.execute("SELECT 1/0")
            }
        }
        #expect(throws: PostgresError.self) { try thrown?.query("SELECT 1") }
        #expect(try db.query("SELECT 2").scalar == "2")
    }
}
