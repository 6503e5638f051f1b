import Foundation
import Readers
import Spatial

/// Clean: turns raw records into canonical incidents or rejects with a reason, by the pipeline's
/// clean rules. Never drops a record: every input record leaves as exactly one of the two.
public struct CleanStage: Stage {
    /// Longest incident id kept, in UTF-8 bytes: the id is a primary key, and a btree entry over
    /// ~2.7 kB fails the whole COPY; no export's real ids come near this.
    static let maxIDBytes = 256
    /// Instants a timestamp may name: years 0001–9999. Beyond them day numbers leave Int32 and
    /// microseconds leave Int64 (PostgreSQL's binary timestamptz), so the value is rejected here.
    static let representable: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// Column index of each canonical field, by `slot(_:)`; -1 when the pipeline does not map it.
    /// (An array, not a dictionary keyed by the field: hashing the field's String raw value on
    /// every lookup was 7% of the clean stage.)
    private let slots: [Int]
    /// Category text as exported → canonical code (nil: unknown). Exports repeat a handful of
    /// spellings millions of times; normalising each one once is enough.
    private let categoryCodes = CategoryCodeCache()
    private let identity: IdentityRule
    private let idHashIndexes: [Int]
    /// Column index of the time-of-day column joined to occurred_at's date; -1: none.
    private let occurredTimeIndex: Int
    private let columnCount: Int
    private let timestamps: TimestampParser
    private let rules: CleanRules
    /// Latest acceptable instant: the run's start plus the future tolerance.
    private let latestAllowed: Int64
    /// The file's name, for ids made from the record's place (`dedup: none`).
    private let fileName: String
    /// Projected coordinates to WGS 84 (`coordinates.crs`), nil for degrees.
    private let projection: CRSTransform?
    /// Canonical field → the header name used for it in this file (of its aliases, the first present).
    public let chosenColumns: [String: String]

    /// Fails if the export's header lacks a mapped column (a configuration/data mismatch). The
    /// message never quotes the header: a file without one has a data row there, and the error
    /// lands in the ledger, which the reader role can read. `rulesSource` names where the mapping
    /// comes from (the pipeline file), for the message.
    public init(mapping: ColumnMapping, rules: CleanRules, timeZone: TimeZone,
                header: [String], file: String, rulesSource: String, now: Date = Date()) throws {
        func index(of names: [String], for purpose: String) throws -> (Int, String) {
            for name in names { if let index = header.firstIndex(of: name) { return (index, name) } }
            let listed = names.map { "\"\($0)\"" }.joined(separator: " or ")
            throw InputError(file: file, line: 1, field: names.first ?? "",
                             problem: "the header (\(header.count) columns) has no column \(listed) (\(purpose) in \(rulesSource))")
        }
        var indexes: [CanonicalField: Int] = [:], chosen: [String: String] = [:]
        for (field, names) in mapping.fields {
            let (i, name) = try index(of: names, for: "mapped to \(field.rawValue)")
            indexes[field] = i
            chosen[field.rawValue] = name
        }
        if !mapping.occurredTime.isEmpty {
            let (i, name) = try index(of: mapping.occurredTime, for: "the time of occurred_at")
            occurredTimeIndex = i
            chosen["occurred_at.time"] = name
        } else {
            occurredTimeIndex = -1
        }
        slots = CanonicalField.allCases.map { indexes[$0] ?? -1 }
        identity = mapping.identity
        idHashIndexes = try mapping.identity.hashColumns.map { try index(of: [$0], for: "listed in \(mapping.identity.key)").0 }
        chosenColumns = chosen
        columnCount = header.count
        self.rules = rules
        timestamps = TimestampParser(timeZone: timeZone, formats: rules.timestampFormats)
        latestAllowed = Int64(now.timeIntervalSince1970) + rules.futureToleranceSeconds
        fileName = (file as NSString).lastPathComponent
        projection = try rules.coordinatesCRS.map { try CRSTransform(from: $0) }
    }

    public mutating func process(_ batch: [RawRecord]) throws -> IncidentBatch {
        var output = IncidentBatch()
        output.incidents.reserveCapacity(batch.count)
        for i in batch.indices {  // not `for record in batch`: that copies (retains) every field
            switch clean(batch[i]) {
            case .success(let incident): output.incidents.append(incident)
            case .failure(let reject): output.rejects.append(reject)
            }
        }
        return output
    }

