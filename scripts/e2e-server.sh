#!/usr/bin/env bash
# Serves the built web app and one worker (with the test fixture trainer, never a default) for
# the Playwright suite, against a fresh database and a queue of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
DB="${E2E_DATABASE:-wyolo_e2e}"
export DATABASE_URL="${PG_ADMIN_URL%/*}/$DB"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export TRAINING_QUEUE="e2e-$$"
npx tsx scripts/db.ts reset >/dev/null
CHECKPOINT_DISABLE=1 npx prisma migrate deploy >/dev/null
ADMIN_EMAIL=admin@e2e.test ADMIN_PASSWORD=e2e-admin-password SEED_DEMO=false npx tsx prisma/seed.ts
# Each run gets fresh rate-limit counters, and no worker reports of earlier runs.
redis-cli -u "$REDIS_URL" --scan --pattern 'wyolo:login-fail:*' | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null
redis-cli -u "$REDIS_URL" --scan --pattern 'wyolo:workers:e2e-*' | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null

export LOG_LEVEL=warn
# Webhooks: a fixed test key for web and worker, and the tests' receivers on this host allowed.
export SECRETS_KEY="ZTJlLXNlY3JldHMta2V5LWUyZS1zZWNyZXRzLWtleSE=" WEBHOOK_ALLOWED_HOSTS="127.0.0.1,localhost" DASHBOARD_URL="http://localhost:${PORT}"
data_dir=$(mktemp -d)
# The quickstart's demo set, so the submit form's dataset picker offers what a newcomer sees.
export DATASETS_DIR="${DATASETS_DIR:-$data_dir/datasets}"
python3 apps/worker/trainer/make_dataset.py detect "$DATASETS_DIR/shapes" --train 8 --val 4 >/dev/null
# A real S3 server (s3rver) for artifacts and downloads.
mkdir -p "$data_dir/s3"
node node_modules/s3rver/bin/s3rver.js -d "$data_dir/s3" -a 127.0.0.1 -p "${E2E_S3_PORT:-4579}" --silent --configure-bucket wyolo-artifacts & s3=$!
export S3_ENDPOINT="http://127.0.0.1:${E2E_S3_PORT:-4579}" S3_ACCESS_KEY_ID=S3RVER S3_SECRET_ACCESS_KEY=S3RVER S3_BUCKET=wyolo-artifacts
# Two training slots, so a sweep's `parallel: 2` runs two trials at once; the Optuna bridge under a
# Python that has optuna (Debian's python3-optuna), whatever python3 comes first on PATH.
export OPTUNA_COMMAND="${OPTUNA_COMMAND:-/usr/bin/python3 apps/worker/sweeper/optuna_bridge.py}"
# The dataset validator under Debian's python3 (Pillow, PyYAML from .ci/run), whatever python3 comes first on PATH.
export VALIDATOR_COMMAND="${VALIDATOR_COMMAND:-/usr/bin/python3 apps/worker/datasets/validate_dataset.py}"
TRAINER_COMMAND="node apps/worker/test/fixtures/fake-trainer.mjs" EXPORTER_COMMAND="node apps/worker/test/fixtures/fake-exporter.mjs" WORKER_NAME=e2e-worker WORKER_DATA_DIR="$data_dir" FLUSH_INTERVAL_MS=200 WORKER_CONCURRENCY=2 \
  node --import tsx apps/worker/src/index.ts & worker=$!
NODE_ENV=production NEXTAUTH_URL="http://localhost:${PORT}" NEXTAUTH_SECRET="e2e-secret-e2e-secret-e2e-secret-e2e" HOSTNAME=127.0.0.1 \
  node --import ./apps/web/server-only-shim.mjs --import tsx apps/web/server.ts & web=$!
trap 'kill -TERM $web $worker $s3 2>/dev/null; wait; rm -rf "$data_dir"; redis-cli -u "$REDIS_URL" del "wyolo:workers:$TRAINING_QUEUE" >/dev/null' EXIT INT TERM
wait -n $web $worker $s3
