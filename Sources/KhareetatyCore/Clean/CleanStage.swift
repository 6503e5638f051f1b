/// Clean: turns raw records into canonical incidents or rejects with a reason. Never drops a
/// record: every input record leaves this stage as exactly one of the two.
public struct CleanStage: Stage {
    public struct Output: Sendable {
        public var incidents: [Incident] = []
        public var rejects: [Reject] = []
    }

    /// Kuwait's extent with a margin, so islands count (Bubiyan, Failaka, Kubbar…).
    static let latRange = 28.5...30.15
    static let lonRange = 46.5...48.7
    static let rawCap = 4096

    private let indexes: [PipelineDefinition.Field: Int]
    private let columnCount: Int
    private let timestamps: TimestampParser

    /// Fails if the export's header lacks a mapped column (a configuration/data mismatch).
    public init(pipeline: PipelineDefinition, header: [String], file: String) throws {
        var indexes: [PipelineDefinition.Field: Int] = [:]
        for (field, column) in pipeline.columns {
            guard let index = header.firstIndex(of: column) else {
                throw InputError(file: file, line: 1, field: column,
                                 problem: "the header has no column \"\(column)\" (mapped to \(field.rawValue) in \(pipeline.path)); header: \(header.joined(separator: ", "))")
            }
            indexes[field] = index
        }
        self.indexes = indexes
        columnCount = header.count
        timestamps = TimestampParser(timeZone: pipeline.timeZone)
    }

    public mutating func process(_ batch: [RawRecord]) throws -> Output {
        var output = Output()
        output.incidents.reserveCapacity(batch.count)
        for record in batch {
            switch clean(record) {
            case .success(let incident): output.incidents.append(incident)
            case .failure(let reject): output.rejects.append(reject)
            }
        }
        return output
    }

    func clean(_ record: RawRecord) -> Result<Incident, Reject> {
        func reject(_ reason: RejectReason, _ message: String) -> Result<Incident, Reject> {
            var raw = record.fields.joined(separator: ",")
            if raw.utf8.count > Self.rawCap { raw = String(decoding: raw.utf8.prefix(Self.rawCap), as: UTF8.self) + "…" }
            return .failure(Reject(sourceFile: record.sourceFile, sourceLine: record.sourceLine, reason: reason, message: message, raw: raw))
        }
        guard record.fields.count == columnCount else {
            return reject(.wrongFieldCount, "\(record.fields.count) fields, the header has \(columnCount)")
        }
        func value(_ field: PipelineDefinition.Field) -> Substring? {
            guard let index = indexes[field] else { return nil }
            let text = record.fields[index].trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : Substring(text)
        }

        guard let id = value(.incidentID) else { return reject(.missingID, "field incident_id is empty") }
        guard let occurredText = value(.occurredAt) else { return reject(.badTimestamp, "field occurred_at is empty") }
        guard let occurredAt = timestamps.parse(occurredText) else {
            return reject(.badTimestamp, "field occurred_at: \"\(occurredText)\" is not a timestamp like 2026-11-24T21:15:00+03:00")
        }
        guard let category = value(.category) else { return reject(.missingCategory, "field category is empty") }

        var lat: Double?, lon: Double?
        if let latText = value(.lat), let lonText = value(.lon) {
            guard let la = Double(latText), let lo = Double(lonText), la.isFinite, lo.isFinite else {
                return reject(.badCoordinates, "fields lat/lon: \"\(latText)\", \"\(lonText)\" are not numbers")
            }
            if la == 0 && lo == 0 {
                // (0,0) is an export's way of saying "no GPS": leave the point empty.
            } else if Self.latRange.contains(la) && Self.lonRange.contains(lo) {
                lat = la; lon = lo
            } else {
                return reject(.badCoordinates, "fields lat/lon: (\(la), \(lo)) is outside Kuwait")
            }
        }
        let updatedAt = value(.updatedAt).flatMap { timestamps.parse($0) }

        return .success(Incident(
            incidentID: String(id), occurredAt: occurredAt, localDay: timestamps.localDay(of: occurredAt),
            category: category.lowercased().replacingOccurrences(of: " ", with: "_"),
            lat: lat, lon: lon, areaName: value(.areaName).map(String.init), description: value(.description).map(String.init),
            updatedAt: updatedAt, sourceFile: record.sourceFile, sourceLine: record.sourceLine))
    }
}

extension Reject: Error {}
