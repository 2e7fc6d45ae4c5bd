#!/usr/bin/env bash
# notebook_picture.sh PYTHON NOTEBOOK OUT.png: execute the notebook in a real kernel (nbclient,
# through nbconvert --execute; its error cell is meant to raise, as in tests/test_notebook.py), convert it to HTML, and render that with headless Chromium.
# `make notebook-picture` runs it for docs/notebook.png.
set -euo pipefail
python=$1 notebook=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m jupyter nbconvert --to html --execute --allow-errors --ExecutePreprocessor.timeout=120 \
    --output-dir "$work" --output notebook "$notebook"
"$here/chromium_shot.sh" "file://$work/notebook.html" "$out" 1100,2200
