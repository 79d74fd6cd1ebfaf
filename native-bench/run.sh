#!/usr/bin/env bash
# ngate side by side with nginx and HAProxy on this machine, in one run.
# One nginx backend serves fixed bodies; each proxy in turn fronts it with
# upstream keep-alive and is loaded by wrk. See native-bench/README.md.
#
#   bash native-bench/run.sh [--smoke] [--duration S] [--warmup S] [--rounds N] [--mode pinned|workers2|all] [--out FILE]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=10
WARMUP=2
ROUNDS=2
MODE=all
SMOKE=0
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) SMOKE=1; DURATION=2; WARMUP=1; ROUNDS=1 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --mode) MODE="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
case "$MODE" in pinned|workers2|all) ;; *) echo "--mode must be pinned, workers2 or all" >&2; exit 2 ;; esac

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools ---------------------------------------------------------------
ensure_tools() {
  local missing=()
  command -v nginx >/dev/null || missing+=(nginx)
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v taskset >/dev/null || missing+=(util-linux)
  command -v curl >/dev/null || missing+=(curl)
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]} from Debian packages"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    local pkgs=("${missing[@]}")
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
      pkgs=("${pkgs[@]/nginx/}")
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx-light ${pkgs[@]+"${pkgs[@]}"} \
        || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx ${pkgs[@]+"${pkgs[@]}"}
    else
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pkgs[@]}"
    fi
  fi
  # Always: a build older than the working tree would be measured in its place.
  log "building ngate"
  (cd "$ROOT" && npm run --silent build)
}

# --- process bookkeeping: everything we start is stopped by its PID --------
WORK=""
PIDS=()
cleanup() {
  local pid
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do stop_pid "$pid"; done
  [[ -n "$WORK" && -d "$WORK" ]] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts "$@" in the background (optionally pinned to a CPU list), logs to $WORK/<name>.log, echoes the PID.
start_bg() {
  local name="$1" cpus="$2"
  shift 2
  if [[ -n "$cpus" ]]; then
    taskset -c "$cpus" "$@" >"$WORK/$name.log" 2>&1 &
  else
    "$@" >"$WORK/$name.log" 2>&1 &
  fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# SIGTERM, wait up to 10 s, then SIGKILL; reaps the child.
stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; forget_pid "$pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}
forget_pid() {
  local keep=() p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do [[ "$p" != "$1" ]] && keep+=("$p"); done
  PIDS=(${keep[@]+"${keep[@]}"})
}

# Waits until URL answers 200 (10 s), or fails showing the process log.
wait_http() {
  local url="$1" name="$2" pid="$3" i
  for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "$name did not come up on $url"; cat "$WORK/$name.log" >&2 || true
  return 1
}

free_ports() {
  node "$ROOT/native-bench/free-ports.js" "$1"
}

# --- configs ---------------------------------------------------------------
write_backend_conf() {
  sed -e "s|WORKERS|$1|" -e "s|WORK|$WORK|g" -e "s|BACKEND_PORT|$BACKEND_PORT|" "$ROOT/native-bench/configs/backend.conf" >"$WORK/backend.conf"
}

write_nginx_proxy_conf() {
  local workers="$1"
  cat >"$WORK/nginx-proxy.conf" <<EOF
worker_processes $workers;
daemon off;
pid $WORK/nginx-proxy.pid;
error_log $WORK/nginx-proxy-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $WORK/tmp/proxy-body;
  proxy_temp_path $WORK/tmp/proxy-proxy;
  upstream backend {
    server 127.0.0.1:$BACKEND_PORT;
    keepalive 1024;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$PROXY_PORT backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Room for the 64 KiB body in memory: never spill to a temp file.
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
      proxy_max_temp_file_size 0;
    }
  }
}
EOF
}

write_haproxy_conf() {
  local threads="$1"
  cat >"$WORK/haproxy.cfg" <<EOF
global
  nbthread $threads
  maxconn 8000
  pidfile $WORK/haproxy.pid
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
frontend fe
  bind 127.0.0.1:$PROXY_PORT
  default_backend be
backend be
  server s1 127.0.0.1:$BACKEND_PORT
EOF
}

write_ngate_conf() {
  sed -e "s/BACKEND_PORT/$BACKEND_PORT/g" -e "s/PROXY_PORT/$PROXY_PORT/g" "$ROOT/native-bench/configs/proxy.yaml" >"$WORK/ngate.yaml"
}

