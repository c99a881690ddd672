"""The layer rule of docs/architecture.md, checked over every import in lms/ (also those inside
functions): a domain imports the kernel and lower layers only, so no cycle between domains can
come back unnoticed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lms"
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"
KERNEL = {"common", "config", "extensions", "i18n"}
SHELL = {"__init__", "web", "security", "logging_setup", "scheduler", "models"}
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|", re.M)


def documented_layers(text: str) -> dict[str, int]:
    """domain → layer, from the table under "Domains and their layers"."""
    return {domain: int(layer) for layer, domain in ROW.findall(text)}


def unit_of(module: str) -> str:
    """The top-level unit below `lms` a dotted module name belongs to (`lms.skills.views` → skills)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_in(source: str, module: str) -> list[tuple[str, int]]:
    """(imported lms module, line) for every import in the source, at any depth."""
    tree = ast.parse(source)
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            names = [base] if base != "lms" else [f"lms.{alias.name}" for alias in node.names]
        else:
            continue
        if not _type_checking_only(node, parents):
            found.extend((name, node.lineno) for name in names if name == "lms" or name.startswith("lms."))
    return found


def layer_violations(edges: list[tuple[str, str, str]], layers: dict[str, int]) -> list[str]:
    """Every import edge (importer unit, imported unit, where) that breaks the rule."""
    problems = []
    for source, target, where in edges:
        if source == target or source in SHELL or target in KERNEL:
            continue
        if target in SHELL:
            problems.append(f"{where}: imports the shell module lms.{target}")
        elif source in KERNEL:
            problems.append(f"{where}: the kernel imports the domain {target}")
        elif source not in layers or target not in layers:
            unknown = source if source not in layers else target
            problems.append(f"{where}: domain {unknown} is not in the table of docs/architecture.md")
        elif layers[target] >= layers[source]:
            problems.append(
                f"{where}: {source} (layer {layers[source]}) imports {target} (layer {layers[target]}); "
                "a domain imports only lower layers"
            )
    return problems


def project_edges() -> list[tuple[str, str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        for imported, line in imports_in(path.read_text(encoding="utf-8"), module):
            edges.append((unit_of(module), unit_of(imported), f"{path.relative_to(ROOT)}:{line}"))
    return edges


def test_every_import_follows_the_documented_layers():
    layers = documented_layers(ARCHITECTURE_DOC.read_text(encoding="utf-8"))
    assert len(layers) >= 10, "the domain table of docs/architecture.md was not found"
    assert layer_violations(project_edges(), layers) == []


def test_every_package_is_in_the_table():
    layers = documented_layers(ARCHITECTURE_DOC.read_text(encoding="utf-8"))
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} - KERNEL - {"translations"}
    assert packages - set(layers) == set()


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([("catalog", "learning", "a.py:1")], "catalog (layer 2) imports learning (layer 3)"),
        ([("auth", "privacy", "a.py:2")], "auth (layer 2) imports privacy (layer 2)"),
        ([("common", "people", "a.py:3")], "the kernel imports the domain people"),
        ([("people", "web", "a.py:4")], "imports the shell module lms.web"),
        ([("newthing", "people", "a.py:5")], "domain newthing is not in the table"),
    ],
)
def test_the_check_catches_what_breaks_the_rule(edges, expected):
    layers = {"people": 1, "auth": 2, "privacy": 2, "catalog": 2, "learning": 3}
    problems = layer_violations(edges, layers)
    assert len(problems) == 1 and expected in problems[0]


def test_imports_inside_functions_count_and_type_checking_ones_do_not():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from lms.skills.models import Assessment\n"
        "def f():\n    from lms.learning import services\n"
        "from lms import web\n"
    )
    assert sorted(imports_in(source, "lms.catalog.services")) == [("lms.learning", 5), ("lms.web", 6)]


def test_the_page_helpers_of_the_shell_import_no_domain():
    """lms/web.py (menu, error pages) is shared by every page: it must not depend on any domain."""
    web = [target for source, target, where in project_edges() if where.startswith("lms/web.py:")]
    assert set(web) <= KERNEL, web
