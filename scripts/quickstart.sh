#!/usr/bin/env bash
# One command from a fresh clone to a running Wyolo: install, configure, migrate, seed, build,
# then run the web app and one worker in the foreground (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1

check_node
install_deps

if [ ! -f .env ]; then
  say "Writing .env from .env.example (with a fresh session secret and admin password)"
  secret=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')
  admin_pw=$(node -e 'console.log(require("crypto").randomBytes(12).toString("base64url"))')
  sed -e "s|^NEXTAUTH_SECRET=.*|NEXTAUTH_SECRET=$secret|" -e "s|^ADMIN_PASSWORD=.*|ADMIN_PASSWORD=$admin_pw|" .env.example > .env
  chmod 600 .env
fi
set -a
# shellcheck disable=SC1091
source .env
set +a
export NODE_ENV=production

ensure_services
say "Preparing the database"
npx tsx scripts/db.ts ensure
npx prisma migrate deploy >/dev/null
npx tsx prisma/seed.ts

say "Building the web app"
npm run build -w @wyolo/web >/dev/null

mkdir -p .run
node --import ./apps/web/server-only-shim.mjs --import tsx apps/web/server.ts & web=$!
node --import tsx apps/worker/src/index.ts & worker=$!
trap 'kill -TERM $web $worker 2>/dev/null; wait $web $worker 2>/dev/null; exit 0' INT TERM

wait_for_tcp 127.0.0.1 "${PORT:-3000}" 60 || die "The web app did not start; see the log above."
cat <<MSG

  Wyolo is running at ${NEXTAUTH_URL:-http://localhost:3000}
  Sign in as ${ADMIN_EMAIL:-admin@wyolo.local} with the ADMIN_PASSWORD in .env
  (demo team "demo", project "shapes"). Ctrl-C stops the web app and the worker.

MSG
wait -n $web $worker
kill -TERM $web $worker 2>/dev/null || true
wait
