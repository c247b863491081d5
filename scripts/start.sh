#!/usr/bin/env bash
# Installs and runs the engine on embedded defaults: a SQLite file
# (data/engine.sqlite), a local Redis (started here if none answers at
# REDIS_URL), and the current kubeconfig context, or else a sandbox cluster
# started here. HTTP and workers in one process on http://127.0.0.1:3000
# (API docs at /docs). Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_packages redis-server:redis-server redis-cli:redis-tools setpriv:util-linux

step "npm ci and build"
npm ci --no-audit --no-fund
npm run --silent build

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  port=$(node -e "console.log(new URL(process.argv[1]).port || 6379)" "$REDIS_URL")
  step "starting redis-server on 127.0.0.1:$port (data in data/redis)"
  mkdir -p data/redis
  redis-server --port "$port" --bind 127.0.0.1 --dir data/redis --appendonly yes >data/redis/redis.log 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

if [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ]; then
  step "no kubeconfig: starting a sandbox cluster"
  mkdir -p data
  npm run --silent sandbox >data/sandbox.out 2>data/sandbox.log &
  pids+=($!)
  for _ in $(seq 600); do grep -q '^KUBECONFIG=' data/sandbox.out 2>/dev/null && break; sleep 1; done
  export KUBECONFIG=$(sed -n 's/^KUBECONFIG=//p' data/sandbox.out)
  [ -n "$KUBECONFIG" ] || { tail -20 data/sandbox.log; exit 1; }
fi

step "token for the first admin: npm run token:create -- --role admin --name <you>"
step "starting the engine on http://${HOST:-127.0.0.1}:${PORT:-3000} (docs at /docs)"
node dist/src/main.js &
pids+=($!)
wait "${pids[-1]}"
