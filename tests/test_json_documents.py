"""JSON documents, both ways, on both APIs.

Every document a call reads is parsed once, by the core, within one set of bounds (how deep lists
and objects nest, how many digits an integer has). A valid answer beyond them is the package's
`MalformedResponseError` naming the problem, never Python's `RecursionError` or `ValueError`;
within them, it converts exactly whatever Python's own limits are set to. What the client reads it
can write back: `put_offer` and `configure` keep the same bounds, and refuse what is not JSON by
saying what and where.
"""

from __future__ import annotations

import asyncio
import enum
import json
import math
import sys
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any, Callable

import cloudpartner
import pytest
from cloudpartner import InvalidArgumentError, MalformedResponseError, _core, ingestion
from conftest import TOKEN
from rawserver import RawServer, response
from test_cli import assert_one_line_error, run

MAX_DEPTH = _core.MAX_JSON_DEPTH
MAX_DIGITS = _core.MAX_JSON_INTEGER_DIGITS  # Python's lowest settable integer-text limit
GUID = "d4261631-c583-4949-a612-5150882632e9"
PRODUCT = f"product/{GUID}"
OPERATION = "/api/publishers/contoso/offers/o/operations/op-1"
EXIT_TRANSIENT = 4  # the CLI's documented exit code for an unreadable answer (a TransportError)


def nested(levels: int, inner: str = "1") -> str:
    """`levels` lists, one inside the other, around `inner`."""
    return "[" * levels + inner + "]" * levels


def nested_dict(levels: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value  # type: ignore[no-any-return]


# Valid JSON, far beyond the bounds: 5,000 levels (past every parser's own recursion limit) and
# an integer of 5,000 digits (past Python's default limit of 4,300 for int() of a str); as an
# object, and as a list for the calls that read one.
DEEP = nested(5000)
LONG_INTEGER = '[{"id": "x", "n": ' + "9" * 5000 + "}]"
BEYOND = {"deep": (DEEP, f"nested deeper than {MAX_DEPTH} levels"), "long": (LONG_INTEGER, f"{MAX_DIGITS} digits")}
LISTS = {"list_publishers", "list_offers", "list_operations"}


def beyond(kind: str, name: str = "") -> tuple[bytes, str]:
    """The body `kind` of BEYOND shaped for the call `name` reads, and the problem it names."""
    inner, problem = BEYOND[kind]
    body = inner if name in LISTS else f'{{"id": "x", "value": {inner}}}'
    return body.encode(), problem


@contextmanager
def serving(body: bytes) -> Iterator[RawServer]:
    with RawServer(response(200, {"Content-Type": "application/json"}, body)) as server:
        yield server


def cpp(server: RawServer) -> cloudpartner.Client:
    return cloudpartner.Client(TOKEN, base_url=server.base_url, timeout=5.0, max_retries=0)


def graph(server: RawServer) -> ingestion.Client:
    return ingestion.Client(TOKEN, base_url=server.base_url, timeout=5.0, max_retries=0)


# Every call that reads a document from a 200 answer: (client factory, sync call, async call).
Call = Callable[[Any], Any]
READS: dict[str, tuple[Callable[[RawServer], Any], Call, Callable[[Any], Awaitable[Any]]]] = {
    "list_publishers": (cpp, lambda c: c.list_publishers(), lambda c: c.list_publishers_async()),
    "list_offers": (cpp, lambda c: c.list_offers("contoso"), lambda c: c.list_offers_async("contoso")),
    "get_offer": (cpp, lambda c: c.get_offer("contoso", "o"), lambda c: c.get_offer_async("contoso", "o")),
    "put_offer": (
        cpp,
        lambda c: c.put_offer("contoso", "o", {"id": "o"}, if_match="*"),
        lambda c: c.put_offer_async("contoso", "o", {"id": "o"}, if_match="*"),
    ),
    "get_operation": (cpp, lambda c: c.get_operation(OPERATION), lambda c: c.get_operation_async(OPERATION)),
    "list_operations": (
        cpp,
        lambda c: c.list_operations("contoso", "o"),
        lambda c: c.list_operations_async("contoso", "o"),
    ),
    "get_offer_status": (
        cpp,
        lambda c: c.get_offer_status("contoso", "o"),
        lambda c: c.get_offer_status_async("contoso", "o"),
    ),
    "get_job": (graph, lambda c: c.get_job(GUID), lambda c: c.get_job_async(GUID)),
    "cancel_job": (graph, lambda c: c.cancel_job(GUID), lambda c: c.cancel_job_async(GUID)),
    "configure": (graph, lambda c: c.configure([{"a": 1}]), lambda c: c.configure_async([{"a": 1}])),
    "get_job_resources": (graph, lambda c: c.get_job_resources(GUID), lambda c: c.get_job_resources_async(GUID)),
    "get_product": (graph, lambda c: c.get_product(PRODUCT), lambda c: c.get_product_async(PRODUCT)),
    "find_product": (graph, lambda c: c.find_product("contoso-offer"), lambda c: c.find_product_async("contoso-offer")),
    "list_submissions": (graph, lambda c: c.list_submissions(PRODUCT), lambda c: c.list_submissions_async(PRODUCT)),
    "get_resource_tree": (graph, lambda c: c.get_resource_tree(PRODUCT), lambda c: c.get_resource_tree_async(PRODUCT)),
}


def read(name: str, server: RawServer, asynchronous: bool) -> Any:
    make, sync_call, async_call = READS[name]
    with make(server) as client:
        if asynchronous:
            return asyncio.run(async_call(client))  # type: ignore[arg-type]
        return sync_call(client)


# -- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("kind", sorted(BEYOND))
@pytest.mark.parametrize("name", sorted(READS))
def test_a_valid_answer_beyond_the_bounds_is_a_malformed_response(name: str, kind: str, asynchronous: bool) -> None:
    body, problem = beyond(kind, name)
    with serving(body) as server:
        with pytest.raises(MalformedResponseError) as caught:
            read(name, server, asynchronous)
        assert len(server.requests) == 1
    assert problem in str(caught.value)
    assert caught.value.status_code == 200
    assert TOKEN not in str(caught.value)


def test_a_document_at_the_bounds_reads_exactly_and_in_order() -> None:
    most = "-" + "7" * MAX_DIGITS
    text = f'{{"z": {nested(MAX_DEPTH - 1)}, "big": 18446744073709551617, "most": {most}, "a": 1e400, "f": 0.5}}'
    with serving(text.encode()) as server, cpp(server) as client:
        offer = client.get_offer("contoso", "o")
    assert offer.definition == json.loads(text)
    assert list(offer.definition) == ["z", "big", "most", "a", "f"], "the service's order"
    assert offer.definition["big"] == 2**64 + 1 and offer.definition["most"] == int(most)
    assert offer.definition["a"] == math.inf and offer.definition["f"] == 0.5


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="no limit on integer text in this Python")
def test_integers_read_exactly_under_the_lowest_limit_python_allows() -> None:
    most = "9" * MAX_DIGITS
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(MAX_DIGITS)
    try:
        body = f'{{"resources": [{{"n": {most}}}], "id": "x"}}'.encode()
        with serving(body) as server, graph(server) as client:
            tree = client.get_resource_tree(PRODUCT)
            job = client.get_job(GUID)
    finally:
        sys.set_int_max_str_digits(before)
    assert tree["resources"][0]["n"] == job.raw["resources"][0]["n"] == 10**MAX_DIGITS - 1


