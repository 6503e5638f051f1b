/// One versioned schema change, written as SQL in `Schema/sql/NNNN_name.sql`. Applied in order,
/// each in its own transaction, with `search_path` set to the target schema (so the SQL names
/// tables without a schema). Never edit an applied migration: add a new file and a line below.
/// The checksum catches edits (and a test pins every shipped one).
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// A migration whose SQL is `Schema/sql/<file>.sql` (compiled in by the EmbedSQL plugin).
    init(version: Int, name: String, file: String) {
        self.version = version
        self.name = name
        guard let sql = EmbeddedSQL.files[file] else { preconditionFailure("Schema/sql/\(file).sql is missing from the build") }
        self.sql = sql
    }

    /// FNV-1a 64 of the SQL text, hex: enough to notice an edited migration.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return String(hash, radix: 16)
    }
}

extension Migration {
    public static let all: [Migration] = [
        Migration(version: 1, name: "initial tables: ledger, districts, incidents, rejects, daily counts", file: "0001_initial_tables_ledger_districts_incidents_rejects"),
        Migration(version: 2, name: "incident flags; rejects and flags per run", file: "0002_incident_flags_rejects_and_flags_per"),
        Migration(version: 3, name: "geocode methods point/nearest/name/none, with a detail", file: "0003_geocode_methods_point_nearest_name_none"),
        Migration(version: 4, name: "ledger: hash of the effective pipeline, seconds per stage", file: "0004_ledger_hash_of_the_effective_pipeline"),
        Migration(version: 5, name: "incidents partitioned by month of local_date", file: "0005_incidents_partitioned_by_month_of_local"),
        Migration(version: 6, name: "backfill chunks, for resumable backfills", file: "0006_backfill_chunks_for_resumable_backfills"),
        Migration(version: 7, name: "as-of date of each run", file: "0007_as_of_date_of_each_run"),
        Migration(version: 8, name: "district trends", file: "0008_district_trends"),
        Migration(version: 9, name: "hot spot grids and cells", file: "0009_hot_spot_grids_and_cells"),
        Migration(version: 10, name: "emerging hot spots", file: "0010_emerging_hot_spots"),
        Migration(version: 11, name: "drop the incident_id index the primary key already provides", file: "0011_drop_the_incident_id_index_the"),
        Migration(version: 12, name: "backfill chunks as a work queue for backfill workers", file: "0012_backfill_chunks_as_a_work_queue"),
        Migration(version: 13, name: "least privilege: owner, loader and reader roles; staging DDL through definer functions", file: "0013_least_privilege_owner_loader_and_reader"),
        Migration(version: 14, name: "valid hot spots and trends: analysis state and choices, baseline coverage, stale backfill chunks", file: "0014_valid_hot_spots_and_trends_analysis"),
        Migration(version: 15, name: "a run stopped by a signal is cancelled, not failed", file: "0015_a_run_stopped_by_a_signal"),
        Migration(version: 16, name: "month-only incidents: time precision, monthly counts", file: "0016_month_only_incidents_and_monthly_counts"),
        Migration(version: 17, name: "real run kinds and the pipeline file on the ledger", file: "0017_real_run_kinds_and_the_pipeline_file"),
        Migration(version: 18, name: "area codes from the export", file: "0018_area_codes_from_the_export"),
        Migration(version: 19, name: "comments: the analyst contract", file: "0019_comments_the_analyst_contract"),
        Migration(version: 20, name: "analyst views, Arabic names, emerging cells' places, change rounded", file: "0020_analyst_views_arabic_names_emerging_places"),
        Migration(version: 21, name: "incident ids compared byte by byte", file: "0021_incident_ids_compared_byte_by_byte"),
        Migration(version: 22, name: "cheaper month attach: CHECK when staged, smaller ANALYZE sample", file: "0022_cheaper_month_attach"),
    ]

    public static var latestVersion: Int { all.last?.version ?? 0 }
}
