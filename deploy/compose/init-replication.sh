#!/bin/sh
# Runs once when the primary's data directory is created (docker-entrypoint-initdb.d): a role the replica
# streams WAL with, and the pg_hba line that lets it. [docs/operations.md]
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "create role replicator with replication login password '${REPLICATION_PASSWORD}'"
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
