import CLibPQ

/// The rows of a query, copied out of the `PGresult` (which is freed right after), as text.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows affected, for INSERT/UPDATE/DELETE/COPY (from the command tag).
    public let affectedRows: Int

    init(_ result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            rows.append((0..<columnCount).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            })
        }
        self.rows = rows
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// The first column of the first row, if any.
    public var scalar: String? { rows.first?.first ?? nil }

    /// Values of one named column.
    public func column(_ name: String) -> [String?] {
        guard let index = columns.firstIndex(of: name) else { return [] }
        return rows.map { $0[index] }
    }
}

extension QueryResult {
    /// One row read through typed accessors: a NULL where a value is required, or text that is
    /// not the number asked for, is a thrown error naming the column, never a trap.
    public struct Row: Sendable {
        public let values: [String?]
        let columns: [String]

        public subscript(index: Int) -> String? { values[index] }

        private func fail(_ index: Int, _ problem: String) -> PostgresError {
            PostgresError(kind: .client, message: "column \(index < columns.count ? columns[index] : String(index)) \(problem)")
        }

        public func text(_ index: Int) throws -> String {
            guard let value = values[index] else { throw fail(index, "is NULL") }
            return value
        }

        public func int(_ index: Int) throws -> Int {
            guard let value = Int(try text(index)) else { throw fail(index, "is not an integer") }
            return value
        }

        public func double(_ index: Int) throws -> Double {
            guard let value = Double(try text(index)) else { throw fail(index, "is not a number") }
            return value
        }

        public func bool(_ index: Int) throws -> Bool {
            switch try text(index) {
            case "t": return true
            case "f": return false
            default: throw fail(index, "is not a boolean")
            }
        }
    }

    /// The rows, for typed reading.
    public var typedRows: [Row] { rows.map { Row(values: $0, columns: columns) } }
}
