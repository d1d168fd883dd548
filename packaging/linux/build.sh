#!/usr/bin/env bash
# Builds the Linux packages into dist/:
#   dist/onair-studio_VERSION_linux_amd64.tar.xz  (fyne package: binary, desktop entry, icon, Makefile)
#   dist/onair-studio_VERSION_amd64.deb           (dpkg-deb, with its runtime library dependencies)
# The app's name, id, version and icon come from FyneApp.toml. Everything is
# built in a temporary copy, so the working tree is left as it was (fyne
# package bumps Build in the FyneApp.toml it reads).
. "$(dirname "$0")/../common.sh"
for tool in dpkg-deb ldd xz; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: sudo apt-get install dpkg xz-utils" >&2; exit 2; }
done

# The binary, with the version stamped in.
go build -ldflags "-s -w -X main.version=$version" -o "$work/onair" ./cmd/onair

# .tar.xz with fyne package, from a copy of FyneApp.toml.
mkdir -p "$work/src"
cp cmd/onair/main.go "$work/src/" # fyne package wants the main package's folder
fyne_folder "$work/src"
(cd "$work/src" && "$fyne" package -os linux --release --exe "$work/onair" --name onair \
  --app-id "$id" --app-version "$version" --icon icon.png >/dev/null)
mv "$work/src/onair.tar.xz" "dist/onair-studio_${version}_linux_amd64.tar.xz"

# .deb: the files where a desktop looks for them, and the libraries the
# binary links, as the packages that hold them.
deb=$work/deb
install -D -m 0755 "$work/onair" "$deb/usr/bin/onair"
install -D -m 0644 packaging/linux/onair-studio.desktop "$deb/usr/share/applications/onair-studio.desktop"
install -D -m 0644 assets/icon.png "$deb/usr/share/icons/hicolor/256x256/apps/onair-studio.png"
install -D -m 0644 LICENSE "$deb/usr/share/doc/onair-studio/copyright" 2>/dev/null || \
  printf 'OnAir Studio\n' | install -D -m 0644 /dev/stdin "$deb/usr/share/doc/onair-studio/copyright"
owners() {
  for lib in $(ldd "$work/onair" | awk '/=> \//{print $3}'); do
    dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null || true
  done
}
depends=$(owners | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
mkdir -p "$deb/DEBIAN"
cat > "$deb/DEBIAN/control" <<CONTROL
Package: onair-studio
Version: $version
Architecture: $(dpkg --print-architecture)
Maintainer: OnAir Studio <studio@onair.studio>
Depends: $depends, ffmpeg
Recommends: obs-studio, libopenh264-7
Section: video
Priority: optional
Homepage: https://onair.studio
Description: $name, a desktop broadcasting studio
 Point OBS at the studio: it serves low-latency HLS, records every session
 to an MP4 library and sends the stream to other platforms, driven from one
 window or a REST API shaped like Cloudinary's Live Streaming API.
CONTROL
dpkg-deb --root-owner-group --build "$deb" "dist/onair-studio_${version}_$(dpkg --print-architecture).deb" >/dev/null
ls -l dist/