def test_a_read_deep_in_the_stack_meets_no_recursion_limit() -> None:
    body = nested(MAX_DEPTH - 1, '{"id": "x"}').encode()

    def at_depth(levels: int) -> Any:
        return at_depth(levels - 1) if levels else client.list_publishers()

    with serving(body) as server, cpp(server) as client:
        limit = sys.getrecursionlimit()
        got = at_depth(limit - 60)  # a few frames short of the limit: no room for a recursive parse
    assert got == json.loads(body)


# -- writing -------------------------------------------------------------------------------------


def put(definition: Any) -> tuple[Exception | None, list[Any]]:
    """`put_offer(definition)` against a server answering `{}`: the refusal, and what was sent."""
    with serving(b'{"id": "o"}') as server, cpp(server) as client:
        try:
            client.put_offer("contoso", "o", definition, if_match="*")
        except InvalidArgumentError as refused:
            return refused, [json.loads(r.body) for r in server.requests]
        return None, [r.body for r in server.requests]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"plans": [{"x": math.nan}]}, "has NaN (not valid JSON) at $.plans[0].x"),
        ({"plans": [{"x": 1}, {"y": (2, -math.inf)}]}, "has -infinity (not valid JSON) at $.plans[1].y[1]"),
        ({"price": {"a b": math.inf}}, 'has infinity (not valid JSON) at $.price["a b"]'),
        (
            {"tags": {"x", "y"}},
            "has a value of type set (JSON holds dict, list, tuple, str, int, float, bool and None) at $.tags",
        ),
        ({"plans": {1: "one"}}, "has a key of type int (JSON keys are str) at $.plans"),
        ({"name": "\ud800"}, "has a str with a lone surrogate (not valid Unicode) at $.name"),
        ({"n": 10**MAX_DIGITS}, f"has an integer longer than {MAX_DIGITS} digits at $.n"),
        ({"n": -(10**5000)}, f"has an integer longer than {MAX_DIGITS} digits at $.n"),
        (
            nested_dict(MAX_DEPTH + 1),
            f"has a list or object nested deeper than {MAX_DEPTH} levels at $" + ".a" * MAX_DEPTH,
        ),
    ],
    ids=["nan", "-inf", "inf", "set", "int-key", "surrogate", "641-digits", "5001-digits", "101-levels"],
)
def test_a_definition_that_is_not_json_is_refused_by_what_and_where(definition: Any, message: str) -> None:
    refused, sent = put(definition)
    assert refused is not None and str(refused) == f"invalid definition: {message}"
    assert refused.field == "definition"  # type: ignore[attr-defined]
    assert sent == []


