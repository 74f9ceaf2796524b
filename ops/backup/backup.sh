#!/usr/bin/env bash
# Dump each schema on its own (pg_dump --format=custom), so one module can be restored without
# touching the others. A module's schema holds its tables, its outbox/inbox and its own
# knex_migrations table, so its migration state travels with its data.
#
#   DATABASE_URL=postgres://… ops/backup/backup.sh                      # every schema that exists
#   DATABASE_URL=postgres://… ops/backup/backup.sh --schema auth --dir /backups/2026-12-02T10
#
# Writes <dir>/<schema>.dump and <dir>/MANIFEST (sizes, sha256, migration heads). Needs pg_dump of
# the server's major version or newer. ops/runbooks/restore-module.md says how often and where to.
set -euo pipefail
url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/boxoffice}
dir=${BACKUP_DIR:-backups/$(date -u +%Y%m%dT%H%M%SZ)}
schemas=()
while [ $# -gt 0 ]; do
  case $1 in
    --schema) schemas+=("$2"); shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "backup: unknown argument $1" >&2; exit 2 ;;
  esac
done
legacy=${LEGACY_SCHEMA:-public}
if [ ${#schemas[@]} -eq 0 ]; then
  for s in "$legacy" auth movies bookings payments notifications migration; do
    [ "$(psql -Atq "$url" -c "select 1 from information_schema.schemata where schema_name = '$s'")" = 1 ] && schemas+=("$s")
  done
fi
mkdir -p "$dir"
: >"$dir/MANIFEST"
for s in "${schemas[@]}"; do
  pg_dump --format=custom --schema="$s" --file="$dir/$s.dump" "$url"
  head=$(psql -Atq "$url" -c "select name from \"$s\".knex_migrations order by id desc limit 1" 2>/dev/null || true)
  printf '%s\t%s bytes\tsha256 %s\tmigration head %s\n' "$s" "$(stat -c %s "$dir/$s.dump")" \
    "$(sha256sum "$dir/$s.dump" | cut -d' ' -f1)" "${head:-none}" | tee -a "$dir/MANIFEST"
done
echo "backup: ${#schemas[@]} schema(s) in $dir"
