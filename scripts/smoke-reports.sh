#!/usr/bin/env bash
# Signed smoke reports travel on their own branch (default: smoke-reports), which holds the latest
# report of every card, one <id>.json each, at its top level:
#
#   scripts/smoke-reports.sh push ID...   commit artifacts/smoke/<ID>.json (signed) to the branch and push
#   scripts/smoke-reports.sh fetch        take each card's newest signed report from the branch into
#                                         artifacts/smoke/ (kb smoke --take-newest)
#
# The smoke workflow pushes what it ran on a CPU runner; a maintainer with a GPU pushes the rest the same
# way; the Pages build fetches them all before `kb build`. The branch is a transport, not a trust anchor:
# fetch takes only reports an allowed signer of the default branch signed, the newest of each card by
# its signed finish time across the branch's history, so a report changed, added or committed back on
# the branch by anyone else is never taken (protect the branch all the same: SECURITY.md).
#
# Run from the project root (a git checkout). The working tree, the index and the current branch are
# never touched: push builds its commit with a temporary index. Settings, from the environment:
#   KB_REPORTS_REMOTE  the remote (default: origin)
#   KB_REPORTS_BRANCH  the branch (default: smoke-reports)
#   KB_SMOKE_DIR       the reports folder (default: artifacts/smoke, as kb smoke writes them)
#   KB                 the kb command (default: kb)
set -euo pipefail
shopt -s inherit_errexit

remote="${KB_REPORTS_REMOTE:-origin}"
branch="${KB_REPORTS_BRANCH:-smoke-reports}"
dir="${KB_SMOKE_DIR:-artifacts/smoke}"
id_re='^[a-z0-9][a-z0-9._-]*$' # a card id (generator/schema/common.py: SLUG)
max_bytes=1048576                # the most a report may have (generator/yamlio.py: MAX_BYTES)
kb="${KB:-kb}"                   # the installed product, which verifies the reports
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

die() {
  echo "smoke-reports: $*" >&2
  exit 1
}

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Whether the remote has the branch: 0 yes, 1 no; any other failure (no such remote, no network) stops.
remote_has_branch() {
  local rc=0
  git ls-remote --exit-code --heads "$remote" "refs/heads/$branch" >/dev/null || rc=$?
  case "$rc" in
    0) return 0 ;;
    2) return 1 ;;
    *) die "cannot reach the remote '$remote' (git ls-remote exited $rc)" ;;
  esac
}

