#!/usr/bin/env bash
# Serves the built web app for the Playwright suite against a fresh database of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
DB="${E2E_DATABASE:-wyolo_e2e}"
export DATABASE_URL="${PG_ADMIN_URL%/*}/$DB"
npx tsx scripts/db.ts reset >/dev/null
CHECKPOINT_DISABLE=1 npx prisma migrate deploy >/dev/null
ADMIN_EMAIL=admin@e2e.test ADMIN_PASSWORD=e2e-admin-password SEED_DEMO=false npx tsx prisma/seed.ts
# Each run gets fresh rate-limit counters.
redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" --scan --pattern 'wyolo:login-fail:*' | xargs -r redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" del >/dev/null
export NODE_ENV=production NEXTAUTH_URL="http://localhost:${PORT}" NEXTAUTH_SECRET="e2e-secret-e2e-secret-e2e-secret-e2e" HOSTNAME=127.0.0.1 LOG_LEVEL=warn
exec node --import ./apps/web/server-only-shim.mjs --import tsx apps/web/server.ts
