"""The observed corpus: answers public clients saw the service send, served verbatim, read as the user needs.

`tests/reference/observed/*.json` holds one exchange each (see its README): the error bodies of
the Partner Center shim (a wrapper keyed by a service name, a bare JSON string, a body cut short),
the documented envelope as really sent, and successes with undocumented keys. Each answer is
served byte for byte from a raw server to the call the file names, sync and async; the request
the call sent must be the file's, and what the client raised or returned must be what `expect`
says. The CLI's one-line errors for the same shapes are checked at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import cloudpartner
import pytest
from conftest import TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response

OBSERVED = Path(__file__).with_name("reference") / "observed"
EXCHANGES: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(OBSERVED.glob("*.json"))}
ORIGINS = {"captured from the service", "hand-written mock in a client's tests", "quoted in an issue"}
MODES = ("sync", "async")
LONGEST_LINE = 700  # str(error) is one line and stays short, whatever the body holds


def verbatim(body: str, exchange: dict[str, Any]):
    """A raw-server behaviour that sends the observed answer (with `body`) byte for byte."""
    answer = exchange["response"]
    raw = http_response(answer["status"], answer["headers"], body.encode())

    def run(conn: Connection, _request: RawRequest) -> None:
        conn.send(raw)

    return run


def segments(exchange: dict[str, Any]) -> list[str]:
    return urlsplit(exchange["request"]["path"]).path.rstrip("/").split("/")


def call(client: cloudpartner.Client, exchange: dict[str, Any], mode: str) -> Any:
    """Make the call the file names, with the arguments its request path holds."""
    name, parts, request = exchange["call"], segments(exchange), exchange["request"]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = {}
    if name in ("get_offer", "publish"):
        args = (parts[3], parts[5])
    elif name == "put_offer":  # the document matters not: the answer is the service's refusal
        args = (parts[3], parts[5], {"offerTypeId": "microsoft-azure-virtualmachines", "id": parts[5]})
        kwargs = {"if_match": "*"}
    elif name == "list_offers":
        args, kwargs = (parts[3],), {"offer_type": request.get("offer_type")}
    elif name == "list_publishers":
        args = ()
    else:
        assert name == "get_operation", name
        args = (request["path"],)
    if mode == "sync":
        return getattr(client, name)(*args, **kwargs)
    return asyncio.run(asyncio.wait_for(getattr(client, f"{name}_async")(*args, **kwargs), 20))


def path_and_query(target: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(target)
    return split.path.rstrip("/"), dict(parse_qsl(split.query))


def serve(name: str, mode: str, body_key: str = "body") -> tuple[Any, RawRequest, str]:
    """Serve one file's answer to its call; return the outcome (result or ApiError), the request and the body."""
    exchange = EXCHANGES[name]
    body = exchange[body_key] if body_key != "body" else exchange["response"]["body"]
    srv = RawServer(verbatim(body, exchange))
    with srv, cloudpartner.Client(TOKEN, base_url=srv.base_url, max_retries=0, timeout=10) as client:
        try:
            outcome: Any = call(client, exchange, mode)
        except cloudpartner.ApiError as error:
            outcome = error
        (request,) = srv.requests
    return outcome, request, body


# -- the corpus ----------------------------------------------------------------------------------------


def test_the_corpus_holds_the_fifteen_observed_answers() -> None:
    assert set(EXCHANGES) == {
        "get-offer-200-migrated",
        "get-offer-403-forbidden",
        "get-offer-403-string-encoded",
        "get-offer-404-pc-environment-stacktrace",
        "get-offer-404-pc-environment",
        "get-offer-500-try-again-later-fragment",
        "get-operation-complete-mock",
        "list-offers-empty",
        "list-offers-filter-extra-keys-zoneless-time",
        "list-publishers",
        "publish-404-bare-json-string",
        "publish-422-bare-json-string",
        "put-offer-400-argument-null",
        "put-offer-409-if-match-required",
        "put-offer-500-variant-retry-is-ok",
    }
    for name, exchange in EXCHANGES.items():
        assert exchange["source"] and exchange["origin"] in ORIGINS, name
        assert {"call", "request", "response", "expect", "client_today"} <= set(exchange), name
        assert "at the time of writing" not in exchange["client_today"], name  # each says what the client does now
        if "page_body" in exchange or "repair" in exchange:  # a mended sample parses
            json.loads(exchange["response"]["body"])


