#!/usr/bin/env bash
# Checks the Linux packages in dist/ (CI runs it after make package-linux):
# the binary runs --version, the desktop entry is valid, the .deb lists its
# dependencies and files and installs with apt, and the tree is unchanged.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deb=$(ls dist/onair-studio_*.deb | head -1)
tarball=$(ls dist/onair-studio_*_linux_amd64.tar.xz | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tar -xJf "$tarball" -C "$work"
bin=$(find "$work" -type f -name onair -perm -u+x | head -1)
"$bin" --version
desktop-file-validate packaging/linux/onair-studio.desktop
find "$work" -name '*.desktop' -exec desktop-file-validate {} \;

dpkg-deb --info "$deb"
contents=$(dpkg-deb --contents "$deb")
echo "$contents"
depends=$(dpkg-deb --field "$deb" Depends)
for d in libc6 libgl1 libx11-6 libasound2 ffmpeg; do
  [[ ", $depends," == *", $d,"* ]] || { echo "the .deb does not depend on $d: $depends" >&2; exit 1; }
done
for f in ./usr/bin/onair ./usr/share/applications/onair-studio.desktop ./usr/share/icons/hicolor/256x256/apps/onair-studio.png; do
  grep -q " $f\$" <<<"$contents" || { echo "the .deb lacks $f" >&2; exit 1; }
done
if [ "$(id -u)" = 0 ]; then
  apt-get install -y -q "./$deb"
  /usr/bin/onair --version
fi
if [ -n "$(git status --porcelain)" ]; then
  echo "packaging changed the tree:" >&2; git status --porcelain >&2; exit 1
fi
echo "Linux packages checked: $deb $tarball"