# --- processes ---------------------------------------------------------------
start_backend() {
  local workers="$1" cpus="$2"
  write_backend_conf "$workers"
  start_bg backend "$cpus" nginx -p "$WORK" -e "$WORK/backend-error.log" -c "$WORK/backend.conf"
  BACKEND_PID=$LAST_PID
  wait_http "http://127.0.0.1:$BACKEND_PORT/small" backend "$BACKEND_PID"
}

# Starts proxy $1 on its port with $2 workers/threads pinned to $3 (empty: unpinned); records its PID.
declare -A PORT PROXY_PIDS
start_proxy() {
  local proxy="$1" workers="$2" cpus="$3"
  PROXY_PORT="${PORT[$proxy]}"
  case "$proxy" in
    ngate)
      write_ngate_conf
      start_bg ngate "$cpus" node "$ROOT/bin/ngate.js" start --config "$WORK/ngate.yaml" --workers "$workers" --admin 127.0.0.1:0 --data-dir "$WORK/data" ;;
    nginx)
      write_nginx_proxy_conf "$workers"
      start_bg nginx "$cpus" nginx -p "$WORK" -e "$WORK/nginx-proxy-error.log" -c "$WORK/nginx-proxy.conf" ;;
    haproxy)
      write_haproxy_conf "$workers"
      start_bg haproxy "$cpus" haproxy -db -f "$WORK/haproxy.cfg" ;;
  esac
  PROXY_PIDS[$proxy]=$LAST_PID
  wait_http "http://127.0.0.1:$PROXY_PORT/small" "$proxy" "$LAST_PID"
}

# The proxy must return exactly what the backend returns, for every scenario's route.
check_forwarding() {
  local name="$1" base="$2" path
  for path in /small /64k; do
    curl -fsS -o "$WORK/direct.body" "http://127.0.0.1:$BACKEND_PORT$path"
    curl -fsS -o "$WORK/proxied.body" "$base$path"
    cmp -s "$WORK/direct.body" "$WORK/proxied.body" || { log "$name: body of $path differs from the backend's"; return 1; }
  done
  curl -fsS -o "$WORK/direct.body" --data-binary "@$WORK/www/1k.bin" "http://127.0.0.1:$BACKEND_PORT/post"
  curl -fsS -o "$WORK/proxied.body" --data-binary "@$WORK/www/1k.bin" "$base/post"
  cmp -s "$WORK/direct.body" "$WORK/proxied.body" || { log "$name: POST answer differs from the backend's"; return 1; }
}

# --- load ------------------------------------------------------------------
# Scenario id → "connections path lua"
scenario_args() {
  case "$1" in
    a-small-64) echo "64 /small -" ;;
    b-64k-64) echo "64 /64k -" ;;
    c-post1k-64) echo "64 /post $WORK/post.lua" ;;
    d-small-1024) echo "1024 /small -" ;;
    e-small-64) echo "64 /small -" ;;
  esac
}

# Runs wrk (after a warm-up when $7 is 1); appends "mode scenario proxy rps p50ms p99ms errors non2xx" to $WORK/results.tsv.
run_wrk() {
  local mode="$1" scenario="$2" proxy="$3" base="$4" cpus="$5" threads="$6" warm="$7"
  local conns path lua
  read -r conns path lua <<<"$(scenario_args "$scenario")"
  local args=(-t "$threads" -c "$conns" --timeout 5s --latency)
  [[ "$lua" != "-" ]] && args+=(-s "$lua")
  local pin=()
  [[ -n "$cpus" ]] && pin=(taskset -c "$cpus")
  [[ "$warm" == 1 ]] && ${pin[@]+"${pin[@]}"} wrk "${args[@]}" -d "${WARMUP}s" "$base$path" >/dev/null
  ${pin[@]+"${pin[@]}"} wrk "${args[@]}" -d "${DURATION}s" "$base$path" >"$WORK/wrk.out"
  awk -v mode="$mode" -v sc="$scenario" -v px="$proxy" '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000;
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0;
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000;
      if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000;
      return v + 0;
    }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); errs = $4 + $6 + $8 + $10 }
    END { printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%d\n", mode, sc, px, rps, p50, p99, errs, non2xx }
  ' "$WORK/wrk.out" | tee -a "$WORK/results.tsv" | awk -F'\t' '{ printf "[bench] %-8s %-13s %-8s %8s req/s  p50 %s ms  p99 %s ms  errors %s  non-2xx %s\n", $1, $2, $3, $4, $5, $6, $7, $8 }' >&2
}

