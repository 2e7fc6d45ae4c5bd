"""The ingestion results behave as the frozen dataclasses they document, raw JSON kept apart."""

from __future__ import annotations

import dataclasses
import pickle
import sys
import typing
from datetime import datetime, timezone

import pytest
from cloudpartner.ingestion import Job, JobError, Product

STARTED = datetime(2022, 3, 1, 13, 32, 43, tzinfo=timezone.utc)


def job(raw: dict[str, object] | None = None, **changes: object) -> Job:
    fields: dict[str, typing.Any] = {
        "id": "d4261631-c583-4949-a612-5150882632e9",
        "status": "completed",
        "result": "failed",
        "started": STARTED,
        "errors": (JobError("conflict", "busy", "submission/x/1", (JobError("invalidState", "m"),)),),
        "raw": raw if raw is not None else {"jobId": "d4261631-c583-4949-a612-5150882632e9"},
    }
    return Job(**{**fields, **changes})


def test_raw_is_kept_but_neither_shown_nor_compared() -> None:
    a, b = job({"jobId": "x", "extra": 1}), job({"jobId": "x"})
    assert a == b and hash(a) == hash(b)
    assert a.raw == {"jobId": "x", "extra": 1}
    assert "raw" not in repr(a) and "extra" not in repr(a)
    assert a != job(result="succeeded")


def test_the_dataclasses_functions_see_the_same_fields_as_documented() -> None:
    assert dataclasses.is_dataclass(Job)
    fields = {f.name: f for f in dataclasses.fields(Job)}
    assert list(fields) == ["id", "status", "result", "started", "ended", "errors", "resource_uri", "failure", "raw"]
    assert (fields["raw"].repr, fields["raw"].compare) == (False, False)
    assert all(f.repr and f.compare for name, f in fields.items() if name != "raw")
    assert dataclasses.asdict(job())["errors"][0]["details"][0]["code"] == "invalidState"
    assert dataclasses.replace(job(), result="cancelled").cancelled
    with pytest.raises(dataclasses.FrozenInstanceError):
        job().status = "running"  # type: ignore[misc]


def test_jobs_pickle_and_their_phase_comes_from_the_core() -> None:
    value = job()
    assert pickle.loads(pickle.dumps(value)) == value
    assert (value.phase, value.is_terminal, value.failed, value.succeeded) == ("failed", True, True, False)
    assert Job("j", "running", "succeeded").phase == "pending"  # only a completed status ends a job
    assert Job("j", "completed", "canceled").cancelled


@pytest.mark.skipif(sys.version_info < (3, 10), reason="`X | None` evaluates from Python 3.10")
def test_type_hints_resolve() -> None:
    hints = typing.get_type_hints(Job)
    assert hints["id"] is str
    assert hints["ended"] == typing.Optional[typing.Union[datetime, str]]
    assert typing.get_type_hints(Product)["external_id"] == typing.Optional[str]


def test_a_notebook_shows_a_job_as_a_table_with_its_errors() -> None:
    html = job()._repr_html_()
    assert "<table" in html and "conflict" in html and "busy" in html and "failed" in html
