# Shared by the quickstart and the test script.

say() { printf '\033[1;34m▸ %s\033[0m\n' "$*"; }
die() { printf '\033[1;31m✗ %s\033[0m\n' "$*" >&2; exit 1; }

check_node() {
  command -v node >/dev/null || die "Node.js ≥ 20.19 is required (https://nodejs.org)."
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js ≥ 20.19 is required; this is $(node --version)."
}

install_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "Installing npm packages"
    npm ci --no-audit --no-fund
  fi
  say "Generating the Prisma client"
  CHECKPOINT_DISABLE=1 npx prisma generate >/dev/null
}

# wait_for_tcp HOST PORT SECONDS
wait_for_tcp() {
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

host_port() { node -e 'const u=new URL(process.argv[1]); console.log(u.hostname.replace(/^\[|\]$/g,""), u.port||process.argv[2])' "$1" "$2"; }

# Starts the local Postgres/Redis that Debian installs, when they are down and local.
ensure_services() {
  local pg_host pg_port redis_host redis_port
  read -r pg_host pg_port < <(host_port "${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/wyolo}" 5432)
  read -r redis_host redis_port < <(host_port "${REDIS_URL:-redis://127.0.0.1:6379}" 6379)
  if ! wait_for_tcp "$pg_host" "$pg_port" 1; then
    if [[ "$pg_host" =~ ^(127\.0\.0\.1|localhost)$ ]] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      say "Starting the local Postgres"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
    wait_for_tcp "$pg_host" "$pg_port" 20 || die "Postgres is not reachable at $pg_host:$pg_port. Start it, or set DATABASE_URL in .env to one you can reach."
  fi
  if ! wait_for_tcp "$redis_host" "$redis_port" 1; then
    if [[ "$redis_host" =~ ^(127\.0\.0\.1|localhost)$ ]] && command -v redis-server >/dev/null; then
      say "Starting a local Redis"
      mkdir -p .data/redis
      redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$PWD/.data/redis" --logfile "$PWD/.data/redis/redis.log"
    fi
    wait_for_tcp "$redis_host" "$redis_port" 20 || die "Redis is not reachable at $redis_host:$redis_port. Start it, or set REDIS_URL in .env to one you can reach."
  fi
}
