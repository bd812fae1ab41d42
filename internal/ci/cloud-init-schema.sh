#!/usr/bin/env bash
# cloud-init-schema.sh: judges the user data the plan renders with cloud-init's own schema check, the one an
# instance's cloud-init applies at boot. It plans prod with gitStorage.kind gitaly-cluster (the only user data
# the stacks render: the Gitaly and Praefect instances'), then runs `cloud-init schema` on every file the plan
# writes to userdata/. cloud-init is the Debian package of that name, installed when missing (apt-get, as root).
#
#   internal/ci/cloud-init-schema.sh            # from the repository's root
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

fail() {
  echo "cloud-init-schema: $*" >&2
  exit 1
}

if ! command -v cloud-init >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "cloud-init is missing: install the Debian package cloud-init"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cloud-init >/dev/null
fi
echo "== $(cloud-init --version 2>&1)"

out=plan/prod-gitaly-cluster
go run ./internal/cmd/plan -stack prod -set 'gitlab-ha:gitStorage={"kind":"gitaly-cluster"}' -out "$out" >/dev/null
shopt -s nullglob
files=("$out"/userdata/*.yaml)
[ ${#files[@]} -gt 0 ] || fail "the plan wrote no user data to $out/userdata"
for file in "${files[@]}"; do
  cloud-init schema --config-file "$file" || fail "$file is not valid cloud-config"
done
echo "cloud-init schema: ${#files[@]} user data files valid"
