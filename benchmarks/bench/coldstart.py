"""Cold start: whole fresh processes, each making one HTTPS cancel, beside the interpreter alone and curl.

Two cancels: the CPP API's (202 + Operation-Location) and the Product Ingestion API's
(``cancel_job``: 200 + the job JSON), each by cloudpartner and its peers in fresh processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from bench.common import (
    BODY,
    CANCEL_JOB_PATH,
    CANCEL_PATH,
    EMAILS,
    HEADERS,
    INGESTION_HEADERS,
    INGESTION_ROOT,
    JOB_ID,
    OFFER,
    PUBLISHER,
    TOKEN,
    NotInstalledError,
    Results,
    Server,
    Settings,
    TlsFiles,
    _children_cpu,
    _module,
)

BASELINE = "python -c pass (the interpreter alone)"
LIBRARY = "cloudpartner one-shot (Client)"
REQUESTS = "requests one-shot"
HTTPX = "httpx one-shot"
CURL = "curl"
CLI = "cloudpartner CLI one-shot"
BREAKDOWN = "cloudpartner breakdown"  # not a row of its own: its child reports the steps below
INGESTION_LIBRARY = "cloudpartner ingestion one-shot (cancel_job)"
INGESTION_REQUESTS = "requests ingestion one-shot"
INGESTION_CURL = "curl (ingestion cancel)"
CPP_PROCESSES = (BASELINE, LIBRARY, REQUESTS, HTTPX, CURL, CLI)  # the rows of each API's table
INGESTION_PROCESSES = (BASELINE, INGESTION_LIBRARY, INGESTION_REQUESTS, INGESTION_CURL)

IMPORT = "import cloudpartner"
LOAD = "`cloudpartner.Client` (its first use loads it: PEP 562)"
CLIENT = "`Client(...)` construction"
FIRST = "first cancel (connect, TLS handshake)"
SECOND = "second cancel (steady state: the kept-alive connection)"
EXTRA = "Client() + first call's extra over a steady call"  # load + construction + (first - second), per run
STEPS = (IMPORT, LOAD, CLIENT, FIRST, SECOND, EXTRA)

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # Debian's; else what Python's ssl was built with
CHILD_TIMEOUT = 30.0  # seconds one process may take
BUDGET_SECONDS = 600.0  # the whole section stops after this, however many runs are left
# Variables that would change what a child trusts, where it sends the call or what it records.
CLEARED = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "CLOUDPARTNER_")

# ---------------------------------------------------------------- the children's code

LIBRARY_CODE = """import sys
import cloudpartner

with cloudpartner.Client({token!r}, base_url=sys.argv[1], ca_file=sys.argv[2]) as client:
    result = client.cancel({publisher!r}, {offer!r}, {emails!r})
sys.exit(0 if result.status_code == 202 and result.operation_location else 1)
"""

REQUESTS_CODE = """import sys, uuid
import requests

headers = {{**{headers!r}, "x-ms-client-request-id": str(uuid.uuid4())}}
response = requests.post(sys.argv[1], data={body!r}, headers=headers, verify=sys.argv[2])
sys.exit(0 if response.status_code == 202 and response.headers.get("Operation-Location") else 1)
"""

# httpx 0.28 deprecates verify=<path>: an SSLContext on the same file is what it builds from one.
HTTPX_CODE = """import ssl, sys, uuid
import httpx

headers = {{**{headers!r}, "x-ms-client-request-id": str(uuid.uuid4())}}
context = ssl.create_default_context(cafile=sys.argv[2])
response = httpx.post(sys.argv[1], content={body!r}, headers=headers, verify=context)
sys.exit(0 if response.status_code == 202 and response.headers.get("Operation-Location") else 1)
"""

BREAKDOWN_CODE = """import json, sys, time

