/// An error from libpq or the server, with the server's diagnostic fields when it sent them.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// Could not connect, or the connection broke.
        case connection
        /// The server answered and refused this client: authentication failed (SQLSTATE class 28),
        /// no pg_hba.conf entry, no such role or database, no CONNECT privilege. Retrying cannot
        /// help, and retrying a wrong password can lock the account.
        case refused
        /// The server rejected a statement.
        case query
        /// A COPY stream failed (client or server side).
        case copy
        /// The client misused the API (e.g. a NUL byte in a text value).
        case client
    }

    public var kind: Kind
    /// Five-character SQLSTATE code, e.g. `23505` for a unique violation.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// True for errors worth retrying later: the server could not be reached or went away,
    /// or it is starting up / shutting down (SQLSTATE class 08, 57P01–57P03).
    public var isTransient: Bool {
        if kind == .connection { return true }
        guard let state = sqlState else { return false }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
    }

    /// Whether a failed connection's message is the server refusing the client rather than the
    /// server being unreachable. libpq gives no SQLSTATE for a failed connection, so this reads
    /// the server's (English) FATAL message, as psql's users and poolers do.
    public static func isRefusal(_ message: String) -> Bool {
        let m = message.lowercased()
        let refusals = ["authentication failed", "no pg_hba.conf entry", "pg_hba.conf rejects", "is not permitted to log in",
                        "permission denied for database", "no password supplied", "password is empty"]
        if refusals.contains(where: m.contains) { return true }
        for noun in ["role \"", "database \""] where m.contains(noun) && m.contains("\" does not exist") { return true }
        return false
    }

    public var description: String {
        var text = "PostgreSQL \(kind.rawValue) error"
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        text += ": \(message)"
        if let detail, !detail.isEmpty { text += " (detail: \(detail))" }
        if let hint, !hint.isEmpty { text += " (hint: \(hint))" }
        return text
    }
}
