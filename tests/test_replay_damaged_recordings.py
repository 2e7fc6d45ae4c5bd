"""Replaying a damaged recording.

A last line cut short is left out with a warning; any other damage is a ValueError naming its line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal, TruncatedRecordingWarning
from conftest import OFFER, PUBLISHER, replaying


def record_session(path: Path) -> list[bytes]:
    """Record a cancel, then a list of operations; return the file's lines (each ending in a newline)."""
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, OFFER)
        with cloudpartner.Client("token", base_url=portal.base_url, record=path) as client:
            client.cancel(PUBLISHER, OFFER)
            client.list_operations(PUBLISHER, OFFER)
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2
    return lines


def test_a_recording_cut_inside_its_last_line_replays_the_exchanges_before_it(tmp_path: Path):
    recording = tmp_path / "cut.jsonl"
    cancel, listing = record_session(recording)
    recording.write_bytes(cancel + listing[: len(listing) // 2])
    with pytest.warns(TruncatedRecordingWarning, match=r"cut\.jsonl, line 2 is cut short") as caught:
        replaying = FakePortal.from_recording(recording)
    assert "replaying the 1 complete exchange before it" in str(caught[0].message)
    assert caught[0].filename == __file__  # pointed at the caller's line
    with replaying as portal, cloudpartner.Client("token", base_url=portal.base_url) as client:
        assert client.cancel(PUBLISHER, OFFER).status_code == 202
        with pytest.raises(cloudpartner.NotFoundError, match="NotRecorded"):
            client.list_operations(PUBLISHER, OFFER)


def test_a_last_line_cut_inside_a_character_is_a_cut_line_too(tmp_path: Path):
    recording = tmp_path / "cut.jsonl"
    cancel, _ = record_session(recording)
    recording.write_bytes(cancel + '{"method": "GET", "path": "/caf\u00e9'.encode()[:-1])  # half of é's two bytes
    with pytest.warns(TruncatedRecordingWarning, match="line 2 is cut short"):
        FakePortal.from_recording(recording)


def test_a_complete_last_line_without_a_newline_is_kept(tmp_path: Path):
    recording = tmp_path / "whole.jsonl"
    cancel, listing = record_session(recording)
    recording.write_bytes(cancel + listing.rstrip(b"\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        replaying = FakePortal.from_recording(recording)
    with replaying as portal, cloudpartner.Client("token", base_url=portal.base_url) as client:
        assert len(client.list_operations(PUBLISHER, OFFER)) == 1


def test_a_body_holding_a_unicode_line_separator_replays(tmp_path: Path):
    recording = tmp_path / "separator.jsonl"
    cancel, listing = record_session(recording)
    exchange = json.loads(listing)
    operations = json.loads(exchange["response_body"])
    operations[0]["note"] = "two\u2028lines"  # U+2028, which JSON writers leave unescaped
    exchange["response_body"] = json.dumps(operations, ensure_ascii=False)
    recording.write_bytes(cancel + json.dumps(exchange, ensure_ascii=False).encode() + b"\n")
    assert "\u2028".encode() in recording.read_bytes()
    with FakePortal.from_recording(recording) as portal, cloudpartner.Client("token", base_url=portal.base_url) as c:
        (operation,) = c.list_operations(PUBLISHER, OFFER)
    assert operation.raw["note"] == "two\u2028lines"


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\n", "line 1: not UTF-8 text"),
        (b'{"method": "GET", "path": "/caf\xe9"}\n', "line 1: not UTF-8 text"),
        (b"not json\n", "line 1: not a recorded exchange"),
        (b"[1, 2]\n", "line 1: not a recorded exchange"),
        (b"[" * 100_000 + b"\n", "line 1: not a recorded exchange"),
    ],
    ids=["binary", "latin-1", "not-json", "not-an-object", "too-deep"],
)
def test_a_damaged_line_before_the_last_is_a_value_error_naming_it(tmp_path: Path, damage: bytes, problem: str):
    recording = tmp_path / "damaged.jsonl"
    cancel, listing = record_session(recording)
    recording.write_bytes(damage + cancel + listing)
    with pytest.raises(ValueError, match=rf"damaged\.jsonl, {problem}"):
        FakePortal.from_recording(recording)
    recording.write_bytes(cancel + damage + listing)
    with pytest.raises(ValueError, match=rf"damaged\.jsonl, {problem.replace('line 1', 'line 2')}"):
        FakePortal.from_recording(recording)


@pytest.mark.parametrize(
    "change",
    [{"status": "202"}, {"status": 1000}, {"response_body": 5}, {"base": None}, {"response_headers": {"x": 1}}],
    ids=["status-text", "status-range", "body-number", "base-null", "header-number"],
)
def test_an_exchange_with_a_field_of_the_wrong_type_is_a_value_error_naming_its_line(tmp_path: Path, change: dict):
    recording = tmp_path / "typed.jsonl"
    cancel, listing = record_session(recording)
    wrong = json.dumps({**json.loads(listing), **change}).encode() + b"\n"
    recording.write_bytes(cancel + wrong)
    with pytest.raises(ValueError, match=r"typed\.jsonl, line 2: not a recorded exchange"):
        FakePortal.from_recording(recording)


def test_a_file_that_is_only_a_cut_line_is_a_value_error(tmp_path: Path):
    recording = tmp_path / "nothing.jsonl"
    cancel, _ = record_session(recording)
    recording.write_bytes(cancel[:20])
    with pytest.raises(ValueError, match=r"nothing\.jsonl, line 1: not a recorded exchange"):
        FakePortal.from_recording(recording)


# -- cloudpartner serve --replay ------------------------------------------------------------------------


def test_serve_replays_a_cut_recording_with_one_line_of_warning(tmp_path: Path):
    recording = tmp_path / "cut.jsonl"
    cancel, listing = record_session(recording)
    recording.write_bytes(cancel + listing[:30])
    with replaying(recording) as (base_url, stderr):
        assert cloudpartner.Client("token", base_url=base_url).cancel(PUBLISHER, OFFER).status_code == 202
    err = stderr[0]
    assert err.splitlines()[0].startswith(f"cloudpartner: warning: {recording}, line 2 is cut short"), err
    assert "Traceback" not in err


def test_serve_refuses_a_binary_recording_in_one_line(tmp_path: Path):
    recording = tmp_path / "binary.jsonl"
    recording.write_bytes(b"\x1f\x8b\x08\x00\xff\n\xfe\xfd\n")
    done = subprocess.run(
        [sys.executable, "-m", "cloudpartner", "serve", "--replay", str(recording)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "line 1: not UTF-8 text" in done.stderr
