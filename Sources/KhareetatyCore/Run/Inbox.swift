import Foundation
import Logging

/// The directory exports arrive in, and where they go afterwards. Files are moved only after the
/// run's commit (to the archive) or after its rollback (the file that could not be read, to the
/// quarantine); a move that fails leaves the file where it is, to be retried by the next run —
/// files are never deleted. The inbox is untrusted: symbolic links and anything that is not a
/// regular file directly inside it are refused.
public struct Inbox: Sendable {
    public let directory: String
    public let archive: String?
    public let quarantine: String?

    static let extensions = [".csv", ".csv.gz", ".xml", ".xml.gz"]

    public init?(settings: Settings) {
        guard !settings.inboxDir.isEmpty else { return nil }
        directory = settings.inboxDir
        archive = settings.archiveDir.isEmpty ? nil : settings.archiveDir
        quarantine = settings.quarantineDir.isEmpty ? nil : settings.quarantineDir
    }

    /// The input files waiting in the inbox, by name.
    public func files(logger: Logger) throws -> [String] {
        for (key, dir) in [("inbox.dir", directory), ("inbox.archive_dir", archive), ("inbox.quarantine_dir", quarantine)] {
            guard let dir else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigError(key: key, value: dir, source: "configuration", problem: "not an existing directory")
            }
        }
        let base = URL(fileURLWithPath: directory).standardizedFileURL
        var inputs: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: base.path).sorted() where !name.hasPrefix(".") {
            let url = base.appendingPathComponent(name)
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                logger.warning("inbox: ignoring something that is not a regular file (symlinks are refused)", metadata: ["file": .string(url.path)])
                continue
            }
            guard Self.extensions.contains(where: { name.lowercased().hasSuffix($0) }) else {
                logger.warning("inbox: ignoring a file that is not .csv, .xml or their .gz", metadata: ["file": .string(url.path)])
                continue
            }
            inputs.append(url.path)
        }
        return inputs
    }

    public func contains(_ path: String) -> Bool {
        URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path == URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    /// After the commit: loaded (or already-loaded) files leave the inbox for the archive.
    public func archive(_ paths: [String], logger: Logger) {
        guard let archive else { return }
        for path in paths where contains(path) { move(path, to: archive, logger: logger) }
    }

    /// After a rollback: the file that could not be read leaves the inbox for the quarantine.
    public func quarantine(_ path: String, logger: Logger) {
        guard let quarantine, contains(path) else { return }
        move(path, to: quarantine, logger: logger)
    }

    private func move(_ path: String, to directory: String, logger: Logger) {
        let name = URL(fileURLWithPath: path).lastPathComponent
        var target = URL(fileURLWithPath: directory).appendingPathComponent(name)
        var n = 1
        while FileManager.default.fileExists(atPath: target.path) {  // never overwrite an earlier copy
            target = URL(fileURLWithPath: directory).appendingPathComponent("\(name).\(n)")
            n += 1
        }
        do {
            try FileManager.default.moveItem(atPath: path, toPath: target.path)
            logger.info("moved input", metadata: ["file": .string(path), "to": .string(target.path)])
        } catch {
            logger.error("could not move input; it stays where it is and the next run retries", metadata: [
                "file": .string(path), "to": .string(target.path), "error": .string("\(error)"),
            ])
        }
    }
}
