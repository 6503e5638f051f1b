import CStrptime

/// One C `strptime` format, prepared once: the C library reads the text (unpadded fields, any
/// literal, `%z` as `Z`, `±hh`, `±hhmm` or `±hh:mm`); the caller checks what it does not (that the
/// day exists in its month). Seconds are optional where the format ends in `:%S`.
public final class StrptimeFormat: Sendable {
    /// The fields a text gave; `day` is nil when the format has none (a month-only date), and
    /// `offsetSeconds` nil when it has no `%z`.
    public struct Fields: Equatable, Sendable {
        public var year: Int, month: Int, day: Int?
        public var hour: Int, minute: Int, second: Int
        public var offsetSeconds: Int?
    }

    public let format: String
    private let withoutSeconds: String?
    private let hasDay: Bool
    private let hasOffset: Bool
    /// Bytes other than whitespace and directives that a matching text must contain: a cheap
    /// test that skips the C call for texts of another shape (an epoch number against `%d/%m/%Y`).
    private let literals: [UInt8]

    /// The directives that give a day of the month (`%d`, `%e`, and `%D`/`%F`, which include one):
    /// a format without any reads month-only dates.
    public static let dayDirectives: Set<Character> = ["d", "e", "D", "F"]

    /// The directive letters of a format (`%Y/%m` → Y, m).
    public static func directives(in format: String) -> [Character] {
        var used: [Character] = [], percent = false
        for c in format {
            if percent { used.append(c); percent = false } else if c == "%" { percent = true }
        }
        return used
    }

    public init(_ format: String) {
        self.format = format
        withoutSeconds = format.hasSuffix(":%S") ? String(format.dropLast(3)) : nil
        let used = Set(Self.directives(in: format))
        hasDay = !used.isDisjoint(with: Self.dayDirectives)
        hasOffset = used.contains("z")
        var literals: Set<UInt8> = [], percent = false
        for byte in format.utf8 {
            if percent { percent = false; continue }
            if byte == UInt8(ascii: "%") { percent = true; continue }
            if byte != 0x20, byte != 0x09 { literals.insert(byte) }
        }
        self.literals = Array(literals)
    }

    /// The fields of `text`, or nil when the whole text does not match.
    public func parse(_ text: Substring) -> Fields? {
        let bytes = text.utf8
        for literal in literals where !bytes.contains(literal) { return nil }
        if let fields = parse(text, with: format) { return fields }
        if let withoutSeconds { return parse(text, with: withoutSeconds) }
        return nil
    }

    private func parse(_ text: Substring, with format: String) -> Fields? {
        var t = tm()
        let complete: Bool = String(text).withCString { start in
            guard let end = khareetaty_strptime(start, format, &t) else { return false }
            return end.pointee == 0
        }
        guard complete else { return nil }
        return Fields(year: Int(t.tm_year) + 1900, month: Int(t.tm_mon) + 1, day: hasDay ? Int(t.tm_mday) : nil,
                      hour: Int(t.tm_hour), minute: Int(t.tm_min), second: Int(t.tm_sec),
                      offsetSeconds: hasOffset ? Int(t.tm_gmtoff) : nil)
    }
}
