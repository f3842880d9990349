#!/usr/bin/env bash
# Runs the vitest suite, or the files and options given, under another major of Node.js taken from
# the npm registry's `node` package (Node's own binaries, published there), leaving the Node.js that
# installed the project alone:  scripts/test-on-node.sh 24 [vitest arguments]
# .ci/run runs the whole suite with it on Node.js 22 after `npm test` on 24; `npm run test:node22` runs it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:?usage: scripts/test-on-node.sh <node major> [vitest arguments]}"
shift
node_bin="$(npx --yes --package "node@$major" -c 'node -p process.execPath')"
echo "vitest under Node.js $("$node_bin" -v) ($node_bin)"
# First on PATH as well, so that tests starting `node` by name get the same one.
PATH="$(dirname "$node_bin"):$PATH" exec "$node_bin" node_modules/vitest/vitest.mjs run "$@"
