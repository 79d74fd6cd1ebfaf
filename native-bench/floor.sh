#!/usr/bin/env bash
# Scenario (a) for three proxies pinned to CPU 0, loaded alternately in one run: nginx (1 worker),
# ngate (--workers 1, the working tree's build) and the floor (native-bench/floor.js: a bare
# uWS listener + net.Socket client, no features). Backend nginx and wrk share CPU 1.
# The ngate/floor ratio is what ngate's own per-request work costs; floor/nginx is what the
# runtime alone allows.
#
#   bash native-bench/floor.sh [--rounds N] [--duration S]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=4
DURATION=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

WORK="$(mktemp -d /tmp/ngate-floor.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local pid
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r BACKEND NGINX NGATE FLOOR <<<"$(node "$ROOT/native-bench/free-ports.js" 4)"

(cd "$ROOT" && npx tsc -p . >/dev/null)
mkdir -p "$WORK/tmp" "$WORK/www"
sed -e "s|WORKERS|1|" -e "s|WORK|$WORK|g" -e "s|BACKEND_PORT|$BACKEND|" "$ROOT/native-bench/configs/backend.conf" >"$WORK/backend.conf"
sed -e "s/BACKEND_PORT/$BACKEND/g" -e "s/PROXY_PORT/$NGATE/g" "$ROOT/native-bench/configs/proxy.yaml" >"$WORK/ngate.yaml"
cat >"$WORK/nginx-proxy.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx-proxy.pid;
error_log $WORK/nginx-proxy-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $WORK/tmp/proxy-body;
  proxy_temp_path $WORK/tmp/proxy-proxy;
  upstream backend { server 127.0.0.1:$BACKEND; keepalive 1024; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:$NGINX backlog=4096;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX

taskset -c 1 nginx -p "$WORK" -e "$WORK/backend-error.log" -c "$WORK/backend.conf" >"$WORK/backend.log" 2>&1 & PIDS+=($!)
taskset -c 0 nginx -p "$WORK" -e "$WORK/nginx-proxy-error.log" -c "$WORK/nginx-proxy.conf" >"$WORK/nginx.log" 2>&1 & PIDS+=($!)
taskset -c 0 node "$ROOT/bin/ngate.js" start --config "$WORK/ngate.yaml" --workers 1 --admin 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/ngate.log" 2>&1 & PIDS+=($!)
taskset -c 0 node "$ROOT/native-bench/floor.js" "$FLOOR" "$BACKEND" >"$WORK/floor.log" 2>&1 & PIDS+=($!)

for port in "$BACKEND" "$NGINX" "$NGATE" "$FLOOR"; do
  for ((i = 0; i < 100; i++)); do curl -fsS -o /dev/null "http://127.0.0.1:$port/small" 2>/dev/null && break; sleep 0.1; done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/small" || { echo "nothing answers on $port" >&2; cat "$WORK"/*.log >&2; exit 1; }
done
for port in "$NGINX" "$NGATE" "$FLOOR"; do taskset -c 1 wrk -t 1 -c 64 -d 2s "http://127.0.0.1:$port/small" >/dev/null; done

: >"$WORK/rows.tsv"
for ((round = 1; round <= ROUNDS; round++)); do
  for pair in "nginx:$NGINX" "ngate:$NGATE" "floor:$FLOOR"; do
    name="${pair%%:*}" port="${pair##*:}"
    rps="$(taskset -c 1 wrk -t 1 -c 64 -d "${DURATION}s" "http://127.0.0.1:$port/small" | awk '/Requests\/sec:/ { print $2 }')"
    printf '%s\t%s\t%s\n' "$round" "$name" "$rps" >>"$WORK/rows.tsv"
    printf '[floor] round %s %s: %s req/s\n' "$round" "$name" "$rps" >&2
  done
done
node -e '
  const rows = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const rounds = [...new Set(rows.map((r) => r[0]))];
  const at = (round, name) => Number(rows.find((r) => r[0] === round && r[1] === name)[2]);
  const ratio = (a, b) => median(rounds.map((r) => at(r, a) / at(r, b)));
  for (const n of ["nginx", "ngate", "floor"]) console.log(`${n}: median ${Math.round(median(rounds.map((r) => at(r, n))))} req/s`);
  console.log(`floor/nginx ${ratio("floor", "nginx").toFixed(2)}x, ngate/nginx ${ratio("ngate", "nginx").toFixed(2)}x, ngate/floor ${ratio("ngate", "floor").toFixed(2)}x (medians of per-round ratios)`);
' "$WORK/rows.tsv"