times = [time.perf_counter()]
import cloudpartner
times.append(time.perf_counter())
Client = cloudpartner.Client
times.append(time.perf_counter())
client = Client({token!r}, base_url=sys.argv[1], ca_file=sys.argv[2])
times.append(time.perf_counter())
first = client.cancel({publisher!r}, {offer!r}, {emails!r})
times.append(time.perf_counter())
second = client.cancel({publisher!r}, {offer!r}, {emails!r})
times.append(time.perf_counter())
client.close()
print(json.dumps([1000 * (b - a) for a, b in zip(times, times[1:])]))
sys.exit(0 if all(r.status_code == 202 and r.operation_location for r in (first, second)) else 1)
"""


# The ingestion cancel: the job JSON read and checked (the id asked for, cancelled), as cancel_job does.
INGESTION_LIBRARY_CODE = """import sys
from cloudpartner import ingestion

with ingestion.Client({token!r}, base_url=sys.argv[1], ca_file=sys.argv[2]) as client:
    job = client.cancel_job({job!r})
sys.exit(0 if job.id == {job!r} and job.result == "cancelled" else 1)
"""

INGESTION_REQUESTS_CODE = """import sys, uuid
import requests

headers = {{**{ingestion_headers!r}, "x-ms-client-request-id": str(uuid.uuid4())}}
response = requests.post(sys.argv[1], headers=headers, verify=sys.argv[2])
job = response.json() if response.status_code == 200 else {{}}
sys.exit(0 if job.get("jobID") == {job!r} and job.get("jobResult") == "cancelled" else 1)
"""


def _format(code: str) -> str:
    return code.format(
        token=TOKEN,
        publisher=PUBLISHER,
        offer=OFFER,
        emails=EMAILS,
        headers=HEADERS,
        body=BODY,
        ingestion_headers=INGESTION_HEADERS,
        job=JOB_ID,
    )


# ---------------------------------------------------------------- the test CA and the server's certificate


def make_tls(tmp: Path, results: Results) -> Optional[TlsFiles]:
    """A test CA and a certificate for 127.0.0.1 / localhost, as files; None (and why) without trustme."""
    try:
        trustme = _module("trustme")
    except NotInstalledError:
        results.cold.why_not = "trustme is not installed (pip install trustme): no test CA, no cold-start section"
        return None
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(tmp / "ca.pem", tmp / "bundle.pem", tmp / "server.pem", tmp / "server.key", _system_bundle())
    ca.cert_pem.write_to_path(str(files.ca))
    issued.private_key_pem.write_to_path(str(files.key))
    files.chain.write_bytes(b"".join(pem.bytes() for pem in issued.cert_chain_pems))
    system = files.system_bundle.read_bytes().rstrip(b"\n") + b"\n" if files.system_bundle else b""
    files.bundle.write_bytes(system + ca.cert_pem.bytes())
    return files


def _system_bundle() -> Optional[Path]:
    for candidate in (SYSTEM_BUNDLE, ssl.get_default_verify_paths().cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


# ---------------------------------------------------------------- the processes


@dataclass(frozen=True)
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    check: Callable[[subprocess.CompletedProcess[str]], Any]  # raises when the call did not get its 202
    trusts: str


def _child_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(CLEARED)}
    return {**env, **extra}


def _exit_zero(done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-400:] or done.stdout.strip()[-400:]}")


def _curl_answer(done: subprocess.CompletedProcess[str], status: int) -> tuple[str, str]:
    """curl's answer (`-D -`: the head, then the body when not sent elsewhere): the head lowercased, the body."""
    _exit_zero(done)
    head, _, body = done.stdout.partition("\n\n")  # text mode: curl's CRLFs read as newlines
    if not head.lower().startswith(f"http/1.1 {status}"):
        raise RuntimeError(f"unexpected answer: {done.stdout.strip()[:200]!r}")
    return head.lower(), body


def _curl_accepted(done: subprocess.CompletedProcess[str]) -> None:
    head, _ = _curl_answer(done, 202)
    if "\noperation-location:" not in head:
        raise RuntimeError(f"unexpected answer: {done.stdout.strip()[:200]!r}")


def _curl_cancelled(done: subprocess.CompletedProcess[str]) -> None:
    _, body = _curl_answer(done, 200)
    job = json.loads(body)
    if job.get("jobID") != JOB_ID or job.get("jobResult") != "cancelled":
        raise RuntimeError(f"unexpected job: {body.strip()[:200]!r}")


