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

/// The same in PostgreSQL's binary COPY format, for the bulk load: each column names its SQL type
/// by the factory that makes it (`.text`, `.int4`, `.timestamptz` …), so the bytes sent always
/// fit the column they go to.
public struct BinaryCopyLayout<Row>: Sendable {
    public struct Column: Sendable {
        public let name: String
        let write: @Sendable (inout BinaryCopyWriter, Row) throws -> Void

        public static func text(_ name: String, _ value: @escaping @Sendable (Row) -> String?) -> Column {
            Column(name: name) { writer, row in try writer.append(text: value(row)) }
        }
        public static func int4(_ name: String, _ value: @escaping @Sendable (Row) -> Int32?) -> Column {
            Column(name: name) { writer, row in writer.append(int4: value(row)) }
        }
        public static func int8(_ name: String, _ value: @escaping @Sendable (Row) -> Int64?) -> Column {
            Column(name: name) { writer, row in writer.append(int8: value(row)) }
        }
        public static func bool(_ name: String, _ value: @escaping @Sendable (Row) -> Bool?) -> Column {
            Column(name: name) { writer, row in writer.append(bool: value(row)) }
        }
        public static func float8(_ name: String, _ value: @escaping @Sendable (Row) -> Double?) -> Column {
            Column(name: name) { writer, row in writer.append(float8: value(row)) }
        }
        /// A `date` from days since 1970-01-01.
        public static func date(_ name: String, _ value: @escaping @Sendable (Row) -> Int32?) -> Column {
            Column(name: name) { writer, row in writer.append(dateDaysSince1970: value(row)) }
        }
        /// A `timestamptz` from whole seconds since the Unix epoch.
        public static func timestamptz(_ name: String, _ value: @escaping @Sendable (Row) -> Int64?) -> Column {
            Column(name: name) { writer, row in writer.append(timestamptzEpochSeconds: value(row)) }
        }
        /// A `uuid` from its 16 bytes.
        public static func uuid(_ name: String, _ value: @escaping @Sendable (Row) -> [UInt8]) -> Column {
            Column(name: name) { writer, row in writer.append(uuid: value(row)) }
        }
        /// A one-dimensional `text[]`.
        public static func textArray(_ name: String, _ value: @escaping @Sendable (Row) -> [String]) -> Column {
            Column(name: name) { writer, row in try writer.append(textArray: value(row)) }
        }
    }

    public let columns: [Column]
    public var names: [String] { columns.map(\.name) }

    public init(_ columns: [Column]) {
        precondition(Set(columns.map(\.name)).count == columns.count, "a COPY layout names each column once")
        self.columns = columns
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
        try withBinaryCopy(into: table, columns: layout.names) { writer in
            try body { row in
                for column in layout.columns { try column.write(&writer, row) }
                try writer.endRow()
            }
        }
    }
}
