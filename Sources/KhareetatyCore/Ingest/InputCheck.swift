import Foundation
import Readers

/// An input whose bytes changed between the run's first fingerprint and the end of its reading
/// (still being written or replaced): the run rolls back and the file stays for the next run.
public struct InputChanged: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var file: String
    public var before: (sha256: String, bytes: Int)
    public var after: (sha256: String, bytes: Int)
    public var exitCode: ExitCode { .temporaryFailure }
    public var description: String {
        "\(file): the file changed while it was read (\(before.bytes) bytes, SHA-256 \(before.sha256.prefix(12))… when the run started; "
            + "\(after.bytes) bytes, \(after.sha256.prefix(12))… after reading): nothing was committed; it is loaded by the next run "
            + "(write exports to another name and rename them into place, or let inbox.settle_seconds pass)"
    }
}

enum InputCheck {
    /// The inputs, each once (by real path, so `a.csv` and `./x/../a.csv` are one file), each an
    /// existing regular file that can be opened. Throws the first that is not.
    static func regularFiles(_ paths: [String]) throws -> [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                let reason = errno == ENOENT ? "not found" : "cannot be read: \(String(cString: strerror(errno)))"
                throw InputUnavailable(file: path, problem: reason)
            }
            guard info.st_mode & S_IFMT == S_IFREG else {
                let kind = switch info.st_mode & S_IFMT {
                case S_IFIFO: "a named pipe"
                case S_IFDIR: "a directory"
                case S_IFSOCK: "a socket"
                case S_IFCHR, S_IFBLK: "a device"
                default: "not a regular file"
                }
                throw InputUnavailable(file: path, problem: "is \(kind), not a regular file: inputs must be files (a stream cannot be fingerprinted before it is read); write it to a file first")
            }
            guard access(path, R_OK) == 0 else {
                throw InputUnavailable(file: path, problem: "cannot be read: \(String(cString: strerror(errno)))")
            }
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
            if seen.insert(real).inserted { result.append(path) }
        }
        return result
    }
}

// The readers' errors, as the process ends with them.
extension InputError: ExitCodeProviding {
    public var exitCode: ExitCode { .dataError }
}

extension InputUnavailable: ExitCodeProviding {
    public var exitCode: ExitCode { .noInput }
}

extension XMLFeedReader {
    /// An incident feed: the pipeline's canonical fields, as attributes or child elements.
    public convenience init(path: String, maxFieldBytes: Int = 1 << 20) throws {
        try self.init(path: path, fields: PipelineDefinition.Field.allCases.map(\.rawValue), maxFieldBytes: maxFieldBytes)
    }
}
