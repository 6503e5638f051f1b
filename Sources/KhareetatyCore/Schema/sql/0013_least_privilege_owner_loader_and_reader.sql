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
