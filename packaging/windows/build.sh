#!/usr/bin/env bash
# Builds the Windows packages into dist/ on Linux:
#   dist/onair-studio_VERSION_windows_amd64.exe        (fyne package: GUI subsystem, icon and version resources)
#   dist/onair-studio_VERSION_windows_amd64_setup.exe  (NSIS: per-user or Program Files, Start menu, uninstaller)
# Cross-built with gcc-mingw-w64-x86-64, from a temporary copy of the tree
# (fyne package bumps Build in the FyneApp.toml it reads).
. "$(dirname "$0")/../common.sh"
for tool in x86_64-w64-mingw32-gcc makensis; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: make packaging-tools; sudo apt-get install gcc-mingw-w64-x86-64 nsis" >&2; exit 2; }
done
copy_tree "$work"
cd "$work/cmd/onair"
fyne_folder .
CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 "$fyne" package -os windows --release --app-version "$version" --icon icon.png
exe=$(ls ./*.exe | head -1)
cp "$exe" "$root/dist/onair-studio_${version}_windows_amd64.exe"
cd "$root"
makensis -V2 -DVERSION="$version" -DEXE="$root/dist/onair-studio_${version}_windows_amd64.exe" \
  -DOUT="$root/dist/onair-studio_${version}_windows_amd64_setup.exe" packaging/windows/onair.nsi
ls -l dist/*windows*
