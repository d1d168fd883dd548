#!/usr/bin/env bash
# Checks the Windows packages in dist/: the .exe is PE32+ for x86-64, of the
# GUI subsystem, with an icon and version resources; the installer exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
exe=$(ls dist/onair-studio_*_windows_amd64.exe | head -1)
setup=$(ls dist/onair-studio_*_windows_amd64_setup.exe | head -1)
headers=$(x86_64-w64-mingw32-objdump -p "$exe")
grep -q "^Magic.*020b" <<<"$headers" || { echo "$exe is not PE32+" >&2; exit 1; }
grep -q "^Subsystem.*(Windows GUI)" <<<"$headers" || { echo "$exe is not a GUI-subsystem binary" >&2; exit 1; }
sections=$(x86_64-w64-mingw32-objdump -h "$exe")
grep -q " \.rsrc " <<<"$sections" || { echo "$exe has no resources" >&2; exit 1; }
resources=$(x86_64-w64-mingw32-objdump -s -j .rsrc "$exe")
# The icon's PNG and the VS_VERSION_INFO block (UTF-16) are in the resources.
grep -q "PNG" <<<"$resources" || { echo "$exe has no icon resource" >&2; exit 1; }
grep -q "FileVersion" <<<"$(x86_64-w64-mingw32-strings -e l "$exe")" || { echo "$exe has no version resource" >&2; exit 1; }
[ -s "$setup" ] || { echo "no installer" >&2; exit 1; }
file "$exe" "$setup" 2>/dev/null || true
echo "Windows packages checked: $exe $setup"
