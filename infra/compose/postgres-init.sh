#!/bin/sh
# The application role of docker-compose.yml's PostgreSQL (run once, when its data volume
# is new). The schema belongs to POSTGRES_USER; `python -m streams.migrate` (the init
# service) creates the tables and grants this role what it needs.
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$GREENAI_APP_DB_PASSWORD" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE greenai_app LOGIN PASSWORD :'app_password';
SQL
