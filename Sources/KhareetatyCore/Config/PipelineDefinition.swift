import Foundation
import Readers
import Geo
import Spatial

/// A pipeline file (pipelines/*.yaml): what to read, how its columns map to the canonical
/// incident record, and which boundaries to geocode against. Relative paths in it are resolved
/// against the pipeline file's own folder, so a run does not depend on the working directory.
public struct PipelineDefinition: Sendable {
    /// The canonical fields a column mapping may name.
    /// The incident fields a pipeline maps export columns to (defined with the incident).
    public typealias Field = CanonicalField

    public struct Boundaries: Sendable {
        public var districtsFile: String
        public var districtCodeProperty: String
        public var districtNameProperty: String
        public var governoratesFile: String?
        public var governorateCodeProperty: String
        public var governorateNameProperty: String
        /// Area-name gazetteer file (aliases); nil: the boundary file's names only.
        public var aliasesFile: String?
        /// Points inside no area snap to the nearest one within this distance (0 turns it off).
        public var nearestMetres: Double = 250
        /// The CRS of the GeoJSON boundary files' positions (`EPSG:2263`); nil: WGS 84 degrees.
        public var crs: String?
        /// The property holding the code an export's `area_code` column uses; nil: the district code.
        public var areaCodeProperty: String?
    }

    public enum Format: String, Sendable, CaseIterable {
        /// By file name: `.xml` / `.xml.gz` are XML feeds, everything else CSV.
        case auto, csv, xml

        func resolved(for path: String) -> Format {
            guard self == .auto else { return self }
            let lower = path.lowercased()
            return lower.hasSuffix(".xml") || lower.hasSuffix(".xml.gz") ? .xml : .csv
        }
    }

    public var path: String
    public var name: String
    public var timeZone: TimeZone
    public var inputs: [String]
    public var format: Format
    public var delimiter: UInt8
    /// Tried when a field is not valid UTF-8; nil: such records are rejected.
    public var legacyEncoding: LegacyEncoding?
    /// How a CSV export's columns map to the canonical fields, and how ids are made (XML feeds
    /// use the canonical names).
    public var mapping: ColumnMapping

    /// The mapping for one input: the pipeline's for CSV, the canonical names for XML (with the
    /// pipeline's id rule where it needs no columns).
    func mapping(for input: String) -> ColumnMapping {
        guard format.resolved(for: input) == .xml else { return mapping }
        var canonical = ColumnMapping.canonical
        if mapping.identity == .record { canonical.identity = .record }
        return canonical
    }
    public var boundaries: Boundaries
    public var clean: CleanRules
    /// The `aggregate:` section.
    public var aggregate = AggregateSettings()
    /// The `report:` section: how the morning report presents itself.
    public var report = ReportSettings()

    /// Files the pipeline's behaviour depends on besides its inputs (for the effective hash).
    public var ruleFiles: [String] = []

    /// SHA-256 over the pipeline file and every rule file it names (boundaries, categories,
    /// aliases), recorded on each run: the same hash means the same rules.
    public func effectiveSHA256() throws -> String {
        let hasher = SHA256()
        for file in [path] + ruleFiles {
            let (digest, _) = try InputFile.fingerprint(path: file)
            hasher.update(Data((file as NSString).lastPathComponent.utf8))
            hasher.update(Data(digest.utf8))
        }
        return hasher.finalize().hex
    }

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
        // Optional: files can also come from the command line or the configured inbox.
        let inputList = doc.list("inputs")?.values ?? []

        let delimiterText = try optional("csv.delimiter", default: ",")
        let delimiter: UInt8
        switch delimiterText {
        case "\\t", "tab": delimiter = 0x09
        case let d where d.utf8.count == 1 && d != "\"" && d != "\n": delimiter = d.utf8.first!
        default:
            throw ConfigError(key: "csv.delimiter", value: delimiterText, source: path, problem: "allowed: one ASCII character other than a quote or newline, or \\t")
        }

