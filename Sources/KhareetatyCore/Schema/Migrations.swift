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
        Migration(version: 12, name: "backfill chunks as a work queue for backfill workers", sql: """
            -- `backfill --enqueue` writes a range's chunks as 'open'; `backfill --worker` processes claim
            -- them with FOR UPDATE SKIP LOCKED and mark them 'done' in the same transaction.
            ALTER TABLE backfill_chunks
                ALTER COLUMN run_id DROP NOT NULL,
                ALTER COLUMN finished_at DROP NOT NULL,
                ADD COLUMN status text NOT NULL DEFAULT 'done' CHECK (status IN ('open', 'done')),
                ADD COLUMN worker text;
            ALTER TABLE backfill_chunks ADD CONSTRAINT backfill_chunks_done_check
                CHECK (status = 'open' OR (run_id IS NOT NULL AND finished_at IS NOT NULL));
            CREATE INDEX backfill_chunks_open_idx ON backfill_chunks (chunk_start) WHERE status = 'open';
            """),
        Migration(version: 13, name: "least privilege: owner, loader and reader roles; staging DDL through definer functions", sql: #"""
            -- Three roles per schema S (NOLOGIN groups: grant them to login roles):
            --   S_owner  owns the schema and every object in it; migrations run as a member of it.
            --   S_loader runs the pipeline: DML on the tables, and the four functions below, which do
            --            the only DDL a load needs (its staging table and monthly partitions). No CREATE
            --            on the schema, no ALTER, no DROP.
            --   S_reader reads the outputs: districts, daily counts, trends, hot spots, the ledger, and
            --            incidents without `description` (free text that may name people). Not
            --            incident_rejects, whose raw records may hold anything.
            -- Creating roles needs CREATEROLE (or a DBA who created them first: existing ones are reused).
            CREATE FUNCTION stage_begin() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $f$
            BEGIN
                CREATE TABLE incidents_stage (LIKE incidents INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                                              seq bigint NOT NULL, maybe_repeat boolean NOT NULL) PARTITION BY RANGE (local_date);
                EXECUTE format('GRANT SELECT, INSERT, DELETE ON incidents_stage TO %I', current_schema() || '_loader');
            END $f$;

            -- A staging partition for the month starting on first_day: the month's future partition of
            -- incidents (incidents_YYYY_MM) when it has none yet, else incidents_stage_YYYY_MM. Returns
            -- whether the month is new.
            CREATE FUNCTION stage_month(first_day date) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER AS $f$
            DECLARE
                is_new boolean := to_regclass(format('%I.%I', current_schema(), 'incidents_' || to_char(first_day, 'YYYY_MM'))) IS NULL;
            BEGIN
                IF first_day <> date_trunc('month', first_day)::date THEN
                    RAISE EXCEPTION 'stage_month: % is not the first day of a month', first_day USING ERRCODE = '22023';
                END IF;
                EXECUTE format('CREATE TABLE %I PARTITION OF incidents_stage FOR VALUES FROM (%L) TO (%L)',
                               CASE WHEN is_new THEN 'incidents_' ELSE 'incidents_stage_' END || to_char(first_day, 'YYYY_MM'),
                               first_day, (first_day + interval '1 month')::date);
                RETURN is_new;
            END $f$;

            -- Moves a new month from staging into incidents: detach, drop the staging columns, add the
            -- CHECK that lets ATTACH skip its scan, attach (which builds the indexes), analyze.
            CREATE FUNCTION attach_month(first_day date) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $f$
            DECLARE
                part text := 'incidents_' || to_char(first_day, 'YYYY_MM');
                next_day date := (first_day + interval '1 month')::date;
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = to_regclass(format('%I.%I', current_schema(), part))
                                                         AND inhparent = to_regclass(format('%I.incidents_stage', current_schema()))) THEN
                    RAISE EXCEPTION 'attach_month: % is not a staged new month', part USING ERRCODE = '22023';
                END IF;
                EXECUTE format('ALTER TABLE incidents_stage DETACH PARTITION %I', part);
                EXECUTE format('ALTER TABLE %I DROP COLUMN seq, DROP COLUMN maybe_repeat, ADD CONSTRAINT %I CHECK (local_date >= %L AND local_date < %L)',
                               part, part || '_range', first_day, next_day);
                EXECUTE format('ALTER TABLE incidents ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, first_day, next_day);
                EXECUTE format('ANALYZE %I (local_date, district_code)', part);
            END $f$;

            CREATE FUNCTION stage_end() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $f$
            BEGIN
                DROP TABLE IF EXISTS incidents_stage;
            END $f$;

            DO $$
            DECLARE
                s text := current_schema();
                owner_role text := s || '_owner';
                loader_role text := s || '_loader';
                reader_role text := s || '_reader';
                role_name text;
                t record;
            BEGIN
                -- Roles belong to the whole cluster: serialise their creation across concurrent migrations.
                PERFORM pg_advisory_xact_lock(hashtext('khareetaty.roles'));
                FOREACH role_name IN ARRAY ARRAY[owner_role, loader_role, reader_role] LOOP
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
                        EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
                    END IF;
                END LOOP;
                -- Whoever migrates hands the objects to the owner role and stays a member of it.
                IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AND NOT pg_has_role(current_user, owner_role, 'MEMBER') THEN
                    EXECUTE format('GRANT %I TO %I', owner_role, current_user);
                END IF;
                EXECUTE format('ALTER SCHEMA %I OWNER TO %I', s, owner_role);
                FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = s::regnamespace AND c.relkind IN ('r', 'p') LOOP
                    EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', s, t.relname, owner_role);
                END LOOP;
                FOR t IN SELECT p.oid::regprocedure AS f FROM pg_proc p
                         WHERE p.pronamespace = s::regnamespace AND p.proname IN ('stage_begin', 'stage_month', 'attach_month', 'stage_end') LOOP
                    EXECUTE format('ALTER FUNCTION %s OWNER TO %I', t.f, owner_role);
                    -- A definer function must not find objects through a search_path its caller controls.
                    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', t.f, s);
                    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', t.f);
                    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', t.f, loader_role);
                END LOOP;
                EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I, %I', s, loader_role, reader_role);
                EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s, loader_role);
                EXECUTE format('GRANT SELECT ON districts, district_daily, district_trends, hotspot_grids, hotspot_cells, emerging_hotspots, '
                               'pipeline_runs, schema_migrations TO %I', reader_role);
                EXECUTE format('GRANT SELECT (incident_id, occurred_at, local_date, category, lat, lon, area_name, updated_at, district_code, '
                               'governorate_code, geocode_method, geocode_detail, flags, source_file, source_line, run_id) ON incidents TO %I', reader_role);
            END $$;
            -- Later migrations: run as a member of S_owner, and grant what each new table needs here too.
            """#),
        Migration(version: 14, name: "valid hot spots and trends: analysis state and choices, baseline coverage, stale backfill chunks", sql: """
            -- One row per as-of date, analysis ('hotspot' per window, 'emerging' over the trend weeks) and
            -- window: whether there was enough data ('insufficient_data' marks no cell), how many incidents,
            -- the fixed CRS of the grid, the scale chosen and why, the inference and its seed.
            ALTER TABLE hotspot_grids
                ADD COLUMN analysis text NOT NULL DEFAULT 'hotspot' CHECK (analysis IN ('hotspot', 'emerging')),
                ADD COLUMN status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'insufficient_data')),
                ADD COLUMN n_incidents integer,
                ADD COLUMN crs text,
                ADD COLUMN inference text NOT NULL DEFAULT 'normal_approximation',
                ADD COLUMN permutations integer,
                ADD COLUMN seed bigint,
                ADD COLUMN nn_median_m double precision,
                ADD COLUMN neighbours_min integer,
                ADD COLUMN neighbours_max integer,
                ADD COLUMN study_areas integer,
                ADD COLUMN steps_with_data integer,
                ADD COLUMN scale_reason text;
            ALTER TABLE hotspot_grids DROP CONSTRAINT hotspot_grids_pkey;
            ALTER TABLE hotspot_grids ADD PRIMARY KEY (as_of_date, analysis, window_days);
            -- Without an analysis there is no p-value.
            ALTER TABLE hotspot_cells ALTER COLUMN gi_p DROP NOT NULL;
            -- A baseline the history does not cover is missing, not zero; the change is judged by an
            -- exact test on the counts.
            ALTER TABLE district_trends
                ALTER COLUMN baseline_7d DROP NOT NULL,
                ADD COLUMN change_p double precision,
                ADD COLUMN change_label text CHECK (change_label IN ('increase', 'decrease', 'no_change', 'too_few', 'insufficient_data'));
            -- The newest load a done chunk had seen: a later load makes it stale and the next backfill redoes it.
            ALTER TABLE backfill_chunks ADD COLUMN data_version timestamptz;
            """),
        Migration(version: 15, name: "a run stopped by a signal is cancelled, not failed", sql: """
            ALTER TABLE pipeline_runs DROP CONSTRAINT pipeline_runs_status_check;
            ALTER TABLE pipeline_runs ADD CONSTRAINT pipeline_runs_status_check
                CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'));
            """),
    ]

    public static var latestVersion: Int { all.last?.version ?? 0 }
}
