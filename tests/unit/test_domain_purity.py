"""domain/ must stay pure: standard library only, no I/O, no clock, no imports from outer layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN_MODULES = {
    "app",
    "adapters",
    "infra",  # outer layers
    "asyncio",
    "socket",
    "os",
    "io",
    "pathlib",
    "subprocess",
    "threading",
    "time",
    "logging",
    "http",
    "urllib",
    "shutil",
    "tempfile",
    "sqlite3",
    "select",
    "selectors",
    "signal",
    "httpx",
    "redis",
    "aiocache",
    "litestar",
    "msgspec",
    "pybreaker",
    "opentelemetry",
}
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "__import__"}
CLOCK_ATTRIBUTES = {"now", "utcnow", "today"}


def _domain_files() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_there_are_domain_modules_to_check() -> None:
    assert len(_domain_files()) >= 5


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: p.name)
def test_domain_module_imports_nothing_outside_the_standard_library_core(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not (_imported_roots(tree) & FORBIDDEN_MODULES)


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: p.name)
def test_domain_module_does_no_io_and_reads_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno}"
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRIBUTES:
            raise AssertionError(f"{path.name}:{node.lineno} reads the clock ({node.attr})")
        assert not isinstance(node, ast.Await), f"{path.name}:{node.lineno}"
        if isinstance(node, ast.AsyncFunctionDef):
            assert _is_protocol_stub(node), f"{path.name}:{node.lineno} runs async code"


def _is_protocol_stub(node: ast.AsyncFunctionDef) -> bool:
    """Ports declare async methods whose body is only `...` (or a docstring)."""
    return all(
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) for stmt in node.body
    )


def test_the_purity_check_catches_a_violation(tmp_path: Path) -> None:
    bad = ast.parse("import httpx\nfrom app.cli import main\nopen('x')\n")
    assert _imported_roots(bad) & FORBIDDEN_MODULES == {"httpx", "app"}
