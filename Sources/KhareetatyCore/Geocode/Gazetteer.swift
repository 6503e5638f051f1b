import Foundation

/// Area names → districts, for incidents that name their area but carry no usable point.
/// Keys are the districts' own names plus the aliases of a gazetteer file (config/areas.yaml),
/// normalised by `MatchKey` with articles dropped. A key that fits two districts is ambiguous:
/// such a name is never resolved, only reported. A key that names no district but a governorate
/// (its code or name) gives that governorate its names; they are shown, never matched.
public struct Gazetteer: Sendable {
    public enum Match: Sendable, Equatable {
        case district(Int)
        case ambiguous([Int])
        case unknown
    }

    private var keys: [String: Set<Int>] = [:]
    /// District index → its name in Arabic: the first alias in Arabic script (districts.name_ar, reports).
    public private(set) var arabicNames: [Int: String] = [:]
    /// Governorate code → its name in Arabic, likewise.
    public private(set) var governorateArabicNames: [String: String] = [:]

    public init(districts: [District], aliasFile: String? = nil) throws {
        for (index, district) in districts.enumerated() { add(district.name, index) }
        guard let aliasFile else { return }
        guard let data = FileManager.default.contents(atPath: aliasFile), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(key: "geocode.aliases", value: aliasFile, source: "pipeline", problem: "cannot read the area alias file")
        }
        let document = try SettingsDocument(file: aliasFile, text: text)
        for key in document.keys(under: "") {
            let (aliases, source) = document.list(key) ?? ([], aliasFile)
            // A key names districts by their boundary-file name (all that carry it), or one by its code.
            let targets = districts.indices.filter { districts[$0].code == key || districts[$0].name == key }
            let arabic = aliases.first(where: { $0.unicodeScalars.contains { (0x0600...0x06FF).contains($0.value) } })
            guard !targets.isEmpty else {
                let governorates = Set(districts.compactMap { d in
                    d.governorateCode.flatMap { d.governorateCode == key || d.governorateName == key ? $0 : nil } })
                guard !governorates.isEmpty else {
                    throw ConfigError(key: key, value: nil, source: source, problem: "no area or governorate of the boundary files has this name or code")
                }
                if let arabic { for code in governorates where governorateArabicNames[code] == nil { governorateArabicNames[code] = arabic } }
                continue
            }
            for alias in aliases { for target in targets { add(alias, target) } }
            if let arabic {
                for target in targets where arabicNames[target] == nil { arabicNames[target] = arabic }
            }
        }
    }

    private mutating func add(_ name: String, _ district: Int) {
        let key = MatchKey.normalize(name, dropArticles: true)
        guard !key.isEmpty else { return }
        keys[key, default: []].insert(district)
    }

    public func match(_ name: String) -> Match {
        guard let found = keys[MatchKey.normalize(name, dropArticles: true)] else { return .unknown }
        return found.count == 1 ? .district(found.first!) : .ambiguous(found.sorted())
    }
}
