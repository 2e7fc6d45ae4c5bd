#!/usr/bin/env bash
# docs_shots.sh PYTHON SITE_DIR OUT_DIR: serve the built site on 127.0.0.1 (a free port) and
# render the home page, a guide and an API reference page to PNGs, as a user would see them.
set -euo pipefail
python=$1 site=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m http.server --bind 127.0.0.1 --directory "$site" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server"' EXIT
for _ in $(seq 50); do
    "$python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
    sleep 0.1
done
base="http://127.0.0.1:$port"
"$here/chromium_shot.sh" "$base/" "$out/home.png"
"$here/chromium_shot.sh" "$base/guides/cancel/" "$out/guide-cancel.png"
"$here/chromium_shot.sh" "$base/reference/cloudpartner/" "$out/api-cloudpartner.png"
"$here/chromium_shot.sh" "$base/guides/cli/" "$out/guide-cli.png"
