import Postgres

/// `database.distribution`: where a schema's tables live.
///   - `none`: ordinary PostgreSQL tables (the default).
///   - `citus`: the tables that grow are spread over a Citus cluster's workers; `migrate` on the
///     coordinator distributes them (idempotent), and every other command finds out from the
///     database itself (`Distribution.isDistributed`), so one binary serves both kinds of schema.
public enum DistributionMode: String, Sendable, CaseIterable {
    case none, citus
}

/// A schema that cannot be distributed as asked.
public struct DistributionError: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var message: String
    public var exitCode: ExitCode { .failure }
    public var description: String { message }
}

/// Which table goes where on Citus, and why (docs/SCALING.md tells the same, with what was measured):
///
/// - `incidents` (with its monthly partitions) and `incidents_stage` are hash-distributed by
///   `incident_id` and co-located. Its key `(incident_id, local_date)` contains the column, so
///   Citus accepts it as it is; the id is never NULL (a district may be: unassigned incidents);
///   every version of one id lives on one shard, so "one row per incident id", the duplicate
///   ranking and the replacement of a re-sent incident that moved area or month are shard-local
///   joins that run on the workers in parallel.
/// - `district_daily`, `district_monthly`, `district_trends`: distributed by `district_code` (in
///   each key, never NULL there), co-located with each other; the counts are a GROUP BY over
///   `incidents` that Citus repartitions into them.
/// - `hotspot_cells`, `emerging_hotspots`: distributed by `cell_col` (in both keys), co-located.
/// - `incident_rejects`: distributed by `run_id` (written once per run, read per run).
/// - `districts`, `hotspot_grids`: reference tables (small, joined with everything, copied to
///   every node).
/// - `pipeline_runs`, `backfill_chunks`, `schema_migrations` stay ordinary tables on the
///   coordinator: the run ledger is written in short transactions of its own and the backfill queue
///   is claimed with `FOR UPDATE SKIP LOCKED`, both plain PostgreSQL at the node that takes them.
///
/// Loads on a distributed schema do no DDL (Citus lets one transaction touch distributed tables as
/// one user only, so the schema owner's definer functions cannot create or attach partitions in a
/// load that the loading role then writes): staging is a permanent distributed table, emptied at
/// the start and end of each load, and months without a partition of their own land in
/// `incidents_default`.
public enum Distribution {
    struct Placement {
        let table: String
        let kind: Kind
        enum Kind { case hash(column: String, colocateWith: String?), reference }
    }

    /// In creation order: a table is co-located with one created before it.
    static let placements: [Placement] = [
        Placement(table: "districts", kind: .reference),
        Placement(table: "hotspot_grids", kind: .reference),
        Placement(table: "incidents", kind: .hash(column: "incident_id", colocateWith: nil)),
        Placement(table: "incidents_stage", kind: .hash(column: "incident_id", colocateWith: "incidents")),
        Placement(table: "incident_rejects", kind: .hash(column: "run_id", colocateWith: nil)),
        Placement(table: "district_daily", kind: .hash(column: "district_code", colocateWith: nil)),
        Placement(table: "district_monthly", kind: .hash(column: "district_code", colocateWith: "district_daily")),
        Placement(table: "district_trends", kind: .hash(column: "district_code", colocateWith: "district_daily")),
        Placement(table: "hotspot_cells", kind: .hash(column: "cell_col", colocateWith: nil)),
        Placement(table: "emerging_hotspots", kind: .hash(column: "cell_col", colocateWith: "hotspot_cells")),
    ]

    /// Whether `schema`'s incidents are a Citus distributed table (false without Citus).
    public static func isDistributed(db: any Queryable, schema: String) throws -> Bool {
        // Two statements: a name in a statement is resolved before any condition is evaluated.
        guard try db.query("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL").scalar == "t" else { return false }
        return try db.query("SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = to_regclass($1))",
                            [quoteIdentifier(schema) + ".incidents"]).scalar == "t"
    }

