#!/usr/bin/env bash
# prebuilt-program.sh BINARY [PROJECT_FILE]: points the project file (default Pulumi.yaml) at a program binary built
# earlier in the pipeline (Pulumi's runtime.options.binary), so that `pulumi preview` and `pulumi up` run it instead
# of compiling stacks/cmd/gitlab-ha again. The cloud jobs rewrite their own checkout's copy; Pulumi.yaml in git keeps
# `runtime: go` for everyone who runs Pulumi without the binary.
set -euo pipefail

binary=${1:?usage: prebuilt-program.sh BINARY [PROJECT_FILE]}
project=${2:-Pulumi.yaml}
if [ ! -x "$binary" ]; then
  echo "prebuilt-program.sh: no program binary at $binary (the plan job's artifact)" >&2
  exit 1
fi
# Absolute: Pulumi's Go host resolves a relative name from its own working directory.
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
if ! grep -qx 'runtime: go' "$project"; then
  echo "prebuilt-program.sh: $project has no line 'runtime: go' to replace" >&2
  exit 1
fi
sed -i "s|^runtime: go\$|runtime:\n  name: go\n  options:\n    binary: $binary|" "$project"
echo "$project runs $binary"
