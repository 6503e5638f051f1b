import CLibXML2
import Foundation

/// Streams an XML incident feed through libxml2's xmlTextReader (never a DOM of the whole file):
///
///     <incidents>
///       <incident incident_id="KW-1" occurred_at="2026-11-24T21:15:00+03:00" category="theft">
///         <lat>29.33</lat><lon>48.07</lon>
///         <area_name>السالمية</area_name>
///         <description>…</description>
///       </incident>
///     </incidents>
///
/// Each canonical field (`PipelineDefinition.Field`) may be an attribute or a child element;
/// other attributes and elements are ignored. The feed is untrusted: no network, no DTD (a
/// document with a DOCTYPE is refused before anything is expanded, which stops external entities
/// and "billion laughs"), no entity references.
public final class XMLFeedReader: RecordSource {
    public let path: String
    public let header: [String] = PipelineDefinition.Field.allCases.map(\.rawValue)

    private let file: InputFile
    private let reader: xmlTextReaderPtr
    private let errors = ErrorSink()
    private var sawRoot = false
    private let fieldIndex: [String: Int]
    private let maxFieldBytes: Int

    final class ErrorSink {
        var message: String?
        var line: Int?
    }

    public init(path: String, maxFieldBytes: Int = 1 << 20) throws {
        self.path = path
        self.maxFieldBytes = maxFieldBytes
        file = try InputFile(path: path)
        fieldIndex = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        let context = Unmanaged.passUnretained(file).toOpaque()
        // Deliberately not XML_PARSE_NOENT (substitute entities) nor XML_PARSE_DTDLOAD.
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue)
        guard let reader = xmlReaderForIO(readCallback, nil, context, path, nil, options) else {
            throw InputError(file: path, problem: "cannot start the XML reader")
        }
        self.reader = reader
        xmlTextReaderSetStructuredErrorHandler(reader, errorCallback, Unmanaged.passUnretained(errors).toOpaque())
    }

    deinit { xmlFreeTextReader(reader) }

    private func fail(_ problem: String, line: Int? = nil) -> InputError {
        InputError(file: path, line: line ?? nodeLine, problem: problem)
    }

    /// The line of the current node (the parser itself may have read ahead of it).
    private var nodeLine: Int {
        if let node = xmlTextReaderCurrentNode(reader) {
            let line = Int(xmlGetLineNo(node))
            if line > 0 { return line }
        }
        return Int(xmlTextReaderGetParserLineNumber(reader))
    }

    /// Advances one node; false at the end of the document.
    private func read() throws -> Bool {
        let status = xmlTextReaderRead(reader)
        if status < 0 || errors.message != nil {
            let message = errors.message ?? "parse error"
            if message.lowercased().contains("entit") {
                throw fail("refused: entity expansion is not allowed in incident feeds (\(message))", line: errors.line)
            }
            throw fail("malformed XML: \(message)", line: errors.line)
        }
        return status == 1
    }

    private var nodeType: Int32 { xmlTextReaderNodeType(reader) }
    private var depth: Int32 { xmlTextReaderDepth(reader) }
    private var name: String { xmlTextReaderConstName(reader).map { String(cString: $0) } ?? "" }
    private var value: String { xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? "" }

    private func refuseUnsafeNodes() throws {
        switch nodeType {
        case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
            throw fail("the document has a DOCTYPE: DTDs and entity declarations are not allowed in incident feeds")
        case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue), Int32(XML_READER_TYPE_ENTITY.rawValue):
            throw fail("entity references are not allowed in incident feeds")
        default: break
        }
    }

    public func nextRecord() throws -> RawRecord? {
        while try read() {
            try refuseUnsafeNodes()
            guard nodeType == Int32(XML_READER_TYPE_ELEMENT.rawValue) else { continue }
            if depth == 0 {
                guard name == "incidents" else { throw fail("the root element is <\(name)>, expected <incidents>") }
                sawRoot = true
                continue
            }
            guard depth == 1, name == "incident" else { continue }
            return try readIncident()
        }
        if !sawRoot { throw fail("no <incidents> root element (empty or not an incident feed)") }
        return nil
    }

    /// Reads the current `<incident>` element: attributes, then child elements' text.
    private func readIncident() throws -> RawRecord {
        let line = nodeLine
        var fields = [String](repeating: "", count: header.count)
        let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            if let index = fieldIndex[name] { fields[index] = try capped(value, line: line) }
        }
        xmlTextReaderMoveToElement(reader)
        if isEmpty { return RawRecord(fields: fields, sourceFile: path, sourceLine: line) }

        var current: Int?
        var text = ""
        while try read() {
            try refuseUnsafeNodes()
            switch Int32(nodeType) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue) where depth == 2:
                current = fieldIndex[name]
                text = ""
                if xmlTextReaderIsEmptyElement(reader) == 1, let index = current { fields[index] = ""; current = nil }
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                if current != nil { text += value; _ = try capped(text, line: line) }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue) where depth == 2:
                if let index = current { fields[index] = text }
                current = nil
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue) where depth == 1:
                return RawRecord(fields: fields, sourceFile: path, sourceLine: line)
            default: break
            }
        }
        throw fail("the document ends inside the <incident> that starts on line \(line)")
    }

    private func capped(_ text: String, line: Int) throws -> String {
        guard text.utf8.count <= maxFieldBytes else { throw fail("a field is longer than \(maxFieldBytes) bytes", line: line) }
        return text
    }
}

/// libxml2 pulls bytes through this: from the (possibly gzip-compressed) input file.
private func readCallback(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    let file = Unmanaged<InputFile>.fromOpaque(context!).takeUnretainedValue()
    guard let buffer, length > 0 else { return 0 }
    do {
        return Int32(try file.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(length))))
    } catch {
        return -1
    }
}

/// Keeps the first error libxml2 reports (message and line) for the `InputError`.
private func errorCallback(_ context: UnsafeMutableRawPointer?, _ error: UnsafeMutablePointer<xmlError>?) {
    guard let context, let error else { return }
    let sink = Unmanaged<XMLFeedReader.ErrorSink>.fromOpaque(context).takeUnretainedValue()
    guard sink.message == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    var message = error.pointee.message.map { String(cString: $0) } ?? "XML error"
    while message.last?.isWhitespace == true { message.removeLast() }
    sink.message = message
    sink.line = Int(error.pointee.line)
}
