#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (Node 24 LTS
# when the machine's node is older than 22, npm packages, Redis and PostgreSQL
# from Debian packages, the sandbox cluster build), runs every check, and
# leaves nothing running behind it: the test run starts its own Redis,
# PostgreSQL and sandbox cluster and stops them after.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

started_at=$EPOCHREALTIME
phase() { # usage: phase "title" command...
  step "$1"
  local t=$EPOCHREALTIME
  "${@:2}"
  took "$t" "$1"
}

phase "Debian packages" need_packages redis-server:redis-server redis-cli:redis-tools \
  '/usr/lib/postgresql/*/bin/postgres':postgresql setpriv:util-linux openssl:openssl \
  chromium:chromium /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core \
  bwrap:bubblewrap socat:socat vim:vim nano:nano less:less jq:jq python3:python3 make:make g++:g++ \
  /usr/share/bash-completion/bash_completion:bash-completion \
  gcc:gcc /usr/include/seccomp.h:libseccomp-dev iptables:iptables ipset:ipset conntrack:conntrack \
  busybox:busybox-static
phase "node" use_node
echo "    node $(node --version) at $(command -v node)"
phase "npm ci" ensure_node_modules
phase "sandbox cluster binaries, fake and real nodes (cached by version; a cold build takes about 6 + 13 minutes)" \
  npm run --silent sandbox:build -- --real

checks() {
  npm run --silent typecheck
  npm run --silent lint
  npm run --silent format:check
  ensure_build
  npm run --silent bank:lint
}
phase "typecheck, lint, format, build, question bank" checks
phase "question bank self-test: every setup, reference and alternative solution and known mistake graded on a sandbox (bank:test)" \
  npm run --silent bank:test
# A fix made late must score like one made early (controllers back off while
# the task is unsolved): the troubleshooting questions, solved 120 s after setup.
# Every entry at once: each mostly waits out its 120 s, and one over the
# concurrency would wait a second round.
phase "question bank, solved late: the troubleshooting questions 120 s after their setup (bank:test --solve-after)" \
  npm run --silent bank:test -- --solve-after 120 --concurrency 32 \
  deployment-missing-serviceaccount find-backend-node fix-service-selector pending-pods-node-selector
phase "tests: unit, web (console logic), integration (sandbox cluster, Redis, SQLite, PostgreSQL, start.sh), e2e (HTTP), browser (Chromium)" \
  npm run --silent test:all
phase "tests: realnode (a kubeadm cluster whose pods run: logs, exec, DNS, NetworkPolicy, static pods, etcd backup…)" \
  npm run --silent test:realnode
took "$started_at" "the whole suite"
