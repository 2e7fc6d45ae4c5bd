"""The peers: each client's code for one cancel call (sequential) or 64 in flight (concurrent)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from bench.common import (
    BODY,
    EMAILS,
    IDLE_SECONDS,
    IN_FLIGHT,
    OFFER,
    PUBLISHER,
    TOKEN,
    Call,
    Close,
    Run,
    Server,
    _expect,
    _expect_result,
    _fan_out,
    _headers,
    _module,
)

# ---------------------------------------------------------------- sequential peers (one call each)


def seq_client_cancel(server: Server) -> tuple[Call, Close]:
    cloudpartner = _module("cloudpartner")
    client = cloudpartner.Client(TOKEN, base_url=server.base_url)

    def call() -> None:
        _expect_result(client.cancel(PUBLISHER, OFFER, EMAILS))

    return call, client.close


def seq_module_cancel(server: Server) -> tuple[Call, Close]:
    cloudpartner = _module("cloudpartner")
    base_url = server.base_url

    def call() -> None:
        _expect_result(cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, EMAILS, base_url=base_url))

    return call, lambda: None


def seq_requests(server: Server) -> tuple[Call, Close]:
    session = _module("requests").Session()
    url = server.url

    def call() -> None:
        response = session.post(url, data=BODY, headers=_headers())
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return call, session.close


def seq_httpx(server: Server) -> tuple[Call, Close]:
    httpx = _module("httpx")
    client = httpx.Client(limits=httpx.Limits(keepalive_expiry=IDLE_SECONDS))
    url = server.url

    def call() -> None:
        response = client.post(url, content=BODY, headers=_headers())
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return call, client.close


def seq_urllib3(server: Server) -> tuple[Call, Close]:
    pool = _module("urllib3").PoolManager(maxsize=1)
    url = server.url

    def call() -> None:
        response = pool.request("POST", url, body=BODY, headers=_headers())
        _expect(response.status, response.headers.get("Operation-Location"))

    return call, pool.clear


def seq_azure_core(server: Server) -> tuple[Call, Close]:
    client = _module("azure.core").PipelineClient(base_url=server.base_url)
    http_request = _module("azure.core.rest").HttpRequest
    url = server.url

    def call() -> None:
        response = client.send_request(http_request("POST", url, headers=_headers(), content=BODY))
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return call, client.close


def seq_pyreqwest(server: Server) -> tuple[Call, Close]:
    client = _module("pyreqwest.client").SyncClientBuilder().build()
    url = server.url

    def call() -> None:
        response = client.post(url).headers(_headers()).body_bytes(BODY).build().send()
        _expect(response.status, response.headers.get("operation-location"))

    return call, client.close


SEQUENTIAL_PEERS: dict[str, Callable[[Server], tuple[Call, Close]]] = {
    "cloudpartner Client.cancel": seq_client_cancel,
    "cloudpartner.cancel() (module)": seq_module_cancel,
    "pyreqwest SyncClient": seq_pyreqwest,
    "urllib3 PoolManager": seq_urllib3,
    "httpx Client": seq_httpx,
    "requests Session": seq_requests,
    "azure-core PipelineClient": seq_azure_core,
}


# ---------------------------------------------------------------- concurrent peers (64 in flight)


def conc_cancel_many(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    client = _module("cloudpartner").Client(TOKEN, base_url=server.base_url)

    def run(n: int) -> None:
        for result in client.cancel_many([(PUBLISHER, OFFER)] * n, emails=EMAILS, concurrency=IN_FLIGHT):
            _expect_result(result)

    return run, client.close


def conc_cancel_async(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    client = _module("cloudpartner").Client(TOKEN, base_url=server.base_url)

    async def call() -> None:
        _expect_result(await client.cancel_async(PUBLISHER, OFFER, EMAILS))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), client.close


def conc_aiohttp(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    aiohttp = _module("aiohttp")
    url = server.url

    async def open_session() -> Any:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT, keepalive_timeout=IDLE_SECONDS))

    session = loop.run_until_complete(open_session())

    async def call() -> None:
        async with session.post(url, data=BODY, headers=_headers()) as response:
            await response.read()
            _expect(response.status, response.headers.get("Operation-Location"))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), lambda: loop.run_until_complete(session.close())


def conc_httpx(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    httpx = _module("httpx")
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT, keepalive_expiry=IDLE_SECONDS)
    client = httpx.AsyncClient(limits=limits)
    url = server.url

    async def call() -> None:
        response = await client.post(url, content=BODY, headers=_headers())
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), lambda: loop.run_until_complete(client.aclose())


def conc_pyreqwest(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    builder = _module("pyreqwest.client").ClientBuilder().max_connections(IN_FLIGHT)

    async def open_client() -> Any:
        return builder.build()

    client = loop.run_until_complete(open_client())
    url = server.url

    async def call() -> None:
        response = await client.post(url).headers(_headers()).body_bytes(BODY).build().send()
        _expect(response.status, response.headers.get("operation-location"))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), lambda: loop.run_until_complete(client.close())


CONCURRENT_PEERS: dict[str, Callable[[Server, asyncio.AbstractEventLoop], tuple[Run, Close]]] = {
    "cloudpartner cancel_many": conc_cancel_many,
    "cloudpartner cancel_async + gather": conc_cancel_async,
    "pyreqwest Client": conc_pyreqwest,
    "aiohttp ClientSession": conc_aiohttp,
    "httpx AsyncClient": conc_httpx,
}