# -- what the client makes of each answer --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(EXCHANGES))
def test_the_client_sends_the_observed_request(name: str, mode: str) -> None:
    exchange = EXCHANGES[name]
    _, request, _ = serve(name, mode)
    sent_path, sent_query = path_and_query(request.target)
    observed_path, observed_query = path_and_query(exchange["request"]["path"])
    assert (request.method, sent_path) == (exchange["request"]["method"], observed_path)
    # the same query, decoded; a location without api-version (mash's mock) gets the client's
    assert sent_query == {"api-version": "2017-10-31", **observed_query}
    if "sent_by_cloudpartner" in exchange["request"]:  # the exact escaping of $filter
        assert request.target == exchange["request"]["sent_by_cloudpartner"]
        assert "&$filter=offerTypeId%20eq%20%27" in request.target


ERRORS = sorted(n for n, e in EXCHANGES.items() if "error" in e["expect"])
SUCCESSES = sorted(n for n, e in EXCHANGES.items() if "error" not in e["expect"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "body_key"),
    [(n, "body") for n in ERRORS] + [("put-offer-500-variant-retry-is-ok", "body_completed_guess")],
)
def test_each_error_reads_as_the_user_must_see_it(name: str, body_key: str, mode: str) -> None:
    expect = EXCHANGES[name]["expect"]
    error, _, body = serve(name, mode, body_key)
    assert isinstance(error, cloudpartner.ApiError), repr(error)
    assert type(error).__name__ == expect["error"]
    assert error.status_code == expect["status_code"]
    assert error.code == expect["code"]
    assert error.message == expect["message"]
    assert error.is_transient is expect["is_transient"]
    assert error.body == body  # the raw body, stack trace and all
    line = str(error)
    assert "\n" not in line and "\r" not in line
    assert len(line) < LONGEST_LINE
    assert expect["message"] in line and str(expect["status_code"]) in line
    assert TOKEN not in line and TOKEN not in repr(error)
    for stays_in_the_body in ("   at Microsoft.", "CppOperationController", "mismatch(1)", '\\"', "\\r\\n"):
        assert stays_in_the_body not in line


def test_the_shim_404_names_the_sentence_not_the_exception_type() -> None:
    for name in ("get-offer-404-pc-environment-stacktrace", "get-offer-404-pc-environment"):
        error, _, _ = serve(name, "sync")
        assert isinstance(error, cloudpartner.NotFoundError)
        assert "Microsoft.Ingestion" not in str(error) and "Microsoft.Ingestion" in error.body
        assert str(error).startswith("404 Not Found: CPP product test-offer not found in current PC environment.")


@pytest.mark.parametrize("name", ["publish-404-bare-json-string", "publish-422-bare-json-string"])
def test_a_bare_json_string_loses_its_quotes(name: str) -> None:
    error, _, body = serve(name, "sync")
    assert isinstance(error, cloudpartner.ApiError)
    assert body.startswith('"') and error.message is not None
    assert not error.message.startswith('"') and not error.message.endswith('"')


def test_the_string_encoded_403_is_read_from_the_json_it_holds() -> None:
    error, _, body = serve("get-offer-403-string-encoded", "sync")
    assert isinstance(error, cloudpartner.ForbiddenError)
    assert json.loads(json.loads(body)) == {
        "error": {"code": "Forbidden", "message": "User does not have the required permissions"}
    }
    assert (error.code, error.message) == ("Forbidden", "User does not have the required permissions")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SUCCESSES)
def test_each_success_is_returned_as_sent(name: str, mode: str) -> None:
    exchange = EXCHANGES[name]
    expect = exchange["expect"]
    outcome, _, body = serve(name, mode)
    assert not isinstance(outcome, cloudpartner.ApiError), repr(outcome)
    sent = json.loads(body)
    call_name = exchange["call"]
    if call_name == "get_offer":
        assert isinstance(outcome, cloudpartner.Offer)
        assert outcome.definition == sent
        assert list(outcome.definition) == expect["top_level_keys"]  # undocumented keys kept, in order
        assert (outcome.definition["id"], outcome.definition["status"]) == (expect["id"], expect["status"])
        assert outcome.etag == expect["etag"]
    elif call_name in ("list_offers", "list_publishers"):
        assert outcome == sent
        assert [item["id"] for item in outcome] == expect["ids"]
        for item in outcome:
            assert set(expect.get("keys_not_on_the_pages", ())) <= set(item)
            assert set(expect.get("item_keys", ())) <= set(item)
            assert set(expect.get("definition_keys", ())) <= set(item["definition"])
        if "changedTime" in expect:  # zoneless, three digits: kept as the string sent
            assert [item["changedTime"] for item in outcome] == expect["changedTime"]
    else:
        assert call_name == "get_operation"
        assert isinstance(outcome, cloudpartner.Operation)
        assert outcome.status == expect["status"]
        assert (outcome.is_terminal, outcome.succeeded) == (expect["terminal"], expect["succeeded"])
        assert outcome.steps == ()


