#!/bin/sh
# Run once by the postgres image when it creates the database (docker-entrypoint-initdb.d).
# Two roles: the owner, which owns the schema and runs migrations, and the runtime role, which
# the web server, worker and beat use. The runtime role gets its table privileges from
# `manage.py grant_runtime_role` after each migration (the `migrate` service).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v owner="$PORTAL_DB_OWNER" -v owner_password="$PORTAL_DB_OWNER_PASSWORD" \
  -v app="$PORTAL_DB_RUNTIME_ROLE" -v app_password="$PORTAL_DB_RUNTIME_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
SQL
