#!/usr/bin/env bash
# check.sh: keeps .gitlab-ci.yml a pipeline GitLab accepts, judged by gitlab-ci-local, GitLab's pipeline rules
# run locally. .ci/run runs it on a clean checkout (CI=true, no stdin); it changes nothing in this checkout.
#
#   1. installs gitlab-ci-local as internal/ci/package-lock.json pins it (npm ci), and rsync, which its shell
#      executor needs, when missing (apt-get, as root);
#   2. go test -tags pipeline ./internal/ci/: every job of the whole file as gitlab-ci-local reads it, in each kind
#      of pipeline, and the Pulumi.yaml rewrite the cloud jobs make (pipeline_test.go);
#   3. in a scratch clone under a temporary folder (origin: a scratch repository of this checkout's files), runs the
#      pipeline for real with the shell executor twice: as a merge request pipeline from a branch with one change
#      made on purpose (dev's GitLab CPU limit), whose plan diff must show that change and nothing the target
#      branch changed since (prod's node group maximum, on main after the branch left), and as a default-branch
#      pipeline. Without cloud
#      credentials these run the test and plan jobs; the check fails if any other job runs.
#
# The jobs use this machine's Go caches (go env GOCACHE, GOMODCACHE) and the validators `make validate` built in
# .cache/tools and .cache/schemas. CHECK_GOCACHE=DIR gives them another build cache (an empty one measures a cold
# run).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
SECONDS=0

fail() {
  echo "check.sh: $*" >&2
  exit 1
}

echo "== gitlab-ci-local and rsync"
if ! command -v rsync >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "rsync is missing (gitlab-ci-local's shell executor needs it): install the Debian package rsync"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsync >/dev/null
fi
(cd internal/ci && npm ci --no-audit --no-fund --loglevel=error)
gcl=$root/internal/ci/node_modules/.bin/gitlab-ci-local
echo "gitlab-ci-local $("$gcl" --version), $(rsync --version | head -n 1)"

echo "== the pipeline's structure (internal/ci/pipeline_test.go)"
go vet -tags pipeline ./internal/ci/
GITLAB_CI_LOCAL=$gcl go test -tags pipeline -count=1 ./internal/ci/

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git_() { git -c user.name="gitlab-ha check" -c user.email=check@gitlab-ha.invalid -c advice.detachedHead=false "$@"; }

# origin: this checkout's files as they are on disk, but what .gitignore ignores, on main (this checkout need not
# be a git repository); a branch, feature, with the merge request's change; then a change on main made after
# feature left it.
mkdir "$scratch/seed"
tar --exclude=./.git --exclude=./.cache --exclude=./plan --exclude=./bin --exclude=./.gitlab-ci-local \
  --exclude=./internal/ci/node_modules -cf - . | tar -xf - -C "$scratch/seed"
git_ -C "$scratch/seed" init -q -b main
git_ -C "$scratch/seed" add -A
git_ -C "$scratch/seed" commit -q -m "this checkout"
base=$(git -C "$scratch/seed" rev-parse HEAD)
change() { # change FILE FROM TO: the change a scratch commit makes on purpose
  sed -i "s/$2/$3/" "$scratch/seed/$1"
  git -C "$scratch/seed" diff --quiet -- "$1" && fail "$1 has no '$2' to change into '$3'"
  return 0
}
git_ -C "$scratch/seed" checkout -q -b feature
change Pulumi.dev.yaml 'cpuLimit: "2"' 'cpuLimit: "3"'
git_ -C "$scratch/seed" commit -q -am "dev: GitLab may use three CPUs"
git_ -C "$scratch/seed" checkout -q main
change Pulumi.prod.yaml 'desired: 2, max: 4}' 'desired: 2, max: 5}'
git_ -C "$scratch/seed" commit -q -am "prod: up to five nodes per zone"
git clone -q --bare "$scratch/seed" "$scratch/origin.git"

# The job's clone, shallow as GitLab's: the merge request's base is not in it, so mr-plan-diff.sh must fetch it.
git clone -q --depth 1 --no-single-branch "file://$scratch/origin.git" "$scratch/work"
mkdir "$scratch/home"
work=$scratch/work
# gitlab-ci-local reads the project's path from this remote's URL; origin stays the one jobs fetch from.
git -C "$work" remote add gcl-origin https://gitlab.example.com/gitlab-ha/gitlab-ha.git
[ -z "$(git -C "$work" cat-file -t "$base" 2>/dev/null)" ] || fail "the scratch clone should lack the base commit"

run_pipeline() { # run_pipeline NAME [gitlab-ci-local option]...: a whole pipeline in the scratch clone
  local name=$1
  shift
  echo "== $name pipeline"
  # A fresh checkout per pipeline, as a runner's; the validators come from this checkout.
  git -C "$work" clean -q -ffdx
  mkdir -p "$root/.cache/tools" "$root/.cache/schemas" "$work/.cache"
  ln -s "$root/.cache/tools" "$root/.cache/schemas" "$work/.cache/"
  local start=$SECONDS
  # --home: no variables file of this machine's user reaches the jobs. CI_PROJECT_DIR: with an image and
  # --force-shell-executor, gitlab-ci-local would otherwise give the container's /builds/... path.
  (cd "$work" && "$gcl" --force-shell-executor --no-color --home "$scratch/home" \
    --variable CI_PROJECT_DIR="$work" \
    --variable GOCACHE="${CHECK_GOCACHE:-$(go env GOCACHE)}" --variable GOMODCACHE="$(go env GOMODCACHE)" \
    --ignore-predefined-vars CI_PROJECT_DIR,CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_COMMIT_REF_NAME,CI_DEFAULT_BRANCH \
    "$@" </dev/null) || fail "the $name pipeline failed"
  echo "== $name pipeline: $((SECONDS - start)) s"
  local ran log
  ran=$(for log in "$work"/.gitlab-ci-local/output/*.log; do basename "$log" .log; done | sort | tr '\n' ' ')
  [ "$ran" = "plan test " ] || fail "the $name pipeline ran [$ran], not the test and plan jobs alone"
  [ -x "$work/.gitlab-ci-local/artifacts/plan/bin/gitlab-ha" ] || fail "the $name pipeline's plan job left no bin/gitlab-ha"
}

git -C "$work" checkout -q feature
run_pipeline "merge request" \
  --variable CI_PIPELINE_SOURCE=merge_request_event \
  --unset-variable CI_COMMIT_BRANCH \
  --variable CI_COMMIT_REF_NAME=feature \
  --variable CI_MERGE_REQUEST_IID=1 \
  --variable CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=feature \
  --variable CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main \
  --variable CI_MERGE_REQUEST_DIFF_BASE_SHA="$base"
log=$work/.gitlab-ci-local/output/plan.log
diff_of() { sed -n "/== $1: what this merge request changes/,/ to remove\$/p" "$log"; }
diff_of dev | grep -q '^~ kubernetes:apps/v1:Deployment gitlab-eu-west-1a: \[spec\.template\.spec\.containers\]$' ||
  fail "the merge request's plan diff does not show dev's CPU limit change"
diff_of prod | grep -qx '.*0 to add, 0 to change, 0 to remove' ||
  fail "the merge request's plan diff shows changes in prod, which only main made after the branch left"

git -C "$work" checkout -q main
run_pipeline "default-branch"
grep -q 'what this merge request changes' "$work/.gitlab-ci-local/output/plan.log" &&
  fail "the default-branch pipeline diffed plans as if for a merge request"

echo "== check.sh: passed in $SECONDS s"
