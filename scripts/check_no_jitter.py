"""Fail when a wheel's core has aws-lc's CPU-jitter entropy source compiled in.

It costs every process 30-50 ms before its first HTTPS call and can abort() in a freshly booted
VM; `.cargo/config.toml` turns it off (AWS_LC_SYS_NO_JITTER_ENTROPY), and a build that lost that
file (say, from an sdist without it) would bring it back unnoticed.

    python scripts/check_no_jitter.py dist/*.whl
"""

from __future__ import annotations

import sys
import zipfile


def main(wheels: list[str]) -> int:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            cores = [name for name in archive.namelist() if name.startswith("cloudpartner/_core")]
            if not cores:
                print(f"{wheel}: no cloudpartner/_core library")
                return 1
            for core in cores:
                if b"jent_" in archive.read(core):
                    print(f"{wheel}: {core} has aws-lc's jitter entropy (AWS_LC_SYS_NO_JITTER_ENTROPY lost)")
                    return 1
        print(f"{wheel}: no jitter entropy source compiled in")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
