#!/bin/sh
# /docker-entrypoint-initdb.d of the compose stack's PostgreSQL: the deployment's roles (roles.sql).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v schema=khareetaty -v password="$KHAREETATY_PASSWORD" -f /khareetaty/roles.sql
