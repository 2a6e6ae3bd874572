#!/usr/bin/env bash
# One command from a fresh clone to a running Wyolo: install, configure, migrate, seed, build,
# then run the web app and one worker in the foreground (Ctrl-C stops both; if one of them
# ends, the other is stopped too and the quickstart says which ended and why).
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
# Webhooks need SECRETS_KEY (an .env from before them has none): written once, never replaced.
if ! grep -Eq '^SECRETS_KEY=.+' .env; then
  key=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')
  if grep -q '^SECRETS_KEY=' .env; then sed -i "s|^SECRETS_KEY=.*|SECRETS_KEY=$key|" .env; else printf 'SECRETS_KEY=%s\n' "$key" >> .env; fi
fi
load_env_file .env
export NODE_ENV=production

ensure_services
say "Preparing the database"
npx tsx scripts/db.ts ensure
npx prisma migrate deploy >/dev/null
npx tsx prisma/seed.ts

# The trainer's Python: an existing venv, Debian's python3 with ultralytics on PYTHONPATH, or a
# new venv from requirements.txt (needs PyPI). The platform runs either way; without a trainer,
# jobs fail at once with the reason and the Workers page says what is missing.
trainer_python=""
for py in .venv-trainer/bin/python /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null && "$py" apps/worker/trainer/train.py --check >/dev/null 2>&1; then trainer_python="$py"; break; fi
done
if [ -z "$trainer_python" ] && command -v python3 >/dev/null; then
  say "Preparing the trainer's Python environment (.venv-trainer from apps/worker/trainer/requirements.txt)"
  if python3 -m venv .venv-trainer >/dev/null 2>&1 && .venv-trainer/bin/pip install -q -r apps/worker/trainer/requirements.txt; then
    trainer_python=.venv-trainer/bin/python
  fi
fi
if [ -n "$trainer_python" ]; then
  export TRAINER_COMMAND="${TRAINER_COMMAND:-$trainer_python apps/worker/trainer/train.py}"
  export EXPORTER_COMMAND="${EXPORTER_COMMAND:-$trainer_python apps/worker/trainer/export.py}"
  say "Trainer ready: $("$trainer_python" apps/worker/trainer/train.py --check 2>/dev/null | tail -1)"
else
  printf '\033[1;33m! No Python here can import ultralytics and torch (and PyPI was not reachable to install\n  apps/worker/trainer/requirements.txt). The platform runs; training jobs will fail with that\n  reason until TRAINER_COMMAND points at a Python that has them.\033[0m\n'
fi
# A small synthetic dataset for the demo job (standard-library Python only).
export DATASETS_DIR="${DATASETS_DIR:-$PWD/.data/datasets}"
# Sweeps' Optuna bridge: a Python with optuna and psycopg2 (Debian: python3-optuna python3-psycopg2).
if [ -z "${OPTUNA_COMMAND:-}" ]; then
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null && "$py" -c "import optuna, psycopg2" >/dev/null 2>&1; then
      export OPTUNA_COMMAND="$py apps/worker/sweeper/optuna_bridge.py"; break
    fi
  done
  [ -n "${OPTUNA_COMMAND:-}" ] || printf '\033[1;33m! No Python here can import optuna and psycopg2: sweeps will not advance until\n  OPTUNA_COMMAND points at one (apt-get install python3-optuna python3-psycopg2 python3-sklearn).\033[0m\n'
fi

# 256 training images: Ultralytics' warmup (≥ 100 iterations) ends after ~6 epochs, and mAP rises
# within a few minutes on 2 CPU cores. A demo set from an older quickstart (64 images) is remade.
# A set of the user's own under that name (not numbered as ours) is left alone.
demo="$DATASETS_DIR/shapes"
if { [ ! -f "$demo/data.yaml" ] || { [ -f "$demo/images/train/0000.png" ] && [ ! -f "$demo/images/train/0255.png" ]; }; } &&
  command -v python3 >/dev/null; then
  python3 apps/worker/trainer/make_dataset.py detect "$demo" --train 256 --val 32 >/dev/null && say "Demo dataset: $demo"
fi

say "Building the web app"
npm run build -w @wyolo/web >/dev/null

mkdir -p .run
# The web app, the worker and the local S3 server live and die together: when one ends, the
# others are stopped and the quickstart says which ended and how (logs in .run/).
if [[ ${SHUTDOWN_TIMEOUT_MS:-} =~ ^[0-9]{1,7}$ ]]; then STOP_GRACE_SECONDS=$((SHUTDOWN_TIMEOUT_MS / 1000 + 15)); fi
trap interrupt_children INT TERM
# No object store configured: a local S3 server (s3rver, from npm) keeps artifacts in .data/s3,
# so training results can be downloaded on this one machine too.
if [ -z "${S3_ENDPOINT:-}" ]; then
  mkdir -p .data/s3
  start_child "local S3 server" .run/s3rver.log node node_modules/s3rver/bin/s3rver.js -d .data/s3 -a 127.0.0.1 -p 4568 --silent --configure-bucket "${S3_BUCKET:-wyolo-artifacts}"
  export S3_ENDPOINT=http://127.0.0.1:4568 S3_ACCESS_KEY_ID=S3RVER S3_SECRET_ACCESS_KEY=S3RVER
  if ! await_port 127.0.0.1 4568 20; then
    children_running || { supervise || exit 1; }
    stop_children
    die "The local S3 server did not open port 4568 within 20 s; see .run/s3rver.log."
  fi
  say "Local S3 (s3rver) on :4568 for artifacts"
fi
start_child "web app" .run/web.log node --import ./apps/web/server-only-shim.mjs --import tsx apps/web/server.ts
start_child "worker" .run/worker.log node --import tsx apps/worker/src/index.ts

if await_port 127.0.0.1 "${PORT:-3000}" 120; then
  cat <<MSG

  Wyolo is running at ${NEXTAUTH_URL:-http://localhost:3000}
  Sign in as ${ADMIN_EMAIL:-admin@wyolo.local} with the ADMIN_PASSWORD in .env
  (demo team "demo", project "shapes"). Ctrl-C stops the web app and the worker.
  Logs: .run/web.log, .run/worker.log.

  Demo job: in project "shapes", New training job → Submit job. The form's defaults are what
  the worker reported: the demo set shapes/data.yaml (in $DATASETS_DIR), the architecture
  yolo11n.yaml (trained from scratch; no weights file needed) and the set's image size, 128.
  With the real trainer, mAP50 leaves 0 at about epoch 6 (a minute on 2 idle cores).

MSG
elif children_running; then
  stop_children
  die "The web app did not open port ${PORT:-3000} within 120 s; see .run/web.log."
fi
# Returns only when one of them has ended (the others are stopped by then); Ctrl-C goes to the trap.
supervise || exit 1
