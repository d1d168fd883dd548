# Sourced by the package scripts: the repository root (the working folder
# from here on), FyneApp.toml's fields, the version, the fyne command, and
# the temporary copy every package is built from.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
field() { sed -n "s/^ *$1 *= *\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\} *$/\\1/p" FyneApp.toml | head -1; }
name=$(field Name)
id=$(field ID)
version=${VERSION:-$(field Version)}
version=${version#v}
fyne=${FYNE:-$(go env GOPATH)/bin/fyne}
[ -x "$fyne" ] || { echo "fyne is missing: make packaging-tools" >&2; exit 2; }
# The window is built without Fyne's bundled emoji font (4 MB in the binary,
# parsed into ~11 MB at every start): emoji in stream names come from the
# system's emoji font. The Makefile sets the same.
case " ${GOFLAGS:-} " in *no_emoji*) ;; *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=no_emoji" ;; esac
mkdir -p dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fyne_folder DIR makes DIR a folder fyne package can read: FyneApp.toml (a
# copy, which fyne may change) naming icon.png beside it.
fyne_folder() {
  sed 's#^\( *Icon *= *\).*#\1"icon.png"#' "$root/FyneApp.toml" >"$1/FyneApp.toml"
  cp "$root/assets/icon.png" "$1/icon.png"
}

# copy_tree DIR copies the working tree, without .git, bin and dist, to DIR.
copy_tree() {
  mkdir -p "$1"
  tar -c --exclude=./.git --exclude=./bin --exclude=./dist . | tar -x -C "$1"
}