    /// Makes `schema` what `mode` says. `none` changes nothing (a distributed schema stays so: undoing
    /// it is `undistribute_table`, a DBA's decision). `citus` needs the extension in this database
    /// and at least one worker; it is idempotent and takes the migrator's lock.
    public static func ensure(_ mode: DistributionMode, connection: PostgresConnection, schema: String) throws {
        guard mode == .citus else { return }
        let s = quoteIdentifier(schema)
        guard try connection.query("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')").scalar == "t" else {
            throw DistributionError(message: "database.distribution is citus but this database has no citus extension: connect to a Citus coordinator (CREATE EXTENSION citus; workers added with citus_add_node)")
        }
        let workers = try connection.query("SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND shouldhaveshards AND isactive").typedRows.first?.int(0) ?? 0
        guard workers > 0 else {
            throw DistributionError(message: "database.distribution is citus but the cluster has no node that takes shards: add workers with citus_add_node")
        }
        try connection.withTransaction { db in
            try db.query("SELECT pg_advisory_xact_lock(hashtext('khareetaty.migrate.' || $1))", [schema])
            // The permanent staging table (a plain schema creates one per load instead): the stored
            // incident's columns and the two staging ones, no key (duplicates are what it sorts out).
            try db.execute("""
                CREATE TABLE IF NOT EXISTS \(s).incidents_stage (LIKE \(s).incidents INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                    seq bigint NOT NULL, maybe_repeat boolean NOT NULL);
                ALTER TABLE \(s).incidents_stage OWNER TO \(quoteIdentifier(schema + "_owner"));
                GRANT SELECT, INSERT, DELETE, TRUNCATE ON \(s).incidents_stage TO \(quoteIdentifier(schema + "_loader"));
                """)
            for placement in placements {
                let table = "\(s).\(quoteIdentifier(placement.table))"
                let distributed = try db.query("SELECT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = $1::regclass)", [table]).scalar == "t"
                if distributed { continue }
                switch placement.kind {
                case .reference:
                    try db.query("SELECT create_reference_table($1)", [table])
                case let .hash(column, colocateWith):
                    try db.query("SELECT create_distributed_table($1, $2, colocate_with => $3)",
                                 [table, column, colocateWith.map { "\(s).\(quoteIdentifier($0))" } ?? "none"])
                }
            }
            // Months that have no partition of their own (a load creates none on Citus).
            if try db.query("SELECT to_regclass($1) IS NULL", ["\(s).incidents_default"]).scalar == "t" {
                try db.execute("CREATE TABLE \(s).incidents_default PARTITION OF \(s).incidents DEFAULT")
                try db.execute("ALTER TABLE \(s).incidents_default OWNER TO \(quoteIdentifier(schema + "_owner"))")
            }
        }
        // The reader role may read incidents without `description` (migration 13): a column
        // privilege, which Citus neither grants on shards nor accepts on a distributed table. The
        // coordinator keeps enforcing it (every query is planned there); the shards of incidents and
        // of its partitions get a table-wide SELECT so that the workers run what it allowed. So an
        // analyst's login must reach the coordinator only (workers: pg_hba for the coordinator).
        // After the commit: run_command_on_shards reaches the shards over connections of its own.
        for table in try connection.query("""
            SELECT $1::regclass::text UNION ALL
            SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = $1::regclass
            """, ["\(s).incidents"]).rows.compactMap({ $0[0] }) {
            let failed = try connection.query("""
                SELECT shardid, result FROM run_command_on_shards($1, $2) WHERE NOT success LIMIT 1
                """, [table, "GRANT SELECT ON %s TO \(quoteIdentifier(schema + "_reader"))"]).rows.first
            if let failed {
                throw DistributionError(message: "granting the reader role SELECT on shard \(failed[0] ?? "?") of \(table) failed: \(failed[1] ?? "?")")
            }
        }
    }

    /// How the schema's tables are placed, in a line (`check`'s `cluster` line; `migrate` prints it too).
    public static func state(db: any Queryable, schema: String) throws -> String {
        guard try isDistributed(db: db, schema: schema) else { return "none (ordinary PostgreSQL tables)" }
        let rows = try db.query("""
            SELECT (SELECT extversion FROM pg_extension WHERE extname = 'citus'),
                   (SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND shouldhaveshards AND isactive),
                   (SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = to_regclass($1))
            """, [quoteIdentifier(schema) + ".incidents"]).typedRows
        let (version, nodes, shards) = (rows.first?[0] ?? "?", rows.first?[1] ?? "?", rows.first?[2] ?? "?")
        return "citus \(version): incidents in \(shards) shards by incident_id over \(nodes) nodes; counts by district_code, cells by cell_col; districts and grids on every node"
    }
}
