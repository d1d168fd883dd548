#!/usr/bin/env bash
# Makes the Wine prefix make test-windows runs the Windows build in:
# a 64-bit prefix (wineboot, without Mono or Gecko) with the ProcessPrng
# shim as bcryptprimitives.dll in its system32. Kept between runs; made
# again when this script or the shim changes.
#   packaging/windows/wine/prefix.sh PREFIX
set -euo pipefail
prefix=$1
here=$(cd "$(dirname "$0")" && pwd)
for tool in wine x86_64-w64-mingw32-gcc; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: sudo apt-get install wine wine64 gcc-mingw-w64-x86-64" >&2; exit 2; }
done
stamp=$(cat "$0" "$here/prng.c" "$here/prng.def" | sha256sum | cut -c1-16)
if [[ -f "$prefix/.onair-stamp" && "$(cat "$prefix/.onair-stamp")" == "$stamp" ]]; then
  exit 0
fi
rm -rf "$prefix"
mkdir -p "$prefix"
# C.UTF-8, which every Debian has: a prefix made under a locale that is not
# generated (make's en_US.UTF-8 on a fresh machine) cannot open windows later.
export LANG=C.UTF-8 LC_ALL=C.UTF-8
export WINEPREFIX=$prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wineboot --init
wineserver -w
x86_64-w64-mingw32-gcc -shared -O2 -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
  "$here/prng.c" "$here/prng.def" -ladvapi32
echo "$stamp" >"$prefix/.onair-stamp"
echo "Wine prefix ready: $prefix"
