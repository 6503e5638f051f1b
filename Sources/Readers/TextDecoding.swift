/// How to turn a field's bytes into text. UTF-8 always comes first; when a field is not valid
/// UTF-8 and the pipeline declares a legacy encoding (exports from older Arabic Windows systems
/// are often windows-1256), the field is transcoded from it; otherwise the record is rejected.
public enum LegacyEncoding: String, Sendable, CaseIterable {
    case windows1256 = "windows-1256"
    case latin1 = "latin-1"

    /// Decodes bytes that are not UTF-8. Both encodings are single-byte: every byte maps.
    func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            let value: UInt32
            switch self {
            case .latin1: value = UInt32(byte)
            case .windows1256: value = byte < 0x80 ? UInt32(byte) : UInt32(Self.cp1256High[Int(byte) - 0x80])
            }
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }

    /// Windows-1256 (Arabic), bytes 0x80–0xFF → Unicode, per the Unicode consortium's mapping
    /// table CP1256.TXT (the test compares all 128 against Python's codec).
    static let cp1256High: [UInt16] = [
        0x20AC, 0x067E, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0679, 0x2039, 0x0152, 0x0686, 0x0698, 0x0688,
        0x06AF, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x06A9, 0x2122, 0x0691, 0x203A, 0x0153, 0x200C, 0x200D, 0x06BA,
        0x00A0, 0x060C, 0x00A2, 0x00A3, 0x00A4, 0x00A5, 0x00A6, 0x00A7, 0x00A8, 0x00A9, 0x06BE, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF,
        0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7, 0x00B8, 0x00B9, 0x061B, 0x00BB, 0x00BC, 0x00BD, 0x00BE, 0x061F,
        0x06C1, 0x0621, 0x0622, 0x0623, 0x0624, 0x0625, 0x0626, 0x0627, 0x0628, 0x0629, 0x062A, 0x062B, 0x062C, 0x062D, 0x062E, 0x062F,
        0x0630, 0x0631, 0x0632, 0x0633, 0x0634, 0x0635, 0x0636, 0x00D7, 0x0637, 0x0638, 0x0639, 0x063A, 0x0640, 0x0641, 0x0642, 0x0643,
        0x00E0, 0x0644, 0x00E2, 0x0645, 0x0646, 0x0647, 0x0648, 0x00E7, 0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x0649, 0x064A, 0x00EE, 0x00EF,
        0x064B, 0x064C, 0x064D, 0x064E, 0x00F4, 0x064F, 0x0650, 0x00F7, 0x0651, 0x00F9, 0x0652, 0x00FB, 0x00FC, 0x200E, 0x200F, 0x06D2,
    ]
}

/// The outcome of decoding one record's fields.
public enum RecordEncoding: Sendable, Equatable {
    case utf8
    /// At least one field was not UTF-8 and was transcoded from the declared legacy encoding.
    case transcoded(LegacyEncoding)
    /// At least one field was not UTF-8 and no legacy encoding was declared: invalid bytes were
    /// replaced by U+FFFD for the reject's raw text; the record must be rejected.
    case invalid
}

struct FieldDecoder {
    let legacy: LegacyEncoding?

    /// Decodes a field; `encoding` is downgraded when the field needed transcoding or was invalid.
    func decode(_ bytes: UnsafeRawBufferPointer, encoding: inout RecordEncoding) -> String {
        // ASCII needs no validation; `String(validating:)` is generic and looked up its type
        // metadata on every call (4% of the million-row load's client time).
        if Self.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        if let legacy {
            if encoding == .utf8 { encoding = .transcoded(legacy) }
            return legacy.decode(bytes)
        }
        encoding = .invalid
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether every byte is below 0x80, eight bytes at a time.
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        var any: UInt64 = 0
        while i + 8 <= n {
            any |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n { any |= UInt64(bytes[i]); i += 1 }
        return any & 0x8080_8080_8080_8080 == 0
    }
}
