import CLibPQ

extension PostgresConnection {
    /// Streams rows into `table` with `COPY … FROM STDIN` (text format). The writer exists only
    /// inside `body`: when it returns the copy is finished and checked; when it throws the copy is
    /// aborted (the server discards every row of it) and the connection stays usable.
    ///
    /// `table` and `columns` must already be safe identifiers (see `quoteIdentifier`).
    @discardableResult
    public func withCopy(
        into table: String,
        columns: [String],
        _ body: (inout CopyWriter) throws -> Void
    ) throws -> Int {
        var writer = CopyWriter(connection: self, columnCount: columns.count)
        return try copy("COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN") {
            try body(&writer)
            try writer.finish()
        }
    }

    /// The same in PostgreSQL's binary COPY format: no text rendering or escaping of any value,
    /// and no parsing on the server — the fast path for bulk loads. The writer's typed appends
    /// must match the columns' types exactly (the server checks every field's length).
    @discardableResult
    public func withBinaryCopy(
        into table: String,
        columns: [String],
        _ body: (inout BinaryCopyWriter) throws -> Void
    ) throws -> Int {
        var writer = BinaryCopyWriter(connection: self, columnCount: columns.count)
        return try copy("COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN (FORMAT binary)") {
            try body(&writer)
            try writer.finish()
        }
    }

    /// Starts a COPY, lets `body` send the data, then ends and checks it, or aborts it if `body` throws.
    func copy(_ sql: String, _ body: () throws -> Void) throws -> Int {
        let start = PQexec(conn, sql)
        defer { PQclear(start) }
        try check(start, accepting: [PGRES_COPY_IN])
        do {
            try body()
        } catch {
            // Abort: the server rolls back this COPY; drain its result so the connection is idle.
            _ = PQputCopyEnd(conn, "aborted by client")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else {
            throw PostgresError(kind: .copy, message: Self.trimmed(PQerrorMessage(conn)))
        }
        let end = PQgetResult(conn)
        defer { PQclear(end); drainResults() }
        try check(end, accepting: [PGRES_COMMAND_OK])
        return QueryResult(end!).affectedRows
    }

    /// Sends buffered COPY data; called by the writer whenever its buffer fills.
    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try send(UnsafeRawBufferPointer($0)) }
    }

    func send(_ bytes: Slice<UnsafeRawBufferPointer>) throws {
        try send(UnsafeRawBufferPointer(rebasing: bytes))
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let status = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { PQputCopyData(conn, $0, Int32(bytes.count)) }
        guard status == 1 else {
            throw PostgresError(kind: .copy, message: Self.trimmed(PQerrorMessage(conn)))
        }
    }

    private func drainResults() {
        while let result = PQgetResult(conn) { PQclear(result) }
    }
}

/// Encodes rows in PostgreSQL's COPY text format. Every value is escaped so that no byte —
/// tab, newline, carriage return, backslash — can end a field or a row early; `nil` is `\N`.
/// NUL cannot be stored in PostgreSQL text at all, so a value containing it is refused.
public struct CopyWriter {
    public private(set) var rowCount = 0
    private var buffer: [UInt8] = []
    private let columnCount: Int
    private var fieldsInRow = 0
    private unowned let connection: PostgresConnection

    /// Flush to the server once this much is buffered.
    static let flushThreshold = 1 << 18

    init(connection: PostgresConnection, columnCount: Int) {
        self.connection = connection
        self.columnCount = columnCount
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    /// Appends one field to the current row.
    public mutating func append(_ value: String?) throws {
        if fieldsInRow > 0 { buffer.append(0x09) }
        fieldsInRow += 1
        guard let value else {
            buffer.append(0x5C); buffer.append(0x4E)  // \N
            return
        }
        for byte in value.utf8 {
            switch byte {
            case 0x5C: buffer.append(0x5C); buffer.append(0x5C)   // \\
            case 0x0A: buffer.append(0x5C); buffer.append(0x6E)   // \n
            case 0x0D: buffer.append(0x5C); buffer.append(0x72)   // \r
            case 0x09: buffer.append(0x5C); buffer.append(0x74)   // \t
            case 0x00:
                throw PostgresError(kind: .client, message: "a value contains a NUL byte, which PostgreSQL text cannot store")
            default: buffer.append(byte)
            }
        }
    }

    public mutating func append(_ value: Int?) throws { try append(value.map(String.init)) }
    public mutating func append(_ value: Double?) throws { try append(value.map { "\($0)" }) }

    /// Ends the current row; it must have exactly one field per column.
    public mutating func endRow() throws {
        guard fieldsInRow == columnCount else {
            throw PostgresError(kind: .client, message: "COPY row \(rowCount + 1) has \(fieldsInRow) fields, expected \(columnCount)")
        }
        buffer.append(0x0A)
        fieldsInRow = 0
        rowCount += 1
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    /// Convenience: one whole row.
    public mutating func writeRow(_ values: [String?]) throws {
        for value in values { try append(value) }
        try endRow()
    }

    mutating func finish() throws {
        guard fieldsInRow == 0 else {
            throw PostgresError(kind: .client, message: "COPY ended in the middle of row \(rowCount + 1)")
        }
        try flush()
    }

    private mutating func flush() throws {
        try connection.send(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