    func clean(_ record: RawRecord) -> Result<Incident, Reject> {
        func reject(_ reason: RejectReason, _ message: String) -> Result<Incident, Reject> {
            var raw = record.fields.joined(separator: ",")
            if raw.utf8.count > RawRecord.rawCap { raw = String(decoding: raw.utf8.prefix(RawRecord.rawCap), as: UTF8.self) + "…" }
            return .failure(Reject(sourceFile: record.sourceFile, sourceLine: record.sourceLine, reason: reason, message: message, raw: raw))
        }
        if let parseError = record.parseError { return reject(.malformedRecord, parseError) }
        guard record.fields.count == columnCount else {
            return reject(.wrongFieldCount, "\(record.fields.count) fields, the header has \(columnCount)")
        }
        if record.encoding == .invalid {
            return reject(.invalidEncoding, "the record is not valid UTF-8 and the pipeline declares no legacy encoding")
        }
        @inline(__always) func value(_ field: CanonicalField) -> String? {
            let index = slots[Self.slot(field)]
            guard index >= 0 else { return nil }
            let text = Self.normalizedText(record.fields[index])
            return text.isEmpty ? nil : text
        }
        var flags: [IncidentFlag] = []
        if case .transcoded = record.encoding { flags.append(.transcoded) }

        let id: String
        func hashedID() -> String {
            // Unit separator between values, so ("ab","c") and ("a","bc") differ.
            let key = idHashIndexes.map { Self.normalizedText(record.fields[$0]) }.joined(separator: "\u{1F}")
            return "h" + SHA256.hash(Data(key.utf8)).prefix(16).hex
        }
        switch identity {
        case .column, .columnElseHash:
            if let given = value(.incidentID) {
                guard given.utf8.count <= Self.maxIDBytes else {
                    return reject(.idTooLong, "field incident_id is \(given.utf8.count) bytes long; at most \(Self.maxIDBytes) are allowed")
                }
                id = given
            } else if case .columnElseHash = identity {
                id = hashedID()
            } else {
                return reject(.missingID, "field incident_id is empty")
            }
        case .hash:
            id = hashedID()
        case .record:
            let place = "\(fileName)#\(record.sourceLine)"
            id = place.utf8.count <= Self.maxIDBytes ? place : "r" + SHA256.hash(Data(place.utf8)).prefix(16).hex
        }

        guard let occurredText = value(.occurredAt) else { return reject(.badTimestamp, "field occurred_at is empty") }
        let occurredAt: Int64, precision: TimePrecision
        if occurredTimeIndex >= 0 {
            // The date from its column, the time of day from another.
            guard let day = timestamps.parseDay(Substring(occurredText)) else {
                return reject(.badTimestamp, "field occurred_at: \"\(occurredText)\" is not a date in any of the formats \(describe(rules.timestampFormats))")
            }
            let timeText = Self.normalizedText(record.fields[occurredTimeIndex])
            guard let seconds = timeText.isEmpty ? 0 : TimestampParser.secondsOfDay(Substring(timeText)) else {
                return reject(.badTimestamp, "field occurred_at (time): \"\(timeText)\" is not a time of day (H, HH, HHMM, H:MM or H:MM:SS, optional AM/PM)")
            }
            if timeText.isEmpty { flags.append(.noTimeOfDay) }
            (occurredAt, precision) = (timestamps.instant(day: day, secondsOfDay: seconds), .day)
        } else {
            guard let parsed = timestamps.parseWithPrecision(Substring(occurredText)) else {
                return reject(.badTimestamp, "field occurred_at: \"\(occurredText)\" matches none of the formats \(describe(rules.timestampFormats))")
            }
            (occurredAt, precision) = parsed
        }
        guard Self.representable.contains(occurredAt) else {
            return reject(.timestampOutOfRange, "field occurred_at: \(occurredText) is outside the years 0001–9999")
        }
        let localDay = timestamps.localDay(of: occurredAt)
        if Int(localDay) < rules.earliestDay {
            return reject(.timestampOutOfRange, "field occurred_at: \(occurredText) is before \(CivilDate.isoDate(days: rules.earliestDay))")
        }
        if occurredAt > latestAllowed {
            return reject(.timestampOutOfRange, "field occurred_at: \(occurredText) is in the future")
        }
        var updatedAt: Int64?
        if let updatedText = value(.updatedAt) {
            guard let parsed = timestamps.parse(Substring(updatedText)) else {
                return reject(.badTimestamp, "field updated_at: \"\(updatedText)\" matches none of the formats \(describe(rules.timestampFormats))")
            }
            guard Self.representable.contains(parsed) else {
                return reject(.timestampOutOfRange, "field updated_at: \(updatedText) is outside the years 0001–9999")
            }
            updatedAt = parsed
        }

        guard let categoryText = value(.category) else { return reject(.missingCategory, "field category is empty") }
        let category: String
        // `all` is reserved for the daily totals; an export category spelled so is not that code.
        if let code = categoryCodes.code(for: categoryText, in: rules.categories), code != "all" {
            category = code
        } else if rules.unknownCategory == .reject {
            return reject(.unknownCategory, "field category: \"\(categoryText)\" is not in the category mapping")
        } else {
            category = "other"
            flags.append(.unknownCategory)
        }

        var lat: Double?, lon: Double?
        let latText = value(.lat), lonText = value(.lon)
        if latText != nil || lonText != nil {
            guard let latText, let lonText, let la = Double(latText), let lo = Double(lonText), la.isFinite, lo.isFinite else {
                return reject(.badCoordinates, "fields lat/lon: \"\(latText ?? "")\", \"\(lonText ?? "")\" are not two numbers")
            }
            if la == 0 && lo == 0 {
                // (0,0) is an export's way of saying "no GPS": no point; the area name may place it.
            } else if let projection {
                guard let point = projection.toWGS84(x: lo, y: la) else {
                    return reject(.badCoordinates, "fields lon/lat (x, y in \(projection.source)): (\(lo), \(la)) cannot be taken to WGS 84")
                }
                guard rules.latRange.contains(point.lat) && rules.lonRange.contains(point.lon) else {
                    return reject(.badCoordinates, "fields lon/lat (x, y in \(projection.source)): (\(lo), \(la)) is (\(point.lat), \(point.lon)) in degrees, outside the bounding box lat \(rules.latRange), lon \(rules.lonRange)")
                }
                lat = point.lat; lon = point.lon
            } else if rules.latRange.contains(la) && rules.lonRange.contains(lo) {
                lat = la; lon = lo
            } else if rules.latRange.contains(lo) && rules.lonRange.contains(la) {
                lat = lo; lon = la
                flags.append(.swappedCoordinates)
            } else {
                return reject(.badCoordinates, "fields lat/lon: (\(la), \(lo)) is outside the bounding box lat \(rules.latRange), lon \(rules.lonRange)")
            }
        }

        var incident = Incident(
            incidentID: id, occurredAt: occurredAt, localDay: localDay, category: category,
            lat: lat, lon: lon, areaName: value(.areaName), areaCode: value(.areaCode), description: value(.description),
            updatedAt: updatedAt, sourceFile: record.sourceFile, sourceLine: record.sourceLine)
        incident.precision = precision
        incident.flags = flags
        return .success(incident)
    }

