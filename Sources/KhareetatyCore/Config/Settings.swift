import Foundation
import Postgres

/// The effective configuration: every value typed and validated, with where it came from.
///
/// Precedence, lowest to highest:
///   1. built-in defaults
///   2. the config file (`--config FILE`, else `$KHAREETATY_CONFIG`, else `config/khareetaty.yaml`
///      when it exists)
///   3. environment variables `KHAREETATY_<KEY>` (dots become underscores: `KHAREETATY_DATABASE_SCHEMA`)
///   4. for `database.url` only: `DATABASE_URL`, then `KHAREETATY_DATABASE_URL`, then `--database URL`
/// An empty `database.url` leaves the connection to libpq's own defaults: the `PG*` environment
/// variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGSERVICE`, …) and the service file.
public struct Settings: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable { case auto, text, json }
    public enum LogLevel: String, Sendable, CaseIterable { case trace, debug, info, notice, warning, error, critical }

    public var databaseURL = ""
    public var schema = "khareetaty"
    public var connectTimeoutSeconds = 10
    /// Connection attempts after the first failed one, with doubling waits (1 s, 2 s, 4 s, …).
    public var connectRetries = 3
    public var pipelinePath = "pipelines/nightly.yaml"
    public var batchSize = 10_000
    public var logLevel = LogLevel.info
    public var logFormat = LogFormat.auto
    /// Where exports arrive (`run` without files loads every new file here); empty: not used.
    public var inboxDir = ""
    /// Where loaded inbox files go after the commit; empty: they stay in the inbox.
    public var archiveDir = ""
    /// Where an inbox file that failed to read goes; empty: it stays in the inbox.
    public var quarantineDir = ""
    /// An inbox file is taken only when it has not changed for this many seconds.
    public var inboxSettleSeconds = 60
    /// A log file besides stderr (JSON lines), rotated by size; empty: none.
    public var logFile = ""
    public var logFileMaxBytes = 10 << 20
    /// Rotated files kept besides the current one (FILE.1 … FILE.N).
    public var logFileKeep = 5
    /// Where the morning report (HTML) of each committed run goes; empty: none.
    public var reportDir = ""
    /// A Prometheus textfile written after each run (`{pipeline}` is replaced by its name); empty: none.
    public var metricsTextfile = ""
    /// A Prometheus Pushgateway to push each run's metrics to (Kubernetes, no node_exporter); empty: none.
    public var metricsPushgateway = ""
    /// libpq's sslmode; empty: whatever the URL or PGSSLMODE say (libpq's default: prefer).
    public var sslMode = ""
    /// The CA certificate(s) that verify the server (sslrootcert); empty: libpq's default.
    public var sslRootCert = ""
    /// Where the schema's tables live: ordinary tables, or distributed over a Citus cluster (`migrate` does it).
    public var distribution = DistributionMode.none

    public enum SSLMode: String, Sendable, CaseIterable { case disable, allow, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full" }

    /// Key → where its value came from ("default", "config/khareetaty.yaml:3", "env KHAREETATY_…", "--database").
    public internal(set) var sources: [String: String] = [:]

    public init() {}

    /// The connection string for logs and messages: any password replaced by `***`.
    public var redactedDatabaseURL: String { ConnectionString.redacted(databaseURL) }
}

/// One configuration key: its default, what is allowed, and how it lands in `Settings`.
struct SettingSpec: Sendable {
    let key: String
    let allowed: String
    let secret: Bool
    let read: @Sendable (Settings) -> String
    let apply: @Sendable (String, inout Settings) -> Bool

    var environmentVariable: String { "KHAREETATY_" + key.uppercased().replacingOccurrences(of: ".", with: "_") }
}

