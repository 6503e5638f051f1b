import Foundation

/// Quotes an SQL identifier (schema, table, column) for safe interpolation into DDL/COPY text:
/// wraps it in double quotes and doubles any embedded quote, as PostgreSQL's quote_ident does.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
