# Shared by the quickstart and the test script.

say() { printf '\033[1;34m▸ %s\033[0m\n' "$*"; }
die() { printf '\033[1;31m✗ %s\033[0m\n' "$*" >&2; exit 1; }

# Node 22 LTS is what the images run; 20.19+ still works (the AWS SDK drops Node 20 in January 2027).
check_node() {
  command -v node >/dev/null || die "Node.js 22 LTS (or ≥ 20.19) is required (https://nodejs.org)."
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js 22 LTS (or ≥ 20.19) is required; this is $(node --version)."
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

# load_env_file FILE: exports FILE's NAME=value lines the way docker compose reads .env, and
# runs nothing in it (`source .env` ran `$(…)` and choked on unquoted spaces). `#` comments and
# `export ` are allowed; '…' is literal, "…" knows \n \" \\; unquoted values run to the end of
# the line, less a ` #comment`; no $-expansion. As with `source`, the file wins over the shell.
load_env_file() {
  local __ef_file=$1 __ef_line __ef_n=0 __ef_key __ef_raw __ef_val __ef_rest __ef_i __ef_c __ef_closed
  [ -r "$__ef_file" ] || die "$__ef_file cannot be read."
  while IFS= read -r __ef_line || [ -n "$__ef_line" ]; do
    __ef_n=$((__ef_n + 1))
    __ef_line=${__ef_line%$'\r'}
    [[ $__ef_line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    # Errors quote nothing of a line that does not parse: it may be (part of) a secret.
    [[ $__ef_line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] \
      || die "$__ef_file line $__ef_n is not NAME=value (a NAME has only letters, digits and _; a value is one line)."
    __ef_key=${BASH_REMATCH[2]} __ef_raw=${BASH_REMATCH[3]}
    # Bash's own variables would change how these scripts run (IFS, SECONDS…) or are read-only.
    [[ $__ef_key =~ ^(BASH[A-Z0-9_]*|SHELLOPTS|IFS|ENV|CDPATH|GLOBIGNORE|PS4|EUID|UID|PPID|SECONDS|RANDOM|SRANDOM|LINENO|FUNCNAME|GROUPS|DIRSTACK|PIPESTATUS|HISTCMD|EPOCHSECONDS|EPOCHREALTIME|__ef_[a-z]+)$ ]] \
      && die "$__ef_file line $__ef_n: $__ef_key belongs to bash; the scripts cannot take it from a .env file."
    case $__ef_raw in
      \'*)
        __ef_rest=${__ef_raw:1}
        [[ $__ef_rest == *\'* ]] || die "$__ef_file line $__ef_n: $__ef_key: the opening ' has no closing one (a value is one line)."
        __ef_val=${__ef_rest%%\'*} __ef_rest=${__ef_rest#*\'}
        ;;
      \"*)
        __ef_val="" __ef_closed="" __ef_i=1
        while ((__ef_i < ${#__ef_raw})); do
          __ef_c=${__ef_raw:__ef_i:1}
          if [[ $__ef_c == '"' ]]; then __ef_closed=1; break; fi
          if [[ $__ef_c == '\' ]] && ((__ef_i + 1 < ${#__ef_raw})); then
            __ef_i=$((__ef_i + 1)) __ef_c=${__ef_raw:__ef_i:1}
            case $__ef_c in n) __ef_val+=$'\n' ;; '"' | '\') __ef_val+=$__ef_c ;; *) __ef_val+="\\$__ef_c" ;; esac
          else
            __ef_val+=$__ef_c
          fi
          __ef_i=$((__ef_i + 1))
        done
        [[ $__ef_closed ]] || die "$__ef_file line $__ef_n: $__ef_key: the opening \" has no closing one (a value is one line)."
        __ef_rest=${__ef_raw:__ef_i+1}
        ;;
      *)
        __ef_val=${__ef_raw%%[[:space:]]#*}
        __ef_val=${__ef_val%"${__ef_val##*[![:space:]]}"}
        __ef_rest=""
        ;;
    esac
    [[ $__ef_rest =~ ^[[:space:]]*(#.*)?$ ]] || die "$__ef_file line $__ef_n: $__ef_key: unexpected text after the closing quote."
    export "$__ef_key=$__ef_val"
  done <"$__ef_file"
}

# Background processes that live and die together: start_child runs each, supervise waits until
# one ends, says which and why (with the end of its log) and stops the others; stop_children is
# also what Ctrl-C runs.
CHILD_NAMES=() CHILD_PIDS=() CHILD_LOGS=()
STOP_GRACE_SECONDS=${STOP_GRACE_SECONDS:-45}
[[ $STOP_GRACE_SECONDS =~ ^[0-9]{1,5}$ ]] || STOP_GRACE_SECONDS=45

# start_child NAME LOG COMMAND…: output goes to the terminal and to LOG (truncated first).
start_child() {
  local name=$1 log=$2
  shift 2
  : >"$log"
  # tee ignores Ctrl-C so a child's last words (its shutdown) still reach the log.
  "$@" > >(trap '' INT TERM; exec tee -a "$log") 2>&1 &
  CHILD_NAMES+=("$name") CHILD_PIDS+=("$!") CHILD_LOGS+=("$log")
}

# "exited with code 1" / "was killed by SIGKILL" for a status from `wait`.
describe_exit() {
  local sig
  if (($1 > 128)) && sig=$(kill -l "$(($1 - 128))" 2>/dev/null); then echo "was killed by SIG${sig#SIG} (status $1)"; else echo "exited with code $1"; fi
}

children_running() {
  local pid
  for pid in "${CHILD_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || return 1; done
}

_any_child_running() {
  local pid
  for pid in "${CHILD_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

# await_port HOST PORT SECONDS: waits for the port while every child runs; false when one ends
# or time runs out.
await_port() {
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    children_running || return 1
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# stop_children: SIGTERM to all, SIGKILL to any still running after STOP_GRACE_SECONDS.
stop_children() {
  local i deadline=$((SECONDS + STOP_GRACE_SECONDS))
  ((${#CHILD_PIDS[@]})) || return 0
  kill -TERM "${CHILD_PIDS[@]}" 2>/dev/null || true
  while ((SECONDS < deadline)) && _any_child_running; do sleep 0.2; done
  for i in "${!CHILD_PIDS[@]}"; do
    if kill -0 "${CHILD_PIDS[$i]}" 2>/dev/null; then
      printf '\033[1;33m! The %s did not stop within %s s; killing it.\033[0m\n' "${CHILD_NAMES[$i]}" "$STOP_GRACE_SECONDS" >&2
      kill -KILL "${CHILD_PIDS[$i]}" 2>/dev/null || true
    fi
  done
  for i in "${!CHILD_PIDS[@]}"; do wait "${CHILD_PIDS[$i]}" 2>/dev/null || true; done
}

# The INT/TERM trap: stop everything started; a second Ctrl-C kills at once.
interrupt_children() {
  if [[ ${_supervise_stderr:-} ]]; then exec 2>&"$_supervise_stderr"; fi
  if [[ ${_stopping:-} ]]; then
    ((${#CHILD_PIDS[@]})) && kill -KILL "${CHILD_PIDS[@]}" 2>/dev/null
    exit 130
  fi
  _stopping=1
  say "Stopping (Ctrl-C again kills at once)"
  stop_children
  exit 0
}

# supervise: returns 1 once a child has ended, after saying which and how and stopping the rest.
supervise() {
  local i j status name log others=()
  # Quiet: bash's own "Killed …" job notice would repeat the message below less clearly. The
  # Ctrl-C trap may run meanwhile; it writes to the real stderr, kept here.
  exec {_supervise_stderr}>&2
  _await_first_exit 2>/dev/null
  i=$_ended_index status=$_ended_status name=${CHILD_NAMES[$_ended_index]} log=${CHILD_LOGS[$_ended_index]}
  for j in "${!CHILD_NAMES[@]}"; do [[ $j == "$i" ]] || others+=("${CHILD_NAMES[$j]}"); done
  printf '\033[1;31m✗ The %s %s; stopping the rest (%s).\033[0m\n' "$name" "$(describe_exit "$status")" "$(_join_names "${others[@]}")" >&2
  stop_children
  if [ -s "$log" ]; then
    printf '── last lines of %s (%s) ──\n' "$log" "$name" >&2
    tail -n "${SUPERVISE_LOG_LINES:-20}" "$log" >&2
  fi
  printf '\033[1;31m✗ Stopped: the %s %s.\033[0m\n' "$name" "$(describe_exit "$status")" >&2
  return 1
}

# Sets _ended_index and _ended_status for the first child found ended.
_await_first_exit() {
  local i
  while :; do
    for i in "${!CHILD_PIDS[@]}"; do
      kill -0 "${CHILD_PIDS[$i]}" 2>/dev/null && continue
      _ended_index=$i _ended_status=0
      wait "${CHILD_PIDS[$i]}" || _ended_status=$?
      return 0
    done
    sleep 0.5
  done
}

_join_names() {
  local out="" n
  for n in "$@"; do out+="${out:+, }the $n"; done
  printf '%s' "${out:-nothing else}"
}
