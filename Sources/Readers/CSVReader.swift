import CLibCSV
import Foundation

/// Streams records from a CSV file through libcsv (RFC 4180: quoted fields, quoted newlines,
/// doubled quotes, CRLF or LF, a UTF-8 BOM; gzip transparently) without holding the file in
/// memory. A record libcsv cannot parse (a quote inside an unquoted field, text after a closing
/// quote) becomes a record with a `parseError`, rejected downstream, and reading goes on with the
/// next line; a file that ends inside a quoted field (truncated) is an `InputError` naming the
/// line and the field.
///
/// Lines are fed to libcsv one at a time so every record knows the line it started on.
public final class CSVReader: RecordSource {
    public let path: String
    public private(set) var header: [String] = []

    private let file: InputFile
    private let parser: UnsafeMutablePointer<csv_parser>
    private let state: ParseState
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)
    private var chunkLength = 0
    private var chunkOffset = 0
    private var line = 0
    private var finished = false
    private var sawBOMCheck = false

    struct Parsed {
        var fields: [String]
        var encoding: RecordEncoding
        var endLine: Int
        var error: String? = nil
    }

    /// Parsed fields of the record in progress and the records completed by the last feed.
    final class ParseState {
        let decoder: FieldDecoder
        var fields: [String] = []
        var encoding = RecordEncoding.utf8
        var completed: [Parsed] = []
        var currentLine = 0
        /// Longest field accepted; a longer one is almost certainly a runaway quote.
        let maxFieldBytes: Int
        /// (line, 0-based field index) of a field over the cap.
        var oversizedField: (line: Int, index: Int)?
        /// Longest record (all its fields) accepted, and the most fields: together with the field
        /// cap, what one line of an untrusted file can make this process hold.
        let maxRecordBytes: Int
        static let maxFields = 10_000
        var recordBytes = 0
        /// Line of a record over either cap.
        var oversizedRecord: Int?
        init(decoder: FieldDecoder, maxFieldBytes: Int, maxRecordBytes: Int) {
            self.decoder = decoder
            self.maxFieldBytes = maxFieldBytes
            self.maxRecordBytes = maxRecordBytes
        }
    }

    public init(path: String, delimiter: UInt8 = UInt8(ascii: ","), legacyEncoding: LegacyEncoding? = nil,
                maxFieldBytes: Int = 1 << 20, maxRecordBytes: Int = 4 << 20) throws {
        self.path = path
        file = try InputFile(path: path)
        state = ParseState(decoder: FieldDecoder(legacy: legacyEncoding), maxFieldBytes: maxFieldBytes, maxRecordBytes: maxRecordBytes)
        parser = .allocate(capacity: 1)
        self.delimiter = delimiter
        guard csv_init(parser, Self.options) == 0 else {
            parser.deallocate()
            throw InputError(file: path, problem: "out of memory initialising the CSV parser")
        }
        csv_set_delim(parser, delimiter)
        guard let first = try nextRecord() else {
            throw InputError(file: path, line: 1, problem: "the file is empty: a header row is required")
        }
        header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    deinit {
        csv_free(parser)
        parser.deallocate()
    }

    private var pending: [Parsed] = []
    /// Raw bytes of the record in progress (capped), for a reject's raw text.
    private var recordRaw: [UInt8] = []
    private let delimiter: UInt8
    private static let options = UInt8(CSV_STRICT | CSV_STRICT_FINI)
    private var pendingIndex = 0
    private var recordStartLine = 1

    public var bytesConsumed: Int { file.offset }

    /// The next record, or nil at the end of the file.
    public func nextRecord() throws -> RawRecord? {
        while pendingIndex >= pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            if finished { return nil }
            try feedLine()
            pending = state.completed
            state.completed.removeAll(keepingCapacity: true)
        }
        let parsed = pending[pendingIndex]
        pendingIndex += 1
        defer { recordStartLine = parsed.endLine + 1 }
        return RawRecord(fields: parsed.fields, sourceFile: path, sourceLine: recordStartLine, encoding: parsed.encoding, parseError: parsed.error)
    }

    /// Feeds libcsv the next physical line (or the tail at end of file).
    private func feedLine() throws {
        if chunkOffset >= chunkLength {
            chunkLength = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            chunkOffset = 0
            if chunkLength == 0 {
                finished = true
                state.currentLine = line
                let context = Unmanaged.passUnretained(state).toOpaque()
                let fieldsBefore = state.fields.count
                if csv_fini(parser, onField, onRecord, context) != 0 {
                    throw InputError(file: path, line: recordStartLine, field: fieldName(fieldsBefore),
                                     problem: "the file ends inside a quoted field of the record that starts on this line (unterminated quote: truncated file?)")
                }
                return
            }
            if !sawBOMCheck {
                sawBOMCheck = true
                if chunkLength >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { chunkOffset = 3 }
            }
        }
        var end = chunkOffset
        while end < chunkLength, chunk[end] != 0x0A { end += 1 }
        let endsLine = end < chunkLength
        if endsLine { end += 1 }
        let length = end - chunkOffset
        state.currentLine = line + 1
        let context = Unmanaged.passUnretained(state).toOpaque()
        if recordRaw.count < RawRecord.rawCap { recordRaw.append(contentsOf: chunk[chunkOffset..<min(end, chunkOffset + RawRecord.rawCap)]) }
        let completedBefore = state.completed.count
        let parsed = chunk.withUnsafeBytes { buffer in
            csv_parse(parser, buffer.baseAddress! + chunkOffset, length, onField, onRecord, context)
        }
        chunkOffset = end
        if endsLine { line += 1 }
        if parsed != length {
            // Reject this record (its raw text so far) and start afresh on the next line.
            let reason = String(cString: csv_strerror(csv_error(parser)))
            var raw = String(decoding: recordRaw, as: UTF8.self)
            while raw.last == "\n" || raw.last == "\r" { raw.removeLast() }
            state.completed.append(Parsed(fields: [raw], encoding: .utf8, endLine: line,
                                          error: "malformed CSV (\(reason)): a quote inside an unquoted field, or text after a closing quote"))
            csv_free(parser)
            guard csv_init(parser, Self.options) == 0 else { throw InputError(file: path, problem: "out of memory resetting the CSV parser") }
            csv_set_delim(parser, delimiter)
            state.fields.removeAll(keepingCapacity: true)
            state.encoding = .utf8
            state.recordBytes = 0
            recordRaw.removeAll(keepingCapacity: true)
            return
        }
        if state.completed.count > completedBefore && state.fields.isEmpty { recordRaw.removeAll(keepingCapacity: true) }
        // libcsv buffers the field in progress: cap it, so a runaway quote cannot eat the memory.
        if state.oversizedField == nil, csv_get_buffer_size(parser) > state.maxFieldBytes + 4096 {
            state.oversizedField = (recordStartLine, state.fields.count)
        }
        if let oversized = state.oversizedField {
            throw InputError(file: path, line: oversized.line, field: fieldName(oversized.index),
                             problem: "a field is longer than \(state.maxFieldBytes) bytes (a quote that is never closed?)")
        }
        if let line = state.oversizedRecord {
            throw InputError(file: path, line: line, problem: "a record is longer than \(state.maxRecordBytes) bytes or has more than "
                             + "\(ParseState.maxFields) fields (not a CSV export of incidents?)")
        }
    }
}

