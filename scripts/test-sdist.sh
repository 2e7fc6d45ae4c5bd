#!/usr/bin/env bash
# The sdist in dist/ builds from itself alone: unpacked into an empty directory (no git checkout
# around it), built with `--locked` (its own Cargo.lock) into a wheel, installed into a fresh
# virtualenv, then the smoke test. A debug build: this checks completeness, not speed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
shopt -s nullglob
sdists=(dist/cloudpartner-*.tar.gz)
if [ "${#sdists[@]}" -ne 1 ]; then
    echo "test-sdist: expected exactly one sdist in dist/, found ${#sdists[@]} (run make dist)" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "${sdists[0]}" -C "$work"
src=$(echo "$work"/cloudpartner-*/)
echo "== building $(basename "${sdists[0]}") alone in $src"
(cd "$src" && CARGO_TARGET_DIR="$work/target" "$repo/.venv/bin/maturin" build --locked --out "$work/wheel" 2>&1 | tail -n 2)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-deps "$work"/wheel/*.whl
(cd "$work" && "$work/venv/bin/cloudpartner" demo >/dev/null && "$work/venv/bin/python" "$repo/scripts/wheel_smoke.py")