        let formatText = try optional("format", default: "auto")
        guard let format = Format(rawValue: formatText) else {
            throw ConfigError(key: "format", value: formatText, source: path, problem: "allowed: " + Format.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let encodingText = try optional("encoding", default: "utf-8")
        let legacyEncoding: LegacyEncoding?
        if encodingText.lowercased() == "utf-8" { legacyEncoding = nil } else {
            guard let legacy = LegacyEncoding(rawValue: encodingText.lowercased()) else {
                throw ConfigError(key: "encoding", value: encodingText, source: path,
                                  problem: "allowed: utf-8, " + LegacyEncoding.allCases.map(\.rawValue).joined(separator: ", ") + " (the fallback for fields that are not UTF-8)")
            }
            legacyEncoding = legacy
        }

        let mapping = try Self.columnMapping(doc, path: path)
        // XML feeds use the canonical names; a column mapping is needed as soon as one input is CSV.
        if inputList.map(resolve).contains(where: { format.resolved(for: $0) == .csv }) {
            for field in Field.allCases where field.required && mapping.fields[field] == nil
                && !(field == .incidentID && mapping.identity != .column) {
                throw ConfigError(key: "columns.\(field.rawValue)", value: nil, source: path, problem: "required: the export's header name for \(field.rawValue)")
            }
        }
        var clean = try Self.cleanRules(doc, resolve: resolve)
        clean.coordinatesCRS = try Self.crs(doc, "coordinates.crs")

        let governorates = try doc.scalar("boundaries.governorates").map { resolve($0.value) }
        let boundaries = Boundaries(
            districtsFile: resolve(try required("boundaries.districts")),
            districtCodeProperty: try optional("boundaries.district_code", default: "shapeID"),
            districtNameProperty: try optional("boundaries.district_name", default: "shapeName"),
            governoratesFile: governorates,
            governorateCodeProperty: try optional("boundaries.governorate_code", default: "shapeISO"),
            governorateNameProperty: try optional("boundaries.governorate_name", default: "shapeName"),
            aliasesFile: try doc.scalar("geocode.aliases").map { resolve($0.value) },
            nearestMetres: try {
                guard let (text, source) = try doc.scalar("geocode.nearest_metres") else { return 250 }
                guard let metres = Double(text), (0...5000).contains(metres) else {
                    throw ConfigError(key: "geocode.nearest_metres", value: text, source: source, problem: "allowed: metres from 0 (off) to 5000")
                }
                return metres
            }(),
            crs: try Self.crs(doc, "boundaries.crs"),
            areaCodeProperty: try doc.scalar("boundaries.area_code").map(\.value)
        )

        var aggregate = AggregateSettings()
        if let (text, source) = try doc.scalar("aggregate.trend_weeks") {
            guard let weeks = Int(text), (4...104).contains(weeks) else {
                throw ConfigError(key: "aggregate.trend_weeks", value: text, source: source, problem: "allowed: whole weeks from 4 to 104")
            }
            aggregate.trendWeeks = weeks
        }
        if let (text, source) = try doc.scalar("aggregate.alpha") {
            guard let alpha = Double(text), alpha > 0, alpha < 0.5 else {
                throw ConfigError(key: "aggregate.alpha", value: text, source: source, problem: "allowed: a significance level between 0 and 0.5, e.g. 0.05")
            }
            aggregate.alpha = alpha
        }
        try Self.hotspotSettings(doc, into: &aggregate)
        if let (values, source) = doc.list("aggregate.hotspot_windows") {
            let windows = values.compactMap(Int.init).filter { (1...366).contains($0) }
            guard windows.count == values.count, !windows.isEmpty else {
                throw ConfigError(key: "aggregate.hotspot_windows", value: values.joined(separator: ", "), source: source, problem: "allowed: a list of days from 1 to 366")
            }
            aggregate.hotspotWindows = Array(Set(windows)).sorted()
        }
        if let (values, source) = doc.list("aggregate.tables") {
            let tables = values.compactMap(AggregateSettings.Table.init(rawValue:))
            guard tables.count == values.count else {
                throw ConfigError(key: "aggregate.tables", value: values.joined(separator: ", "), source: source,
                                  problem: "allowed: a list of " + AggregateSettings.Table.allCases.map(\.rawValue).joined(separator: ", ") + " (or [] for daily counts only)")
            }
            aggregate.tables = Set(tables)
        }
        if let (text, source) = try doc.scalar("aggregate.backfill_grids") {
            guard let cadence = AggregateSettings.BackfillGrids(rawValue: text) else {
                throw ConfigError(key: "aggregate.backfill_grids", value: text, source: source,
                                  problem: "allowed: " + AggregateSettings.BackfillGrids.allCases.map(\.rawValue).joined(separator: ", "))
            }
            aggregate.backfillGrids = cadence
        }
        if let (text, source) = try doc.scalar("aggregate.fdr") {
            guard let fdr = Bool(text) else { throw ConfigError(key: "aggregate.fdr", value: text, source: source, problem: "allowed: true, false") }
            aggregate.fdr = fdr
        }
        let report = try ReportSettings.load(doc)
        try doc.rejectUnknownKeys(known: ["name", "timezone", "inputs", "format", "encoding", "csv.delimiter", "id_hash", "id_hash_fallback", "dedup",
                                          "columns.occurred_at.date", "columns.occurred_at.time",
                                          "boundaries.districts", "boundaries.district_code",
                                          "boundaries.district_name", "boundaries.governorates", "boundaries.governorate_code", "boundaries.crs", "boundaries.area_code", "coordinates.crs",
                                          "boundaries.governorate_name", "geocode.aliases", "geocode.nearest_metres", "aggregate.trend_weeks",
                                          "aggregate.alpha", "aggregate.hotspot_windows", "aggregate.fdr", "aggregate.tables", "aggregate.backfill_grids"] + Self.hotspotKeys + ReportSettings.keys + Field.allCases.map { "columns.\($0.rawValue)" } + Self.cleanKeys)
        var definition = PipelineDefinition(path: path, name: name, timeZone: timeZone, inputs: inputList.map(resolve), format: format,
                                            delimiter: delimiter, legacyEncoding: legacyEncoding, mapping: mapping,
                                            boundaries: boundaries, clean: clean)
        definition.aggregate = aggregate
        definition.report = report
        definition.ruleFiles = [boundaries.districtsFile, boundaries.governoratesFile, boundaries.aliasesFile,
                                try doc.scalar("clean.categories").map { resolve($0.value) }].compactMap { $0 }
        return definition
    }

    /// `columns:` (each field a header name or a list of them, the first present wins;
    /// `occurred_at` may be `{date: …, time: …}`), `id_hash`, `id_hash_fallback` and `dedup`.
    private static func columnMapping(_ doc: SettingsDocument, path: String) throws -> ColumnMapping {
        func names(_ key: String) throws -> [String]? {
            guard let (values, source) = doc.list(key) else { return nil }
            let names = values.map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.isEmpty, !names.contains(where: \.isEmpty), Set(names).count == names.count else {
                throw ConfigError(key: key, value: values.joined(separator: ", "), source: source,
                                  problem: "allowed: a header name, or a list of header names without blanks or repeats (the first present in a file wins)")
            }
            return names
        }
        var fields: [Field: [String]] = [:]
        for field in Field.allCases {
            if let list = try names("columns.\(field.rawValue)") { fields[field] = list }
        }
        var occurredTime: [String] = []
        if let date = try names("columns.occurred_at.date") {
            guard fields[.occurredAt] == nil else {
                throw ConfigError(key: "columns.occurred_at", value: nil, source: path, problem: "give either a column (or list) or {date: …, time: …}, not both")
            }
            fields[.occurredAt] = date
            guard let time = try names("columns.occurred_at.time") else {
                throw ConfigError(key: "columns.occurred_at.time", value: nil, source: path, problem: "required with columns.occurred_at.date: the time (or hour) column")
            }
            occurredTime = time
        } else if doc.list("columns.occurred_at.time") != nil {
            throw ConfigError(key: "columns.occurred_at.date", value: nil, source: path, problem: "required with columns.occurred_at.time: the date column")
        }

        let hash = try names("id_hash"), fallback = try names("id_hash_fallback")
        let dedup = try doc.scalar("dedup")
        var identity = IdentityRule.column
        if let (text, source) = dedup {
            guard text == "none" || text == "latest" else {
                throw ConfigError(key: "dedup", value: text, source: source,
                                  problem: "allowed: latest (records sharing an id are one incident, the latest wins), none (every record is its own incident)")
            }
            if text == "none" {
                guard fields[.incidentID] == nil, hash == nil, fallback == nil else {
                    throw ConfigError(key: "dedup", value: text, source: source,
                                      problem: "dedup: none makes every record its own incident (its id is file#line): remove columns.incident_id, id_hash and id_hash_fallback")
                }
                identity = .record
            }
        }
        if let hash {
            guard fields[.incidentID] == nil, fallback == nil else {
                throw ConfigError(key: "id_hash", value: hash.joined(separator: ", "), source: path,
                                  problem: "give one of columns.incident_id, id_hash or id_hash_fallback (with columns.incident_id)")
            }
            identity = .hash(hash)
        }
        if let fallback {
            guard fields[.incidentID] != nil else {
                throw ConfigError(key: "id_hash_fallback", value: fallback.joined(separator: ", "), source: path,
                                  problem: "needs columns.incident_id: the id where it has a value, else a hash of these columns")
            }
            identity = .columnElseHash(fallback)
        }
        return ColumnMapping(fields: fields, occurredTime: occurredTime, identity: identity)
    }

    /// A CRS key (`EPSG:NNNN`, or any authority:code PROJ knows), checked now: PROJ must know it and
    /// reach WGS 84 from it. WGS 84 itself means no transformation.
    static func crs(_ doc: SettingsDocument, _ key: String) throws -> String? {
        guard let (text, source) = try doc.scalar(key) else { return nil }
        if ["EPSG:4326", "OGC:CRS84", "WGS84"].contains(text.uppercased()) { return nil }
        do {
            _ = try CRSTransform(from: text)
        } catch let error as CRSError {
            throw ConfigError(key: key, value: text, source: source, problem: "allowed: a CRS PROJ knows, as AUTHORITY:CODE (EPSG:2263, ESRI:102696): \(error.problem)")
        }
        return text
    }

    static let hotspotKeys = ["aggregate.history_start", "aggregate.hotspot_cell_m", "aggregate.hotspot_cell_min_m", "aggregate.hotspot_cell_max_m",
                              "aggregate.hotspot_max_cells", "aggregate.hotspot_crs", "aggregate.hotspot_min_incidents", "aggregate.hotspot_study_area",
                              "aggregate.hotspot_study_days", "aggregate.hotspot_inference", "aggregate.hotspot_permutations",
                              "aggregate.hotspot_seed", "aggregate.emerging_min_steps"]

    /// The hot-spot keys of `aggregate:` (docs/ANALYTICS.md); every one optional.
    private static func hotspotSettings(_ doc: SettingsDocument, into aggregate: inout AggregateSettings) throws {
        func value<T>(_ key: String, _ allowed: String, _ parse: (String) -> T?) throws -> T? {
            guard let (text, source) = try doc.scalar("aggregate." + key) else { return nil }
            guard let parsed = parse(text) else { throw ConfigError(key: "aggregate." + key, value: text, source: source, problem: "allowed: " + allowed) }
            return parsed
        }
        func metres(_ text: String) -> Double? { Double(text).flatMap { (100...5000).contains($0) ? $0 : nil } }
        var h = aggregate.hotspot
        if let date = try value("history_start", "a date YYYY-MM-DD", { text in CivilDate.parseISODate(text).map { _ in text } }) { aggregate.historyStart = date }
        if let cell = try value("hotspot_cell_m", "metres from 100 to 5000 (omit it to choose the cell size from the data)", metres) { h.cellMetres = cell }
        if let cell = try value("hotspot_cell_min_m", "metres from 100 to 5000", metres) { h.cellMin = cell }
        if let cell = try value("hotspot_cell_max_m", "metres from 100 to 5000", metres) { h.cellMax = cell }
        if let n = try value("hotspot_max_cells", "a whole number from 1000 to 20000000", { Int($0).flatMap { (1000...20_000_000).contains($0) ? $0 : nil } }) {
            h.maxCells = n
        }
        if h.cellMin > h.cellMax {
            throw ConfigError(key: "aggregate.hotspot_cell_min_m", value: String(h.cellMin), source: doc.file,
                              problem: "must not exceed aggregate.hotspot_cell_max_m (\(h.cellMax))")
        }
        if let epsg = try value("hotspot_crs", "a UTM zone as EPSG:326zz (north) or EPSG:327zz (south), e.g. EPSG:32638 for Kuwait", { text -> Int? in
            let code = Int(text.uppercased().replacingOccurrences(of: "EPSG:", with: ""))
            return code.flatMap { c in TransverseMercator.utm(epsg: c) != nil ? c : nil }
        }) { h.crsEPSG = epsg }
        if let n = try value("hotspot_min_incidents", "a whole number from 10 to 100000", { Int($0).flatMap { (10...100_000).contains($0) ? $0 : nil } }) { h.minIncidents = n }
        if let area = try value("hotspot_study_area", "active_districts, all_districts", AggregateSettings.Hotspot.StudyArea.init(rawValue:)) { h.studyArea = area }
        if let days = try value("hotspot_study_days", "days from 7 to 3660", { Int($0).flatMap { (7...3660).contains($0) ? $0 : nil } }) { h.studyDays = days }
        if let inference = try value("hotspot_inference", "csr_exact, permutation", AggregateSettings.Hotspot.Inference.init(rawValue:)) { h.inference = inference }
        if let n = try value("hotspot_permutations", "a whole number from 99 to 999999", { Int($0).flatMap { (99...999_999).contains($0) ? $0 : nil } }) { h.permutations = n }
        if let seed = try value("hotspot_seed", "a whole number from 0 to 2^63", { UInt64($0).flatMap { $0 <= UInt64(Int64.max) ? $0 : nil } }) { h.seed = seed }
        if let steps = try value("emerging_min_steps", "a whole number of weekly steps from 2 to 104", { Int($0).flatMap { (2...104).contains($0) ? $0 : nil } }) { h.emergingMinSteps = steps }
        aggregate.hotspot = h
    }

    static let cleanKeys = ["clean.timestamp_formats", "clean.earliest", "clean.future_tolerance_hours", "clean.bbox.lat_min",
                            "clean.bbox.lat_max", "clean.bbox.lon_min", "clean.bbox.lon_max", "clean.categories",
                            "clean.unknown_category", "clean.max_reject_ratio"]

    /// The `clean:` section; every key optional, defaults for Kuwait.
    private static func cleanRules(_ doc: SettingsDocument, resolve: (String) -> String) throws -> CleanRules {
        var rules = CleanRules()
        func invalid(_ key: String, _ value: String, _ allowed: String) -> ConfigError {
            ConfigError(key: key, value: value, source: doc.file, problem: "allowed: \(allowed)")
        }
        if let (formats, _) = doc.list("clean.timestamp_formats") {
            rules.timestampFormats = try formats.map { text in
                guard let format = TimestampFormat(text) else {
                    throw invalid("clean.timestamp_formats", text, "iso8601, epoch_seconds, epoch_millis, or a strptime format with a year and a month, "
                                  + "such as %d/%m/%Y %H:%M, %Y/%m/%d %H:%M:%S%z or %Y-%m (month only); directives: %Y %y %m %b %B %d %e %H %I %p %M %S %z %T %R %D %F %a %A %%")
                }
                return format
            }
            guard !rules.timestampFormats.isEmpty else { throw invalid("clean.timestamp_formats", "[]", "at least one format") }
        }
        if let (text, _) = try doc.scalar("clean.earliest") {
            guard let days = CivilDate.parseISODate(text) else { throw invalid("clean.earliest", text, "a date YYYY-MM-DD") }
            rules.earliestDay = days
        }
        if let (text, _) = try doc.scalar("clean.future_tolerance_hours") {
            guard let hours = Int(text), (0...8760).contains(hours) else { throw invalid("clean.future_tolerance_hours", text, "whole hours from 0 to 8760") }
            rules.futureToleranceSeconds = Int64(hours) * 3600
        }
        func degrees(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let (text, _) = try doc.scalar(key) else { return nil }
            guard let value = Double(text), range.contains(value) else { throw invalid(key, text, "a number from \(range.lowerBound) to \(range.upperBound)") }
            return value
        }
        let latMin = try degrees("clean.bbox.lat_min", -90...90) ?? rules.latRange.lowerBound
        let latMax = try degrees("clean.bbox.lat_max", -90...90) ?? rules.latRange.upperBound
        let lonMin = try degrees("clean.bbox.lon_min", -180...180) ?? rules.lonRange.lowerBound
        let lonMax = try degrees("clean.bbox.lon_max", -180...180) ?? rules.lonRange.upperBound
        guard latMin < latMax else { throw invalid("clean.bbox.lat_max", "\(latMax)", "greater than clean.bbox.lat_min (\(latMin))") }
        guard lonMin < lonMax else { throw invalid("clean.bbox.lon_max", "\(lonMax)", "greater than clean.bbox.lon_min (\(lonMin))") }
        rules.latRange = latMin...latMax
        rules.lonRange = lonMin...lonMax
        if let (path, _) = try doc.scalar("clean.categories") { rules.categories = try CategoryMap.load(path: resolve(path)) }
        if let (text, _) = try doc.scalar("clean.unknown_category") {
            guard let policy = CleanRules.UnknownCategoryPolicy(rawValue: text) else {
                throw invalid("clean.unknown_category", text, CleanRules.UnknownCategoryPolicy.allCases.map(\.rawValue).joined(separator: ", "))
            }
            rules.unknownCategory = policy
        }
        if let (text, _) = try doc.scalar("clean.max_reject_ratio") {
            guard let ratio = Double(text), (0...1).contains(ratio) else { throw invalid("clean.max_reject_ratio", text, "a fraction from 0 to 1, e.g. 0.05") }
            rules.maxRejectRatio = ratio
        }
        return rules
    }
}

extension CleanStage {
    /// The clean stage of a pipeline, for one input with this header.
    public init(pipeline: PipelineDefinition, header: [String], file: String, now: Date = Date()) throws {
        try self.init(mapping: pipeline.mapping(for: file), rules: pipeline.clean,
                      timeZone: pipeline.timeZone, header: header, file: file, rulesSource: pipeline.path, now: now)
    }
}
