#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (npm
# packages, the sandbox cluster build), runs every check, and leaves nothing
# running behind it (the sandbox stops with the test run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund

step "sandbox cluster binaries (cached by version; a cold build takes minutes)"
npm run --silent sandbox:build

step "typecheck, lint, format"
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check

step "tests: unit, integration (sandbox cluster), e2e"
npm run --silent test:all
