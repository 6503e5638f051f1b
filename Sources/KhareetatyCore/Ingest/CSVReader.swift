import CLibCSV
import Foundation

/// A record as read from an input: its fields in header order and where it came from.
public struct RawRecord: Sendable {
    public var fields: [String]
    public var sourceFile: String
    /// 1-based physical line where the record starts (the header is line 1).
    public var sourceLine: Int
}

/// An input that cannot be read as the pipeline expects, with the place.
public struct InputError: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var field: String?
    public var problem: String
    public var exitCode: ExitCode { .dataError }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += " (field \(field))" }
        return "\(place): \(problem)"
    }
}

/// Streams records from a CSV file through libcsv (RFC 4180: quoted fields, quoted newlines,
/// doubled quotes, CRLF or LF) without holding the file in memory. Strict: a stray quote or a
/// file that ends inside a quoted field is an `InputError` naming the line.
///
/// Lines are fed to libcsv one at a time so every record knows the line it started on.
public final class CSVReader {
    public let path: String
    public private(set) var header: [String] = []

    private let file: UnsafeMutablePointer<FILE>
    private let parser: UnsafeMutablePointer<csv_parser>
    private let state = ParseState()
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)
    private var chunkLength = 0
    private var chunkOffset = 0
    private var line = 0
    private var finished = false
    private var sawBOMCheck = false

    /// Parsed fields of the record in progress and the records completed by the last feed.
    final class ParseState {
        var fields: [String] = []
        var completed: [(fields: [String], endLine: Int)] = []
        var currentLine = 0
    }

    public init(path: String, delimiter: UInt8 = UInt8(ascii: ",")) throws {
        self.path = path
        guard let file = fopen(path, "rb") else {
            throw InputError(file: path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        self.file = file
        parser = .allocate(capacity: 1)
        guard csv_init(parser, UInt8(CSV_STRICT | CSV_STRICT_FINI)) == 0 else {
            fclose(file); parser.deallocate()
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
        fclose(file)
    }

    private var pending: [(fields: [String], endLine: Int)] = []
    private var pendingIndex = 0
    private var recordStartLine = 1

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
        let (fields, endLine) = pending[pendingIndex]
        pendingIndex += 1
        defer { recordStartLine = endLine + 1 }
        return RawRecord(fields: fields, sourceFile: path, sourceLine: recordStartLine)
    }

    /// Feeds libcsv the next physical line (or the tail at end of file).
    private func feedLine() throws {
        if chunkOffset >= chunkLength {
            chunkLength = fread(&chunk, 1, chunk.count, file)
            chunkOffset = 0
            if chunkLength == 0 {
                if ferror(file) != 0 { throw InputError(file: path, line: line, problem: "read error") }
                finished = true
                state.currentLine = line
                let context = Unmanaged.passUnretained(state).toOpaque()
                if csv_fini(parser, onField, onRecord, context) != 0 {
                    throw InputError(file: path, line: recordStartLine,
                                     problem: "the file ends inside a quoted field that starts on this line (unterminated quote)")
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
        let parsed = chunk.withUnsafeBytes { buffer in
            csv_parse(parser, buffer.baseAddress! + chunkOffset, length, onField, onRecord, context)
        }
        chunkOffset = end
        if endsLine { line += 1 }
        if parsed != length {
            throw InputError(file: path, line: line, problem: "malformed CSV: \(String(cString: csv_strerror(csv_error(parser)))) (a quote inside an unquoted field, or text after a closing quote)")
        }
    }
}

/// libcsv field callback: appends the field to the record in progress.
private func onField(_ bytes: UnsafeMutableRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    let state = Unmanaged<CSVReader.ParseState>.fromOpaque(context!).takeUnretainedValue()
    guard let bytes, length > 0 else { state.fields.append(""); return }
    let buffer = UnsafeRawBufferPointer(start: bytes, count: length)
    state.fields.append(String(decoding: buffer, as: UTF8.self))
}

/// libcsv record callback: the record in progress is complete.
private func onRecord(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    let state = Unmanaged<CSVReader.ParseState>.fromOpaque(context!).takeUnretainedValue()
    state.completed.append((state.fields, state.currentLine))
    state.fields.removeAll(keepingCapacity: true)
}
