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
