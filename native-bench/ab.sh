#!/usr/bin/env bash
# Before/after of an ngate change from one run: the working tree against a
# base commit, both pinned to CPU 0 in front of the same nginx backend
# (CPU 1, with wrk), loaded alternately so machine noise hits both alike.
#
#   bash native-bench/ab.sh [--base REF] [--rounds N] [--duration S] [--path /small|/64k|/post] [--conns N]
#                           [--config FILE] [--base-config FILE]
#
# --config: the ngate config of the working tree's side (and of the base's unless --base-config);
# BACKEND_PORT and PROXY_PORT in it are substituted. With --base HEAD and two configs, the
# same build is measured against itself with two configs (e.g. the cost of a filter).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE=HEAD
ROUNDS=6
DURATION=5
URLPATH=/small
CONNS=64
CONFIG="$ROOT/native-bench/configs/proxy.yaml"
BASE_CONFIG=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) BASE="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --path) URLPATH="$2"; shift ;;
    --conns) CONNS="$2"; shift ;;
    --config) CONFIG="$2"; shift ;;
    --base-config) BASE_CONFIG="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[ab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
WORK="$(mktemp -d /tmp/ngate-ab.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local pid
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  git -C "$ROOT" worktree remove --force "$WORK/base" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() {
  local url="$1" pid="$2" log="$3" i
  for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "nothing answers on $url"; cat "$log" >&2
  return 1
}

read -r BACKEND_PORT PORT_BASE PORT_HEAD <<<"$(node "$ROOT/native-bench/free-ports.js" 3)"

log "building the base ($BASE) in $WORK/base"
git -C "$ROOT" worktree add -q --detach "$WORK/base" "$BASE"
ln -s "$ROOT/node_modules" "$WORK/base/node_modules"
(cd "$WORK/base" && npx tsc -p . >/dev/null)
log "building the working tree"
(cd "$ROOT" && npx tsc -p . >/dev/null)

mkdir -p "$WORK/tmp" "$WORK/www"
head -c 65536 /dev/urandom >"$WORK/www/64k.bin"
chmod 644 "$WORK/www/64k.bin"
sed -e "s|WORKERS|1|" -e "s|WORK|$WORK|g" -e "s|BACKEND_PORT|$BACKEND_PORT|" "$ROOT/native-bench/configs/backend.conf" >"$WORK/backend.conf"
taskset -c 1 nginx -p "$WORK" -e "$WORK/backend-error.log" -c "$WORK/backend.conf" >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$BACKEND_PORT/small" "${PIDS[-1]}" "$WORK/backend.log"

write_config() {
  local port="$1" out="$2" file="$3"
  sed -e "s/BACKEND_PORT/$BACKEND_PORT/g" -e "s/PROXY_PORT/$port/g" "$file" >"$out"
}

start_ngate() {
  local name="$1" dir="$2" port="$3" file="$4"
  write_config "$port" "$WORK/$name.yaml" "$file"
  taskset -c 0 node "$dir/bin/ngate.js" start --config "$WORK/$name.yaml" --workers 1 --admin 127.0.0.1:0 --data-dir "$WORK/$name-data" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$port$URLPATH" "${PIDS[-1]}" "$WORK/$name.log"
  printf -v "ROOTPID_$name" '%s' "${PIDS[-1]}"
}

# CPU clock ticks (user + system, every thread) used so far by a process and its descendants.
tree_ticks() {
  local pids=("$1") i=0 child total=0 stat rest
  while ((i < ${#pids[@]})); do
    for child in $(ps -o pid= --ppid "${pids[i]}" 2>/dev/null); do pids+=("$child"); done
    i=$((i + 1))
  done
  for i in "${pids[@]}"; do
    stat="$(cat "/proc/$i/stat" 2>/dev/null)" || continue
    rest="${stat##*) }"
    read -r -a f <<<"$rest"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))
start_ngate head "$ROOT" "$PORT_HEAD" "$CONFIG"
start_ngate base "$WORK/base" "$PORT_BASE" "${BASE_CONFIG:-$CONFIG}"

printf 'wrk.method = "POST"\nwrk.body = string.rep("x", 1024)\n' >"$WORK/post.lua"
WRK_ARGS=(-t 1 -c "$CONNS" --timeout 5s --latency)
[[ "$URLPATH" == /post ]] && WRK_ARGS+=(-s "$WORK/post.lua")

# Prints "rps p99ms cpu_us_per_request" for one wrk run against port $1, whose gateway's root PID is $2.
# CPU per request counts only the time the gateway ran, so it moves far less than req/s
# when other work shares the machine.
measure() {
  local before after
  before="$(tree_ticks "$2")"
  taskset -c 1 wrk "${WRK_ARGS[@]}" -d "${DURATION}s" "http://127.0.0.1:$1$URLPATH" >"$WORK/wrk.out"
  after="$(tree_ticks "$2")"
  awk -v cpu_us="$(((after - before) * TICK_US))" '
    function ms(v) { if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000; if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0; if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000; return v + 0 }
    /Requests\/sec:/ { rps = $2 } $1 == "99%" { p99 = ms($2) } / requests in / { n = $1 }
    END { printf "%.0f %.2f %.2f\n", rps, p99, (n > 0 ? cpu_us / n : 0) }' "$WORK/wrk.out"
}

for port in "$PORT_BASE" "$PORT_HEAD"; do taskset -c 1 wrk -t 1 -c "$CONNS" -d 2s "http://127.0.0.1:$port$URLPATH" >/dev/null; done
: >"$WORK/ab.tsv"
for ((round = 1; round <= ROUNDS; round++)); do
  order="base head"
  (( round % 2 == 0 )) && order="head base"
  for side in $order; do
    port="$PORT_BASE" root="$ROOTPID_base"
    [[ "$side" == head ]] && port="$PORT_HEAD" root="$ROOTPID_head"
    read -r rps p99 cpu <<<"$(measure "$port" "$root")"
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$side" "$rps" "$p99" "$cpu" >>"$WORK/ab.tsv"
    log "round $round $side: $rps req/s, p99 $p99 ms, $cpu CPU us/request"
  done
done

node -e '
  const rows = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
  const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const pick = (side, col) => rows.filter((r) => r[1] === side).map((r) => Number(r[col]));
  const ratios = [], cpuRatios = [];
  for (const r of rows) if (r[1] === "head") { const b = rows.find((x) => x[0] === r[0] && x[1] === "base"); ratios.push(Number(r[2]) / Number(b[2])); cpuRatios.push(Number(b[4]) / Number(r[4])); }
  const [b, h] = [med(pick("base", 2)), med(pick("head", 2))];
  console.log(`base ${process.argv[2]}: median ${b.toFixed(0)} req/s, p99 ${med(pick("base", 3)).toFixed(2)} ms`);
  console.log(`head (working tree): median ${h.toFixed(0)} req/s, p99 ${med(pick("head", 3)).toFixed(2)} ms`);
  console.log(`head/base: ${(h / b).toFixed(3)}x (median of per-round ratios ${med(ratios).toFixed(3)}x; rounds: ${ratios.map((x) => x.toFixed(2)).join(", ")})`);
  console.log(`CPU per request: base ${med(pick("base", 4)).toFixed(2)} us, head ${med(pick("head", 4)).toFixed(2)} us; requests per CPU second head/base: ${med(cpuRatios).toFixed(3)}x (rounds: ${cpuRatios.map((x) => x.toFixed(2)).join(", ")})`);
' "$WORK/ab.tsv" "$(git -C "$ROOT" rev-parse --short "$BASE")"
