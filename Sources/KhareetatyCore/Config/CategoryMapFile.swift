import Foundation

extension CategoryMap {
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
            if let conflict = map.add(code: code, synonyms: synonyms) {
                throw ConfigError(key: code, value: conflict.synonym, source: source, problem: "this synonym already maps to \(conflict.existing)")
            }
        }
        if !map.codes.contains("other") { map.declare("other") }
        return map
    }
}

extension Settings {
    static func isSnakeCase(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
