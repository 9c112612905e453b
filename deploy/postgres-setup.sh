#!/bin/sh
# Create Quorum's PostgreSQL role and database, owned by that role, with
# nothing granted to anyone else. Run on the database machine as root (it
# switches to the postgres user) or as a superuser with PGHOST/PGUSER set:
#
#   QUORUM_DB_PASSWORD='a long random password' sh deploy/postgres-setup.sh
#
# Then set QUORUM_DATABASE_URL=postgres://quorum:PASSWORD@127.0.0.1/quorum in
# /etc/quorum/quorum.env. Quorum creates its tables itself at start (the
# migrations run under an advisory lock). Running the script again changes
# the password and leaves the data alone.
set -eu

role="${QUORUM_DB_ROLE:-quorum}"
database="${QUORUM_DB_NAME:-quorum}"
password="${QUORUM_DB_PASSWORD:-}"

if [ -z "$password" ]; then
  echo "postgres-setup.sh: set QUORUM_DB_PASSWORD (e.g. QUORUM_DB_PASSWORD=\$(openssl rand -hex 24))" >&2
  exit 2
fi
case "$role$database" in
  *[!a-z0-9_]*) echo "postgres-setup.sh: the role and database names may hold only a-z, 0-9 and _" >&2; exit 2 ;;
esac

export QUORUM_DB_PASSWORD="$password"
psql_admin() {
  if [ "$(id -u)" = 0 ] && [ -z "${PGUSER:-}" ]; then
    runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -q "$@"
  else
    psql -X -v ON_ERROR_STOP=1 -q "$@"
  fi
}

# The password goes from the environment into a psql variable (:'password'
# quotes it): never on a command line, and the statement is not logged.
psql_admin -d postgres -v role="$role" <<'SQL'
\set password `printenv QUORUM_DB_PASSWORD`
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SET log_statement = 'none';
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SQL

psql_admin -d postgres -v role="$role" -v database="$database" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0', :'database', :'role')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database') \gexec
ALTER DATABASE :"database" OWNER TO :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"role";
SQL

# PostgreSQL 15 and later no longer let every role create in schema public;
# the owner of the database gets it explicitly on every version.
psql_admin -d "$database" -v role="$role" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"role";
SQL

echo "PostgreSQL role $role and database $database are ready."
