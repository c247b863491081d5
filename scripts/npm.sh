#!/usr/bin/env bash
# npm with the project's Node (see use_node in scripts/lib.sh), for any npm
# command on a machine whose own node is older than 22, e.g.
#   bash scripts/npm.sh run token:create -- --role admin --name <you>
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
use_node >&2
exec npm "$@"