def test_a_definition_holding_itself_is_refused_as_too_deep() -> None:
    loop: dict[str, Any] = {"plans": []}
    loop["plans"].append(loop)
    refused, sent = put(loop)
    assert refused is not None and f"nested deeper than {MAX_DEPTH} levels at $.plans[0].plans[0]" in str(refused)
    assert sent == []


def test_a_definition_at_the_bounds_is_sent_exactly_and_in_order() -> None:
    class Size(enum.IntEnum):
        LARGE = 3

    most = -(10**MAX_DIGITS - 1)
    definition = {"z": nested_dict(MAX_DEPTH - 1), "big": 2**64 + 1, "most": most, "e": Size.LARGE, "t": (True, None)}
    refused, sent = put(definition)
    assert refused is None
    (body,) = sent
    assert json.loads(body) == {**definition, "e": 3, "t": [True, None]}
    assert body.startswith(b'{"z":') and b'"big":18446744073709551617,' in body and str(most).encode() in body
    assert b'"e":3,' in body


def test_a_document_read_at_the_bounds_can_be_written_back() -> None:
    text = f'{{"b": {nested(MAX_DEPTH - 1)}, "a": {"9" * MAX_DIGITS}}}'
    with serving(text.encode()) as server, cpp(server) as client:
        offer = client.get_offer("contoso", "o")
        client.put_offer("contoso", "o", offer.definition, if_match="*")
        sent = server.requests[-1].body
    assert sent == json.dumps(json.loads(text), separators=(",", ":")).encode()


def test_configure_keeps_the_same_rules() -> None:
    with serving(b'{"jobId": "x"}') as server, graph(server) as client:
        with pytest.raises(InvalidArgumentError) as caught:
            client.configure([{"a": 1}, {"plans": [math.nan]}])
        with pytest.raises(InvalidArgumentError, match=f"nested deeper than {MAX_DEPTH} levels"):
            client.configure([nested_dict(MAX_DEPTH)])
        assert server.requests == []
        client.configure([nested_dict(MAX_DEPTH - 1)])
        assert len(server.requests) == 1
    assert str(caught.value) == "invalid resources: has NaN (not valid JSON) at $[1].plans[0]"


def test_a_huge_integer_is_refused_from_its_size_quickly() -> None:
    huge = 7 ** (10**6)  # about 845,000 digits: writing them out alone takes seconds
    started = time.monotonic()
    refused, sent = put({"n": [huge]})
    assert refused is not None and f"longer than {MAX_DIGITS} digits at $.n[0]" in str(refused)
    assert time.monotonic() - started < 2.0
    assert sent == []


# -- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("publishers",),
        ("offers", "contoso"),
        ("offer", "contoso", "o"),
        ("status", "contoso", "o"),
        ("operation", OPERATION),
        ("ingestion", "product", PRODUCT),
        ("ingestion", "job", GUID),
        ("ingestion", "submissions", PRODUCT),
    ],
    ids=lambda a: " ".join(a[:2]),
)
@pytest.mark.parametrize("kind", sorted(BEYOND))
def test_the_cli_says_an_answer_beyond_the_bounds_in_one_line(args: tuple[str, ...], kind: str) -> None:
    body, problem = beyond(kind, {"publishers": "list_publishers", "offers": "list_offers"}.get(args[0], ""))
    with serving(body) as server:
        line = assert_one_line_error(run(*args, "--base-url", server.base_url), EXIT_TRANSIENT)
    assert line.startswith("cloudpartner: MalformedResponseError: ") and problem in line
