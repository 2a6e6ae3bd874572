#!/usr/bin/env bash
# Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL from the last committed
# schema to the working one. Works offline (no shadow database, no native engine).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: npm run db:migration -- <name>}"
[[ "$name" =~ ^[a-z0-9_]+$ ]] || { echo "name: lower-case letters, digits and _ only" >&2; exit 2; }
base=$(mktemp --suffix=.prisma)
trap 'rm -f "$base"' EXIT
git show HEAD:prisma/schema.prisma > "$base"
dir="prisma/migrations/$(date -u +%Y%m%d%H%M%S)_$name"
sql=$(CHECKPOINT_DISABLE=1 npx prisma migrate diff --from-schema-datamodel "$base" --to-schema-datamodel prisma/schema.prisma --script)
if ! grep -qv '^--' <<<"$sql" || [ -z "$(grep -v '^--' <<<"$sql" | tr -d '[:space:]')" ]; then echo "no schema changes since HEAD"; exit 0; fi
mkdir -p "$dir"
printf '%s\n' "$sql" > "$dir/migration.sql"
echo "wrote $dir/migration.sql — review it, then npm run db:migrate"