    /// The position of `field` in `Field.allCases` (and `slots`).
    private static func slot(_ field: CanonicalField) -> Int {
        switch field {
        case .incidentID: 0
        case .occurredAt: 1
        case .category: 2
        case .lat: 3
        case .lon: 4
        case .areaName: 5
        case .areaCode: 6
        case .description: 7
        case .updatedAt: 8
        }
    }

    private func describe(_ formats: [TimestampFormat]) -> String {
        formats.map(\.name).joined(separator: ", ")
    }

    /// Trimmed, control characters (C0, DEL, C1: tabs, newlines, NUL…) replaced by a space so
    /// words do not run together, Unicode NFC. ASCII without controls takes a fast path.
    static func normalizedText(_ text: String) -> String {
        // Most fields: printable ASCII, nothing to trim. Checked on the bytes in place.
        let printable = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard let first = bytes.first, let last = bytes.last, first != 0x20, last != 0x20 else { return false }
            var outside = false
            for byte in bytes { outside = outside || byte < 0x20 || byte >= 0x7F }
            return !outside
        }
        if printable == true { return text }
        var isASCII = true, hasControl = false
        for byte in text.utf8 {
            if byte >= 0x80 { isASCII = false } else if byte < 0x20 || byte == 0x7F { hasControl = true }
        }
        var result = text
        if hasControl || !isASCII {
            var scalars = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                scalars.append(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? " " : scalar)
            }
            result = String(scalars)
            if !isASCII { result = result.precomposedStringWithCanonicalMapping }
        }
        return trimmingWhitespace(result)
    }

    /// `text` without leading and trailing whitespace as Foundation's `CharacterSet.whitespaces`
    /// defines it (tab, the Unicode space separators Zs, and the zero-width space U+200B, which
    /// was Zs until Unicode 4.0.1), in plain Swift: Foundation's version bridges through NSString
    /// and was a third of the clean stage's time. Tested against Foundation's.
    static func trimmingWhitespace(_ text: String) -> String {
        // Most fields start and end with a visible ASCII character: nothing to trim, no scalar walk.
        let utf8 = text.utf8
        if let first = utf8.first, let last = utf8.last, (0x21..<0x80).contains(first), (0x21..<0x80).contains(last) { return text }
        func isSpace(_ u: Unicode.Scalar) -> Bool {
            u == " " || u == "\t" || (u.value >= 0x80 && (u.value == 0x200B || u.properties.generalCategory == .spaceSeparator))
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(scalars[first...last])
    }
}

extension Reject: Error {}

/// Memo of `CategoryMap.code(for:)` for one stage, bounded so a column of free text cannot grow it.
final class CategoryCodeCache {
    private var codes: [String: String?] = [:]
    private static let limit = 4096

    func code(for text: String, in map: CategoryMap) -> String? {
        if let known = codes[text] { return known }
        let code = map.code(for: text)
        if codes.count < Self.limit { codes[text] = code }
        return code
    }
}
