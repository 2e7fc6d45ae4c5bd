"""The servers the peers call (nginx, or an asyncio fallback) and the floor (wrk)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from bench.common import (
    CANCEL_JOB_ANSWER,
    CANCEL_JOB_PATH,
    OFFER,
    OPERATION_ID,
    PUBLISHER,
    ROOT,
    TOKEN,
    Server,
    TlsFiles,
    _children_cpu,
    _free_port,
)

# ---------------------------------------------------------------- the floor: wrk

WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["x-ms-client-request-id"] = "{request_id}"
"""


def wrk_rate(server: Server, script: Path, connections: int, seconds: int) -> tuple[float, float]:
    """Calls/s and wrk's CPU µs per call (its rusage: the only child reaped meanwhile)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), server.url]
    before = _children_cpu()
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    cpu = _children_cpu() - before
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError("wrk saw errors: " + " ".join(output.split()))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if rate is None or count is None or not int(count.group(1)):
        raise RuntimeError("no Requests/sec in wrk output: " + " ".join(output.split()))
    return float(rate.group(1)), cpu * 1e6 / int(count.group(1))


# ---------------------------------------------------------------- the servers

NGINX_CONF = """daemon off;
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    geo $dollar {{ default "$"; }}  # a literal $ in a string nginx would otherwise read as a variable
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        location /api/ {{
            add_header Operation-Location "{location}" always;
            return 202;
        }}
    }}
{tls_server}}}
"""

# The same answer over TLS, for the cold-start section (HTTP/1.1 like the plain block: no h2 offered),
# and the ingestion cancel's.
NGINX_TLS_SERVER = """    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        location /api/ {{
            add_header Operation-Location "{location}" always;
            return 202;
        }}
{cancel_job}    }}
"""

# The ingestion cancel: a static 200 with the documented job JSON, to the request every peer must send
# (POST, the $version the client names, the bearer token); anything else is refused, so a peer that
# sent something else fails its check.
NGINX_CANCEL_JOB = """        location = {path} {{
            if ($request_method != POST) {{ return 405; }}
            if ($args != '{query}') {{ return 400; }}
            if ($http_authorization != 'Bearer {token}') {{ return 401; }}
            default_type application/json;
            return 200 '{answer}';
        }}
"""

ACCEPTED = "HTTP/1.1 202 Accepted\r\nOperation-Location: {location}\r\nContent-Length: 0\r\n\r\n"  # asyncio fallback


def _operation_location(base_url: str) -> str:
    return f"{base_url}/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/{OPERATION_ID}"


def _nginx_text(text: str) -> str:
    """`text` as the inside of a single-quoted nginx string: nothing in it read as a variable or an escape."""
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("$", "${dollar}")


def _cancel_job_location() -> str:
    path, query = CANCEL_JOB_PATH.split("?", 1)
    return NGINX_CANCEL_JOB.format(
        path=path, query=_nginx_text(query), token=_nginx_text(TOKEN), answer=_nginx_text(CANCEL_JOB_ANSWER)
    )


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            detail = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"the server exited with {process.returncode}: {detail.strip()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("the server did not start listening within 10 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def serve(tmp: Path, tls: Optional[TlsFiles] = None) -> Iterator[Server]:
    """Start nginx (or the asyncio fallback) on a free 127.0.0.1 port; always stop it.

    With ``tls`` (and nginx), a second server block answers the same over HTTPS on another port.
    """
    port = _free_port()
    ports = [port]
    base_url = f"http://127.0.0.1:{port}"
    nginx = shutil.which("nginx")
    log = tmp / "error.log"
    if nginx:
        tls_server, tls_base_url = "", None
        if tls is not None:
            ports.append(_free_port())
            tls_base_url = f"https://127.0.0.1:{ports[1]}"
            location = _operation_location(tls_base_url)
            tls_server = NGINX_TLS_SERVER.format(
                port=ports[1], chain=tls.chain, key=tls.key, location=location, cancel_job=_cancel_job_location()
            )
        conf = tmp / "nginx.conf"
        location = _operation_location(base_url)
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, location=location, tls_server=tls_server))
        command = [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(log)]
        server = Server(_nginx_version(nginx) + " (1 worker)", base_url, server_bound=False, tls_base_url=tls_base_url)
    else:
        command = [sys.executable, str(ROOT / "benchmarks" / "peers.py"), "--serve", str(port)]
        server = Server("Python asyncio fallback (nginx not installed)", base_url, server_bound=True)
    with log.open("ab") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        for listening in ports:
            _wait_listening(process, listening, log)
        yield server
    finally:
        _stop(process)


def _nginx_version(nginx: str) -> str:
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10, check=False)
    return (result.stderr.strip().split(": ", 1)[-1]) or "nginx"


class _Accepting(asyncio.Protocol):
    """The fallback server: answers every request with 202 and the location, keeping the connection."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.buffer = b""
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", self.buffer[:end])
            size = end + 4 + (int(match.group(1)) if match else 0)
            if len(self.buffer) < size:
                return
            self.buffer = self.buffer[size:]
            if self.transport is not None:
                self.transport.write(self.answer)


def run_fallback_server(port: int) -> None:
    answer = ACCEPTED.format(location=_operation_location(f"http://127.0.0.1:{port}")).encode()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Accepting(answer), "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())