def test_a_migrated_offer_without_an_etag_can_still_be_put() -> None:
    exchange = EXCHANGES["get-offer-200-migrated"]
    document = json.loads(exchange["response"]["body"])
    answered = http_response(
        200, {"ETag": "W/\"datetime'2022-06-01T05%3A41%3A25.9695742Z'\""}, json.dumps(document).encode()
    )
    srv = RawServer(verbatim(exchange["response"]["body"], exchange), lambda conn, _r: conn.send(answered))
    with srv, cloudpartner.Client(TOKEN, base_url=srv.base_url, max_retries=0) as client:
        offer = client.get_offer("industry-isv-eng", "test-vm")
        assert offer.etag is None
        stored = client.put_offer("industry-isv-eng", "test-vm", offer.definition, if_match="*")
        get, put = srv.requests
    assert put.method == "PUT" and put.headers["if-match"] == "*"
    assert json.loads(put.body) == document  # a faithful pass-through: the undocumented keys go back
    assert stored.etag == "W/\"datetime'2022-06-01T05%3A41%3A25.9695742Z'\""  # byte for byte
    assert get.method == "GET"


# -- the command line: one line on stderr for each shape ---------------------------------------------


HTML_502 = (
    "<!DOCTYPE html>\r\n<html><head><title>502 - Web server received an invalid response while acting as a"
    " gateway or proxy server.</title></head>\r\n<body><h1>Server Error</h1>\r\n<p>There is a problem with"
    " the page you are looking for.</p></body></html>"
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    drop = ("CLOUDPARTNER_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(drop)}
    env["CLOUDPARTNER_TOKEN"] = TOKEN
    return subprocess.run(
        [sys.executable, "-m", "cloudpartner", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def observed_answer(name: str) -> bytes:
    answer = EXCHANGES[name]["response"]
    return http_response(answer["status"], answer["headers"], answer["body"].encode())


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
@pytest.mark.parametrize(
    ("answer", "exit_code", "shown"),
    [
        (
            observed_answer("get-offer-404-pc-environment-stacktrace"),
            3,
            "NotFoundError: 404 Not Found: CPP product test-offer not found in current PC environment.",
        ),
        (
            observed_answer("publish-404-bare-json-string"),
            3,
            "NotFoundError: 404 Not Found: Microsoft.Ingestion.Api.Common.Exceptions.Http404Exception...",
        ),
        (
            observed_answer("get-offer-403-string-encoded"),
            3,
            "ForbiddenError: 403 Forbidden: User does not have the required permissions",
        ),
        (
            http_response(502, {"Content-Type": "text/html"}, HTML_502.encode()),
            4,
            "ServerError: 502 Bad Gateway: 502 - Web server received an invalid response while acting as a gateway",
        ),
    ],
    ids=["shim-404", "bare-string", "string-encoded-403", "html-502"],
)
def test_the_cli_prints_one_line_naming_the_sentence(
    answer: bytes, exit_code: int, shown: str, json_output: bool
) -> None:
    with RawServer(lambda conn, _request: conn.send(answer)) as srv:
        done = run_cli(
            "offer", "contoso", "test-offer", "--base-url", srv.base_url, *(["--json"] if json_output else [])
        )
        sent = len(srv.requests)
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"cloudpartner: {shown}")
    assert TOKEN not in done.stderr
    for stays_in_the_body in ("<html", "<title>", "   at Microsoft.", '\\"'):
        assert stays_in_the_body not in line
    assert sent >= 1 if exit_code == 4 else sent == 1  # a 502 is retried (a GET), a 4xx is not
