import Postgres

/// A schema that cannot be migrated safely.
public struct MigrationError: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var message: String
    public var exitCode: ExitCode { .failure }
    public var description: String { message }
}

/// Applies `Migration.all` to one schema, recording them in `schema_migrations`.
/// Idempotent; safe against a concurrent migrator (a transaction-scoped advisory lock per schema).
public struct Migrator {
    /// The roles migration 13 creates for `schema` (global to the cluster, not inside the schema).
    public static func roles(of schema: String) -> [String] { ["_owner", "_loader", "_reader"].map { schema + $0 } }

    /// Drops a scratch schema and its roles (best effort: a role still used elsewhere stays).
    public static func dropScratch(_ schema: String, db: PostgresConnection) {
        _ = try? db.execute("DROP SCHEMA IF EXISTS \(quoteIdentifier(schema)) CASCADE")
        for role in roles(of: schema) { _ = try? db.execute("DROP ROLE IF EXISTS \(quoteIdentifier(role))") }
    }

    public let connection: PostgresConnection
    public let schema: String
    public let migrations: [Migration]
    /// What `migrate` makes of the tables after the migrations (`database.distribution`).
    public let distribution: DistributionMode

    public init(connection: PostgresConnection, schema: String, migrations: [Migration] = Migration.all,
                distribution: DistributionMode = .none) {
        self.connection = connection
        self.schema = schema
        self.migrations = migrations
        self.distribution = distribution
    }

    private var quotedSchema: String { quoteIdentifier(schema) }

    /// Versions applied so far (empty when the schema or its table does not exist yet).
    public func appliedVersions() throws -> [Int: String] { try appliedVersions(connection) }

    private func appliedVersions(_ db: any Queryable) throws -> [Int: String] {
        let exists = try db.query("SELECT to_regclass($1) IS NOT NULL", [quotedSchema + ".schema_migrations"]).scalar == "t"
        guard exists else { return [:] }
        let rows = try db.query("SELECT version, checksum FROM \(quotedSchema).schema_migrations").typedRows
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.int(0), $0[1] ?? "") })
    }

    /// Refuses a schema that a newer Khareetaty has migrated, or whose applied migrations were edited.
    public func verify(applied: [Int: String]) throws {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        if let newest = applied.keys.max(), newest > (migrations.last?.version ?? 0) {
            throw MigrationError(message: "schema \(schema) is at version \(newest), newer than this khareetaty knows (\(migrations.last?.version ?? 0)): upgrade khareetaty instead of running an older one against it")
        }
        for (version, checksum) in applied {
            if let migration = known[version], migration.checksum != checksum {
                throw MigrationError(message: "migration \(version) (\(migration.name)) was applied with checksum \(checksum) but is now \(migration.checksum): applied migrations must never be edited")
            }
        }
    }

    /// Applies every pending migration, each in its own transaction, then creates or refreshes the
    /// PostGIS geometry views where PostGIS is available. Returns the migrations applied.
    @discardableResult
    public func migrate() throws -> [Migration] {
        try connection.withTransaction { db in
            try lock(db)
            try db.execute("""
                CREATE SCHEMA IF NOT EXISTS \(quotedSchema);
                CREATE TABLE IF NOT EXISTS \(quotedSchema).schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """)
        }
        var applied: [Migration] = []
        for migration in migrations {
            let done = try connection.withTransaction { db -> Bool in
                try lock(db)
                let versions = try appliedVersions(db)
                try verify(applied: versions)
                if versions[migration.version] != nil { return true }
                try db.execute("SET LOCAL search_path TO \(quotedSchema)")
                try db.execute(migration.sql)
                try db.query("INSERT INTO \(quotedSchema).schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                             [String(migration.version), migration.name, migration.checksum])
                return false
            }
            if !done { applied.append(migration) }
        }
        // Not migrations: they depend on the cluster (Citus) or on an optional extension (PostGIS),
        // and apply to the latest schema only. Distributed tables first: the geometry views over them.
        if migrations.last?.version == Migration.latestVersion {
            try Distribution.ensure(distribution, connection: connection, schema: schema)
            try GeometryLayers.ensure(connection: connection, schema: schema)
        }
        return applied
    }

    /// Current version and whether it matches this binary (for `check` and `run`).
    public func requireCurrent() throws {
        let versions = try appliedVersions()
        try verify(applied: versions)
        let current = versions.keys.max() ?? 0
        guard current == Migration.latestVersion else {
            throw MigrationError(message: "schema \(schema) is at version \(current), this khareetaty needs \(Migration.latestVersion): run `khareetaty migrate`")
        }
    }

    private func lock(_ db: Transaction) throws {
        try db.query("SELECT pg_advisory_xact_lock(hashtext('khareetaty.migrate.' || $1))", [schema])
    }
}
