"""Answering from a recording: what ``Client(record=...)`` or ``CLOUDPARTNER_RECORD`` wrote.

Each request gets the next recorded answer to the same method, path and query, in the order they
were recorded; once they are used up, the last one repeats (a poll loop may run longer than it
did when recorded). A request never recorded gets 404 ``NotRecorded``. Absolute URLs to the
recorded service, in the answers' headers (``Operation-Location``) and bodies (the ingestion
API's ``@nextLink`` and ``resourceUri``), point at the replaying server; their paths (such as
the ingestion API's ``/rp/product-ingestion`` prefix) are kept.

Every line must be a recorded exchange (else ``ValueError`` naming the line), except a last one
with no newline after it: a recording cut short (a full disk, a killed job) keeps its complete
exchanges, with a ``TruncatedRecordingWarning``.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ._http import RecordedRequest, Response

# Set by the server itself from the body it sends.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

_Key = tuple[str, str, tuple[tuple[str, str], ...]]


def _key(method: str, path: str, query: dict[str, str]) -> _Key:
    return method.upper(), path.rstrip("/"), tuple(sorted(query.items()))


class TruncatedRecordingWarning(UserWarning):
    """A recording's last line was cut short (a full disk, a killed job): the complete exchanges before it are used."""


class Recording:
    """A recording's answers, looked up by request."""

    def __init__(self, path: str | os.PathLike[str], base_url: Callable[[], str]) -> None:
        self._base_url = base_url
        self._answers: dict[_Key, list[tuple[str, Response]]] = {}
        self._used: dict[_Key, int] = {}
        shown = os.fspath(path)
        # Split on newlines only (not str.splitlines: a body may hold U+2028, which JSON leaves
        # unescaped). Each exchange is written as one line ending in a newline, so text after the
        # last newline is a line whose writing was cut short.
        lines = Path(path).read_bytes().split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                key, base, answer = _exchange(line)
            except ValueError as error:
                if number < len(lines) or not self._answers:
                    msg = f"{shown}, line {number}: {error}"
                    raise ValueError(msg) from error
                kept = sum(len(answers) for answers in self._answers.values())
                warnings.warn(
                    f"{shown}, line {number} is cut short (the file ends inside it: a full disk or a killed job?); "
                    f"replaying the {kept} complete exchange{'' if kept == 1 else 's'} before it",
                    TruncatedRecordingWarning,
                    stacklevel=4,  # the caller of FakePortal.from_recording
                )
                break
            self._answers.setdefault(key, []).append((base, answer))
        if not self._answers:
            msg = f"{shown} holds no recorded exchange"
            raise ValueError(msg)

    def handle(self, request: RecordedRequest) -> Response:
        key = _key(request.method, request.path, request.query)
        answers = self._answers.get(key)
        if not answers:
            body = {"error": {"code": "NotRecorded", "message": f"No {request.method} {request.path} was recorded."}}
            return Response(404, body)
        index = self._used.get(key, 0)
        self._used[key] = index + 1
        base, answer = answers[min(index, len(answers) - 1)]
        here = self._base_url()
        headers = {name: value.replace(base, here) if base else value for name, value in answer.headers.items()}
        payload = _rebase(answer.body, base, here) if base and isinstance(answer.body, bytes) else answer.body
        return Response(answer.status, payload, headers)


def _exchange(line: bytes) -> tuple[_Key, str, Response]:
    """Read one recorded exchange: its request's key, the origin it was sent to, its answer (else ValueError)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        msg = f"not UTF-8 text (byte {error.start + 1} is {line[error.start : error.start + 1]!r})"
        raise ValueError(msg) from None
    try:
        exchange = json.loads(text)
        split = urlsplit(exchange["path"])
        key = _key(exchange["method"], split.path, dict(parse_qsl(split.query, keep_blank_values=True)))
        status, base, body = exchange["status"], exchange.get("base", ""), exchange["response_body"]
        headers = {name: value for name, value in exchange["response_headers"].items() if name.lower() not in _FRAMING}
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        msg = f"not a recorded exchange ({error!r})"
        raise ValueError(msg) from error
    if not (type(status) is int and 100 <= status <= 599 and isinstance(base, str) and isinstance(body, str)):
        msg = "not a recorded exchange (status, base or response_body of the wrong type)"
        raise ValueError(msg)
    if not all(isinstance(name, str) and isinstance(value, str) for name, value in headers.items()):
        msg = "not a recorded exchange (a response header that is not a string)"
        raise ValueError(msg)
    answer = Response(status, body.encode(), headers)
    return key, base, answer


def _rebase(body: bytes, base: str, here: str) -> bytes:
    """Point absolute URLs on ``base`` (an origin) at ``here``, also where JSON escaped their slashes."""
    for old, new in ((base, here), (base.replace("/", "\\/"), here.replace("/", "\\/"))):
        # the origin alone: not a longer host name or port that starts the same way
        pattern = re.compile(re.escape(old.encode()) + rb"(?![\w.:-])")
        body = new.encode().join(pattern.split(body))
    return body
