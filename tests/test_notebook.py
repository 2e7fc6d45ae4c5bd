"""In a real Jupyter kernel: results, operations and errors display as HTML, top-level await works,
and wait(progress=True) updates one display. The notebook runs against FakePortal."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "offline.ipynb"


def html_of(cell: dict) -> str:
    return "".join(
        "".join(output.get("data", {}).get("text/html", ""))
        for output in cell["outputs"]
        if output["output_type"] in ("execute_result", "display_data", "update_display_data")
    )


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    notebook = nbformat.read(str(EXAMPLE), as_version=4)
    NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True).execute()
    return notebook


def cell_tagged(notebook: nbformat.NotebookNode, tag: str) -> dict:
    (cell,) = [c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", [])]
    return cell


def test_a_result_displays_as_a_table(executed: nbformat.NotebookNode) -> None:
    html = html_of(cell_tagged(executed, "cancel"))
    assert "<table" in html and "HTTP 202" in html and "CancelResult" in html


def test_top_level_await_and_the_operation_table(executed: nbformat.NotebookNode) -> None:
    html = html_of(cell_tagged(executed, "await"))
    assert "canceled" in html and "Certification" in html and "<div" in html  # steps with progress bars


def test_wait_with_progress_updates_one_display(executed: nbformat.NotebookNode) -> None:
    cell = cell_tagged(executed, "progress")
    kinds = [output["output_type"] for output in cell["outputs"]]
    assert kinds.count("display_data") == 1  # one display, updated in place
    assert "publisher-signoff" in json.dumps(cell["outputs"]) or "Publisher signoff" in json.dumps(cell["outputs"])


def test_an_error_shows_the_service_message_code_and_request_id(executed: nbformat.NotebookNode) -> None:
    raised = cell_tagged(executed, "error")
    (error,) = [o for o in raised["outputs"] if o["output_type"] == "error"]
    assert error["ename"] == "NotFoundError"
    assert "was not found" in error["evalue"] and "request id" in error["evalue"]
    shown = html_of(cell_tagged(executed, "error-html"))
    assert "NotFoundError" in shown and "NotFound" in shown and "request id" in shown
