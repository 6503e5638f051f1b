import Foundation

/// Maps the category text of an export to canonical codes, through the synonyms of a mapping
/// file (config/categories.yaml). Matching ignores case, surrounding and repeated spaces, `_`, `-`
/// and `/` between words, Arabic diacritics and tatweel, and the usual Arabic spelling variants
/// (أ إ آ → ا, ى → ي, ة → ه), so "Traffic-Accident", "traffic accident" and "TRAFFIC_ACCIDENT" meet.
public struct CategoryMap: Sendable {
    public private(set) var codes: Set<String>
    private var byKey: [String: String]

    /// No mapping file: every category is its own code (normalised to snake_case).
    public static let identity = CategoryMap(codes: [], byKey: [:])
    public var isIdentity: Bool { codes.isEmpty }

    init(codes: Set<String>, byKey: [String: String]) {
        self.codes = codes
        self.byKey = byKey
    }

    /// Reads `code: [synonym, …]` pairs. Codes are lower-case snake_case; a synonym may map to one code only.
    public static func load(path: String) throws -> CategoryMap {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(key: "clean.categories", value: path, source: "pipeline", problem: "cannot read the category mapping file")
        }
        let document = try SettingsDocument(file: path, text: text)
        var map = CategoryMap(codes: [], byKey: [:])
        for code in document.keys(under: "") {
            guard code != "all" else {
                throw ConfigError(key: code, value: nil, source: path, problem: "`all` is reserved for the totals over every category")
            }
            guard Settings.isSnakeCase(code) else {
                throw ConfigError(key: code, value: nil, source: path, problem: "category codes are lower-case snake_case (letters, digits, _)")
            }
            let (synonyms, source) = document.list(code) ?? ([], path)
            map.codes.insert(code)
            for synonym in synonyms + [code] {
                let key = normalize(synonym)
                if let existing = map.byKey[key], existing != code {
                    throw ConfigError(key: code, value: synonym, source: source, problem: "this synonym already maps to \(existing)")
                }
                map.byKey[key] = code
            }
        }
        if !map.codes.contains("other") { map.codes.insert("other") }
        return map
    }

    /// The canonical code, or nil when the mapping does not know the value.
    public func code(for raw: String) -> String? {
        let key = Self.normalize(raw)
        if isIdentity { return key.isEmpty ? nil : key.replacingOccurrences(of: " ", with: "_") }
        return byKey[key]
    }

    static func normalize(_ text: String) -> String { MatchKey.normalize(text) }
}

extension Settings {
    static func isSnakeCase(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
