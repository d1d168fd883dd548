#!/usr/bin/env bash
# make deps: installs the Debian packages that the given targets need
# (packaging/deps/debian.txt), and only those that are missing. With
# everything present it asks dpkg once and exits without calling apt.
#   packaging/deps/install.sh build test
#   ONAIR_DEPS=skip make test   # trust what is installed; check nothing
set -euo pipefail
list="$(dirname "$0")/debian.txt"
[[ "${ONAIR_DEPS:-}" == skip ]] && exit 0
(($#)) || set -- build
wanted=()
while read -r pkg targets _; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  for t in "$@"; do
    if [[ ",$targets," == *",$t,"* ]]; then
      if [[ "$pkg" == npm:* ]]; then
        command -v npm >/dev/null && continue
        pkg=${pkg#npm:}
      fi
      wanted+=("$pkg")
      break
    fi
  done
done <"$list"
((${#wanted[@]})) || exit 0

if ! command -v dpkg-query >/dev/null; then
  echo "make deps: this is not Debian or Ubuntu (no dpkg-query). Install by hand what $list lists for: $*" >&2
  echo "  (or run with ONAIR_DEPS=skip to go on with what is installed)" >&2
  exit 1
fi
declare -A installed=()
while read -r pkg status; do
  [[ "$status" == "install ok installed" ]] && installed[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for p in "${wanted[@]}"; do
  [[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done
((${#missing[@]})) || exit 0

echo "make deps: installing for '$*': ${missing[*]}" >&2
sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null; then
    echo "make deps: not root, so apt-get runs through sudo (it may ask for your password)" >&2
    sudo=(sudo)
  else
    echo "make deps: these packages are missing and apt-get needs root (no sudo here): ${missing[*]}" >&2
    echo "  install them as root, or run with ONAIR_DEPS=skip to go on without them" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
