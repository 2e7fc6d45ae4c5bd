#!/usr/bin/env bash
# chromium_shot.sh URL OUT.png [WIDTH,HEIGHT]: one headless Chromium screenshot (Debian's
# chromium: apt-get install chromium). --no-sandbox only when running as root, where Chromium
# refuses to start sandboxed.
set -euo pipefail
url=$1 out=$2 size=${3:-1280,1600}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    echo "no chromium on PATH: apt-get install chromium" >&2
    exit 1
fi
flags=(--headless --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
       --force-device-scale-factor=1 "--window-size=$size" --virtual-time-budget=5000)
[ "$(id -u)" = 0 ] && flags+=(--no-sandbox)
mkdir -p "$(dirname "$out")"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" "${flags[@]}" "--user-data-dir=$profile" "--screenshot=$out" "$url" 2>/dev/null
test -s "$out"
echo "wrote $out"
