import Postgres

/// The database could not be reached: a temporary failure (exit 75), worth retrying later.
public struct DatabaseUnavailable: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var target: String
    public var reason: String
    public var exitCode: ExitCode { .temporaryFailure }
    public var description: String { "cannot connect to the database \(target): \(reason)" }
}

extension PostgresError: ExitCodeProviding {
    public var exitCode: ExitCode { isTransient ? .temporaryFailure : .failure }
}

public enum Database {
    /// Connects as the settings say. Errors name the target with any password redacted.
    public static func connect(_ settings: Settings) throws -> PostgresConnection {
        do {
            return try PostgresConnection(conninfo: settings.databaseURL, defaults: [
                ("connect_timeout", String(settings.connectTimeoutSeconds)),
                ("application_name", "khareetaty"),
            ])
        } catch let error as PostgresError {
            let target = settings.databaseURL.isEmpty ? "(libpq defaults: PG* environment)" : settings.redactedDatabaseURL
            throw DatabaseUnavailable(target: target, reason: error.message)
        }
    }
}
