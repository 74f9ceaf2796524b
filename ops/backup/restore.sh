#!/usr/bin/env bash
# Restore one schema from its dump (ops/backup/backup.sh), in one transaction: the schema's objects
# are dropped and recreated from the dump, or nothing changes. Other schemas are not touched (no
# foreign keys cross schemas). The module's roles must exist (`boxoffice migrate` creates them).
#
#   DATABASE_URL=postgres://… ops/backup/restore.sh --schema auth --file backups/…/auth.dump --yes
#
# Afterwards: `boxoffice migrate` (applies migrations newer than the dump, if any) and a
# reconciliation of the module (ops/runbooks/restore-module.md).
set -euo pipefail
url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/boxoffice}
schema="" file="" yes=""
while [ $# -gt 0 ]; do
  case $1 in
    --schema) schema=$2; shift 2 ;;
    --file) file=$2; shift 2 ;;
    --yes) yes=1; shift ;;
    *) echo "restore: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$schema" ] && [ -f "$file" ] || { echo "usage: restore.sh --schema NAME --file DUMP [--yes]" >&2; exit 2; }
# the dump must hold exactly this schema, or restoring it would overwrite something else
# (list lines: "id; oid oid TYPE SCHEMA NAME OWNER", and "… SCHEMA - NAME OWNER" for the schema itself)
others=$(pg_restore --list "$file" | awk '$4 == "SCHEMA" {print $6} $4 == "TABLE" && $5 != "DATA" {print $5}' |
  sort -u | grep -vx "$schema" | tr '\n' ' ' || true)
if [ -n "$others" ]; then echo "restore: $file also holds schema(s) ${others% }; refusing" >&2; exit 1; fi
if [ -z "$yes" ]; then
  read -r -p "replace schema $schema in $(echo "$url" | sed 's#//[^@]*@#//#') with $file? [y/N] " answer
  [ "$answer" = y ] || exit 1
fi
pg_restore --clean --if-exists --single-transaction --exit-on-error --dbname="$url" "$file"
echo "restore: schema $schema restored from $file ($(psql -Atq "$url" -c "select count(*) from information_schema.tables where table_schema = '$schema'") tables)"
