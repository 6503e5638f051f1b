/// One table's COPY row, described once: every column's name beside the value it takes from a
/// row. The column list sent to the server and the values written are made from the same array,
/// so they cannot drift apart (the writers' hand-matched `append` calls could).
///
/// Text format: for the small derived tables, where readability beats speed.
public struct CopyLayout<Row>: Sendable {
    public struct Column: Sendable {
        public let name: String
        let value: @Sendable (Row) -> String?

        public init(_ name: String, _ value: @escaping @Sendable (Row) -> String?) {
            self.name = name
            self.value = value
        }

        public init(_ name: String, _ value: @escaping @Sendable (Row) -> Int?) {
            self.init(name) { (row: Row) -> String? in value(row).map(String.init) }
        }

        public init(_ name: String, _ value: @escaping @Sendable (Row) -> Double?) {
            self.init(name) { (row: Row) -> String? in value(row).map { "\($0)" } }
        }
    }

    public let columns: [Column]
    public var names: [String] { columns.map(\.name) }

    public init(_ columns: [Column]) {
        precondition(Set(columns.map(\.name)).count == columns.count, "a COPY layout names each column once")
        self.columns = columns
    }
}

/// The binary COPY row of the bulk load: the column list, and one function that writes a row,
/// naming each value's column as it appends it. On the first row of every COPY those names are
/// checked against the list, in order (a value written to the wrong column, or a column left
/// out, fails at once, in any test that loads a row); later rows skip the check, so a row costs
/// one call and one flag test per field, as hand-written appends did. (A closure per column,
/// tried first, made the million-row load a second slower.)
public struct BinaryCopyLayout<Row>: Sendable {
    public let names: [String]
    let write: @Sendable (Row, inout BinaryCopyRow) throws -> Void

    public init(columns: [String], write: @escaping @Sendable (Row, inout BinaryCopyRow) throws -> Void) {
        precondition(Set(columns).count == columns.count, "a COPY layout names each column once")
        names = columns
        self.write = write
    }
}

/// One row being written by a `BinaryCopyLayout`: each append names its column and its SQL type.
public struct BinaryCopyRow {
    var writer: BinaryCopyWriter
    private let names: [String]
    private var checking = true
    private var position = 0

    init(writer: BinaryCopyWriter, names: [String]) {
        self.writer = writer
        self.names = names
    }

    @inline(__always)
    private mutating func column(_ name: StaticString) throws {
        guard checking else { return }
        let expected = position < names.count ? names[position] : "(none: the layout has \(names.count) columns)"
        guard name.description == expected else {
            throw PostgresError(kind: .client, message: "COPY layout writes column \(name) where its column list has \(expected) (position \(position + 1))")
        }
        position += 1
    }

    public mutating func text(_ name: StaticString, _ value: String?) throws { try column(name); try writer.append(text: value) }
    public mutating func int4(_ name: StaticString, _ value: Int32?) throws { try column(name); writer.append(int4: value) }
    public mutating func int8(_ name: StaticString, _ value: Int64?) throws { try column(name); writer.append(int8: value) }
    public mutating func bool(_ name: StaticString, _ value: Bool?) throws { try column(name); writer.append(bool: value) }
    public mutating func float8(_ name: StaticString, _ value: Double?) throws { try column(name); writer.append(float8: value) }
    /// A `date` from days since 1970-01-01.
    public mutating func date(_ name: StaticString, _ value: Int32?) throws { try column(name); writer.append(dateDaysSince1970: value) }
    /// A `timestamptz` from whole seconds since the Unix epoch.
    public mutating func timestamptz(_ name: StaticString, _ value: Int64?) throws {
        try column(name); writer.append(timestamptzEpochSeconds: value)
    }
    /// A `uuid` from its 16 bytes.
    public mutating func uuid(_ name: StaticString, _ bytes: [UInt8]) throws { try column(name); writer.append(uuid: bytes) }
    /// A one-dimensional `text[]`.
    public mutating func textArray(_ name: StaticString, _ values: [String]) throws { try column(name); try writer.append(textArray: values) }

    mutating func endRow() throws {
        if checking {
            guard position == names.count else {
                throw PostgresError(kind: .client, message: "COPY layout wrote \(position) of its \(names.count) columns (\(names[position]) is missing)")
            }
            checking = false
        }
        try writer.endRow()
    }
}

extension PostgresConnection {
    /// COPYs `rows` into `table` (a safe identifier, see `quoteIdentifier`) as `layout` describes
    /// them; returns the rows the server stored. Aborted whole when a value cannot be written.
    @discardableResult
    public func copy<Rows: Sequence>(_ rows: Rows, into table: String, layout: CopyLayout<Rows.Element>) throws -> Int {
        try withCopy(into: table, layout: layout) { emit in
            for row in rows { try emit(row) }
        }
    }

    /// The same, for rows made while copying: `body` is given the function that writes one row.
    @discardableResult
    public func withCopy<Row>(into table: String, layout: CopyLayout<Row>,
                              _ body: (_ emit: (Row) throws -> Void) throws -> Void) throws -> Int {
        try withCopy(into: table, columns: layout.names) { writer in
            try body { row in
                for column in layout.columns { try writer.append(column.value(row)) }
                try writer.endRow()
            }
        }
    }

    /// Binary COPY of rows made while copying (the bulk load's path).
    @discardableResult
    public func withCopy<Row>(into table: String, layout: BinaryCopyLayout<Row>,
                              _ body: (_ emit: (Row) throws -> Void) throws -> Void) throws -> Int {
        var row = BinaryCopyRow(writer: BinaryCopyWriter(connection: self, columnCount: layout.names.count), names: layout.names)
        return try copy("COPY \(table) (\(layout.names.joined(separator: ", "))) FROM STDIN (FORMAT binary)") {
            try body { value in
                try layout.write(value, &row)
                try row.endRow()
            }
            try row.writer.finish()
        }
    }
}
