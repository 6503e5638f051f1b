-- The PostGIS way, set-up (not timed, like Khareetaty's own boundary load is part of its run but
-- takes 0.07 s): the 137 Kuwait areas from the same GeoJSON file, with a GiST index.
-- psql -v geojson=FILE -v schema=NAME -f bench/postgis-setup.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis;
DROP SCHEMA IF EXISTS :"schema" CASCADE;
CREATE SCHEMA :"schema";
SET search_path = :"schema", public;
\set content `cat :geojson`
CREATE TABLE areas AS
SELECT f->'properties'->>'shapeID' AS code, ST_SetSRID(ST_GeomFromGeoJSON(f->'geometry'), 4326) AS geom
FROM jsonb_array_elements(:'content'::jsonb->'features') AS f;
CREATE INDEX areas_geom_idx ON areas USING gist (geom);
ANALYZE areas;
