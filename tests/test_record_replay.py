"""Record real exchanges, replay them offline: the same results, and never the token on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, replaying
from rawserver import RawServer, http_response

SECRET = "recorded-secret-token-7Kq2Zp9W"  # distinctive: searched for in the file's bytes


def scenario(client: cloudpartner.Client) -> dict:
    """Cancel, follow the operation to its end, list the operations: what a release script does."""
    result = client.cancel(PUBLISHER, OFFER, ["ops@contoso.com"])
    final = client.wait(result, timeout=10, poll_interval=0.05)
    listed = client.list_operations(PUBLISHER, OFFER)
    return {
        "status_code": result.status_code,
        "operation_id": result.operation_id,
        "final": final.status,
        "final_steps": [(s.id, s.status) for s in final.steps],
        "listed": [(op.id, op.status) for op in listed],
    }


@pytest.mark.parametrize("style", ["absolute", "relative", "non-migrated"])
def test_a_recorded_session_replays_to_the_same_results(tmp_path: Path, style: str) -> None:
    recording = tmp_path / "session.jsonl"
    with FakePortal(cancel_seconds=0.3, location_style=style) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        with cloudpartner.Client(SECRET, base_url=portal.base_url, record=recording) as client:
            recorded = scenario(client)
    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    assert [line["method"] for line in lines[:2]] == ["POST", "GET"]
    assert lines[0]["request_body"] == '{"metadata":{"notification-emails":"ops@contoso.com"}}'
    assert {line["status"] for line in lines} == {200, 202}

    with FakePortal.from_recording(recording) as replay:
        with cloudpartner.Client("any-other-token", base_url=replay.base_url) as client:
            replayed = scenario(client)
    assert replayed == recorded
    assert recorded["final"] == "canceled"


def test_the_recording_never_holds_the_token(tmp_path: Path) -> None:
    recording = tmp_path / "errors.jsonl"
    echo = json.dumps({"error": {"code": "BadToken", "message": f"token {SECRET} is not valid here"}}).encode()
    answers = [http_response(401, {"Content-Type": "application/json", "X-Echo": f"Bearer {SECRET}"}, echo)]
    with RawServer(lambda conn, _req: conn.send(answers[0])) as srv:
        with cloudpartner.Client(SECRET, base_url=srv.base_url, record=recording) as client:
            with pytest.raises(cloudpartner.AuthenticationError):
                client.cancel(PUBLISHER, OFFER)
    raw = recording.read_bytes()
    assert raw  # something was recorded
    assert SECRET.encode() not in raw
    assert b"authorization" not in raw.lower()
    (line,) = [json.loads(text) for text in raw.decode().splitlines()]
    assert line["status"] == 401 and "***" in line["response_body"]


def test_the_environment_variable_records_module_level_calls_too(tmp_path: Path, monkeypatch) -> None:
    recording = tmp_path / "env.jsonl"
    monkeypatch.setenv("CLOUDPARTNER_RECORD", str(recording))
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, OFFER)
        cloudpartner.cancel(PUBLISHER, OFFER, SECRET, base_url=portal.base_url)
        cloudpartner.Client(SECRET, base_url=portal.base_url).list_operations(PUBLISHER, OFFER)
    methods = [json.loads(line)["method"] for line in recording.read_text().splitlines()]
    assert methods == ["POST", "GET"]
    assert SECRET not in recording.read_text()


def test_an_unrecorded_request_is_a_404_and_a_bad_file_is_refused(tmp_path: Path) -> None:
    recording = tmp_path / "one.jsonl"
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, OFFER)
        cloudpartner.Client(SECRET, base_url=portal.base_url, record=recording).cancel(PUBLISHER, OFFER)
    with FakePortal.from_recording(recording) as replay:
        client = cloudpartner.Client(SECRET, base_url=replay.base_url)
        with pytest.raises(cloudpartner.NotFoundError) as caught:
            client.list_operations(PUBLISHER, OFFER)
    assert caught.value.code == "NotRecorded"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError, match="no recorded exchange"):
        FakePortal.from_recording(empty)
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text("not json\n")
    with pytest.raises(ValueError, match="line 1"):
        FakePortal.from_recording(garbled)
    with pytest.raises(cloudpartner.InvalidArgumentError, match="record"):
        cloudpartner.Client(SECRET, record=tmp_path / "no-such-dir" / "x.jsonl")


def test_the_cli_serves_a_recording(tmp_path: Path) -> None:
    recording = tmp_path / "cli.jsonl"
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, OFFER)
        cloudpartner.Client(SECRET, base_url=portal.base_url, record=recording).cancel(PUBLISHER, OFFER)
    with replaying(recording) as (base_url, _):
        result = cloudpartner.Client("offline", base_url=base_url).cancel(PUBLISHER, OFFER)
        assert result.status_code == 202
        assert result.operation_location is not None and result.operation_location.startswith(base_url)
    missing = subprocess.run(
        [sys.executable, "-m", "cloudpartner", "serve", "--replay", str(tmp_path / "missing.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
