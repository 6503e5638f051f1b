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
    /// Touched only by the reading thread, from libcsv's callbacks, one access at a time: the
    /// runtime's exclusivity checks on its properties were 5% of the million-row load's client time.
    final class ParseState {
        let decoder: FieldDecoder
        @exclusivity(unchecked) var fields: [String] = []
        @exclusivity(unchecked) var encoding = RecordEncoding.utf8
        @exclusivity(unchecked) var completed: [Parsed] = []
        @exclusivity(unchecked) var currentLine = 0
        /// Longest field accepted; a longer one is almost certainly a runaway quote.
        let maxFieldBytes: Int
        /// (line, 0-based field index) of a field over the cap.
        @exclusivity(unchecked) var oversizedField: (line: Int, index: Int)?
        /// Longest record (all its fields) accepted, and the most fields: together with the field
        /// cap, what one line of an untrusted file can make this process hold.
        let maxRecordBytes: Int
        static let maxFields = 10_000
        @exclusivity(unchecked) var recordBytes = 0
        /// Line of a record over either cap.
        @exclusivity(unchecked) var oversizedRecord: Int?
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
    /// Raw bytes (capped) of the record in progress that came from earlier chunks, for a reject's
    /// raw text; the rest is `chunk[rawStart..<chunkOffset]`. Copied only when the chunk is refilled
    /// under a record: copying every line was 5% of the million-row load's client time.
    private var recordRaw: [UInt8] = []
    private var rawStart = 0
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
            swap(&pending, &state.completed)  // both keep their storage: no array allocated per line
        }
        let parsed = pending[pendingIndex]
        pendingIndex += 1
        defer { recordStartLine = parsed.endLine + 1 }
        return RawRecord(fields: parsed.fields, sourceFile: path, sourceLine: recordStartLine, encoding: parsed.encoding, parseError: parsed.error)
    }

    /// Feeds libcsv the next physical line (or the tail at end of file).
    private func feedLine() throws {
        if chunkOffset >= chunkLength {
            keepRaw(upTo: chunkLength)
            chunkLength = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            chunkOffset = 0
            rawStart = 0
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
                if chunkLength >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { (chunkOffset, rawStart) = (3, 3) }
            }
        }
        var end = chunkOffset
        while end < chunkLength, chunk[end] != 0x0A { end += 1 }
        let endsLine = end < chunkLength
        if endsLine { end += 1 }
        let length = end - chunkOffset
        state.currentLine = line + 1
        let context = Unmanaged.passUnretained(state).toOpaque()
        let completedBefore = state.completed.count
        let parsed = chunk.withUnsafeBytes { buffer in
            csv_parse(parser, buffer.baseAddress! + chunkOffset, length, onField, onRecord, context)
        }
        chunkOffset = end
        if endsLine { line += 1 }
        if parsed != length {
            // Reject this record (its raw text so far) and start afresh on the next line.
            let reason = String(cString: csv_strerror(csv_error(parser)))
            keepRaw(upTo: end)
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
            rawStart = end
            return
        }
        if state.completed.count > completedBefore && state.fields.isEmpty {
            recordRaw.removeAll(keepingCapacity: true)
            rawStart = end
        }
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
    /// Moves the record in progress's bytes of this chunk, up to `end`, into `recordRaw` (capped).
    private func keepRaw(upTo end: Int) {
        if rawStart < end, recordRaw.count < RawRecord.rawCap {
            recordRaw.append(contentsOf: chunk[rawStart..<min(end, rawStart + RawRecord.rawCap - recordRaw.count)])
        }
        rawStart = end
    }

    /// The header name of the n-th field (0-based), or its position when there is no header yet.
    func fieldName(_ index: Int) -> String {
        index < header.count ? header[index] : "#\(index + 1)"
    }
}

/// libcsv field callback: appends the field to the record in progress.
private func onField(_ bytes: UnsafeMutableRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    // The reader holds the state while libcsv calls back: borrowed, not retained and released per field.
    Unmanaged<CSVReader.ParseState>.fromOpaque(context!)._withUnsafeGuaranteedRef { onField(bytes, length, $0) }
}

private func onField(_ bytes: UnsafeMutableRawPointer?, _ length: Int, _ state: CSVReader.ParseState) {
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
    Unmanaged<CSVReader.ParseState>.fromOpaque(context!)._withUnsafeGuaranteedRef { onRecord($0) }
}

private func onRecord(_ state: CSVReader.ParseState) {
    state.completed.append(CSVReader.Parsed(fields: state.fields, encoding: state.encoding, endLine: state.currentLine))
    state.fields.removeAll(keepingCapacity: true)
    state.encoding = .utf8
    state.recordBytes = 0
}
