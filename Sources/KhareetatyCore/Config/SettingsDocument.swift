import Yams

/// A YAML file read as flat, dotted keys (`database.schema`), remembering each key's line so that
/// errors can point at it. Readers take the keys they know; whatever is left is an unknown key,
/// which is an error (a typo must never be silently ignored).
final class SettingsDocument {
    struct Entry {
        enum Value {
            case scalar(String)
            case list([String])
        }
        var value: Value
        var line: Int
    }

    let file: String
    private(set) var entries: [String: Entry] = [:]
    private var taken: Set<String> = []

    init(file: String, text: String) throws {
        self.file = file
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(key: "(file)", value: nil, source: file, problem: Self.yamlProblem(error))
        }
        guard let root else { return }  // empty file: all defaults
        guard case .mapping(let mapping) = root else {
            throw ConfigError(key: "(file)", value: nil, source: file, problem: "the top level must be a mapping of keys to values")
        }
        try flatten(mapping, prefix: "")
    }

    /// The YAML parser's complaint with its place, never its snippet of the file: the line it
    /// would quote may be `url: postgresql://user:password@…`.
    static func yamlProblem(_ error: Error) -> String {
        guard let error = error as? YamlError else { return "not valid YAML" }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let while_ = context.map { "\($0.text) from line \($0.mark.line): " } ?? ""
            return "not valid YAML at line \(mark.line), column \(mark.column): \(while_)\(problem)"
        case let .reader(problem, offset, _, _):
            return "not valid YAML" + (offset.map { " at byte \($0)" } ?? "") + ": \(problem)"
        case let .duplicatedKeysInMapping(duplicates, context):
            return "the key\(duplicates.count == 1 ? "" : "s") \(duplicates.sorted().joined(separator: ", ")) appear\(duplicates.count == 1 ? "s" : "") twice (mapping at line \(context.mark.line))"
        default:
            return "not valid YAML"
        }
    }

    private func flatten(_ mapping: Node.Mapping, prefix: String) throws {
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.string else {
                throw ConfigError(key: prefix + "?", value: nil, source: location(keyNode.mark?.line), problem: "keys must be plain strings")
            }
            let key = prefix + name
            let line = (keyNode.mark?.line ?? 0)
            if entries[key] != nil {
                throw ConfigError(key: key, value: nil, source: location(line), problem: "the key appears twice")
            }
            switch valueNode {
            case .mapping(let nested):
                try flatten(nested, prefix: key + ".")
            case .sequence(let sequence):
                var items: [String] = []
                for item in sequence {
                    guard let text = item.scalar?.string else {
                        throw ConfigError(key: key, value: nil, source: location(line), problem: "list items must be plain values")
                    }
                    items.append(text)
                }
                entries[key] = Entry(value: .list(items), line: line)
            case .scalar(let scalar):
                entries[key] = Entry(value: .scalar(scalar.string), line: line)
            case .alias:
                throw ConfigError(key: key, value: nil, source: location(line), problem: "YAML aliases are not supported")
            }
        }
    }

    /// "file:line", for error messages and `config show`.
    func location(_ line: Int?) -> String {
        guard let line, line > 0 else { return file }
        return "\(file):\(line)"
    }

    /// Takes a single value; a list where a value is expected is an error.
    func scalar(_ key: String) throws -> (value: String, source: String)? {
        guard let entry = entries[key] else { return nil }
        taken.insert(key)
        guard case .scalar(let text) = entry.value else {
            throw ConfigError(key: key, value: nil, source: location(entry.line), problem: "expected a single value, found a list")
        }
        return (text, location(entry.line))
    }

    /// Takes a list; a single value is read as a one-item list.
    func list(_ key: String) -> (values: [String], source: String)? {
        guard let entry = entries[key] else { return nil }
        taken.insert(key)
        switch entry.value {
        case .list(let items): return (items, location(entry.line))
        case .scalar(let text): return ([text], location(entry.line))
        }
    }

    /// Keys under `prefix` (e.g. every column mapping under `source.columns.`), taken as read.
    func keys(under prefix: String) -> [String] {
        entries.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Throws for the first key (in file order) that no reader took.
    func rejectUnknownKeys(known: [String]) throws {
        let unknown = entries.filter { !taken.contains($0.key) }.sorted { $0.value.line < $1.value.line }
        if let (key, entry) = unknown.first {
            let hint = known.isEmpty ? "" : "; known keys: " + known.sorted().joined(separator: ", ")
            throw ConfigError(key: key, value: nil, source: location(entry.line), problem: "unknown key\(hint)")
        }
    }
}
