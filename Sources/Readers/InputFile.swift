import CZlib
import Foundation

/// An input file read as a byte stream; gzip-compressed files (.gz, or any file starting with the
/// gzip magic) are decompressed transparently by zlib, which passes plain files through unchanged.
/// Owns its `gzFile`; closed on deinit.
public final class InputFile {
    let path: String
    private let handle: gzFile

    init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, problem: "no such file")
        }
        guard !isDirectory.boolValue else { throw InputError(file: path, problem: "is a directory, not a file") }
        guard let handle = gzopen(path, "rb") else {
            throw InputError(file: path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        gzbuffer(handle, 1 << 17)
        self.handle = handle
    }

    deinit { gzclose(handle) }

    /// Reads up to `buffer.count` decompressed bytes; 0 at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = gzread(handle, buffer.baseAddress, UInt32(buffer.count))
        // A truncated gzip stream reads as a short file: zlib reports it only through gzerror.
        var code: Int32 = Z_OK
        let message = gzerror(handle, &code).map { String(cString: $0) } ?? "read error"
        if count < 0 || (code != Z_OK && code != Z_STREAM_END) {
            throw InputError(file: path, problem: "cannot read: \(message.isEmpty ? "error \(code)" : message) (truncated or corrupt gzip file?)")
        }
        return Int(count)
    }

    /// Bytes of the file on disk consumed so far (compressed bytes for gzip), for progress.
    var offset: Int { Int(gzoffset(handle)) }

    /// SHA-256 (hex) and size of the file as stored on disk (compressed bytes for .gz): the
    /// identity under which the ledger records an input.
    public static func fingerprint(path: String) throws -> (sha256: String, bytes: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputUnavailable(file: path, problem: errno == ENOENT ? "not found" : "cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        let hasher = SHA256()
        var bytes = 0
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            bytes += chunk.count
            hasher.update(chunk)
        }
        let digest = hasher.finalize().hex
        return (digest, bytes)
    }
}
