"""Instructions per call, counted by valgrind's callgrind: a figure that a busy machine leaves alone.

    python benchmarks/instructions.py [--calls 1000] [PYTHON ...]

Each PYTHON (default: this one) is an interpreter with cloudpartner installed, e.g. two virtualenvs
holding two builds to compare. For each, in a fresh process under callgrind: one warm-up cancel,
then `--calls` sequential `Client.cancel` calls, or one `cancel_many` of `--calls` offers (64 in
flight); and the same process with no calls, whose count is subtracted. The server is soak.py's
keep-alive server (202 + Operation-Location) in a process of its own, not counted. Every thread of
the client process is counted (the runtimes' too). Instruction counts leave out cache misses and
waiting: they show the work a call costs, not its wall time; beside wall-time figures from a noisy
machine they are the repeatable part (two runs of one build here differ by under 1%).
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SERVER = """
import sys
sys.path.insert(0, sys.argv[1])
from soak import KeepAliveHandler, Server
server = Server(("127.0.0.1", 0), KeepAliveHandler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

CLIENT = """
import sys
import cloudpartner
mode, calls, base_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with cloudpartner.Client("bench-token", base_url=base_url, max_retries=0) as client:
    client.cancel("contoso", "warm-up")
    if mode == "sequential":
        for _ in range(calls):
            client.cancel("contoso", "offer")
    elif calls:
        results = client.cancel_many([("contoso", f"offer-{i}") for i in range(calls)], concurrency=64)
        assert all(r.status_code == 202 for r in results)
"""


def instructions(python: str, mode: str, calls: int, base_url: str) -> int:
    """The client process's instruction count (callgrind's "Collected"), all threads."""
    callgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*callgrind, python, "-c", CLIENT, mode, str(calls), base_url],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if not found:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def version_of(python: str) -> str:
    code = "import cloudpartner, sys; print(cloudpartner.__version__, sys.version.split()[0], cloudpartner.__file__)"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("pythons", nargs="*", default=[sys.executable])
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")

    server = subprocess.Popen([sys.executable, "-c", SERVER, str(HERE)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while socket.socket().connect_ex(("127.0.0.1", port)) and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"{args.calls} calls each; instructions per call = (count with the calls - count without) / calls")
        print(
            "| python (cloudpartner version, Python, module) | sequential Client.cancel | cancel_many, 64 in flight |"
        )
        print("|---|---|---|")
        for python in args.pythons:
            per_call = []
            for mode in ("sequential", "batch"):
                base = instructions(python, mode, 0, base_url)
                total = instructions(python, mode, args.calls, base_url)
                per_call.append(f"{(total - base) / args.calls / 1000:,.1f} k")
            print(f"| {python} ({version_of(python)}) | {per_call[0]} | {per_call[1]} |")
    finally:
        server.kill()
        server.wait(5)


if __name__ == "__main__":
    main()
