import Foundation
import Logging

/// JSON-lines log handler (one object per line), for cron, systemd, log shippers and the log file.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (Data) -> Void

    /// Writes to stderr, or to `write` (e.g. a `RotatingLogFile`).
    public init(label: String, write: @escaping @Sendable (Data) -> Void = { FileHandle.standardError.write($0) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": ISO8601DateFormatter().string(from: Date()),
            "level": event.level.rawValue,
            "msg": event.message.description,
            "logger": label,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = Self.json(value) }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(0x0A)
        write(data)
    }
}

extension JSONLogHandler {
    /// A metadata value as JSON: numbers and booleans as themselves (a log shipper can sum and
    /// compare them), text as text, lists and dictionaries nested.
    static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible):
            switch convertible {
            case let n as Int: return n
            case let n as Int32: return Int(n)
            case let n as Int64: return n
            case let n as Double where n.isFinite: return n
            case let b as Bool: return b
            default: return convertible.description
            }
        case .array(let values): return values.map(json)
        case .dictionary(let values): return values.mapValues(json)
        }
    }
}

/// A log file rotated by size: when the next line would take it past `maxBytes`, FILE becomes
/// FILE.1, FILE.1 becomes FILE.2, … and the oldest beyond `keep` is removed — the logrotate
/// scheme an operator expects. Lines are never split across files. Thread-safe; if the file
/// cannot be written, lines go to stderr instead (a log must not fail a run).
public final class RotatingLogFile: @unchecked Sendable {
    public let path: String
    public let maxBytes: Int
    public let keep: Int
    private let lock = NSLock()
    private var handle: FileHandle?
    private var size = 0

    public init(path: String, maxBytes: Int, keep: Int) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
    }

    deinit { try? handle?.close() }

    public func write(_ line: Data) {
        lock.lock()
        defer { lock.unlock() }
        if handle == nil { open() }
        if size > 0 && size + line.count > maxBytes { rotate() }
        guard let handle else { FileHandle.standardError.write(line); return }
        handle.write(line)
        size += line.count
    }

    private func open() {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640])
        }
        handle = FileHandle(forWritingAtPath: path)
        size = Int((try? handle?.seekToEnd()) ?? 0)
    }

    private func rotate() {
        try? handle?.close()
        handle = nil
        let fm = FileManager.default
        try? fm.removeItem(atPath: "\(path).\(keep)")
        for n in stride(from: keep - 1, through: 1, by: -1) where fm.fileExists(atPath: "\(path).\(n)") {
            try? fm.moveItem(atPath: "\(path).\(n)", toPath: "\(path).\(n + 1)")
        }
        try? fm.moveItem(atPath: path, toPath: "\(path).1")
        open()
    }
}

public enum LogSetup {
    /// Whether `bootstrap` ran (the settings loaded): then the last, fatal line is logged like the others.
    nonisolated(unsafe) public private(set) static var isBootstrapped = false

    /// Chooses the backend once, at start-up: text on a terminal, JSON lines otherwise (or as
    /// configured), on stderr — stdout carries only results (summaries, `config show`). With
    /// `log.file`, every line goes to that file as JSON, rotated by size, and stderr gets only
    /// errors: cron mails what reaches stderr, and a good night should send no mail.
    public static func bootstrap(_ settings: Settings) {
        isBootstrapped = true
        let json: Bool
        switch settings.logFormat {
        case .json: json = true
        case .text: json = false
        case .auto: json = isatty(STDERR_FILENO) == 0
        }
        let level = Logger.Level(rawValue: settings.logLevel.rawValue) ?? .info
        let file = settings.logFile.isEmpty ? nil : RotatingLogFile(path: settings.logFile, maxBytes: settings.logFileMaxBytes, keep: settings.logFileKeep)
        LoggingSystem.bootstrap { label in
            var console: LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            console.logLevel = file == nil ? level : max(level, .error)
            guard let file else { return console }
            var toFile = JSONLogHandler(label: label, write: { file.write($0) })
            toFile.logLevel = level
            return MultiplexLogHandler([console, toFile])
        }
    }
}