# One mode: pinned (1 worker each, proxy on CPU 0, backend + wrk on CPU 1) or workers2 (2 workers, unpinned).
# All proxies run side by side (an idle proxy costs nothing) so every round can
# load them one after the other: noise from other work on the machine then hits
# them alike. The report takes the median over rounds.
run_mode() {
  local mode="$1" workers proxy_cpu load_cpu threads
  if [[ "$mode" == pinned ]]; then
    workers=1; proxy_cpu=0; load_cpu=1; threads=1
  else
    workers=2; proxy_cpu=""; load_cpu=""; threads=2
  fi
  log "mode $mode: backend nginx ($workers worker(s)) on 127.0.0.1:$BACKEND_PORT"
  start_backend "$workers" "$load_cpu"
  local proxy scenario round order
  for proxy in ngate nginx haproxy; do
    log "mode $mode: $proxy ($workers worker(s)/thread(s)) on 127.0.0.1:${PORT[$proxy]}"
    start_proxy "$proxy" "$workers" "$proxy_cpu"
    check_forwarding "$proxy" "http://127.0.0.1:${PORT[$proxy]}"
  done
  for scenario in a-small-64 b-64k-64 c-post1k-64 d-small-1024 e-small-64; do
    for ((round = 1; round <= ROUNDS; round++)); do
      order="ngate nginx haproxy"
      (( round % 2 == 0 )) && order="haproxy nginx ngate"
      [[ "$scenario" == e-small-64 ]] && order="backend"
      for proxy in $order; do
        local warm=0 base="http://127.0.0.1:$BACKEND_PORT"
        [[ $round -eq 1 ]] && warm=1
        [[ "$proxy" != backend ]] && base="http://127.0.0.1:${PORT[$proxy]}"
        run_wrk "$mode" "$scenario" "$proxy" "$base" "$load_cpu" "$threads" "$warm"
      done
    done
  done
  for proxy in ngate nginx haproxy; do stop_pid "${PROXY_PIDS[$proxy]}"; done
  stop_pid "$BACKEND_PID"
}

main() {
  ensure_tools
  if [[ "$(nproc)" -lt 2 ]]; then echo "native-bench needs at least 2 CPUs (proxy on 0, backend + wrk on 1)" >&2; exit 1; fi
  # 1,024 client connections plus as many upstream ones per proxy.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  WORK="$(mktemp -d /tmp/ngate-native-bench.XXXXXX)"
  chmod 755 "$WORK"
  mkdir -p "$WORK/www" "$WORK/tmp"
  head -c 65536 /dev/urandom >"$WORK/www/64k.bin"
  head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/www/1k.bin"
  chmod 644 "$WORK/www/"*
  cat >"$WORK/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = string.rep("x", 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
EOF
  : >"$WORK/results.tsv"
  read -r BACKEND_PORT PORT[ngate] PORT[nginx] PORT[haproxy] <<<"$(free_ports 4)"

  local started
  started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  [[ "$MODE" == pinned || "$MODE" == all ]] && run_mode pinned
  [[ "$MODE" == workers2 || "$MODE" == all ]] && run_mode workers2

  if [[ -z "$OUT" ]]; then
    if [[ $SMOKE -eq 1 ]]; then OUT="$WORK/smoke.md"; else OUT="$ROOT/native-bench/results/$(date -u +%Y-%m-%d-%H%M).md"; fi
  fi
  mkdir -p "$(dirname "$OUT")"
  node "$ROOT/native-bench/report.js" "$WORK/results.tsv" \
    --started "$started" --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" \
    --nginx "$(nginx -v 2>&1 | sed 's/.*: //')" --haproxy "$(haproxy -v | head -1 | awk '{print $3}')" \
    --wrk "$(wrk -v 2>&1 | head -1 | awk '{print $2}')" \
    --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" >"$OUT"
  cat "$OUT"
  [[ $SMOKE -eq 1 ]] || log "written to $OUT"
}

main
