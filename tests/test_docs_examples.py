"""Every Python example in README.md and docs/ runs, against FakePortal; the API reference and the
CLI page cover everything they should.

The collector reads every fenced ```` ```python ```` block of ``README.md`` and ``docs/**/*.md``
(indented ones too, as in admonitions and definition lists) and runs the blocks of one page in
order, in one namespace, after a small setup that gives the names a block uses without defining:

- ``cloudpartner``, ``ingestion``, ``asyncio``, ``FakePortal``;
- ``token``, ``graph_token``, ``credential``: tokens the page's portal accepts;
  ``tenant_id``, ``client_id``, ``secret``: stand-ins for an app registration's;
- ``client``: a ``cloudpartner.Client(token)``, made again before each block (a block that
  closes one, leaving a ``with``, does not break the next);
- ``offers``: offer ids the portal holds; ``run_release`` and ``my_script``: a stand-in release
  script.

``CLOUDPARTNER_BASE_URL`` and ``CLOUDPARTNER_INGESTION_BASE_URL`` point at the page's portal, and
the working directory holds ``session.jsonl``, a recording of one cancel. Time is compressed: the
waits' ``poll_interval`` is capped at 0.1 s. A block with top-level ``await`` is compiled with
``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` and run on an event loop. A function ``test_*(cloudpartner_portal)``
that a page defines (the pytest plugin's example) is called with a portal like the fixture's.

A block that must not run is marked by an HTML comment on the line right before its fence, with
a reason: ``<!-- no-run: needs an Azure sign-in -->``. docs/development.md says the same.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import inspect
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cloudpartner
import pytest
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# The blocks that run today (25: README 1, docs 24); a collector that silently finds fewer fails.
FLOOR = 24
TOKEN = "docs-example-token"
GRAPH_TOKEN = "docs-example-graph-token"
OFFERS = ["contoso-virtualmachineoffer", "contoso-offer", "offer-a", "offer-b"]
POLL_CAP = 0.1

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")
NO_RUN = re.compile(r"^\s*<!--\s*no-run:(?P<reason>.*?)-->\s*$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    no_run: str | None  # the reason, when marked


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of a page, with their language and no-run mark (nested fences skipped)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening or (not opening["info"] and not opening["fence"]):
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        language = (opening["info"].split() or [""])[0].strip("{}.").lower()
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        mark = NO_RUN.match(previous)
        body = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if (
                closing
                and not closing["info"]
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
            ):
                break
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        found.append(Block(page, i + 1, language, "\n".join(body) + "\n", mark["reason"].strip() if mark else None))
        i = j + 1
    return found


def python_blocks(page: Path) -> list[Block]:
    return [b for b in blocks_of(page) if b.language in ("python", "py")]


def _capped(method: types.FunctionType) -> types.FunctionType:
    """``method`` with its ``poll_interval`` argument capped at POLL_CAP."""
    signature = inspect.signature(method)

    def arguments(*args: object, **kwargs: object) -> inspect.BoundArguments:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        bound.arguments["poll_interval"] = min(float(bound.arguments["poll_interval"]), POLL_CAP)
        return bound

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def capped_async(*args: object, **kwargs: object) -> object:
            bound = arguments(*args, **kwargs)
            return await method(*bound.args, **bound.kwargs)

        return capped_async  # type: ignore[return-value]

    @functools.wraps(method)
    def capped(*args: object, **kwargs: object) -> object:
        bound = arguments(*args, **kwargs)
        return method(*bound.args, **bound.kwargs)

    return capped  # type: ignore[return-value]


def _portal() -> FakePortal:
    return FakePortal(cancel_seconds=0.2, step_seconds=0.05, job_seconds=0.1, publish_seconds=0.4)


@pytest.fixture
def page_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """A portal with the offers, the environment pointing at it, and the names blocks use."""
    for owner, name in [
        (cloudpartner.Client, "wait"),
        (cloudpartner.Client, "wait_async"),
        (ingestion.Client, "wait_job"),
        (ingestion.Client, "wait_job_async"),
        (ingestion.Client, "wait_until_idle"),
        (ingestion.Client, "wait_until_idle_async"),
        (ingestion.Client, "release_image_version"),
        (ingestion.Client, "release_image_version_async"),
    ]:
        monkeypatch.setattr(owner, name, _capped(getattr(owner, name)))
    with _portal() as portal:
        for offer in OFFERS:
            portal.add_offer("contoso", offer)
        monkeypatch.setenv("CLOUDPARTNER_BASE_URL", portal.base_url)
        monkeypatch.setenv("CLOUDPARTNER_INGESTION_BASE_URL", portal.ingestion_url)
        monkeypatch.setenv("CLOUDPARTNER_TOKEN", TOKEN)
        monkeypatch.setenv("CLOUDPARTNER_INGESTION_TOKEN", GRAPH_TOKEN)
        monkeypatch.chdir(tmp_path)
        with cloudpartner.Client(TOKEN, record="session.jsonl") as recorder:
            recorder.cancel("contoso", "contoso-virtualmachineoffer")

        def run_release(base_url: str, token: str) -> cloudpartner.CancelResult:
            with cloudpartner.Client(token, base_url=base_url) as release:
                return release.cancel("contoso", "contoso-virtualmachineoffer", emails="ops@contoso.com")

        yield {
            "__name__": "__docs_example__",
            "cloudpartner": cloudpartner,
            "ingestion": ingestion,
            "asyncio": asyncio,
            "FakePortal": FakePortal,
            "token": TOKEN,
            "graph_token": GRAPH_TOKEN,
            "credential": TOKEN,
            "tenant_id": "00000000-0000-0000-0000-000000000000",
            "client_id": "11111111-1111-1111-1111-111111111111",
            "secret": "stand-in-secret",
            "offers": ["offer-a", "offer-b"],
            "run_release": run_release,
            "my_script": types.SimpleNamespace(cancel_release=run_release),
        }


def run_block(block: Block, namespace: dict[str, object]) -> None:
    where = f"{block.page.relative_to(ROOT)}:{block.line}"
    code = compile(block.code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_of_the_page_runs(page: Path, page_setup: dict[str, object]) -> None:
    namespace = dict(page_setup)
    ran = 0
    for block in python_blocks(page):
        if block.no_run is not None:
            continue
        with cloudpartner.Client(TOKEN) as client:
            namespace["client"] = client
            try:
                run_block(block, namespace)
            except Exception as error:
                pytest.fail(f"{block.page.relative_to(ROOT)}:{block.line}: {type(error).__name__}: {error}")
        ran += 1
    for name, value in list(namespace.items()):
        if (
            name.startswith("test_")
            and callable(value)
            and list(inspect.signature(value).parameters) == ["cloudpartner_portal"]
        ):
            with FakePortal() as fixture_portal:  # as the plugin's fixture makes it
                fixture_portal.add_offer("contoso", "contoso-virtualmachineoffer")
                value(fixture_portal)
    assert ran == len([b for b in python_blocks(page) if b.no_run is None])


def test_the_collector_finds_enough_blocks_and_every_no_run_says_why() -> None:
    blocks = [b for page in PAGES for b in python_blocks(page)]
    runnable = [b for b in blocks if b.no_run is None]
    skipped = [b for b in blocks if b.no_run is not None]
    print(f"{len(runnable)} python blocks run, {len(skipped)} marked no-run:")
    for block in skipped:
        print(f"  {block.page.relative_to(ROOT)}:{block.line}: {block.no_run}")
    assert len(runnable) >= FLOOR
    assert all(b.no_run for b in skipped), "a no-run mark without a reason"
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if NO_RUN.match(line):
                following = next((x for x in lines[number + 1 :] if x.strip()), "")
                assert re.match(r"\s*(```|~~~)\s*python", following), (
                    f"{page.name}:{number + 1}: no-run before no python block"
                )


def test_the_collector_reads_fences_as_markdown_does() -> None:
    sample = ROOT / "target" / "collector-sample.md"
    sample.parent.mkdir(exist_ok=True)
    sample.write_text(
        "text\n\n<!-- no-run: why -->\n```python\nskipped()\n```\n\n"
        "- item\n\n    ```python\n    indented = 1\n    ```\n\n"
        "````markdown\n```python\nnot_a_block()\n```\n````\n\n```sh\necho hi\n```\n",
        encoding="utf-8",
    )
    found = blocks_of(sample)
    assert [(b.language, b.no_run) for b in found] == [
        ("python", "why"),
        ("python", None),
        ("markdown", None),
        ("sh", None),
    ]
    assert found[1].code == "indented = 1\n"
    assert "not_a_block" in found[2].code


# --------------------------------------------------------------------------- the API reference


def _directives() -> set[str]:
    names = set()
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        names |= set(re.findall(r"^::: *([\w.]+)\s*$", page.read_text(encoding="utf-8"), re.MULTILINE))
    return names


def test_the_api_reference_documents_every_public_name() -> None:
    import cloudpartner.testing as testing

    documented = _directives()
    missing = [f"cloudpartner.{n}" for n in cloudpartner.__all__ if f"cloudpartner.{n}" not in documented]
    for name in ingestion.__all__:
        same = [d for d in documented if d.rsplit(".", 1)[-1] == name and d.startswith("cloudpartner.")]
        if f"cloudpartner.ingestion.{name}" not in documented and not any(
            _resolve(d) is getattr(ingestion, name) for d in same
        ):
            missing.append(f"cloudpartner.ingestion.{name}")
    missing += [
        f"cloudpartner.testing.{n}"
        for n in [*testing.__all__, "cloudpartner_portal"]
        if f"cloudpartner.testing.{n}" not in documented
    ]
    assert not missing, f"no ::: directive in docs/reference/ for {missing}"


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def test_the_built_reference_has_an_anchor_for_every_public_name() -> None:
    """When the site was built (make docs), each name has its own heading there."""
    built = ROOT / "site" / "reference"
    if not (built / "cloudpartner" / "index.html").exists():
        pytest.skip("the site is not built (make docs)")
    html = "".join(p.read_text(encoding="utf-8") for p in built.rglob("*.html"))
    names = [f"cloudpartner.{n}" for n in cloudpartner.__all__] + [
        "cloudpartner.ingestion.Client",
        "cloudpartner.ingestion.Job",
        "cloudpartner.testing.FakePortal",
    ]
    absent = [n for n in names if f'id="{n}"' not in html]
    assert not absent, absent


# ------------------------------------------------------------------------------- the CLI page


def _cli_hook() -> types.ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_cli_hook", ROOT / "docs" / "_hooks" / "cli.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_page_is_generated_from_the_parser_with_every_command_and_exit_code() -> None:
    from cloudpartner import cli

    hook = _cli_hook()
    page = hook.cli_reference()
    parser = cli._parser()
    for name, _, sub in hook._subcommands(parser):
        assert f"### `cloudpartner {name}`" in page
        for inner, _, _ in hook._subcommands(sub):
            assert f"#### `cloudpartner {name} {inner}`" in page
    for code in (0, 2, 3, 4, 5, 130):
        assert f"| {code} |" in page
    assert "--token-file PATH" in page and "--concurrency N" in page
    source = (ROOT / "docs" / "guides" / "cli.md").read_text(encoding="utf-8")
    assert hook.MARKER in source
