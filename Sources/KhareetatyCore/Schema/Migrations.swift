/// One versioned schema change. Applied in order, each in its own transaction, with
/// `search_path` set to the target schema (so the SQL names tables without a schema).
/// Never edit an applied migration: add a new one. The checksum catches edits.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    /// FNV-1a 64 of the SQL text, hex: enough to notice an edited migration.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return String(hash, radix: 16)
    }
}

extension Migration {
    public static let all: [Migration] = [
        Migration(version: 1, name: "initial tables: ledger, districts, incidents, rejects, daily counts", sql: """
            -- One row per run; the 'running' row is committed before work starts so a crash leaves evidence.
            CREATE TABLE pipeline_runs (
                run_id          uuid PRIMARY KEY,
                kind            text NOT NULL CHECK (kind IN ('nightly', 'backfill', 'replay')),
                status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
                pipeline        text NOT NULL,
                started_at      timestamptz NOT NULL DEFAULT now(),
                finished_at     timestamptz,
                host            text NOT NULL,
                version         text NOT NULL,
                rows_read       bigint,
                rows_loaded     bigint,
                rows_rejected   bigint,
                rows_duplicate  bigint,
                rows_unassigned bigint,
                inputs          jsonb NOT NULL DEFAULT '[]',
                error           text
            );

            -- Kuwait areas, kept in sync with the pipeline's boundary file; geometry as GeoJSON text
            -- so dashboards can draw maps without PostGIS.
            CREATE TABLE districts (
                code             text PRIMARY KEY,
                name             text NOT NULL,
                governorate_code text,
                governorate_name text,
                area_km2         double precision NOT NULL,
                geometry_geojson text NOT NULL
            );

            CREATE TABLE incidents (
                incident_id      text PRIMARY KEY,
                occurred_at      timestamptz NOT NULL,
                local_date       date NOT NULL,
                category         text NOT NULL,
                lat              double precision,
                lon              double precision,
                area_name        text,
                description      text,
                updated_at       timestamptz,
                district_code    text,
                governorate_code text,
                geocode_method   text NOT NULL,
                source_file      text NOT NULL,
                source_line      integer NOT NULL,
                run_id           uuid NOT NULL
            );
            CREATE INDEX incidents_local_date_idx ON incidents (local_date);

            -- Records that were not loaded, with the reason; raw text capped by the client.
            CREATE TABLE incident_rejects (
                run_id      uuid NOT NULL,
                source_file text NOT NULL,
                source_line integer NOT NULL,
                reason_code text NOT NULL,
                message     text NOT NULL,
                raw         text NOT NULL
            );
            CREATE INDEX incident_rejects_run_idx ON incident_rejects (run_id);

            -- Incidents per local day, district and category (plus category 'all'). Days without
            -- incidents have no row: readers treat a missing row as zero.
            CREATE TABLE district_daily (
                local_date     date NOT NULL,
                district_code  text NOT NULL,
                category       text NOT NULL,
                incident_count integer NOT NULL CHECK (incident_count > 0),
                PRIMARY KEY (local_date, district_code, category)
            );
            """),
        Migration(version: 2, name: "incident flags; rejects and flags per run", sql: """
            -- What the clean stage repaired or substituted (swapped_coordinates, unknown_category, transcoded).
            ALTER TABLE incidents ADD COLUMN flags text[] NOT NULL DEFAULT '{}';
            ALTER TABLE pipeline_runs ADD COLUMN rejects_by_reason jsonb NOT NULL DEFAULT '{}',
                                      ADD COLUMN flags jsonb NOT NULL DEFAULT '{}';
            """),
        Migration(version: 3, name: "geocode methods point/nearest/name/none, with a detail", sql: """
            ALTER TABLE incidents ADD COLUMN geocode_detail text;
            UPDATE incidents SET geocode_method = CASE geocode_method WHEN 'polygon' THEN 'point' WHEN 'unassigned' THEN 'none'
                                                                      ELSE geocode_method END;
            ALTER TABLE incidents ADD CONSTRAINT incidents_geocode_method_check
                CHECK (geocode_method IN ('point', 'nearest', 'name', 'none'));
            ALTER TABLE pipeline_runs ADD COLUMN geocode_methods jsonb NOT NULL DEFAULT '{}';
            """),
        Migration(version: 4, name: "ledger: hash of the effective pipeline, seconds per stage", sql: """
            -- SHA-256 over the pipeline file and every file it refers to (boundaries, categories, aliases):
            -- two runs with the same hash ran with the same rules.
            ALTER TABLE pipeline_runs ADD COLUMN pipeline_sha256 text,
                                      ADD COLUMN stage_seconds jsonb NOT NULL DEFAULT '{}';
            """),
        Migration(version: 5, name: "incidents partitioned by month of local_date", sql: """
            -- Native range partitions, one per month (incidents_YYYY_MM), created on demand by the
            -- loader. The key must hold the partition column; incident_id stays unique because the
            -- loader replaces any stored row with the same id, whatever its month.
            ALTER TABLE incidents RENAME TO incidents_unpartitioned;
            ALTER INDEX incidents_local_date_idx RENAME TO incidents_unpartitioned_local_date_idx;
            CREATE TABLE incidents (LIKE incidents_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
                PARTITION BY RANGE (local_date);
            ALTER TABLE incidents ADD PRIMARY KEY (incident_id, local_date);
            CREATE INDEX incidents_local_date_idx ON incidents (local_date);
            CREATE INDEX incidents_incident_id_idx ON incidents (incident_id);
            DO $$
            DECLARE m date;
            BEGIN
                FOR m IN SELECT DISTINCT date_trunc('month', local_date)::date FROM incidents_unpartitioned LOOP
                    EXECUTE format('CREATE TABLE %I PARTITION OF incidents FOR VALUES FROM (%L) TO (%L)',
                                   'incidents_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
                END LOOP;
            END $$;
            INSERT INTO incidents SELECT * FROM incidents_unpartitioned;
            DROP TABLE incidents_unpartitioned;
            """),
        Migration(version: 6, name: "backfill chunks, for resumable backfills", sql: """
            -- One row per finished chunk of a backfill; a backfill re-run with the same arguments
            -- (same key) skips the chunks already here.
            CREATE TABLE backfill_chunks (
                backfill_key text NOT NULL,
                chunk_start  date NOT NULL,
                chunk_end    date NOT NULL,
                run_id       uuid NOT NULL,
                finished_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
                PRIMARY KEY (backfill_key, chunk_start)
            );
            """),
        Migration(version: 7, name: "as-of date of each run", sql: """
            -- The date the run reports on (`run --date`, default: yesterday in the pipeline's zone).
            ALTER TABLE pipeline_runs ADD COLUMN as_of_date date;
            """),
        Migration(version: 8, name: "district trends", sql: """
            -- Per as-of date, district and category (incl. 'all'): recent counts against a baseline, and
            -- a Mann-Kendall trend over the last `weeks` weekly counts. Replaced per as-of date.
            CREATE TABLE district_trends (
                as_of_date    date NOT NULL,
                district_code text NOT NULL,
                category      text NOT NULL,
                count_7d      integer NOT NULL,
                count_28d     integer NOT NULL,
                baseline_7d   double precision NOT NULL,
                change_pct    double precision,
                poisson_z     double precision,
                weeks         integer NOT NULL,
                mk_s          double precision,
                mk_tau        double precision,
                mk_z          double precision,
                mk_p          double precision,
                sen_slope     double precision,
                trend_label   text NOT NULL CHECK (trend_label IN ('rising', 'falling', 'no_trend', 'insufficient_data')),
                PRIMARY KEY (as_of_date, district_code, category)
            );
            """),
        Migration(version: 9, name: "hot spot grids and cells", sql: """
            -- Everything needed to recompute any stored Gi* z-score: the grid (projection, origin, cell
            -- size, number of cells), the mean and standard deviation of the counts, the distance band.
            CREATE TABLE hotspot_grids (
                as_of_date  date NOT NULL,
                window_days integer NOT NULL,
                projection  text NOT NULL,
                origin_x    double precision NOT NULL,
                origin_y    double precision NOT NULL,
                cell_size_m double precision NOT NULL,
                n_cells     integer NOT NULL,
                mean_count  double precision NOT NULL,
                std_count   double precision NOT NULL,
                band_m      double precision NOT NULL,
                fdr         boolean NOT NULL,
                PRIMARY KEY (as_of_date, window_days)
            );
            -- Cells with incidents or a non-zero bin; a cell that is not stored has count zero.
            CREATE TABLE hotspot_cells (
                as_of_date       date NOT NULL,
                window_days      integer NOT NULL,
                cell_col         integer NOT NULL,
                cell_row         integer NOT NULL,
                centroid_lat     double precision NOT NULL,
                centroid_lon     double precision NOT NULL,
                district_code    text,
                incident_count   integer NOT NULL,
                gi_z             double precision NOT NULL,
                gi_p             double precision NOT NULL,
                gi_bin           integer NOT NULL CHECK (gi_bin BETWEEN -3 AND 3),
                geometry_geojson text NOT NULL,
                PRIMARY KEY (as_of_date, window_days, cell_col, cell_row)
            );
            """),
        Migration(version: 10, name: "emerging hot spots", sql: """
            -- Per as-of date and grid cell (of that date's hotspot grid): the Mann-Kendall trend of the
            -- cell's weekly Gi* z-scores and its ArcGIS emerging hot spot pattern.
            CREATE TABLE emerging_hotspots (
                as_of_date date NOT NULL,
                cell_col   integer NOT NULL,
                cell_row   integer NOT NULL,
                weeks      integer NOT NULL,
                mk_tau     double precision,
                mk_z       double precision,
                mk_p       double precision,
                pattern    text NOT NULL,
                PRIMARY KEY (as_of_date, cell_col, cell_row)
            );
            """),
        Migration(version: 11, name: "drop the incident_id index the primary key already provides", sql: """
            -- The primary key (incident_id, local_date) serves every lookup by incident_id (its leading
            -- column); a second index on incident_id only cost time on every load (≈ 6% of a bulk load).
            DROP INDEX incidents_incident_id_idx;
            """),
    ]

    public static var latestVersion: Int { all.last?.version ?? 0 }
}