# The reports folder, created when missing; a relative one must not lead through a symbolic link
# (a link committed as artifacts/ would have the reports written anywhere).
reports_dir() {
  local path="" part parts
  if [[ "$dir" != /* ]]; then
    IFS=/ read -r -a parts <<<"$dir"
    for part in "${parts[@]}"; do
      if [ -z "$part" ] || [ "$part" = . ]; then continue; fi
      [ "$part" != .. ] || die "$dir leads out of the project"
      path="${path:+$path/}$part"
      [ ! -L "$path" ] || die "$path is a symbolic link: refusing to write the reports through it"
    done
  fi
  mkdir -p -- "$dir"
}

# The signed report of a card, as a regular file of the reports folder; refuses anything else, so that
# a push never replaces a signed report on the branch with one no build accepts.
checked_report() {
  local id="$1" file
  [[ "$id" =~ $id_re ]] || die "'$id' is not a card id"
  file="$dir/$id.json"
  [ -f "$file" ] && [ ! -L "$file" ] || die "$file: no report (run kb smoke $id first)"
  python3 - "$file" <<'EOF' || die "$file is not signed: run kb smoke $id with KB_SIGNING_KEY set (see SECURITY.md)"
import json
import sys

with open(sys.argv[1], encoding="utf-8") as fh:
    report = json.load(fh)
sys.exit(0 if isinstance(report, dict) and isinstance(report.get("signature"), dict) else 1)
EOF
}

identity() {
  export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-$(git config user.name || echo 'kb smoke')}"
  export GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-$(git config user.email || echo 'kb-smoke@localhost')}"
  export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}"
  export GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}"
}

# The tip of the branch on the remote now (empty when it has none yet).
remote_tip() {
  if remote_has_branch; then
    git fetch --quiet --no-tags "$remote" "refs/heads/$branch" || die "cannot fetch $branch from $remote"
    git rev-parse --verify 'FETCH_HEAD^{commit}'
  fi
}

# A commit of the branch at `parent` (empty: none yet) with these reports added or replaced; prints
# nothing when the branch has them already.
commit_reports() {
  local parent="$1" index tree blob id
  shift
  index="$work/index"
  rm -f -- "$index"
  if [ -n "$parent" ]; then
    GIT_INDEX_FILE="$index" git read-tree "$parent" || die "cannot read $branch"
  else
    GIT_INDEX_FILE="$index" git read-tree --empty || die "cannot start an index"
  fi
  for id in "$@"; do
    blob="$(git hash-object -w -- "$dir/$id.json")" || die "cannot store $dir/$id.json"
    GIT_INDEX_FILE="$index" git update-index --add --cacheinfo "100644,$blob,$id.json" || die "cannot add $id"
  done
  tree="$(GIT_INDEX_FILE="$index" git write-tree)" || die "cannot write the tree"
  if [ -n "$parent" ] && [ "$tree" = "$(git rev-parse "$parent^{tree}")" ]; then
    return 0
  fi
  git commit-tree "$tree" ${parent:+-p "$parent"} -m "Smoke reports: $*" || die "cannot commit"
}

push() {
  [ $# -gt 0 ] || die "name the cards whose reports to publish: $0 push ID... (kb smoke --list shows ids)"
  local id attempt parent commit
  for id in "$@"; do checked_report "$id"; done
  identity
  for attempt in 1 2 3 4 5; do
    parent="$(remote_tip)"
    commit="$(commit_reports "$parent" "$@")"
    if [ -z "$commit" ]; then
      echo "smoke-reports: $remote $branch has these reports already" >&2
      return 0
    fi
    if git push --quiet "$remote" "$commit:refs/heads/$branch"; then
      echo "smoke-reports: pushed $# report(s) to $remote $branch ($(git rev-parse --short "$commit")): $*" >&2
      return 0
    fi
    # Refused: another push landed first (try again on top of it), or the remote refuses us (stop).
    [ "$(remote_tip)" != "$parent" ] || die "$remote refused the push to $branch"
    echo "smoke-reports: $branch moved while pushing (try $attempt); trying again" >&2
    sleep "$attempt"
  done
  die "could not push to $remote $branch: it kept moving"
}

# Every card's report from the branch into the reports folder. The branch is not trusted to hold the
# latest one (anyone who can push may commit an older signed pass back over a newer fail), so every
# version of each <card id>.json in its history is handed to `kb smoke --take-newest`, which writes the
# newest by its signed finish time among those an allowed signer signed (a report already in the folder,
# one committed on the default branch, counts too) and skips anything else with the reason. Only regular
# files named <card id>.json at the branch's top level count (no links, no subfolders), and a version
# bigger than a report may be is never read.
fetch() {
  [ $# -eq 0 ] || usage
  if ! remote_has_branch; then
    echo "smoke-reports: $remote has no branch $branch yet: no reports fetched" >&2
    return 0
  fi
  git fetch --quiet --no-tags "$remote" "refs/heads/$branch" || die "cannot fetch $branch from $remote"
  local ref count=0 skipped=0 entry meta name mode type sha id commit size versions
  local -A seen=()
  ref="$(git rev-parse --verify 'FETCH_HEAD^{commit}')"
  reports_dir
  versions="$work/versions"
  mkdir -p -- "$versions"
  while IFS= read -r -d '' entry; do
    meta="${entry%%$'\t'*}"
    name="${entry#*$'\t'}"
    read -r mode type sha <<<"$meta"
    if [ "$type" != blob ] || { [ "$mode" != 100644 ] && [ "$mode" != 100755 ]; } ||
      [[ "$name" != *.json ]] || ! [[ "${name%.json}" =~ $id_re ]]; then
      echo "smoke-reports: skipped $name on $branch (only <card id>.json files are reports)" >&2
      skipped=$((skipped + 1))
      continue
    fi
    id="${name%.json}"
    mkdir -p -- "$versions/$id"
    count=$((count + 1))
    while IFS= read -r commit; do
      entry="$(git ls-tree "$commit" -- "$name")"
      [ -n "$entry" ] || continue
      read -r mode type sha <<<"${entry%%$'\t'*}"
      if [ "$type" != blob ] || { [ "$mode" != 100644 ] && [ "$mode" != 100755 ]; }; then continue; fi
      if [ -n "${seen[$name:$sha]:-}" ]; then continue; fi
      seen[$name:$sha]=1
      size="$(git cat-file -s "$sha")"
      if [ "$size" -gt "$max_bytes" ]; then
        echo "smoke-reports: skipped $name of $branch@${commit:0:12}: $size bytes, more than a report may have ($max_bytes)" >&2
        continue
      fi
      git cat-file blob "$sha" >"$versions/$id/$branch@${commit:0:12}.json"
    done < <(git rev-list "$ref" -- "$name")
  done < <(git ls-tree -z "$ref")
  echo "smoke-reports: $count card(s) on $remote $branch ($skipped other entries skipped)" >&2
  "$kb" smoke --take-newest "$versions"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  push) push "$@" ;;
  fetch) fetch "$@" ;;
  *) usage ;;
esac
