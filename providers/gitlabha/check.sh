#!/usr/bin/env bash
# check.sh: the component package's SDKs compile, and the TypeScript example type-checks against the Node.js
# one. make package-check runs it after regenerating the schema and SDKs; it changes nothing in this checkout.
#
#   1. in a scratch folder, lays out examples/typescript as `pulumi package add` leaves a project: the Node.js SDK
#      in sdks/gitlab-ha-gitlab-ha, a file: dependency of package.json; installs what package-lock.json pins
#      (npm ci; no install scripts: @pulumi/kubernetes's would call the Pulumi CLI);
#   2. compiles the SDK as its own postinstall script does on a user's npm install (tsc, with the SDK's own
#      TypeScript), then type-checks the example with tsc (strict);
#   3. compiles every Python file of the Python SDK (python3 -m py_compile).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "== Node.js SDK and examples/typescript (npm ci, tsc)"
cp examples/typescript/{package.json,package-lock.json,tsconfig.json,index.ts} "$scratch/"
mkdir "$scratch/sdks"
cp -r providers/gitlabha/sdk/nodejs "$scratch/sdks/gitlab-ha-gitlab-ha"
(cd "$scratch" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
sdk=$scratch/sdks/gitlab-ha-gitlab-ha
(cd "$sdk" && PATH=$sdk/node_modules/.bin:$scratch/node_modules/.bin:$PATH node scripts/postinstall.js)
echo "the SDK compiles with its TypeScript $("$sdk/node_modules/.bin/tsc" --version | cut -d' ' -f2): $(find "$sdk/bin" -name '*.js' | wc -l) modules"
(cd "$scratch" && node_modules/.bin/tsc -p tsconfig.json)
echo "examples/typescript type-checks with TypeScript $("$scratch/node_modules/.bin/tsc" --version | cut -d' ' -f2)"

echo "== Python SDK (py_compile)"
mapfile -t sources < <(find providers/gitlabha/sdk/python -name '*.py' | sort)
PYTHONPYCACHEPREFIX=$scratch/pycache python3 -m py_compile "${sources[@]}"
echo "$(python3 --version): ${#sources[@]} files compile"
echo "check.sh: done in ${SECONDS}s"
