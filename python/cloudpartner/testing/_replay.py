"""Answering from a recording: what ``Client(record=...)`` or ``CLOUDPARTNER_RECORD`` wrote.

Each request gets the next recorded answer to the same method, path and query, in the order they
were recorded; once they are used up, the last one repeats (a poll loop may run longer than it
did when recorded). A request never recorded gets 404 ``NotRecorded``. Absolute URLs to the
recorded service, in the answers' headers (``Operation-Location``) and bodies (the ingestion
API's ``@nextLink`` and ``resourceUri``), point at the replaying server; their paths (such as
the ingestion API's ``/rp/product-ingestion`` prefix) are kept.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ._http import RecordedRequest, Response

# Set by the server itself from the body it sends.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

_Key = tuple[str, str, tuple[tuple[str, str], ...]]


def _key(method: str, path: str, query: dict[str, str]) -> _Key:
    return method.upper(), path.rstrip("/"), tuple(sorted(query.items()))


class Recording:
    """A recording's answers, looked up by request."""

    def __init__(self, path: str | os.PathLike[str], base_url: Callable[[], str]) -> None:
        self._base_url = base_url
        self._answers: dict[_Key, list[tuple[str, Response]]] = {}
        self._used: dict[_Key, int] = {}
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                exchange = json.loads(line)
                split = urlsplit(exchange["path"])
                key = _key(exchange["method"], split.path, dict(parse_qsl(split.query, keep_blank_values=True)))
                headers = {
                    name: value for name, value in exchange["response_headers"].items() if name.lower() not in _FRAMING
                }
                answer = Response(int(exchange["status"]), exchange["response_body"].encode(), headers)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                msg = f"{os.fspath(path)}, line {number}: not a recorded exchange ({error!r})"
                raise ValueError(msg) from error
            self._answers.setdefault(key, []).append((exchange.get("base", ""), answer))
        if not self._answers:
            msg = f"{os.fspath(path)} holds no recorded exchange"
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


def _rebase(body: bytes, base: str, here: str) -> bytes:
    """Point absolute URLs on ``base`` (an origin) at ``here``, also where JSON escaped their slashes."""
    for old, new in ((base, here), (base.replace("/", "\\/"), here.replace("/", "\\/"))):
        # the origin alone: not a longer host name or port that starts the same way
        pattern = re.compile(re.escape(old.encode()) + rb"(?![\w.:-])")
        body = new.encode().join(pattern.split(body))
    return body
