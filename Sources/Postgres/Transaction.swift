/// The open transaction of a `PostgresConnection.withTransaction` body: what needs a transaction
/// (staging, derived tables, cursors) takes one of these, so calling it outside one does not compile.
///
/// It lives exactly as long as its body: when the body returns or throws, the handle ends, and a
/// copy kept past that point throws at its first use instead of silently running its statements in
/// autocommit. (Swift 6.3 can make a type non-escaping only behind the experimental `Lifetimes`
/// feature, and a noncopyable borrowed handle could not be held by the run's incident store, which
/// lives as long as the transaction; the end check is the guarantee we can give today.)
public final class Transaction {
    private let connection: PostgresConnection
    private var open = true

    init(_ connection: PostgresConnection) { self.connection = connection }

    func end() { open = false }

    /// The connection, while the transaction is open.
    private var live: PostgresConnection {
        get throws {
            guard open else {
                throw PostgresError(kind: .client, message: "a transaction's handle was used after its transaction ended")
            }
            return connection
        }
    }

    /// Runs one or more SQL statements without parameters (see `PostgresConnection.execute`).
    public func execute(_ sql: String) throws { try live.execute(sql) }

    /// Runs one statement with `$1, $2, …` parameters (see `PostgresConnection.query`).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        try live.query(sql, parameters)
    }

    /// Streams the rows of a query through a server-side cursor, `batchSize` rows at a time, so a
    /// large result never sits in client memory whole (a cursor lives only in a transaction).
    public func forEachRow(_ sql: String, _ parameters: [String?] = [], batchSize: Int = 50_000,
                           _ body: ([String?]) throws -> Void) throws {
        let db = try live
        let cursor = "khareetaty_cursor"
        try db.query("DECLARE \(cursor) NO SCROLL CURSOR FOR \(sql)", parameters)
        defer { _ = try? db.execute("CLOSE \(cursor)") }
        while true {
            let batch = try db.query("FETCH \(batchSize) FROM \(cursor)")
            if batch.rows.isEmpty { break }
            for row in batch.rows { try body(row) }
        }
    }

    /// COPYs `rows` into `table` as `layout` describes them (see `CopyLayout`).
    @discardableResult
    public func copy<Rows: Sequence>(_ rows: Rows, into table: String, layout: CopyLayout<Rows.Element>) throws -> Int {
        try live.copy(rows, into: table, layout: layout)
    }

    /// COPYs rows made while copying (text format).
    @discardableResult
    public func withCopy<Row>(into table: String, layout: CopyLayout<Row>,
                              _ body: (_ emit: (Row) throws -> Void) throws -> Void) throws -> Int {
        try live.withCopy(into: table, layout: layout, body)
    }

    /// COPYs rows made while copying (binary format: the bulk load's path).
    @discardableResult
    public func withCopy<Row>(into table: String, layout: BinaryCopyLayout<Row>,
                              _ body: (_ emit: (Row) throws -> Void) throws -> Void) throws -> Int {
        try live.withCopy(into: table, layout: layout, body)
    }
}

/// What runs a statement: a connection (each statement its own transaction) or an open
/// `Transaction`. For reads and bookkeeping that are right either way; what must be inside a
/// transaction takes `Transaction` itself.
public protocol Queryable: AnyObject {
    func execute(_ sql: String) throws
    @discardableResult
    func query(_ sql: String, _ parameters: [String?]) throws -> QueryResult
}

extension PostgresConnection: Queryable {}
extension Transaction: Queryable {}

extension Queryable {
    /// A statement without parameters, for its rows.
    @discardableResult
    public func query(_ sql: String) throws -> QueryResult { try query(sql, []) }
}
