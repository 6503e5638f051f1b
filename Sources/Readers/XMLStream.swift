import CLibXML2
import Foundation

/// The one place that drives libxml2's streaming reader (xmlTextReader) over an untrusted file:
/// bytes come through `InputFile` (so .gz works), there is no network, no DTD and no entity
/// substitution; a document with a DOCTYPE or an entity reference is refused before anything is
/// expanded (external entities, "billion laughs"). Owns the reader; nothing of libxml2 leaks out.
final class XMLStream {
    let path: String
    private let source: Source
    private let reader: xmlTextReaderPtr
    private let errors = ErrorSink()

    /// What libxml2 reads through: the file, and the limits every byte passes on its way.
    final class Source {
        let file: InputFile
        var limits = MarkupLimits()
        init(file: InputFile) { self.file = file }
    }

    final class ErrorSink {
        var message: String?
        var line: Int?
    }

    enum Node {
        case element(name: String, isEmpty: Bool, depth: Int)
        case endElement(name: String, depth: Int)
        case text(String)
        case other
    }

    init(path: String) throws {
        self.path = path
        source = Source(file: try InputFile(path: path))
        let context = Unmanaged.passUnretained(source).toOpaque()
        // Deliberately not XML_PARSE_NOENT (substitute entities) nor XML_PARSE_DTDLOAD.
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue)
        guard let reader = xmlReaderForIO(readCallback, nil, context, path, nil, options) else {
            throw InputError(file: path, problem: "cannot start the XML reader")
        }
        self.reader = reader
        xmlTextReaderSetStructuredErrorHandler(reader, errorCallback, Unmanaged.passUnretained(errors).toOpaque())
    }

    deinit { xmlFreeTextReader(reader) }

    /// Bytes of the file consumed so far (for progress).
    var offset: Int { source.file.offset }

    func fail(_ problem: String, line: Int? = nil) -> InputError {
        InputError(file: path, line: line ?? self.line, problem: problem)
    }

    /// The line of the current node (the parser itself may have read ahead of it).
    var line: Int {
        if let node = xmlTextReaderCurrentNode(reader) {
            let line = Int(xmlGetLineNo(node))
            if line > 0 { return line }
        }
        return Int(xmlTextReaderGetParserLineNumber(reader))
    }

    /// The next node, or nil at the end of the document.
    func next() throws -> Node? {
        let status = xmlTextReaderRead(reader)
        if let violation = source.limits.violation {
            throw fail("refused: \(violation.problem)", line: violation.line)
        }
        if status < 0 || errors.message != nil {
            let message = errors.message ?? "parse error"
            if message.lowercased().contains("entit") {
                throw fail("refused: entity expansion is not allowed (\(message))", line: errors.line)
            }
            throw fail("malformed XML: \(message)", line: errors.line)
        }
        guard status == 1 else { return nil }
        let type = xmlTextReaderNodeType(reader)
        switch type {
        case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
            throw fail("the document has a DOCTYPE: DTDs and entity declarations are not allowed")
        case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue), Int32(XML_READER_TYPE_ENTITY.rawValue):
            throw fail("entity references are not allowed")
        case Int32(XML_READER_TYPE_ELEMENT.rawValue):
            return .element(name: localName, isEmpty: xmlTextReaderIsEmptyElement(reader) == 1, depth: Int(xmlTextReaderDepth(reader)))
        case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
            return .endElement(name: localName, depth: Int(xmlTextReaderDepth(reader)))
        case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue), Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
            return .text(xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? "")
        default:
            return .other
        }
    }

    /// The current element's attributes (call right after `next()` returned an element).
    func attributes() -> [String: String] {
        var result: [String: String] = [:]
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            result[localName] = xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? ""
        }
        xmlTextReaderMoveToElement(reader)
        return result
    }

    /// Name without its namespace prefix (`kml:Placemark` → `Placemark`).
    private var localName: String {
        xmlTextReaderConstLocalName(reader).map { String(cString: $0) } ?? ""
    }
}

/// libxml2 pulls bytes through this: from the (possibly gzip-compressed) input file, past the limits.
private func readCallback(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    let source = Unmanaged<XMLStream.Source>.fromOpaque(context!).takeUnretainedValue()
    guard let buffer, length > 0 else { return 0 }
    do {
        let count = try source.file.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(length)))
        return source.limits.scan(UnsafeRawBufferPointer(start: buffer, count: count)) ? Int32(count) : -1
    } catch {
        return -1
    }
}

/// Keeps the first error libxml2 reports (message and line).
private func errorCallback(_ context: UnsafeMutableRawPointer?, _ error: UnsafeMutablePointer<xmlError>?) {
    guard let context, let error else { return }
    let sink = Unmanaged<XMLStream.ErrorSink>.fromOpaque(context).takeUnretainedValue()
    guard sink.message == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    var message = error.pointee.message.map { String(cString: $0) } ?? "XML error"
    while message.last?.isWhitespace == true { message.removeLast() }
    sink.message = message
    sink.line = Int(error.pointee.line)
}
