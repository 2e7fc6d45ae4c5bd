"""No import circle in the package: every module can be read and changed without the ones that
import it. Imports inside functions count (a lazy import is still a dependency), and so do
``if TYPE_CHECKING:`` ones (a reader follows them too). The graph is read from the source with
``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cloudpartner

PACKAGE = Path(cloudpartner.__file__).resolve().parent


def module_names(package: Path = PACKAGE) -> dict[str, Path]:
    """Every Python module of `package` by dotted name (a package by its own name)."""
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def is_submodule(dotted: str, root: Path) -> bool:
    """Whether `dotted` names a module file of any kind (``_core`` is an extension, with a stub)."""
    *folders, last = dotted.split(".")
    return any(p.name.split(".")[0] == last for p in root.joinpath(*folders).glob(f"{last}.*"))


def imports_of(name: str, path: Path, modules: dict[str, Path], root: Path = PACKAGE.parent) -> set[str]:
    """The package's modules that `name` imports, anywhere in its source (`root` holds the package)."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                targets.add(submodule if submodule in modules or is_submodule(submodule, root) else origin)
    return {t for t in targets if t in modules and t != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circle() -> None:
    modules = module_names()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert graph.get("cloudpartner._client"), "the graph was not read"
    assert cycles(graph) == []


def test_a_circle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "_ext.pyi").write_text("")  # an extension module's stub: a module, not the package
    (package / "a.py").write_text("from . import _ext\nfrom .sub.b import thing\n")
    (package / "sub" / "b.py").write_text("def later():\n    from ..a import other\n")
    (package / "c.py").write_text("import pkg.a\n")
    modules = module_names(package)
    graph = {name: imports_of(name, path, modules, tmp_path) for name, path in modules.items()}
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]
