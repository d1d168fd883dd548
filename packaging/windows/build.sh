#!/usr/bin/env bash
# Builds the Windows packages into dist/ on Linux:
#   dist/onair-studio_VERSION_windows_amd64.exe        (fyne package: GUI subsystem, icon and version resources)
#   dist/onair-studio_VERSION_windows_amd64_setup.exe  (NSIS: per-user or Program Files, Start menu, uninstaller)
# Cross-built with gcc-mingw-w64-x86-64, from a temporary copy of the tree
# (fyne package bumps Build in the FyneApp.toml it reads).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
field() { sed -n "s/^ *$1 *= *\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\} *$/\\1/p" FyneApp.toml | head -1; }
version=${VERSION:-$(field Version)}
version=${version#v}
fyne=${FYNE:-$(go env GOPATH)/bin/fyne}
for tool in "$fyne" x86_64-w64-mingw32-gcc makensis; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: make packaging-tools; sudo apt-get install gcc-mingw-w64-x86-64 nsis" >&2; exit 2; }
done
mkdir -p dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -c --exclude=./.git --exclude=./bin --exclude=./dist . | tar -x -C "$work"
cd "$work/cmd/onair"
cp ../../FyneApp.toml .
cp ../../assets/icon.png icon.png
sed -i 's#^\( *Icon *= *\).*#\1"icon.png"#' FyneApp.toml
CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 "$fyne" package -os windows --release --app-version "$version" --icon icon.png
exe=$(ls ./*.exe | head -1)
cp "$exe" "$root/dist/onair-studio_${version}_windows_amd64.exe"
cd "$root"
makensis -V2 -DVERSION="$version" -DEXE="$root/dist/onair-studio_${version}_windows_amd64.exe" \
  -DOUT="$root/dist/onair-studio_${version}_windows_amd64_setup.exe" packaging/windows/onair.nsi
ls -l dist/*windows*
