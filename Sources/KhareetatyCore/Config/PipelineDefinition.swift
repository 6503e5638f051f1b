import Foundation

/// A pipeline file (pipelines/*.yaml): what to read, how its columns map to the canonical
/// incident record, and which boundaries to geocode against. Relative paths in it are resolved
/// against the pipeline file's own folder, so a run does not depend on the working directory.
public struct PipelineDefinition: Sendable {
    /// The canonical fields a column mapping may name.
    public enum Field: String, CaseIterable, Sendable {
        case incidentID = "incident_id"
        case occurredAt = "occurred_at"
        case category
        case lat
        case lon
        case areaName = "area_name"
        case description
        case updatedAt = "updated_at"

        var required: Bool { [.incidentID, .occurredAt, .category].contains(self) }
    }

    public struct Boundaries: Sendable {
        public var districtsFile: String
        public var districtCodeProperty: String
        public var districtNameProperty: String
        public var governoratesFile: String?
        public var governorateCodeProperty: String
        public var governorateNameProperty: String
    }

    public var path: String
    public var name: String
    public var timeZone: TimeZone
    public var inputs: [String]
    public var delimiter: UInt8
    /// Canonical field → header name in the export.
    public var columns: [Field: String]
    public var boundaries: Boundaries

    /// Reads and validates a pipeline file; any problem is a `ConfigError` (exit 2) naming the key.
    public static func load(path: String) throws -> PipelineDefinition {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(key: "pipeline", value: path, source: "configuration", problem: "cannot read the pipeline file")
        }
        let doc = try SettingsDocument(file: path, text: text)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : folder.appendingPathComponent(relative).standardizedFileURL.path
        }
        func required(_ key: String) throws -> String {
            guard let (value, _) = try doc.scalar(key), !value.isEmpty else {
                throw ConfigError(key: key, value: nil, source: path, problem: "required key is missing")
            }
            return value
        }
        func optional(_ key: String, default fallback: String) throws -> String {
            try doc.scalar(key)?.value ?? fallback
        }

        let name = try required("name")
        let zoneName = try optional("timezone", default: "Asia/Kuwait")
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw ConfigError(key: "timezone", value: zoneName, source: path, problem: "allowed: an IANA time zone name such as Asia/Kuwait")
        }
        guard let (inputList, inputSource) = doc.list("inputs"), !inputList.isEmpty else {
            throw ConfigError(key: "inputs", value: nil, source: path, problem: "list at least one input file")
        }
        _ = inputSource

        let delimiterText = try optional("csv.delimiter", default: ",")
        let delimiter: UInt8
        switch delimiterText {
        case "\\t", "tab": delimiter = 0x09
        case let d where d.utf8.count == 1 && d != "\"" && d != "\n": delimiter = d.utf8.first!
        default:
            throw ConfigError(key: "csv.delimiter", value: delimiterText, source: path, problem: "allowed: one ASCII character other than a quote or newline, or \\t")
        }

        var columns: [Field: String] = [:]
        for key in doc.keys(under: "columns.") {
            let fieldName = String(key.dropFirst("columns.".count))
            guard let field = Field(rawValue: fieldName) else { continue }  // left for rejectUnknownKeys
            columns[field] = try doc.scalar(key)?.value
        }
        for field in Field.allCases where field.required && columns[field] == nil {
            throw ConfigError(key: "columns.\(field.rawValue)", value: nil, source: path, problem: "required: the export's header name for \(field.rawValue)")
        }

        let governorates = try doc.scalar("boundaries.governorates").map { resolve($0.value) }
        let boundaries = Boundaries(
            districtsFile: resolve(try required("boundaries.districts")),
            districtCodeProperty: try optional("boundaries.district_code", default: "shapeID"),
            districtNameProperty: try optional("boundaries.district_name", default: "shapeName"),
            governoratesFile: governorates,
            governorateCodeProperty: try optional("boundaries.governorate_code", default: "shapeISO"),
            governorateNameProperty: try optional("boundaries.governorate_name", default: "shapeName")
        )

        try doc.rejectUnknownKeys(known: ["name", "timezone", "inputs", "csv.delimiter", "boundaries.districts", "boundaries.district_code",
                                          "boundaries.district_name", "boundaries.governorates", "boundaries.governorate_code",
                                          "boundaries.governorate_name"] + Field.allCases.map { "columns.\($0.rawValue)" })
        return PipelineDefinition(path: path, name: name, timeZone: timeZone, inputs: inputList.map(resolve),
                                  delimiter: delimiter, columns: columns, boundaries: boundaries)
    }
}
