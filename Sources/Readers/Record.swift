import Foundation

/// A record as read from an input: its fields in header order and where it came from.
public struct RawRecord: Sendable {
    public var fields: [String]
    public var sourceFile: String
    /// 1-based physical line where the record starts (the header is line 1 of a CSV file).
    public var sourceLine: Int
    /// The raw text kept of a record (for a reject, and of a record libcsv could not parse).
    public static let rawCap = 4096
    /// Whether the bytes were UTF-8, transcoded from a legacy encoding, or invalid.
    public var encoding: RecordEncoding = .utf8
    /// Set when the record could not be parsed (e.g. text after a closing quote); `fields` then
    /// holds the record's raw text, for the reject.
    public var parseError: String?

    public init(fields: [String], sourceFile: String, sourceLine: Int, encoding: RecordEncoding = .utf8, parseError: String? = nil) {
        self.fields = fields
        self.sourceFile = sourceFile
        self.sourceLine = sourceLine
        self.encoding = encoding
        self.parseError = parseError
    }
}

/// Ingest: a streaming source of raw records with a header (CSV files, XML feeds).
public protocol RecordSource: AnyObject {
    var path: String { get }
    /// Field names, in the order of every record's `fields`.
    var header: [String] { get }
    /// The next record, or nil at the end of the input.
    func nextRecord() throws -> RawRecord?
    /// Bytes of the file on disk consumed so far (compressed bytes for gzip), for progress.
    var bytesConsumed: Int { get }
}

/// An input that cannot be read as the pipeline expects, with the place.
public struct InputError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var field: String?
    public var problem: String

    public init(file: String, line: Int? = nil, field: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += " (field \(field))" }
        return "\(place): \(problem)"
    }
}

/// An input that cannot be read as a file at all: missing, unreadable, or a pipe, socket or device
/// (a stream cannot be hashed before it is read, nor read again to prove it did not change).
public struct InputUnavailable: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var problem: String
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem)" }
}
