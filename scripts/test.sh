#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (npm
# packages, Redis and PostgreSQL from Debian packages, the sandbox cluster
# build), runs every check, and leaves nothing running behind it: the test run
# starts its own Redis, PostgreSQL and sandbox cluster and stops them after.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_packages redis-server:redis-server '/usr/lib/postgresql/*/bin/postgres':postgresql setpriv:util-linux

step "npm ci"
npm ci --no-audit --no-fund

step "sandbox cluster binaries (cached by version; a cold build takes about 6 minutes)"
npm run --silent sandbox:build

step "typecheck, lint, format, build, question bank"
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
npm run --silent build
npm run --silent bank:lint

step "question bank self-test: every setup and reference solution graded on a sandbox (bank:test)"
npm run --silent bank:test

step "tests: unit, integration (sandbox cluster, Redis, SQLite, PostgreSQL), e2e (HTTP)"
npm run --silent test:all