def _cli_accepted(done: subprocess.CompletedProcess[str]) -> None:
    _exit_zero(done)
    result = json.loads(done.stdout)["result"]
    if result["status_code"] != 202 or not result["operation_location"]:
        raise RuntimeError(f"unexpected answer: {result}")


def _breakdown(done: subprocess.CompletedProcess[str]) -> list[float]:
    _exit_zero(done)
    steps = json.loads(done.stdout)
    if len(steps) != 5:
        raise RuntimeError(f"unexpected breakdown: {done.stdout.strip()[:200]!r}")
    return [float(ms) for ms in steps]


def _curl(tls: TlsFiles, url: str, headers: dict[str, str], *options: str) -> list[str]:
    """curl calling `url` with `headers` and a fresh request id, trusting the bundle; the answer's head on stdout."""
    sent = {**headers, "x-ms-client-request-id": str(uuid.uuid4())}
    command = ["curl", "-q", "-sS", "--max-time", "10", "-D", "-", "--cacert", str(tls.bundle)]
    return [*command, *(part for key, value in sent.items() for part in ("-H", f"{key}: {value}")), *options, url]


def processes(server: Server, tls: TlsFiles) -> list[Process]:
    """Every process to time, in the order they run in each round: the CPP cancel's, then the ingestion cancel's."""
    assert server.tls_base_url is not None
    base_url, url, python = server.tls_base_url, server.tls_base_url + CANCEL_PATH, sys.executable
    bundle = f"bundle file: {'the system bundle + ' if tls.system_bundle else ''}the test CA"
    system = "the system store" if tls.system_bundle else "the system store (no bundle file found)"
    cli = str(Path(python).with_name("cloudpartner"))
    env = _child_env()
    return [
        Process(BASELINE, [python, "-c", "pass"], env, _exit_zero, "(no call)"),
        Process(
            LIBRARY,
            [python, "-c", _format(LIBRARY_CODE), base_url, str(tls.ca)],
            env,
            _exit_zero,
            f"{system} + the test CA (`ca_file=`)",
        ),
        Process(
            REQUESTS,
            [python, "-c", _format(REQUESTS_CODE), url, str(tls.bundle)],
            env,
            _exit_zero,
            f"`verify=` {bundle}",
        ),
        Process(
            HTTPX,
            [python, "-c", _format(HTTPX_CODE), url, str(tls.bundle)],
            env,
            _exit_zero,
            f"`verify=ssl.create_default_context(cafile=...)`, {bundle}",
        ),
        Process(
            CURL,
            _curl(tls, url, HEADERS, "-o", "/dev/null", "--data-binary", BODY.decode()),
            env,
            _curl_accepted,
            f"`--cacert` {bundle}",
        ),
        Process(
            CLI,
            [cli, "cancel", PUBLISHER, OFFER, "--email", EMAILS, "--json", "--base-url", base_url],
            _child_env(CLOUDPARTNER_TOKEN=TOKEN, SSL_CERT_FILE=str(tls.bundle)),
            _cli_accepted,
            f"`SSL_CERT_FILE=` {bundle} (the CLI has no CA option; the core's system store honours it)",
        ),
        Process(
            BREAKDOWN,
            [python, "-c", _format(BREAKDOWN_CODE), base_url, str(tls.ca)],
            env,
            _breakdown,
            f"{system} + the test CA (`ca_file=`)",
        ),
        *_ingestion_processes(server.tls_base_url, tls, bundle, system, env),
    ]


def _ingestion_processes(base_url: str, tls: TlsFiles, bundle: str, system: str, env: dict[str, str]) -> list[Process]:
    """The ingestion cancel's processes, trusting what their CPP counterparts do."""
    url, python = base_url + CANCEL_JOB_PATH, sys.executable
    return [
        Process(
            INGESTION_LIBRARY,
            [python, "-c", _format(INGESTION_LIBRARY_CODE), base_url + INGESTION_ROOT, str(tls.ca)],
            env,
            _exit_zero,
            f"{system} + the test CA (`ca_file=`)",
        ),
        Process(
            INGESTION_REQUESTS,
            [python, "-c", _format(INGESTION_REQUESTS_CODE), url, str(tls.bundle)],
            env,
            _exit_zero,
            f"`verify=` {bundle}",
        ),
        Process(
            INGESTION_CURL,
            _curl(tls, url, INGESTION_HEADERS, "-X", "POST"),
            env,
            _curl_cancelled,
            f"`--cacert` {bundle}",
        ),
    ]


