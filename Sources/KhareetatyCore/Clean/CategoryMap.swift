import Foundation

/// Maps the category text of an export to canonical codes, through the synonyms of a mapping
/// file (config/categories.yaml, read by `CategoryMap.load` in Config/). Matching ignores case, surrounding and repeated spaces, `_`, `-`
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

    /// Adds `code` with its synonyms; a synonym that already maps to another code is returned with that code.
    mutating func add(code: String, synonyms: [String]) -> (synonym: String, existing: String)? {
        codes.insert(code)
        for synonym in synonyms + [code] {
            let key = Self.normalize(synonym)
            if let existing = byKey[key], existing != code { return (synonym, existing) }
            byKey[key] = code
        }
        return nil
    }

    /// A code with no synonym of its own (`other`: where unknown categories go, never matched by text).
    mutating func declare(_ code: String) { codes.insert(code) }

    /// The canonical code, or nil when the mapping does not know the value.
    public func code(for raw: String) -> String? {
        let key = Self.normalize(raw)
        if isIdentity { return key.isEmpty ? nil : key.replacingOccurrences(of: " ", with: "_") }
        return byKey[key]
    }

    static func normalize(_ text: String) -> String { MatchKey.normalize(text) }
}
