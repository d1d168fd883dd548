#!/usr/bin/env bash
# Builds the macOS packages into dist/ on a Mac (fyne package needs clang and
# the macOS SDK): dist/OnAir Studio.app and dist/onair-studio_VERSION_macos.dmg.
# From a temporary copy of the tree (fyne package bumps Build in FyneApp.toml).
. "$(dirname "$0")/../common.sh"
copy_tree "$work"
cd "$work/cmd/onair"
fyne_folder .
"$fyne" package -os darwin --release --app-version "$version" --icon icon.png
app=$(ls -d ./*.app | head -1)
rm -rf "$root/dist/OnAir Studio.app"
cp -R "$app" "$root/dist/OnAir Studio.app"
hdiutil create -volname "OnAir Studio" -srcfolder "$root/dist/OnAir Studio.app" -ov -format UDZO \
  "$root/dist/onair-studio_${version}_macos.dmg"
