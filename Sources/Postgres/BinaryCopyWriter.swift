/// Encodes rows in PostgreSQL's binary COPY format (the "COPY … (FORMAT binary)" file format of
/// the PostgreSQL documentation): a signature and header, then per row a 16-bit field count and
/// per field a 32-bit length (−1 for NULL) and the value in the type's binary send format, all
/// big-endian; a trailer of −1 ends the data.
///
/// Each `append` writes one value of one SQL type; the caller appends exactly the columns' types
/// in order (the server rejects a field whose length does not fit its type). NUL cannot be stored
/// in PostgreSQL text at all, so a text value containing it is refused here, as the text writer does.
public struct BinaryCopyWriter {
    public private(set) var rowCount = 0
    /// Bytes to send are `buffer[0..<used]`; the rest is room, so a value is written in place
    /// (`Array.append(contentsOf:)` of 4 or 8 bytes, generic, was 4% of the million-row load's
    /// client time).
    private var buffer: [UInt8]
    private var used = 0
    private let columnCount: Int
    private var fieldsInRow = 0
    private unowned let connection: PostgresConnection

    /// Seconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 (UTC).
    static let postgresEpochSeconds: Int64 = 946_684_800
    /// Days between 1970-01-01 and 2000-01-01.
    static let postgresEpochDays: Int32 = 10_957
    /// OID of type text, for the element type of text[].
    static let textOID: Int32 = 25

    init(connection: PostgresConnection, columnCount: Int) {
        self.connection = connection
        self.columnCount = columnCount
        buffer = [UInt8](repeating: 0, count: CopyWriter.flushThreshold + 4096)
        put(bytes: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
        put(Int32(0))  // flags: no OIDs
        put(Int32(0))  // header extension length
    }

    // MARK: Values, one per column

    public mutating func appendNull() {
        beginField()
        put(Int32(-1))
    }

    public mutating func append(text value: String?) throws {
        guard var value else { return appendNull() }
        beginField()
        try value.withUTF8 { bytes in
            if bytes.contains(0) {
                throw PostgresError(kind: .client, message: "a value contains a NUL byte, which PostgreSQL text cannot store")
            }
            put(Int32(bytes.count))
            put(bytes: UnsafeRawBufferPointer(bytes))
        }
    }

    public mutating func append(int4 value: Int32?) {
        guard let value else { return appendNull() }
        beginField()
        put(Int32(4))
        put(value)
    }

    public mutating func append(int8 value: Int64?) {
        guard let value else { return appendNull() }
        beginField()
        put(Int32(8))
        put(value)
    }

    public mutating func append(bool value: Bool?) {
        guard let value else { return appendNull() }
        beginField()
        put(Int32(1))
        put(UInt8(value ? 1 : 0))
    }

    public mutating func append(float8 value: Double?) {
        guard let value else { return appendNull() }
        beginField()
        put(Int32(8))
        put(Int64(bitPattern: value.bitPattern))
    }

    /// A `date` from days since 1970-01-01.
    public mutating func append(dateDaysSince1970 value: Int32?) {
        append(int4: value.map { $0 - Self.postgresEpochDays })
    }

    /// A `timestamptz` from whole seconds since the Unix epoch.
    public mutating func append(timestamptzEpochSeconds value: Int64?) {
        append(int8: value.map { ($0 - Self.postgresEpochSeconds) * 1_000_000 })
    }

    /// A `uuid` from its 16 bytes (see `uuidBytes(_:)`).
    public mutating func append(uuid bytes: [UInt8]) {
        precondition(bytes.count == 16, "a uuid is 16 bytes")
        beginField()
        put(Int32(16))
        put(bytes: bytes)
    }

    /// A one-dimensional `text[]` without NULL elements (`{}` when empty).
    public mutating func append(textArray values: [String]) throws {
        beginField()
        var elements: [UInt8] = []
        for var value in values {
            try value.withUTF8 { bytes in
                if bytes.contains(0) {
                    throw PostgresError(kind: .client, message: "an array element contains a NUL byte, which PostgreSQL text cannot store")
                }
                elements.append(contentsOf: withUnsafeBytes(of: Int32(bytes.count).bigEndian, Array.init))
                elements.append(contentsOf: bytes)
            }
        }
        let header = values.isEmpty ? 12 : 20
        put(Int32(header + elements.count))
        put(Int32(values.isEmpty ? 0 : 1))  // dimensions
        put(Int32(0))                       // no NULL elements
        put(Self.textOID)
        if !values.isEmpty {
            put(Int32(values.count))  // length of the dimension
            put(Int32(1))             // lower bound
        }
        put(bytes: elements)
    }

    /// The 16 bytes of a UUID written in its usual text form (hex digits, hyphens anywhere).
    public static func uuidBytes(_ text: String) -> [UInt8]? {
        let digits = text.utf8.filter { $0 != UInt8(ascii: "-") }
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    // MARK: Rows

    /// Ends the current row; it must have exactly one field per column.
    public mutating func endRow() throws {
        guard fieldsInRow == columnCount else {
            throw PostgresError(kind: .client, message: "COPY row \(rowCount + 1) has \(fieldsInRow) fields, expected \(columnCount)")
        }
        fieldsInRow = 0
        rowCount += 1
        if used >= CopyWriter.flushThreshold { try flush() }
    }

    mutating func finish() throws {
        guard fieldsInRow == 0 else {
            throw PostgresError(kind: .client, message: "COPY ended in the middle of row \(rowCount + 1)")
        }
        put(Int16(-1))  // trailer
        try flush()
    }

    private mutating func beginField() {
        if fieldsInRow == 0 { put(Int16(columnCount)) }
        fieldsInRow += 1
    }

    /// Room for `count` more bytes (a long text value can outgrow the flush threshold).
    @inline(__always)
    private mutating func reserve(_ count: Int) {
        if used + count > buffer.count { buffer.append(contentsOf: repeatElement(0, count: max(count, buffer.count))) }
    }

    @inline(__always)
    private mutating func put<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        let at = used
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: at, as: T.self) }
        used += MemoryLayout<T>.size
    }

    @inline(__always)
    private mutating func put(bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        let at = used
        buffer.withUnsafeMutableBytes { ($0.baseAddress! + at).copyMemory(from: base, byteCount: bytes.count) }
        used += bytes.count
    }

    private mutating func put(bytes: [UInt8]) {
        bytes.withUnsafeBytes { put(bytes: $0) }
    }

    private mutating func flush() throws {
        try buffer.withUnsafeBytes { try connection.send($0[0..<used]) }
        used = 0
    }
}
