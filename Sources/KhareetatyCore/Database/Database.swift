import Foundation
import Logging
import Postgres

/// The database could not be reached: a temporary failure (exit 75), worth retrying later.
public struct DatabaseUnavailable: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var target: String
    public var reason: String
    public var exitCode: ExitCode { .temporaryFailure }
    public var description: String { "cannot connect to the database \(target): \(reason)" }
}

extension PostgresError: ExitCodeProviding {
    public var exitCode: ExitCode { kind == .refused ? .usage : isTransient ? .temporaryFailure : .failure }
}

public enum Database {
    /// libpq keywords the settings supply where the connection string sets nothing. TLS from the
    /// config (`database.sslmode`, `database.sslrootcert`) goes here, so a URL can still override it.
    static func connectionDefaults(_ settings: Settings) -> [(String, String)] {
        var defaults = [("connect_timeout", String(settings.connectTimeoutSeconds)), ("application_name", "khareetaty")]
        if !settings.sslMode.isEmpty { defaults.append(("sslmode", settings.sslMode)) }
        if !settings.sslRootCert.isEmpty { defaults.append(("sslrootcert", settings.sslRootCert)) }
        return defaults
    }

    /// Connects as the settings say, retrying a failed connection `database.connect_retries` times
    /// with doubling waits (a database restarting at 02:00 should not fail the night). Errors name
    /// the target with any password redacted.
    public static func connect(_ settings: Settings, logger: Logger = Logger(label: "khareetaty")) throws -> PostgresConnection {
        let target = settings.databaseURL.isEmpty ? "(libpq defaults: PG* environment)" : settings.redactedDatabaseURL
        var wait = 1.0
        for attempt in 0...settings.connectRetries {
            do {
                return try PostgresConnection(conninfo: settings.databaseURL, defaults: connectionDefaults(settings))
            } catch let error as PostgresError {
                if error.kind == .refused {
                    throw DatabaseRefused(target: target, reason: error.message)
                }
                if TLSFailure.matches(error.message) {
                    throw TLSFailure(target: target, reason: error.message, sslMode: settings.sslMode, rootCert: settings.sslRootCert)
                }
                guard attempt < settings.connectRetries else { throw DatabaseUnavailable(target: target, reason: error.message) }
                logger.warning("cannot connect to the database; retrying", metadata: [
                    "target": .string(target), "attempt": "\(attempt + 1)/\(settings.connectRetries)", "wait_s": "\(wait)",
                    "reason": .string(error.message),
                ])
                Thread.sleep(forTimeInterval: wait)
                wait *= 2
            }
        }
        throw DatabaseUnavailable(target: target, reason: "no attempt made")
    }
}

/// The server refused this client (wrong password, no such role or database, pg_hba.conf): a
/// configuration problem, exit 2 at once — no retry, which could lock the account.
public struct DatabaseRefused: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var target: String
    public var reason: String
    public var exitCode: ExitCode { .usage }
    public var description: String {
        "the database \(target) refused the connection: \(reason) — check the user, the password (database.url, "
            + "PGPASSWORD or ~/.pgpass), the database name and the server's pg_hba.conf; not retried"
    }
}

/// The server's certificate could not be verified (or TLS was required and not offered): a
/// configuration problem that retrying will not fix, so exit 2 at once, naming what to check.
public struct TLSFailure: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var target: String
    public var reason: String
    public var sslMode: String
    public var rootCert: String
    public var exitCode: ExitCode { .usage }
    public var description: String {
        "cannot connect to the database \(target) over TLS: \(reason) — check database.sslmode (\(sslMode.isEmpty ? "unset" : sslMode)) "
            + "and database.sslrootcert (\(rootCert.isEmpty ? "unset" : rootCert)): the CA must be the one that signed the server's "
            + "certificate, and with verify-full the host name must be one the certificate names"
    }

    static func matches(_ message: String) -> Bool {
        let m = message.lowercased()
        return m.contains("certificate") || m.contains("ssl error") || m.contains("server does not support ssl")
    }
}
