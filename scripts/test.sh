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
if docker compose version >/dev/null 2>&1; then docker compose -f docker-compose.yaml config -q
elif command -v docker-compose >/dev/null; then docker-compose -f docker-compose.yaml config -q
else echo "skipped \`docker compose config\`: neither the compose plugin nor docker-compose is installed (test/compose.test.ts still checks the file)"
fi
say "Typecheck";   npm run typecheck
say "Unit tests";  npx vitest run --project unit
PYTHON="${WYOLO_TEST_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"
"$PYTHON" -c "import pytest" 2>/dev/null || die "pytest is missing for $PYTHON: apt-get install -y python3-pytest (or set WYOLO_TEST_PYTHON)."
say "Trainer unit tests (Python, Ultralytics stand-in)"; "$PYTHON" -m pytest -q -p no:cacheprovider apps/worker/trainer/tests
say "Integration tests (Postgres, Redis, worker process)"; npx vitest run --project integration
say "Build web";   npm run build -w @wyolo/web >/dev/null
say "End-to-end tests (Chromium)"; npx playwright test
say "All tests passed"
