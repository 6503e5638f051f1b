import Foundation

/// Helpers for libpq connection strings (URI form `postgresql://…` or keyword form `host=… password=…`).
public enum ConnectionString {
    /// The string with any password replaced by `***`, safe for logs, errors and the ledger.
    /// Handles `postgresql://user:secret@host/db`, `?password=secret` query parameters and the
    /// keyword form `password=secret` / `password='se cret'`.
    public static func redacted(_ conninfo: String) -> String {
        var text = conninfo
        // URI userinfo: scheme://user:password@
        if let schemeEnd = text.range(of: "://") {
            let afterScheme = schemeEnd.upperBound
            let authorityEnd = text[afterScheme...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? text.endIndex
            if let at = text[afterScheme..<authorityEnd].lastIndex(of: "@"),
               let colon = text[afterScheme..<at].firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        return redactKeyword(in: text)
    }

    /// Replaces the value of every `password=` (URI query or keyword form).
    private static func redactKeyword(in text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: "password=", options: .caseInsensitive) {
            result += rest[..<range.upperBound]
            result += "***"
            var valueEnd = range.upperBound
            if valueEnd < rest.endIndex, rest[valueEnd] == "'" {
                // quoted keyword value, with \' escapes
                valueEnd = rest.index(after: valueEnd)
                while valueEnd < rest.endIndex, rest[valueEnd] != "'" {
                    if rest[valueEnd] == "\\" { valueEnd = rest.index(after: valueEnd) }
                    if valueEnd < rest.endIndex { valueEnd = rest.index(after: valueEnd) }
                }
                if valueEnd < rest.endIndex { valueEnd = rest.index(after: valueEnd) }
            } else {
                while valueEnd < rest.endIndex, !" &".contains(rest[valueEnd]) {
                    valueEnd = rest.index(after: valueEnd)
                }
            }
            rest = rest[valueEnd...]
        }
        return result + rest
    }
}

import CLibPQ

extension ConnectionString {
    /// libpq's own verdict on a connection string: nil when it parses, else libpq's message.
    /// Used at start-up so that a malformed URL is a configuration error, not a runtime one.
    public static func parseError(_ conninfo: String) -> String? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            defer { if let errorMessage { PQfreemem(errorMessage) } }
            guard let errorMessage else { return "out of memory" }
            return String(cString: errorMessage).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        defer { PQconninfoFree(options) }
        // libpq checks the port only when connecting; a typo there is a config error, caught now.
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "port", let value = option.pointee.val {
                let ports = String(cString: value).split(separator: ",", omittingEmptySubsequences: false)
                if !ports.allSatisfy({ $0.isEmpty || (UInt16($0) ?? 0) > 0 }) { return "invalid port" }
            }
            option += 1
        }
        return nil
    }
}