extension CSVReader {
    /// The header name of the n-th field (0-based), or its position when there is no header yet.
    func fieldName(_ index: Int) -> String {
        index < header.count ? header[index] : "#\(index + 1)"
    }
}

/// libcsv field callback: appends the field to the record in progress.
private func onField(_ bytes: UnsafeMutableRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    let state = Unmanaged<CSVReader.ParseState>.fromOpaque(context!).takeUnretainedValue()
    guard let bytes, length > 0 else {
        state.fields.append("")
        if state.fields.count > CSVReader.ParseState.maxFields, state.oversizedRecord == nil { state.oversizedRecord = state.currentLine }
        return
    }
    if length > state.maxFieldBytes, state.oversizedField == nil { state.oversizedField = (state.currentLine, state.fields.count) }
    state.recordBytes += length
    if (state.recordBytes > state.maxRecordBytes || state.fields.count >= CSVReader.ParseState.maxFields), state.oversizedRecord == nil {
        state.oversizedRecord = state.currentLine
    }
    let buffer = UnsafeRawBufferPointer(start: bytes, count: min(length, state.maxFieldBytes))
    state.fields.append(state.decoder.decode(buffer, encoding: &state.encoding))
}

/// libcsv record callback: the record in progress is complete.
private func onRecord(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    let state = Unmanaged<CSVReader.ParseState>.fromOpaque(context!).takeUnretainedValue()
    state.completed.append(CSVReader.Parsed(fields: state.fields, encoding: state.encoding, endLine: state.currentLine))
    state.fields.removeAll(keepingCapacity: true)
    state.encoding = .utf8
    state.recordBytes = 0
}
