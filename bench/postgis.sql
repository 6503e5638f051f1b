-- The PostGIS way (timed by bench/run.sh): what an analyst with PostGIS would write for the peers'
-- job — load the raw CSV, assign each incident to its area with ST_Covers on a GiST index, keep the
-- latest record per id, add the primary key, count per day, area and category. One transaction.
-- It is a simpler job than Khareetaty's: rows that would not cast are dropped by a WHERE (not
-- counted or explained), no bounding-box repair, no snapping, no gazetteer, no partitions.
-- psql -v schema=NAME -f bench/postgis.sql < FILE.csv   (after bench/postgis-setup.sql)
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET search_path = :"schema", public;
BEGIN;
DROP TABLE IF EXISTS raw, incidents, district_daily;
CREATE TABLE raw (incident_id text, occurred_at text, category text, latitude text, longitude text,
                  area text, description text, updated_at text);
\copy raw FROM pstdin WITH (FORMAT csv, HEADER true)
CREATE TABLE incidents AS
SELECT DISTINCT ON (r.incident_id)
       r.incident_id, r.occurred_at::timestamptz AS occurred_at,
       (r.occurred_at::timestamptz AT TIME ZONE 'Asia/Kuwait')::date AS local_date,
       r.category, r.latitude::float8 AS lat, r.longitude::float8 AS lon, a.code AS district_code,
       nullif(r.updated_at, '')::timestamptz AS updated_at
FROM raw r
LEFT JOIN areas a ON ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(r.longitude::float8, r.latitude::float8), 4326))
WHERE r.occurred_at ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$' AND r.category <> ''
  AND r.latitude ~ '^-?\d+(\.\d+)?$' AND r.longitude ~ '^-?\d+(\.\d+)?$'
ORDER BY r.incident_id, nullif(r.updated_at, '')::timestamptz DESC NULLS LAST;
ALTER TABLE incidents ADD PRIMARY KEY (incident_id);
CREATE TABLE district_daily AS
SELECT local_date, district_code, category, count(*) AS incident_count
FROM incidents WHERE district_code IS NOT NULL GROUP BY 1, 2, 3;
ALTER TABLE district_daily ADD PRIMARY KEY (local_date, district_code, category);
COMMIT;
