#!/usr/bin/env bash
# README's two commands as a newcomer meets them. The committed HEAD is cloned into a temporary
# directory and the lines of the first ```sh block of that clone's README.md (comments stripped,
# so README and this script cannot drift) run one after another in one `bash -e` shell with a
# clean environment (no virtualenv, conda env, PYTHONPATH, PYO3_* or CARGO_TARGET_DIR from the
# caller; PATH: cargo's directory and the system's), stopping at the first line that fails:
#
#   a  no virtualenv active; python3 is the system's (on Debian/Ubuntu it refuses `pip install`
#      outside a virtualenv: PEP 668, EXTERNALLY-MANAGED)
#   b  inside an activated, unrelated virtualenv; afterwards, with that one activated again,
#      `make dev lint` once more must use .venv and install nothing into it
#   c  the oldest Python pyproject.toml supports (requires-python) first on PATH as python3,
#      python and pip
#
# Each case gets its own clone and so its own target/ directory: a cold build, as a newcomer's.
# Only download caches are shared (cargo's registry, pip's cache). Each case's wall time is printed.
#
#   scripts/fresh-clone.sh          # a, b and c, one after another
#   scripts/fresh-clone.sh b        # one case (.ci/run runs b)
# The newcomer's script is written here with single-quoted $... on purpose: the inner shell expands them.
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

cases=("$@")
if [ "${#cases[@]}" -eq 0 ] || [ "${cases[*]}" = all ]; then
    cases=(a b c)
fi
for case in "${cases[@]}"; do
    case $case in
        a | b | c) ;;
        *) echo "usage: scripts/fresh-clone.sh [a|b|c|all]..." >&2; exit 2 ;;
    esac
done

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "fresh-clone: note: uncommitted changes here are not tested (the clone is of HEAD)" >&2
fi
head=$(git rev-parse --short HEAD)

# The newcomer's PATH: the Rust toolchain and the system's directories, nothing from pyenv or a venv.
cargo=$(command -v cargo) || { echo "fresh-clone: cargo not found" >&2; exit 1; }
sys_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
base_path=$(dirname "$cargo"):$sys_path
if ! PATH=$base_path command -v python3 >/dev/null; then
    echo "fresh-clone: no python3 on $sys_path" >&2
    exit 1
fi

# The oldest supported Python for case c: requires-python's minor version, found as test-wheel.sh does.
oldest_minor=$(sed -n 's/^requires-python = ">=3\.\([0-9][0-9]*\)".*/\1/p' pyproject.toml)
oldest=
for candidate in $(command -v "python3.$oldest_minor" || true) /root/.pyenv/versions/3."$oldest_minor".*/bin/python3; do
    if [ -x "$candidate" ] && "$candidate" -c 'import venv' 2>/dev/null; then
        # The interpreter itself, not a pyenv shim (a shim linked as python3 would run pyenv's default).
        oldest=$("$candidate" -c 'import os, sys; print(os.path.realpath(sys.executable))')
        break
    fi
done

# Only what a newcomer's machine has set for the network and the toolchains; every other variable is dropped.
keep_env() {
    local name
    for name in HOME USER LOGNAME LANG LC_ALL TERM TMPDIR CARGO_HOME RUSTUP_HOME RUSTUP_TOOLCHAIN \
        RUSTUP_AUTO_INSTALL CARGO_TERM_COLOR PIP_DISABLE_PIP_VERSION_CHECK PIP_DEFAULT_TIMEOUT \
        PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CERT SSL_CERT_FILE SSL_CERT_DIR \
        REQUESTS_CA_BUNDLE CURL_CA_BUNDLE http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
        if [ -n "${!name+set}" ]; then
            printf '%s=%s\n' "$name" "${!name}"
        fi
    done
}

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { s = b - a; printf "%dm%04.1fs (%.1f s)", s / 60, s - 60 * int(s / 60), s }'; }

