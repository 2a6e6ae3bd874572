#!/usr/bin/env bash
# The whole test suite: lint, typecheck, unit (TypeScript and the Python trainer), integration
# (real Postgres + Redis + worker processes), e2e (Chromium). Needs Postgres and Redis (started
# here when local and down), Debian's chromium and python3-pytest. The real-Ultralytics
# training test runs when the trainer's Python can import ultralytics, and says why when not.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

check_node
install_deps
ensure_services
command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null || die "Chromium is missing: apt-get install -y chromium (or set CHROMIUM_PATH)."

say "Lint";        npm run lint
say "Compose file"
compose=()
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose)
fi
if ((${#compose[@]})); then
  # Dummy secrets, an empty env file and none from this shell: valid with them, refused without
  # each one, naming it.
  compose_secrets=(POSTGRES_PASSWORD MINIO_ROOT_USER MINIO_ROOT_PASSWORD NEXTAUTH_SECRET ADMIN_PASSWORD SECRETS_KEY)
  compose_env=$(mktemp)
  compose_check() { env "${compose_secrets[@]/#/-u}" "$@" "${compose[@]}" --env-file "$compose_env" -f docker-compose.yaml config -q; }
  compose_check "${compose_secrets[@]/%/=dummy-for-the-check}"
  for missing in "${compose_secrets[@]}"; do
    set_ones=()
    for name in "${compose_secrets[@]}"; do [[ $name == "$missing" ]] || set_ones+=("$name=dummy-for-the-check"); done
    if out=$(compose_check "${set_ones[@]}" 2>&1); then die "docker-compose.yaml accepted a missing $missing."; fi
    [[ $out == *"set $missing in .env"* ]] || die "docker-compose.yaml refused a missing $missing without naming it: $out"
  done
  # The worker container's limits come from the old service's WORKER_CPU_CORES / WORKER_RAM_MEMORY
  # (compose v1 prints "8G", v2 the bytes).
  limits=$(env "${compose_secrets[@]/%/=dummy-for-the-check}" WORKER_CPU_CORES=4 WORKER_RAM_MEMORY=8G "${compose[@]}" --env-file "$compose_env" -f docker-compose.yaml config)
  grep -Eq "cpus: '?\"?4(\.0+)?" <<<"$limits" || die "docker-compose.yaml: the worker's cpus do not follow WORKER_CPU_CORES"
  grep -Eq "mem_limit: '?\"?(8G|8589934592)" <<<"$limits" || die "docker-compose.yaml: the worker's mem_limit does not follow WORKER_RAM_MEMORY"
  rm -f "$compose_env"
  echo "compose config: valid with the secrets set; refused, naming it, without each of ${compose_secrets[*]}; worker limits from WORKER_CPU_CORES / WORKER_RAM_MEMORY"
else
  echo "skipped \`docker compose config\`: neither the compose plugin nor docker-compose is installed (test/compose.test.ts still checks the file)"
fi
say "Typecheck";   npm run typecheck
say "Unit tests";  npx vitest run --project unit
PYTHON="${WYOLO_TEST_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"
"$PYTHON" -c "import pytest" 2>/dev/null || die "pytest is missing for $PYTHON: apt-get install -y python3-pytest (or set WYOLO_TEST_PYTHON)."
"$PYTHON" -c "import optuna, psycopg2" 2>/dev/null || die "Optuna is missing for $PYTHON (sweeps): apt-get install -y python3-optuna python3-psycopg2 python3-sklearn (or set WYOLO_TEST_PYTHON)."
"$PYTHON" -c "import PIL, yaml" 2>/dev/null || die "Pillow or PyYAML is missing for $PYTHON (dataset validation): apt-get install -y python3-pil python3-yaml (or set WYOLO_TEST_PYTHON)."
say "Python unit tests (trainer with an Ultralytics stand-in; Optuna bridge on Postgres; dataset validator)"; "$PYTHON" -m pytest -q -p no:cacheprovider apps/worker/trainer/tests apps/worker/sweeper/tests apps/worker/datasets/tests
say "Integration tests (Postgres, Redis, worker process)"; npx vitest run --project integration
say "Build web";   npm run build -w @wyolo/web >/dev/null
say "End-to-end tests (Chromium)"; npx playwright test
say "All tests passed"
