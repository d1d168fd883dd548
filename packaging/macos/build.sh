#!/usr/bin/env bash
# Builds the macOS packages into dist/ on a Mac (fyne package needs clang and
# the macOS SDK): dist/OnAir Studio.app and dist/onair-studio_VERSION_macos.dmg.
# From a temporary copy of the tree (fyne package bumps Build in FyneApp.toml).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
field() { sed -n "s/^ *$1 *= *\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\} *$/\\1/p" FyneApp.toml | head -1; }
version=${VERSION:-$(field Version)}
version=${version#v}
fyne=${FYNE:-$(go env GOPATH)/bin/fyne}
mkdir -p dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -c --exclude=./.git --exclude=./bin --exclude=./dist . | tar -x -C "$work"
cd "$work/cmd/onair"
cp ../../FyneApp.toml .
cp ../../assets/icon.png icon.png
sed -i '' 's#^\( *Icon *= *\).*#\1"icon.png"#' FyneApp.toml
"$fyne" package -os darwin --release --app-version "$version" --icon icon.png
app=$(ls -d ./*.app | head -1)
rm -rf "$root/dist/OnAir Studio.app"
cp -R "$app" "$root/dist/OnAir Studio.app"
hdiutil create -volname "OnAir Studio" -srcfolder "$root/dist/OnAir Studio.app" -ov -format UDZO \
  "$root/dist/onair-studio_${version}_macos.dmg"
