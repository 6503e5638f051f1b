import Foundation
import Readers
import Logging

/// The directory exports arrive in, and where they go afterwards. Files are moved only after the
/// run's commit (to the archive) or after its rollback (the file that could not be read, to the
/// quarantine); a move that fails leaves the file where it is, to be retried by the next run —
/// files are never deleted. The inbox is untrusted: symbolic links and anything that is not a
/// regular file directly inside it are refused. A file is taken once it has not changed for
/// `inbox.settle_seconds`, and moved to the archive only while it is still the file the run read.
public struct Inbox: Sendable {
    public let directory: String
    public let archive: String?
    public let quarantine: String?
    /// A file is taken only when its last change is at least this old (seconds).
    public let settleSeconds: Int

    static let extensions = [".csv", ".csv.gz", ".xml", ".xml.gz"]

    public init?(settings: Settings) {
        guard !settings.inboxDir.isEmpty else { return nil }
        directory = settings.inboxDir
        archive = settings.archiveDir.isEmpty ? nil : settings.archiveDir
        quarantine = settings.quarantineDir.isEmpty ? nil : settings.quarantineDir
        settleSeconds = settings.inboxSettleSeconds
    }

    /// The input files waiting in the inbox, by name: regular files with an input extension whose
    /// last change is at least `settleSeconds` old (a file still being written is left for the
    /// next run). Names are read as bytes: a name that is not UTF-8 cannot be an input, and goes to
    /// the quarantine under a readable name (its bad bytes as %XX), so no run trips on it again.
    public func files(logger: Logger, now: Date = Date()) throws -> [String] {
        for (key, dir) in [("inbox.dir", directory), ("inbox.archive_dir", archive), ("inbox.quarantine_dir", quarantine)] {
            guard let dir else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigError(key: key, value: dir, source: "configuration", problem: "not an existing directory")
            }
        }
        let base = URL(fileURLWithPath: directory).standardizedFileURL.path
        var inputs: [String] = []
        for rawName in try Self.names(in: base) where rawName.first != UInt8(ascii: ".") {
            guard let name = String(validating: rawName, as: UTF8.self) else {
                quarantineUnreadableName(rawName, in: base, logger: logger)
                continue
            }
            let path = base + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }  // gone since it was listed
            guard info.st_mode & S_IFMT == S_IFREG else {
                logger.warning("inbox: ignoring something that is not a regular file (symlinks are refused)", metadata: ["file": .string(path)])
                continue
            }
            guard Self.extensions.contains(where: { name.lowercased().hasSuffix($0) }) else {
                logger.warning("inbox: ignoring a file that is not .csv, .xml or their .gz", metadata: ["file": .string(path)])
                continue
            }
            let age = now.timeIntervalSince1970 - Double(info.st_mtim.tv_sec)
            guard age >= Double(settleSeconds) else {
                logger.notice("inbox: leaving a file changed \(Int(max(age, 0))) s ago for the next run (still being written?)", metadata: [
                    "file": .string(path), "settle_seconds": .stringConvertible(settleSeconds),
                ])
                continue
            }
            inputs.append(path)
        }
        return inputs
    }

    /// The raw names (bytes) of a directory's entries, sorted bytewise, without `.` and `..`.
    static func names(in directory: String) throws -> [[UInt8]] {
        guard let dir = opendir(directory) else {
            throw ConfigError(key: "inbox.dir", value: directory, source: "configuration", problem: "cannot be listed: \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// A name with every byte outside printable ASCII as %XX: readable, and unique for unique names.
    static func escaped(_ name: [UInt8]) -> String {
        name.map { $0 >= 0x21 && $0 < 0x7F && $0 != 0x25 ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
    }

    private func quarantineUnreadableName(_ rawName: [UInt8], in base: String, logger: Logger) {
        let shown = base + "/" + Self.escaped(rawName)
        guard let quarantine else {
            logger.warning("inbox: ignoring a file whose name is not UTF-8 (configure inbox.quarantine_dir to move it away)", metadata: ["file": .string(shown)])
            return
        }
        let target = Self.freeTarget(Self.escaped(rawName), in: quarantine)
        let source = Array(base.utf8) + [0x2F] + rawName + [0]
        let moved = source.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: CChar.self) { rename($0.baseAddress!, target) == 0 }
        }
        if moved {
            logger.warning("inbox: a file whose name is not UTF-8 was moved to the quarantine", metadata: ["file": .string(shown), "to": .string(target)])
        } else {
            logger.error("inbox: cannot move a file whose name is not UTF-8; it is ignored", metadata: [
                "file": .string(shown), "error": .string(String(cString: strerror(errno))),
            ])
        }
    }

    public func contains(_ path: String) -> Bool {
        URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path == URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    /// After the commit: loaded (or already-loaded) files leave the inbox for the archive, each
    /// only if it is still the file the run fingerprinted (same size and SHA-256): a file written
    /// to again since stays, and the next run loads what it holds now.
    public func archive(_ inputs: [(path: String, sha256: String, bytes: Int)], logger: Logger) {
        guard let archive else { return }
        for input in inputs where contains(input.path) {
            guard let now = try? InputFile.fingerprint(path: input.path), now.sha256 == input.sha256, now.bytes == input.bytes else {
                logger.warning("inbox: the file changed after the run read it; it stays in the inbox for the next run", metadata: [
                    "file": .string(input.path), "bytes_loaded": .stringConvertible(input.bytes),
                ])
                continue
            }
            move(input.path, to: archive, logger: logger)
        }
    }

    /// After a rollback: the file that could not be read leaves the inbox for the quarantine.
    public func quarantine(_ path: String, logger: Logger) {
        guard let quarantine, contains(path) else { return }
        move(path, to: quarantine, logger: logger)
    }

    /// `directory/name`, or `name.1`, `name.2`, … when taken: a move never overwrites an earlier copy.
    static func freeTarget(_ name: String, in directory: String) -> String {
        let base = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        var target = base, n = 1
        while FileManager.default.fileExists(atPath: target) {
            target = "\(base).\(n)"
            n += 1
        }
        return target
    }

    private func move(_ path: String, to directory: String, logger: Logger) {
        let target = Self.freeTarget(URL(fileURLWithPath: path).lastPathComponent, in: directory)
        do {
            try FileManager.default.moveItem(atPath: path, toPath: target)
            logger.info("moved input", metadata: ["file": .string(path), "to": .string(target)])
        } catch {
            logger.error("could not move input; it stays where it is and the next run retries", metadata: [
                "file": .string(path), "to": .string(target), "error": .string("\(error)"),
            ])
        }
    }
}
