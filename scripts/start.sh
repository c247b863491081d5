#!/usr/bin/env bash
# Installs and runs the engine on embedded defaults: a SQLite file
# (data/engine.sqlite), a local Redis (started here if none answers at
# REDIS_URL), and the current kubeconfig context, or else a sandbox cluster
# started here. HTTP and workers in one process on http://127.0.0.1:3000
# (API docs at /docs).
#
# A second start skips what is already done: npm ci when node_modules matches
# the lockfile and the Node version, the build when dist/ is newer than the
# sources. Each phase prints how long it took.
#
# However this script is stopped (Ctrl-C, kill -TERM, kill -KILL, a closed
# terminal), everything it started stops with it: on a signal it stops them
# itself (TERM, then KILL after 4 s); if it is killed outright, the kernel
# sends each child SIGTERM (setpriv --pdeathsig) and the sandbox CLI sees its
# owner gone (SANDBOX_OWNER_PID).
#
# CKA_DATA_DIR (default data/) holds the sandbox's output and a started Redis's files.
# CKA_SANDBOX_NODES picks the sandbox's nodes: auto (default: real nodes whose
# pods run where this machine can, i.e. as root with cgroups, overlayfs and
# network namespaces; else kwok's fake nodes, saying why), real or fake. The
# first real start builds the real-node binaries and images (minutes; cached).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

started_at=$EPOCHREALTIME
data=${CKA_DATA_DIR:-data}

t=$EPOCHREALTIME
# The browser terminal's jail (bubblewrap, socat), what candidates expect in an exam shell,
# and the tools native modules (node-pty, better-sqlite3) build with.
need_packages redis-server:redis-server redis-cli:redis-tools setpriv:util-linux openssl:openssl \
  bwrap:bubblewrap socat:socat vim:vim nano:nano less:less jq:jq \
  /usr/share/bash-completion/bash_completion:bash-completion \
  make:make g++:g++ python3:python3
sandbox_nodes=${CKA_SANDBOX_NODES:-auto}
case "$sandbox_nodes" in
  auto | real | fake) ;;
  *) echo "CKA_SANDBOX_NODES must be auto, real or fake, got \"$sandbox_nodes\"" >&2; exit 2 ;;
esac
# What real nodes need on the host, and runc's cgo build: installed only where
# real nodes can run (root, cgroup v1), and under auto a failed install means
# fake nodes (the sandbox's preflight says why), not a failed start.
if [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ] && [ "$sandbox_nodes" != fake ] &&
  [ "$(id -u)" = 0 ] && [ -e /sys/fs/cgroup/pids/cgroup.procs ]; then
  real_node_packages=(gcc:gcc /usr/include/seccomp.h:libseccomp-dev iptables:iptables ipset:ipset
    conntrack:conntrack ip:iproute2)
  if [ "$sandbox_nodes" = real ]; then
    need_packages "${real_node_packages[@]}"
  else
    need_packages "${real_node_packages[@]}" ||
      echo "could not install what real nodes need; the sandbox will say what is missing" >&2
  fi
fi
use_node
took "$t" "packages and node $(node --version)"

pids=()
# Process groups of the install and build steps (npm, node-gyp, the compiler).
step_groups=()
stop_children() {
  trap - EXIT INT TERM HUP
  local g
  for g in "${step_groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  [ ${#pids[@]} -eq 0 ] && [ ${#step_groups[@]} -eq 0 ] && return 0
  [ ${#pids[@]} -gt 0 ] && { kill -TERM "${pids[@]}" 2>/dev/null || true; }
  for _ in $(seq 40); do
    local pid live=0
    for pid in "${pids[@]}" "${step_groups[@]}"; do kill -0 "$pid" 2>/dev/null && live=1; done
    [ $live -eq 1 ] || break
    sleep 0.1
  done
  for g in "${step_groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  [ ${#pids[@]} -gt 0 ] && { kill -KILL "${pids[@]}" 2>/dev/null || true; }
  wait 2>/dev/null || true
}
trap stop_children EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# npm ci and the build run in a process group of their own, in the
# background, so that a signal stops them at once (wait returns on a trapped
# signal; a foreground child would first run to its end).
run_step() {
  setsid setpriv --pdeathsig TERM -- "$@" &
  step_groups=("$!")
  wait "$!"
  step_groups=()
}

step "node_modules"
t=$EPOCHREALTIME
ensure_node_modules
took "$t" "node_modules"

step "build"
t=$EPOCHREALTIME
ensure_build
took "$t" "build"

# Children are started through `setpriv --pdeathsig TERM` (never through a shell
# function, which would put a subshell between them and this script): the kernel
# sends them SIGTERM if this script dies without running its traps.

export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  port=$(node -e "console.log(new URL(process.argv[1]).port || 6379)" "$REDIS_URL")
  step "starting redis-server on 127.0.0.1:$port (data in $data/redis)"
  mkdir -p "$data/redis"
  setpriv --pdeathsig TERM -- redis-server --port "$port" --bind 127.0.0.1 --dir "$data/redis" --appendonly yes \
    >"$data/redis/redis.log" 2>&1 &
  pids+=($!)
  redis_pid=$!
  t=$EPOCHREALTIME
  until redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; do
    kill -0 "$redis_pid" 2>/dev/null || { tail -20 "$data/redis/redis.log"; exit 1; }
    sleep 0.1
  done
  took "$t" "redis"
fi

if [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ]; then
  step "no kubeconfig: starting a sandbox cluster, nodes $sandbox_nodes (log in $data/sandbox.log)"
  mkdir -p "$data"
  # A previous run's line must not be taken for this one's.
  rm -f "$data/sandbox.out"
  t=$EPOCHREALTIME
  SANDBOX_OWNER_PID=$$ setpriv --pdeathsig TERM -- npm run --silent sandbox -- --nodes "$sandbox_nodes" >"$data/sandbox.out" 2>"$data/sandbox.log" &
  pids+=($!)
  sandbox_pid=$!
  until grep -q '^KUBECONFIG=' "$data/sandbox.out" 2>/dev/null; do
    kill -0 "$sandbox_pid" 2>/dev/null || { tail -20 "$data/sandbox.log"; exit 1; }
    sleep 0.2
  done
  KUBECONFIG=$(sed -n 's/^KUBECONFIG=//p' "$data/sandbox.out")
  export KUBECONFIG
  : "${TERMINAL_KUBECTL:=$(sed -n 's/^KUBECTL=//p' "$data/sandbox.out")}"
  : "${TERMINAL_HELM:=$(sed -n 's/^HELM=//p' "$data/sandbox.out")}"
  export TERMINAL_KUBECTL TERMINAL_HELM
  took "$t" "sandbox cluster"
fi

url="http://${HOST:-127.0.0.1}:${PORT:-3000}"
step "starting the engine on $url (docs at /docs)"
t=$EPOCHREALTIME
setpriv --pdeathsig TERM -- node dist/src/main.js &
pids+=($!)
engine_pid=$!
until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
  "$url/health/live" 2>/dev/null; do
  kill -0 "$engine_pid" 2>/dev/null || exit 1
  sleep 0.2
done
took "$t" "engine"
took "$started_at" "listening on $url; start"
step "token for the first admin: bash scripts/npm.sh run token:create -- --role admin --name <you>"
# Runs until any of them stops; the EXIT trap then stops the others.
wait -n "${pids[@]}"
