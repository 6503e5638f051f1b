import CLibCrypto
import Foundation

/// SHA-256 through the system's libcrypto (OpenSSL's EVP interface). Owns its digest context;
/// nothing of OpenSSL leaves this type. Checked against `sha256sum` by the ingest tests.
public final class SHA256 {
    private let context: OpaquePointer

    public init() {
        // Allocation of a digest context fails only when memory is exhausted.
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto cannot start a SHA-256 digest (out of memory?)")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// The 32-byte digest; the hasher is done after this.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }

    public static func hash(_ data: Data) -> [UInt8] {
        let hasher = SHA256()
        hasher.update(data)
        return hasher.finalize()
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}
