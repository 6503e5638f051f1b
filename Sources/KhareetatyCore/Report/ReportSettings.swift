/// How a pipeline's morning report presents itself (the pipeline file's `report:` section). The
/// defaults name no place: Kuwait's title, Arabic names, attribution and inset are in
/// pipelines/nightly.yaml, so another force's report carries nothing of Kuwait.
public struct ReportSettings: Sendable, Equatable {
    /// The page's heading and `<title>`.
    public var title = "Khareetaty — morning report"
    /// The title in the force's own language, beside the heading (`title_local`), and its BCP 47
    /// language (`title_local_lang`: right to left for Arabic, Hebrew, Persian, Urdu).
    public var localTitle: String?
    public var localTitleLanguage: String?
    /// What the map shows, for its accessible name: "Map of <map_label> coloured by …".
    public var mapLabel = "the areas"
    /// Where the boundaries come from, printed under the report (`attribution`); nil: nothing.
    public var attribution: String?
    /// A second name per area from the gazetteer in this language (`names_language`, e.g. `ar`),
    /// under the heading `names_heading`; nil: no such column.
    public var namesLanguage: String?
    public var namesHeading = "Name"
    /// The heading of the column of each area's larger unit, shown when the pipeline has one.
    public var regionHeading = "Region"
    /// An enlarged map of the areas smaller than this (`inset_max_area_km2`), with its caption;
    /// nil: no inset. Left out when those areas span most of the map anyway.
    public var insetMaxAreaKm2: Double?
    public var insetCaption = "The small areas, enlarged."

    public init() {}

    static let rightToLeft: Set<String> = ["ar", "he", "fa", "ur"]
    var localTitleIsRightToLeft: Bool { localTitleLanguage.map { Self.rightToLeft.contains(String($0.prefix(2)).lowercased()) } ?? false }
    var namesAreRightToLeft: Bool { namesLanguage.map { Self.rightToLeft.contains(String($0.prefix(2)).lowercased()) } ?? false }

    static let keys = ["report.title", "report.title_local", "report.title_local_lang", "report.map_label", "report.attribution",
                       "report.names_language", "report.names_heading", "report.region_heading", "report.inset_max_area_km2",
                       "report.inset_caption"]

    /// The `report:` section; every key optional.
    static func load(_ doc: SettingsDocument) throws -> ReportSettings {
        var r = ReportSettings()
        func text(_ key: String) throws -> String? {
            guard let (value, source) = try doc.scalar("report." + key) else { return nil }
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigError(key: "report." + key, value: value, source: source, problem: "allowed: a non-empty text")
            }
            return value
        }
        if let v = try text("title") { r.title = v }
        r.localTitle = try text("title_local")
        r.localTitleLanguage = try text("title_local_lang")
        if let v = try text("map_label") { r.mapLabel = v }
        r.attribution = try text("attribution")
        if let v = try text("names_language") {
            guard v == "ar" else {
                throw ConfigError(key: "report.names_language", value: v, source: doc.file,
                                  problem: "allowed: ar (the gazetteer's second names are Arabic; leave the key out for none)")
            }
            r.namesLanguage = v
        }
        if let v = try text("names_heading") { r.namesHeading = v }
        if let v = try text("region_heading") { r.regionHeading = v }
        if let v = try text("inset_max_area_km2") {
            guard let km2 = Double(v), km2 > 0, km2.isFinite else {
                throw ConfigError(key: "report.inset_max_area_km2", value: v, source: doc.file, problem: "allowed: square kilometres above 0")
            }
            r.insetMaxAreaKm2 = km2
        }
        if let v = try text("inset_caption") { r.insetCaption = v }
        return r
    }
}
