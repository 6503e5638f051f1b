-- The login roles of a Khareetaty deployment, for a schema :schema (psql -v schema=… -v password=…):
-- the schema's owner, loader and reader roles (NOLOGIN; migration 13 reuses them when they exist)
-- and one login role in each, so that nothing runs as a superuser:
--   :schema_migrate  runs `khareetaty migrate` (owns the schema through :schema_owner)
--   :schema_nightly  runs `khareetaty run` / `backfill` (DML only, through :schema_loader)
--   :schema_analyst  reads the outputs: `khareetaty report`, BI and GIS tools (:schema_reader)
-- Run once by a superuser (the postgres image runs it from /docker-entrypoint-initdb.d); re-running
-- it only resets the passwords.
SELECT format('CREATE ROLE %I NOLOGIN', :'schema' || suffix)
FROM unnest(ARRAY['_owner', '_loader', '_reader']) AS suffix
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'schema' || suffix) \gexec

SELECT format('CREATE ROLE %I LOGIN IN ROLE %I', :'schema' || login, :'schema' || member)
FROM (VALUES ('_migrate', '_owner'), ('_nightly', '_loader'), ('_analyst', '_reader')) AS r(login, member)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'schema' || login) \gexec

SELECT format('ALTER ROLE %I PASSWORD %L', :'schema' || login, :'password')
FROM unnest(ARRAY['_migrate', '_nightly', '_analyst']) AS login \gexec

-- `migrate` creates the schema: the owner role may create schemas in this database.
SELECT format('GRANT CREATE ON DATABASE %I TO %I', current_database(), :'schema' || '_owner') \gexec