# ---------------------------------------------------------------- timing

FAILED = (OSError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError)


def _check_verification(server: Server, tls: TlsFiles, results: Results) -> set[str]:
    """Run each caller once trusting the system store alone: all must refuse the test CA's certificate.

    Returns the names of those that got an answer anyway (verification off: not comparable).
    """
    if tls.system_bundle is None:
        return set()
    untrusting = dataclasses.replace(tls, ca=tls.system_bundle, bundle=tls.system_bundle)
    accepted = set()
    for process in processes(server, untrusting):
        if process.name == BASELINE:
            continue
        try:
            _run(process)
        except FAILED:
            results.cold.refused_untrusted.append(process.name)
            continue
        accepted.add(process.name)
        results.cold.skipped[process.name] = "accepted the server without the test CA: is verification off?"
    return accepted


def _run(process: Process) -> tuple[float, float, Any]:
    """Wall ms from spawn to exit as this process sees it, the child's CPU ms, and what its check returned."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        process.command, env=process.env, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
    )
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    return wall * 1000, cpu * 1000, process.check(done)


def _record(results: Results, process: Process, wall_ms: float, cpu_ms: float, checked: Any) -> None:
    cold = results.cold
    if process.name == BREAKDOWN:
        import_ms, load_ms, client_ms, first_ms, second_ms = checked
        extra_ms = load_ms + client_ms + first_ms - second_ms
        for step, ms in zip(STEPS, (import_ms, load_ms, client_ms, first_ms, second_ms, extra_ms)):
            cold.steps_ms.setdefault(step, []).append(ms)
        return
    cold.wall_ms.setdefault(process.name, []).append(wall_ms)
    cold.cpu_ms.setdefault(process.name, []).append(cpu_ms)


def _compile_cloudpartner() -> None:
    """Byte-compile cloudpartner's modules, as pip does when it installs the wheel.

    The peers are installed that way; an editable install run with PYTHONDONTWRITEBYTECODE set
    (as some environments do) would otherwise compile every module again in every process.
    """
    import compileall  # noqa: PLC0415

    import cloudpartner  # noqa: PLC0415 - the benchmark's own import

    compileall.compile_dir(str(Path(cloudpartner.__file__).parent), quiet=1)


def measure_coldstart(server: Server, tls: Optional[TlsFiles], settings: Settings, results: Results) -> None:
    """Every process once per run, interleaved, after one untimed run each (which also checks it works)."""
    cold = results.cold
    if tls is None:
        return  # make_tls said why
    if server.tls_base_url is None:
        cold.why_not = "no TLS server: the cold-start section needs nginx (apt-get install nginx)"
        return
    deadline = time.monotonic() + BUDGET_SECONDS
    _compile_cloudpartner()
    accepted = _check_verification(server, tls, results)
    active: list[Process] = []
    for process in processes(server, tls):
        cold.trusts[process.name] = process.trusts
        if process.name in accepted:
            continue
        try:
            _run(process)
            active.append(process)
        except FAILED as exc:
            cold.skipped[process.name] = f"failed: {type(exc).__name__}: {exc}"
    for number in range(settings.cold_runs):
        if time.monotonic() > deadline:
            results.notes.append(f"cold start stopped after {number} runs: over its {BUDGET_SECONDS:g} s budget")
            break
        for process in list(active):
            try:
                _record(results, process, *_run(process))
            except FAILED as exc:
                cold.skipped[process.name] = f"failed in run {number + 1}: {type(exc).__name__}: {exc}"
                cold.wall_ms.pop(process.name, None)
                cold.cpu_ms.pop(process.name, None)
                if process.name == BREAKDOWN:
                    cold.steps_ms.clear()
                active.remove(process)
        cold.runs = number + 1
    print(f"  cold start: {cold.runs} runs of {len(active)} processes done", flush=True)