extension SettingSpec {
    static let all: [SettingSpec] = [
        SettingSpec(key: "database.url", allowed: "a libpq connection string (postgresql://… or key=value), or empty for libpq's PG* defaults", secret: true,
                    read: { $0.databaseURL },
                    apply: { value, s in
                        guard value.isEmpty || ConnectionString.parseError(value) == nil else { return false }
                        s.databaseURL = value; return true
                    }),
        SettingSpec(key: "database.schema", allowed: "a lower-case SQL name: a letter or _, then letters, digits or _ (at most 63)", secret: false,
                    read: { $0.schema },
                    apply: { value, s in
                        guard isSchemaName(value) else { return false }
                        s.schema = value; return true
                    }),
        .integer("database.connect_timeout_s", 1...300, "an integer number of seconds from 1 to 300", \.connectTimeoutSeconds),
        .integer("database.connect_retries", 0...10, "an integer from 0 to 10 (retries after a failed connection, waiting 1 s, 2 s, 4 s, …)", \.connectRetries),
        SettingSpec(key: "database.sslmode", allowed: "empty (the URL's or libpq's choice), " + Settings.SSLMode.allCases.map(\.rawValue).joined(separator: ", "), secret: false,
                    read: { $0.sslMode },
                    apply: { value, s in
                        guard value.isEmpty || Settings.SSLMode(rawValue: value) != nil else { return false }
                        s.sslMode = value; return true
                    }),
        SettingSpec(key: "database.sslrootcert", allowed: "the path of a PEM file of CA certificates, or empty", secret: false,
                    read: { $0.sslRootCert }, apply: { value, s in s.sslRootCert = value; return true }),
        SettingSpec(key: "database.distribution", allowed: "none (ordinary tables), citus (migrate distributes the tables over the Citus cluster the URL's coordinator leads)", secret: false,
                    read: { $0.distribution.rawValue },
                    apply: { value, s in
                        guard let mode = DistributionMode(rawValue: value.lowercased()) else { return false }
                        s.distribution = mode; return true
                    }),
        SettingSpec(key: "pipeline", allowed: "the path of a pipeline file (pipelines/*.yaml)", secret: false,
                    read: { $0.pipelinePath },
                    apply: { value, s in
                        guard !value.isEmpty else { return false }
                        s.pipelinePath = value; return true
                    }),
        .integer("batch_size", 1_000...1_000_000, "an integer number of rows from 1000 to 1000000", \.batchSize),
        SettingSpec(key: "log.level", allowed: Settings.LogLevel.allCases.map(\.rawValue).joined(separator: ", "), secret: false,
                    read: { $0.logLevel.rawValue },
                    apply: { value, s in
                        guard let level = Settings.LogLevel(rawValue: value.lowercased()) else { return false }
                        s.logLevel = level; return true
                    }),
        SettingSpec(key: "log.format", allowed: "auto (text on a terminal, JSON lines otherwise), text, json", secret: false,
                    read: { $0.logFormat.rawValue },
                    apply: { value, s in
                        guard let format = Settings.LogFormat(rawValue: value.lowercased()) else { return false }
                        s.logFormat = format; return true
                    }),
        SettingSpec(key: "log.file", allowed: "a file path (JSON lines, rotated by size), or empty", secret: false,
                    read: { $0.logFile }, apply: { value, s in s.logFile = value; return true }),
        .integer("log.file_max_bytes", 4096...(1 << 30), "an integer number of bytes from 4096 to 1073741824", \.logFileMaxBytes),
        .integer("log.file_keep", 1...100, "an integer from 1 to 100 (rotated files kept)", \.logFileKeep),
        SettingSpec(key: "metrics.textfile", allowed: "a file path for node_exporter's textfile collector ({pipeline} is replaced), or empty", secret: false,
                    read: { $0.metricsTextfile }, apply: { value, s in s.metricsTextfile = value; return true }),
        SettingSpec(key: "metrics.pushgateway", allowed: "an http(s) URL of a Prometheus Pushgateway (e.g. http://pushgateway:9091), or empty", secret: false,
                    read: { Pushgateway.redacted($0.metricsPushgateway) },
                    apply: { value, s in
                        guard value.isEmpty || ["http", "https"].contains(URLComponents(string: value)?.scheme ?? "") else { return false }
                        s.metricsPushgateway = value; return true
                    }),
        SettingSpec(key: "report.dir", allowed: "a directory for the morning report of each run (khareetaty-PIPELINE-DATE.html), or empty", secret: false,
                    read: { $0.reportDir }, apply: { value, s in s.reportDir = value; return true }),
        SettingSpec(key: "inbox.dir", allowed: "a directory path, or empty", secret: false,
                    read: { $0.inboxDir }, apply: { value, s in s.inboxDir = value; return true }),
        SettingSpec(key: "inbox.archive_dir", allowed: "a directory path, or empty", secret: false,
                    read: { $0.archiveDir }, apply: { value, s in s.archiveDir = value; return true }),
        SettingSpec(key: "inbox.quarantine_dir", allowed: "a directory path, or empty", secret: false,
                    read: { $0.quarantineDir }, apply: { value, s in s.quarantineDir = value; return true }),
        .integer("inbox.settle_seconds", 0...86_400, "whole seconds from 0 to 86400 a file must be unchanged before it is loaded", \.inboxSettleSeconds),
    ]