summary=()
run_case() {
    local case=$1 work clone path readme inner status start
    work=$(mktemp -d)
    # shellcheck disable=SC2064  # $work is fixed now, on purpose
    trap "rm -rf '$work'" EXIT
    clone=$work/cloudpartner
    git clone -q --no-hardlinks "$repo" "$clone"
    readme=$clone/README.md

    # README's first ```sh block, without comments or blank lines.
    local -a commands
    mapfile -t commands < <(awk '/^```sh$/ { block = 1; next } block && /^```/ { exit } block' "$readme" |
        sed -E 's/[[:space:]]+#.*$//; /^[[:space:]]*$/d')
    if [ "${#commands[@]}" -ne 2 ]; then
        echo "fresh-clone: README.md's first sh block has ${#commands[@]} commands, expected 2" >&2
        exit 1
    fi

    path=$base_path
    inner=$work/newcomer.sh
    {
        echo 'set -e'
        echo 'now() { date +%s.%N; }'
        printf 'cd %q\n' "$clone"
        case $case in
            a)
                cat <<'EOF'
echo "== (a) no virtualenv active; python3 is $(command -v python3) ($(python3 --version))"
if refusal=$(python3 -m pip install --dry-run --no-index --no-deps cloudpartner 2>&1); then
    echo "   its pip would install outside a virtualenv"
elif grep -q externally-managed-environment <<<"$refusal"; then
    echo "   its pip refuses to install outside a virtualenv: externally-managed-environment (PEP 668)"
else
    echo "   its pip: $(tail -n 1 <<<"$refusal")"
fi
EOF
                ;;
            b)
                printf 'python3 -m venv %q\n' "$work/elsewhere"
                printf '. %q\n' "$work/elsewhere/bin/activate"
                echo 'echo "== (b) inside an activated, unrelated virtualenv: VIRTUAL_ENV=$VIRTUAL_ENV ($(python3 --version))"'
                ;;
            c)
                if [ -z "$oldest" ]; then
                    echo "fresh-clone: case c: no python3.$oldest_minor found (PATH, /root/.pyenv/versions)" >&2
                    exit 1
                fi
                mkdir "$work/oldest"
                for name in python3 python "python3.$oldest_minor"; do
                    ln -s "$oldest" "$work/oldest/$name"
                done
                printf '#!/bin/sh\nexec %q -m pip "$@"\n' "$oldest" >"$work/oldest/pip"
                cp "$work/oldest/pip" "$work/oldest/pip3"
                chmod +x "$work/oldest/pip" "$work/oldest/pip3"
                path=$work/oldest:$path
                echo 'echo "== (c) the oldest supported Python as python3: $(command -v python3) -> '"$oldest"' ($(python3 --version))"'
                ;;
        esac
        echo "echo '   in a fresh clone of $head: $clone'"
        echo 'first=$(now)'
        local i=0 line
        for line in "${commands[@]}"; do
            i=$((i + 1))
            printf 'echo %q\n' "== ($case) command $i: $line"
            echo "start=\$(now)"
            # A failure inside an && list does not stop `bash -e`; the status of the line does.
            printf '%s\n' "$line"
            echo "status=\$?; [ \$status -eq 0 ] || { echo '== ($case) command $i failed'; exit \$status; }"
            echo "echo \"== ($case) command $i: \$(awk -v a=\$start -v b=\$(now) 'BEGIN { printf \"%.1f s\", b - a }')\""
        done
        printf 'awk -v a="$first" -v b="$(now)" '\''BEGIN { print b - a }'\'' >%q\n' "$work/readme-seconds"
        if [ "$case" = b ]; then
            # The issue's failure: an activated virtualenv that is not .venv, then make. Built already: quick.
            printf 'deactivate\n. %q\n' "$work/elsewhere/bin/activate"
            echo 'echo "== (b) again with VIRTUAL_ENV=$VIRTUAL_ENV: make dev lint"'
            echo 'make dev lint'
            printf 'if %q -c "import cloudpartner" 2>/dev/null || %q -m ruff --version >/dev/null 2>&1; then\n' \
                "$work/elsewhere/bin/python" "$work/elsewhere/bin/python"
            echo '    echo "== (b) something was installed into the activated virtualenv, not .venv"; exit 1'
            echo 'fi'
            echo 'echo "== (b) the activated virtualenv got nothing; .venv has cloudpartner from $(.venv/bin/python -c "import cloudpartner; print(cloudpartner.__file__)")"'
        fi
    } >"$inner"

    start=$(seconds)
    status=0
    local -a environment
    mapfile -t environment < <(keep_env)
    env -i "${environment[@]}" PATH="$path" bash -e "$inner" </dev/null || status=$?
    local took readme_took=
    took=$(elapsed "$start" "$(seconds)")
    if [ -s "$work/readme-seconds" ]; then
        readme_took="README's two commands $(elapsed 0 "$(cat "$work/readme-seconds")"), "
    fi
    rm -rf "$work"
    trap - EXIT
    if [ "$status" -ne 0 ]; then
        summary+=("($case) FAILED (exit $status) after $took")
        printf '%s\n' "${summary[@]}"
        exit "$status"
    fi
    summary+=("($case) passed: ${readme_took}the whole case (clone, checks) $took")
    echo "== ${summary[-1]}"
}

for case in "${cases[@]}"; do
    run_case "$case"
done
echo "== fresh-clone of $head:"
printf '   %s\n' "${summary[@]}"
