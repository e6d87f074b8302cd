"""docs/ARCHITECTURE.md and the code's shape agree, so a newcomer's map cannot drift.

The page names every module, draws the layers import-linter enforces, and lists what each
part imports; these tests fail when the code and the page part ways, in either direction.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGES = ("bot", "handlers", "jobs")
MAX_FUNCTION_LINES = 60


def code_block_after(marker: str) -> str:
    """The first fenced block after `marker` on the page."""
    start = PAGE.index(marker)
    opening = PAGE.index("```", start)
    body = PAGE.index("\n", opening) + 1
    return PAGE[body : PAGE.index("```", body)]


def layout_paths() -> set[str]:
    """Every file and folder the layout tree names, as paths from the repository's root."""
    paths: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in code_block_after("## Layout").splitlines():
        indent = len(line) - len(line.lstrip())
        names = re.findall(r"[\w.-]+(?:\.py|/)(?=\s|$)", line.strip().split("  ")[0])
        if not names or not re.match(r"\s*[\w.-]+(?:\.py|/)", line):
            continue  # a continued description
        while parents and parents[-1][0] >= indent:
            parents.pop()
        prefix = parents[-1][1] if parents else ""
        for name in names:
            paths.add(prefix + name.rstrip("/"))
        if names[0].endswith("/"):
            parents.append((indent, prefix + names[0]))
    return paths


def source_modules() -> set[str]:
    """The repository's modules under bot/, handlers/ and jobs/ that the layout must name."""
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if path.name == "__init__.py" or "migrations" in relative.parts:
                continue
            found.add(relative.as_posix())
    return found


def test_the_layout_names_every_module_and_only_modules_that_exist() -> None:
    named = layout_paths()
    missing = sorted(p for p in named if not (ROOT / p).exists())
    unnamed = sorted(source_modules() - named)
    assert not missing, f"docs/ARCHITECTURE.md names files that do not exist: {missing}"
    assert not unnamed, f"docs/ARCHITECTURE.md's layout leaves out: {unnamed}"


def test_the_page_draws_the_layers_import_linter_enforces() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    drawn = [line.strip() for line in code_block_after("<!-- layers").splitlines() if line]
    assert drawn == layers


def part_of(module: str) -> str:
    """The part of the bot a module belongs to, as the page's import table names parts."""
    pieces = module.split(".")
    if pieces[0] != "bot":
        return pieces[0]
    return ".".join(pieces[:2]) if len(pieces) > 1 else "bot"


def imports_between_parts() -> dict[str, set[str]]:
    """What each part imports of the bot's other parts and of telegram, lazy imports too."""
    graph: dict[str, set[str]] = defaultdict(set)
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            part = part_of(".".join(relative.parts))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                for target in targets:
                    top = target.split(".")[0]
                    other = "telegram" if top == "telegram" else part_of(target)
                    if top in (*PACKAGES, "telegram") and other != part:
                        graph[part].add(other)
    # The basics and bot.news import nothing of the bot's own: the table leaves them out.
    return {part: parts for part, parts in graph.items() if parts}


def documented_imports() -> dict[str, set[str]]:
    start = PAGE.index("<!-- imports")
    table: dict[str, set[str]] = {}
    for line in PAGE[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if table:
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] in ("part", "---"):
            continue
        # What a cell adds in brackets (which modules of a part) is prose, not a part.
        named = re.sub(r"\([^)]*\)", "", cells[1])
        table[cells[0].strip("`")] = set(re.findall(r"`([\w.]+)`", named))
    return table


def test_the_import_table_lists_the_imports_the_code_has() -> None:
    actual = imports_between_parts()
    documented = documented_imports()
    assert sorted(documented) == sorted(actual), "the table's parts are not the code's parts"
    for part in sorted(actual):
        assert documented[part] == actual[part], (
            f"{part}: the page lists {sorted(documented[part])}, the code imports "
            f"{sorted(actual[part])}"
        )


def module_file(dotted: str) -> Path | None:
    """The file of a module or package named `a.b.c`, if there is one."""
    path = ROOT.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defined_names(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """What a module's or a class's body defines or imports, by name."""
    names: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update((t.id, node) for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(((a.asname or a.name).split(".")[0], node) for a in node.names)
    return names


def resolves(dotted: str) -> bool:
    """Whether `bot.x.y` names a module, or a name defined in one (read, not imported:
    importing `bot.__main__` would run the command line)."""
    pieces = dotted.split(".")
    for cut in range(len(pieces), 0, -1):
        path = module_file(".".join(pieces[:cut]))
        if path is None:
            continue
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for name in pieces[cut:]:
            node = defined_names(body).get(name)
            if node is None:
                return False
            body = node.body if isinstance(node, ast.ClassDef) else []
        return True
    return False


def test_every_module_and_name_the_page_mentions_exists() -> None:
    mentioned = set(re.findall(r"`((?:bot|handlers|jobs)[./][\w./]*)`", PAGE))
    broken = sorted(
        name
        for name in mentioned
        if not ((ROOT / name).exists() if "/" in name else resolves(name.rstrip(".")))
    )
    assert not broken, f"docs/ARCHITECTURE.md mentions what does not exist: {broken}"


def test_the_bot_root_holds_composition_and_basics_only() -> None:
    root_modules = sorted(path.name for path in (ROOT / "bot").glob("*.py"))
    assert len(root_modules) <= 10, root_modules


@pytest.mark.parametrize(
    "package",
    sorted(
        path.parent.relative_to(ROOT).as_posix() for path in (ROOT / "bot").glob("*/__init__.py")
    ),
)
def test_every_package_says_what_it_owns_and_may_import(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
    assert docstring, f"{package}/__init__.py has no docstring"
    assert "May import" in docstring or "may import" in docstring


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    length = (node.end_lineno or node.lineno) - first + 1
                    if length > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{first} {node.name} ({length})")
    assert not long, long
