import Foundation

/// Helpers for libpq connection strings (URI form `postgresql://…` or keyword form `host=… password=…`).
public enum ConnectionString {
    /// What is shown for a connection string libpq cannot read: its parts cannot be told apart,
    /// so any of them may be a password.
    public static let notShown = "(a connection string libpq cannot parse: not shown, it may hold a password)"

    /// Keywords whose values are secrets whatever libpq's own marking says.
    static let secretKeywords: Set<String> = ["password", "sslpassword"]

    /// The string for logs, errors and `config show`: parsed by libpq itself (`PQconninfoParse`),
    /// so it sees exactly what libpq will use, and rebuilt in keyword form with every secret
    /// (libpq's password-marked options, `password`, `sslpassword`) as `***`. A string libpq
    /// cannot parse, or a URI whose user part it could not split (an unencoded `/` in a
    /// password ends up in the port or the database name), is not shown at all.
    public static func redacted(_ conninfo: String) -> String {
        if conninfo.isEmpty { return "" }
        guard parseError(conninfo) == nil, let options = parsedOptions(conninfo) else { return notShown }
        let isURI = conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://")
        if isURI, options.contains(where: { $0.keyword == "dbname" && $0.value.contains("@") }) { return notShown }
        return options.map { option in
            let value: String
            if option.isSecret || secretKeywords.contains(option.keyword) {
                value = "***"
            } else if option.keyword == "dbname", option.value.contains("=") || option.value.contains("://") {
                value = quoted(redacted(option.value))  // libpq expands a connection string given as dbname
            } else {
                value = quoted(option.value)
            }
            return "\(option.keyword)=\(value)"
        }.joined(separator: " ")
    }

    /// A keyword value as libpq reads it back: bare when it can be, else in single quotes.
    static func quoted(_ value: String) -> String {
        if !value.isEmpty, value.allSatisfy({ $0 != " " && $0 != "'" && $0 != "\\" && !$0.isWhitespace }) { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
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

extension ConnectionString {
    public struct Option: Sendable {
        public var keyword: String
        public var value: String
        /// libpq marks password options with display character "*".
        public var isSecret: Bool
    }

    /// The options a connection string sets, in libpq's order, or nil when libpq cannot parse it.
    public static func parsedOptions(_ conninfo: String) -> [Option]? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [Option] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                let dispchar = option.pointee.dispchar.map { String(cString: $0) } ?? ""
                result.append(Option(keyword: String(cString: keyword), value: String(cString: value), isSecret: dispchar.contains("*")))
            }
            option += 1
        }
        return result
    }
}
