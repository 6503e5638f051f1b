import Foundation

/// Streams an XML incident feed (never a DOM of the whole file):
///
///     <incidents>
///       <incident incident_id="KW-1" occurred_at="2026-11-24T21:15:00+03:00" category="theft">
///         <lat>29.33</lat><lon>48.07</lon>
///         <area_name>السالمية</area_name>
///         <description>…</description>
///       </incident>
///     </incidents>
///
/// Each field of `fields` (the pipeline's canonical fields) may be an attribute or a child element;
/// other attributes and elements are ignored. The feed is untrusted: see `XMLStream`.
public final class XMLFeedReader: RecordSource {
    public let path: String
    /// The field names looked for, as attributes or child elements (the pipeline's canonical fields).
    public let header: [String]

    private let stream: XMLStream
    private var sawRoot = false
    private let fieldIndex: [String: Int]
    private let maxFieldBytes: Int

    public init(path: String, fields: [String], maxFieldBytes: Int = 1 << 20) throws {
        self.path = path
        header = fields
        self.maxFieldBytes = maxFieldBytes
        stream = try XMLStream(path: path)
        fieldIndex = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
    }

    public var bytesConsumed: Int { stream.offset }

    public func nextRecord() throws -> RawRecord? {
        while let node = try stream.next() {
            guard case .element(let name, let isEmpty, let depth) = node else { continue }
            if depth == 0 {
                guard name == "incidents" else { throw stream.fail("the root element is <\(name)>, expected <incidents>") }
                sawRoot = true
                continue
            }
            guard depth == 1, name == "incident" else { continue }
            return try readIncident(isEmpty: isEmpty)
        }
        if !sawRoot { throw stream.fail("no <incidents> root element (empty or not an incident feed)") }
        return nil
    }

    /// Reads the current `<incident>` element: attributes, then child elements' text.
    private func readIncident(isEmpty: Bool) throws -> RawRecord {
        let line = stream.line
        var fields = [String](repeating: "", count: header.count)
        for (name, value) in stream.attributes() {
            if let index = fieldIndex[name] { fields[index] = try capped(value, line: line) }
        }
        if isEmpty { return RawRecord(fields: fields, sourceFile: path, sourceLine: line) }

        var current: Int?
        var text = ""
        while let node = try stream.next() {
            switch node {
            case .element(let name, let isEmpty, let depth) where depth == 2:
                current = isEmpty ? nil : fieldIndex[name]
                text = ""
            case .text(let value):
                if current != nil { text += value; _ = try capped(text, line: line) }
            case .endElement(_, let depth) where depth == 2:
                if let index = current { fields[index] = text }
                current = nil
            case .endElement(_, let depth) where depth == 1:
                return RawRecord(fields: fields, sourceFile: path, sourceLine: line)
            default: break
            }
        }
        throw stream.fail("the document ends inside the <incident> that starts on line \(line)")
    }

    private func capped(_ text: String, line: Int) throws -> String {
        guard text.utf8.count <= maxFieldBytes else { throw stream.fail("a field is longer than \(maxFieldBytes) bytes", line: line) }
        return text
    }
}
