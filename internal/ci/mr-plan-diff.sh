#!/usr/bin/env bash
# mr-plan-diff.sh: what a merge request changes in the dev and prod plans. Plans the merge request's base in a
# worktree of its own and prints, per stack, internal/cmd/plandiff of the base's resources.json against
# plan/<stack>/resources.json, which `make plan` made first from this checkout.
#
# The base is CI_MERGE_REQUEST_DIFF_BASE_SHA, the target-branch commit the merge request's changes are shown
# against, so that changes merged into the target meanwhile do not show as this merge request's; without it, the
# head of CI_MERGE_REQUEST_TARGET_BRANCH_NAME. Either is fetched from origin when the (shallow) clone lacks it.
set -euo pipefail

target=${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:?mr-plan-diff.sh runs in merge request pipelines}
base=${CI_MERGE_REQUEST_DIFF_BASE_SHA:-}
for stack in dev prod; do
  [ -f "plan/$stack/resources.json" ] || { echo "mr-plan-diff.sh: run make plan STACK=$stack first" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if [ -n "$base" ] && ! git cat-file -e "$base^{commit}" 2>/dev/null; then
  git fetch --quiet --depth=1 origin "$base" || base=
fi
if [ -z "$base" ]; then
  git fetch --quiet --depth=1 origin "refs/heads/$target"
  base=$(git rev-parse FETCH_HEAD)
fi
git worktree add --quiet --detach "$work/base" "$base"

echo "Plans of this merge request ($(git rev-parse --short HEAD)) against its base on $target ($(git rev-parse --short "$base")):"
for stack in dev prod; do
  echo "== $stack: what this merge request changes"
  if (cd "$work/base" && make plan STACK="$stack" OUT="$work/plan/$stack") >"$work/$stack.log" 2>&1; then
    go run ./internal/cmd/plandiff "$work/plan/$stack/resources.json" "plan/$stack/resources.json"
  else
    echo "(the base cannot plan $stack, so there is nothing to compare; its last lines:)"
    tail -n 5 "$work/$stack.log"
  fi
done
