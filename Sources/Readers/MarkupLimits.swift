/// Caps what one XML tag may hold before libxml2 sees it: libxml2's duplicate-attribute check is
/// quadratic in the attributes of a start tag (40,000 attributes took 49 s, holding the schema
/// lock), and nothing else in the parser bounds a tag. A byte-level scanner over the stream as it
/// is fed to the parser (so it costs one pass and no memory): it knows start tags, quoted values,
/// comments, CDATA sections, processing instructions and declarations, and counts the lines.
struct MarkupLimits {
    /// Attributes one start tag may have; an incident element has a dozen.
    var maxAttributes = 1_000
    /// Bytes one start tag may have, attribute values included (as a CSV record: 4 MB).
    var maxTagBytes = 4 << 20

    private enum State { case text, lt, tag, quoted(UInt8), bang, dash, cdataOpen(Int), comment, cdata, instruction, declaration }
    private static let cdataOpen = Array("[CDATA[".utf8)
    private var state = State.text
    /// The last two bytes, for the ends of comments (`-->`), CDATA (`]]>`) and instructions (`?>`).
    private var previous: (UInt8, UInt8) = (0, 0)
    private var tagBytes = 0, attributes = 0
    private var line = 1, tagLine = 1

    /// The first limit the bytes break, with the line its tag starts on.
    private(set) var violation: (line: Int, problem: String)?

    /// Scans the next bytes of the document; false once a limit is broken.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard violation == nil else { return false }
        for byte in bytes {
            if byte == 0x0A { line += 1 }
            switch state {
            case .text:
                if byte == 0x3C { state = .lt }  // <
            case .lt:
                switch byte {
                case 0x21: state = .bang  // <!
                case 0x3F: state = .instruction  // <?
                case 0x2F: state = .declaration  // </…> ends at the next '>' like a declaration
                default:
                    state = .tag
                    tagBytes = 2
                    attributes = 0
                    tagLine = line
                }
            case .tag:
                tagBytes += 1
                if byte == 0x22 || byte == 0x27 {  // a quoted value: one attribute
                    attributes += 1
                    state = .quoted(byte)
                } else if byte == 0x3E {
                    state = .text
                }
            case .quoted(let quote):
                tagBytes += 1
                if byte == quote { state = .tag }
            case .bang:  // after "<!": "--" opens a comment, "[CDATA[" a CDATA section, else a declaration
                state = byte == 0x2D ? .dash : byte == 0x5B ? .cdataOpen(1) : byte == 0x3E ? .text : .declaration
            case .dash:
                state = byte == 0x2D ? .comment : .declaration
                previous = (0, 0)
            case .cdataOpen(let matched):
                if byte == Self.cdataOpen[matched] {
                    state = matched + 1 == Self.cdataOpen.count ? .cdata : .cdataOpen(matched + 1)
                    previous = (0, 0)
                } else {
                    state = byte == 0x3E ? .text : .declaration
                }
            case .comment:
                if byte == 0x3E, previous == (0x2D, 0x2D) { state = .text }
            case .cdata:
                if byte == 0x3E, previous == (0x5D, 0x5D) { state = .text }
            case .instruction:
                if byte == 0x3E, previous.1 == 0x3F { state = .text }
            case .declaration:
                if byte == 0x3E { state = .text }
            }
            previous = (previous.1, byte)
            if case .tag = state, attributes > maxAttributes {
                violation = (tagLine, "a start tag has more than \(maxAttributes) attributes")
            } else if tagBytes > maxTagBytes, isInTag {
                violation = (tagLine, "a start tag is longer than \(maxTagBytes) bytes")
            }
            if violation != nil { return false }
        }
        return true
    }

    private var isInTag: Bool {
        switch state {
        case .tag, .quoted: true
        default: false
        }
    }
}