    /// A whole number within `range`, read from and written to `path`.
    static func integer(_ key: String, _ range: ClosedRange<Int>, _ allowed: String,
                        _ path: WritableKeyPath<Settings, Int> & Sendable) -> SettingSpec {
        SettingSpec(key: key, allowed: allowed, secret: false, read: { String($0[keyPath: path]) }, apply: { value, s in
            guard let n = Int(value), range.contains(n) else { return false }
            s[keyPath: path] = n
            return true
        })
    }

    static func isSchemaName(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first, value.utf8.count <= 63 else { return false }
        let lower = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz_")
        let rest = lower.union(CharacterSet(charactersIn: "0123456789"))
        return lower.contains(first) && value.unicodeScalars.allSatisfy { rest.contains($0) }
    }
}

/// Reads the settings from defaults, the config file, the environment and the command line.
public struct SettingsLoader: Sendable {
    /// Environment variables that belong to the project's scripts and tests, not to the binary.
    static let reservedEnvironmentPrefixes = ["KHAREETATY_CONFIG", "KHAREETATY_LOCALDB_", "KHAREETATY_TEST_"]
    public static let defaultConfigPath = "config/khareetaty.yaml"

    public var environment: [String: String]
    /// `--config FILE`
    public var configPath: String?
    /// `--database URL`
    public var databaseFlag: String?
    /// The file read when neither `--config` nor `$KHAREETATY_CONFIG` names one (if it exists).
    public var defaultConfigPath: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, configPath: String? = nil, databaseFlag: String? = nil,
                defaultConfigPath: String? = SettingsLoader.defaultConfigPath) {
        self.environment = environment
        self.configPath = configPath
        self.databaseFlag = databaseFlag
        self.defaultConfigPath = defaultConfigPath
    }

    /// The config file that will be read, if any, and why.
    public func configFile() -> (path: String, explicit: Bool)? {
        if let configPath { return (configPath, true) }
        if let path = environment["KHAREETATY_CONFIG"], !path.isEmpty { return (path, true) }
        if let defaultConfigPath, FileManager.default.fileExists(atPath: defaultConfigPath) { return (defaultConfigPath, false) }
        return nil
    }

    /// Kubernetes injects variables for every Service in the namespace, named after it: a Service
    /// `khareetaty-db` gives `KHAREETATY_DB_SERVICE_HOST`, `KHAREETATY_DB_SERVICE_PORT[_NAME]`,
    /// `KHAREETATY_DB_PORT=tcp://…` and `KHAREETATY_DB_PORT_5432_TCP[_PROTO|_PORT|_ADDR]`. They are not
    /// settings (no key has these shapes), so they are passed over instead of failing every run.
    static func isKubernetesServiceLink(_ name: String, _ value: String) -> Bool {
        func matches(_ pattern: String, _ text: String) -> Bool { text.range(of: pattern, options: .regularExpression) != nil }
        return matches(#"_SERVICE_HOST$|_SERVICE_PORT(_[A-Z0-9_]+)?$|_PORT_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?$"#, name)
            || (name.hasSuffix("_PORT") && matches(#"^(tcp|udp|sctp)://"#, value))
    }

    public func load() throws -> Settings {
        var settings = Settings()
        for spec in SettingSpec.all { settings.sources[spec.key] = "default" }

        func apply(_ spec: SettingSpec, _ value: String, from source: String) throws {
            guard spec.apply(value, &settings) else {
                throw ConfigError(key: spec.key, value: spec.secret ? ConnectionString.redacted(value) : value,
                                  source: source, problem: "allowed: \(spec.allowed)")
            }
            settings.sources[spec.key] = source
        }

        if let (path, _) = configFile() {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(key: "(file)", value: nil, source: path, problem: "cannot read the config file (missing, unreadable or not UTF-8)")
            }
            let document = try SettingsDocument(file: path, text: text)
            for spec in SettingSpec.all {
                if let (value, source) = try document.scalar(spec.key) { try apply(spec, value, from: source) }
            }
            try document.rejectUnknownKeys(known: SettingSpec.all.map(\.key))
        }

        // KHAREETATY_* variables: each must name a key, so a typo cannot go unnoticed.
        let byVariable = Dictionary(uniqueKeysWithValues: SettingSpec.all.map { ($0.environmentVariable, $0) })
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("KHAREETATY_") {
            if Self.reservedEnvironmentPrefixes.contains(where: { name.hasPrefix($0) }) { continue }
            guard let spec = byVariable[name] else {
                if Self.isKubernetesServiceLink(name, value) { continue }
                throw ConfigError(key: name, value: nil, source: "environment",
                                  problem: "unknown variable; known: " + byVariable.keys.sorted().joined(separator: ", ") + ", KHAREETATY_CONFIG")
            }
            if spec.key == "database.url" { continue }  // applied below, in its own order
            try apply(spec, value, from: "env \(name)")
        }

        let urlSpec = SettingSpec.all[0]
        if let value = environment["DATABASE_URL"], !value.isEmpty { try apply(urlSpec, value, from: "env DATABASE_URL") }
        if let value = environment["KHAREETATY_DATABASE_URL"], !value.isEmpty { try apply(urlSpec, value, from: "env KHAREETATY_DATABASE_URL") }
        if let databaseFlag { try apply(urlSpec, databaseFlag, from: "--database") }
        return settings
    }
}

extension Settings {
    /// libpq's environment variables that hold secrets.
    static let secretEnvironment: Set<String> = ["PGPASSWORD", "PGSSLPASSWORD"]

    /// `khareetaty config show`: one line per key with its effective value (secrets redacted) and source,
    /// then the libpq variables that apply when `database.url` leaves something unset.
    public func rendered(environment: [String: String]) -> String {
        var lines: [String] = []
        let width = SettingSpec.all.map(\.key.count).max() ?? 20
        for spec in SettingSpec.all {
            var value = spec.read(self)
            if spec.secret { value = ConnectionString.redacted(value) }
            if spec.key == "database.url", value.isEmpty { value = "(empty: libpq defaults)" }
            let padded = spec.key.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("\(padded)  \(value)    # \(sources[spec.key] ?? "default")")
        }
        let libpq = environment.filter { $0.key.hasPrefix("PG") }.sorted { $0.key < $1.key }
        if !libpq.isEmpty {
            lines.append("")
            lines.append("# libpq environment (applies to whatever database.url leaves unset):")
            for (name, value) in libpq {
                // Passwords are never shown; PGDATABASE may be a whole connection string (libpq expands it).
                let shown = Self.secretEnvironment.contains(name) ? "***"
                    : value.contains("=") || value.contains("://") ? ConnectionString.redacted(value) : value
                lines.append("\(name)=\(shown)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
