#!/usr/bin/env bash
# move-repositories.sh: moves every repository off one storage onto another with GitLab's repository storage
# moves API (projects, snippets and, where the edition has them, group wikis), waits until no move is pending,
# and says what is left: the second step of the README's "A way off NFS".
#
#   GITLAB_URL=https://gitlab.example.com GITLAB_TOKEN=<an administrator's token, api scope> \
#     internal/ops/move-repositories.sh default cluster
#
# GitLab moves each repository with Sidekiq, read-only while it moves, and deletes it from the source once it
# has been checked on the destination. The script changes nothing but through that API, and can be run again:
# a repository already moved is not on the source any more. MOVE_POLL_SECONDS (default 30) paces the waiting.
# Needs curl and jq.
set -euo pipefail

source_storage=${1:?usage: move-repositories.sh <source storage> <destination storage>}
destination=${2:?usage: move-repositories.sh <source storage> <destination storage>}
: "${GITLAB_URL:?set GITLAB_URL to GitLab's URL}" "${GITLAB_TOKEN:?set GITLAB_TOKEN to an administrator's token with the api scope}"
poll=${MOVE_POLL_SECONDS:-30}
api=${GITLAB_URL%/}/api/v4
headers=$(mktemp)
body=$(mktemp)
trap 'rm -f "$headers" "$body"' EXIT

# request METHOD PATH [curl arguments]: the response's status; its body and headers in $body and $headers.
request() {
  local method=$1 path=$2
  shift 2
  curl --silent --show-error --request "$method" --header "PRIVATE-TOKEN: $GITLAB_TOKEN" \
    --dump-header "$headers" --output "$body" --write-out '%{http_code}' "$@" "$api$path"
}

header() { tr -d '\r' <"$headers" | awk -v name="$(echo "$1" | tr '[:upper:]' '[:lower:]')" -F': ' 'tolower($1) == name {print $2}'; }

kinds=()
for kind in project snippet group; do
  status=$(request POST "/${kind}_repository_storage_moves" \
    --data-urlencode "source_storage_name=$source_storage" --data-urlencode "destination_storage_name=$destination")
  case "$status" in
    202) echo "${kind}s: every move from $source_storage to $destination scheduled"; kinds+=("$kind") ;;
    404) [ "$kind" = group ] || { echo "${kind}s: $api/${kind}_repository_storage_moves not found" >&2; exit 1; }
      echo "group wikis: this edition has none (a Premium feature); nothing to move" ;;
    *) echo "${kind}s: scheduling the moves answered $status: $(cat "$body")" >&2; exit 1 ;;
  esac
done

# moves KIND STATE...: how many of this run's moves (this source, this destination) are in one of the states.
moves() {
  local kind=$1 page=1 count=0 status
  shift
  local states
  states=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
  while [ -n "$page" ]; do
    status=$(request GET "/${kind}_repository_storage_moves?per_page=100&page=$page")
    [ "$status" = 200 ] || { echo "${kind}s: listing the moves answered $status: $(cat "$body")" >&2; exit 1; }
    count=$((count + $(jq --arg s "$source_storage" --arg d "$destination" --argjson states "$states" \
      '[.[] | select(.source_storage_name == $s and .destination_storage_name == $d and (.state as $x | $states | index($x)))] | length' "$body")))
    page=$(header X-Next-Page)
  done
  echo "$count"
}

for kind in "${kinds[@]}"; do
  while pending=$(moves "$kind" initial scheduled started replicated) && [ "$pending" -gt 0 ]; do
    echo "${kind}s: $pending moves pending"
    sleep "$poll"
  done
done

failed=0
for kind in "${kinds[@]}"; do
  n=$(moves "$kind" failed "cleanup failed")
  [ "$n" -eq 0 ] || echo "${kind}s: $n moves failed: see GET $api/${kind}_repository_storage_moves, then run this again" >&2
  failed=$((failed + n))
done
status=$(request GET "/projects?repository_storage=$source_storage&per_page=1&statistics=false")
[ "$status" = 200 ] || { echo "projects: listing those on $source_storage answered $status" >&2; exit 1; }
left=$(header X-Total)
echo "projects still on $source_storage: ${left:-unknown}"
if [ "$failed" -gt 0 ] || [ "${left:-1}" != 0 ]; then
  exit 1
fi
echo "every repository moved from $source_storage to $destination"
