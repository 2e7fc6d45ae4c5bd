#!/usr/bin/env bash
# The wheel in dist/ as users get it: for the oldest and the newest CPython on this machine (one
# abi3 wheel serves both), a fresh virtualenv with no cargo or rustc on PATH, `pip install` of the
# wheel, `cloudpartner demo`, scripts/wheel_smoke.py, then the whole test suite against the
# installed package (never the source tree's python/ directory).
#
#   scripts/test-wheel.sh                         # oldest and newest python3.X >= 3.9 found
#   PYTHONS="/usr/bin/python3.12" scripts/test-wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

shopt -s nullglob
wheels=(dist/cloudpartner-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "test-wheel: expected exactly one wheel in dist/, found ${#wheels[@]} (run make dist)" >&2
    exit 1
fi
wheel=$repo/${wheels[0]}

# Candidates: python3.9 ... python3.14 on PATH and in pyenv; keep the oldest and the newest.
if [ -z "${PYTHONS:-}" ]; then
    found=()
    for minor in 9 10 11 12 13 14; do
        for candidate in $(command -v "python3.$minor" || true) /root/.pyenv/versions/3."$minor".*/bin/python3; do
            if [ -x "$candidate" ] && "$candidate" -c 'import venv' 2>/dev/null; then
                found+=("$candidate")
                break
            fi
        done
    done
    if [ "${#found[@]}" -eq 0 ]; then
        echo "test-wheel: no python3.9+ found" >&2
        exit 1
    fi
    PYTHONS="${found[0]} ${found[-1]}"
    [ "${found[0]}" = "${found[-1]}" ] && PYTHONS=${found[0]}
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A PATH without the Rust toolchain: the wheel must not need it (nor may pip try to build).
clean_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for tool in cargo rustc; do
    if PATH=$clean_path command -v "$tool" >/dev/null; then
        echo "test-wheel: $tool is on the clean PATH ($clean_path); cannot prove the wheel needs no Rust" >&2
        exit 1
    fi
done

for python in $PYTHONS; do
    version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    venv=$work/venv-$version
    echo "== $(basename "$wheel") on Python $version ($python)"
    "$python" -m venv "$venv"
    export PATH="$venv/bin:$clean_path"
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    # A crash (seen once: SIGSEGV as wheel_smoke.py exited on 3.9) then prints every thread's stack.
    export PYTHONFAULTHANDLER=1
    start=$(date +%s%N)
    pip install -q --no-deps --only-binary :all: "$wheel"
    echo "installed from the wheel in $((($(date +%s%N) - start) / 1000000)) ms"
    (cd "$work" && cloudpartner demo >"$work/demo.log" && tail -n 3 "$work/demo.log")
    (cd "$work" && python "$repo/scripts/wheel_smoke.py")

    pip install -q --only-binary cloudpartner "${wheel}[test]"
    # The suite must exercise the installed package, not python/ in this checkout.
    where=$(python -c 'import cloudpartner, cloudpartner._core as c; print(c.__file__)')
    case $where in
        "$venv"/*) echo "tests import $where" ;;
        *) echo "test-wheel: tests would import $where, not the installed wheel" >&2; exit 1 ;;
    esac
    python -m pytest -q -p no:cacheprovider "$repo/tests"
done
