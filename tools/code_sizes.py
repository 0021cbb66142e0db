"""Report product functions and modules that are too long to hold in one reading (issue 8 item 6).

Usage, from the repository root::

    python3 tools/code_sizes.py

Scans every ``*.py`` file under the product packages (:data:`ROOTS`) and prints one line per
offender, longest first:

* ``module <lines> <path>`` for a module over :data:`MAX_MODULE_LINES` lines (every line counts);
* ``func <lines> <path>:<lineno> <name>`` for a function or method over :data:`MAX_FUNCTION_LINES`
  lines, counted from the line after its docstring (or from its ``def`` line if it has none) to its
  last line; nested functions are measured on their own as well as inside their parent.

Exit status: 0 when nothing is over the limits, 1 when anything is (so ``make lint`` can run it).
Tests, migrations, bench and tools are not product code and are not scanned.
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOTS = ("compliance", "dialer", "bridge", "crm", "sandbox")
"""The product packages, relative to the repository root."""

MAX_MODULE_LINES = 400
"""A module longer than this many lines (all lines) is reported."""

MAX_FUNCTION_LINES = 60
"""A function longer than this many lines (docstring excluded) is reported."""


def function_length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's code: from after its docstring (or its ``def``) to its last line."""
    start = node.lineno
    first = node.body[0] if node.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str) and first.end_lineno is not None:
            start = first.end_lineno + 1
    end = node.end_lineno or node.lineno
    return end - start + 1


def measure(root: pathlib.Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Offenders under ``root`` (the repository root).

    Returns:
        ``(long_modules, long_functions)``: each a list of ``(lines, where)`` sorted longest first;
        ``where`` is a module path, or ``path:lineno name`` for a function.
    """
    long_modules: list[tuple[int, str]] = []
    long_functions: list[tuple[int, str]] = []
    for package in ROOTS:
        for path in sorted((root / package).rglob("*.py")):
            source = path.read_text()
            shown = path.relative_to(root)
            lines = len(source.splitlines())
            if lines > MAX_MODULE_LINES:
                long_modules.append((lines, str(shown)))
            for node in ast.walk(ast.parse(source, filename=str(path))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = function_length(node)
                    if length > MAX_FUNCTION_LINES:
                        long_functions.append((length, f"{shown}:{node.lineno} {node.name}"))
    return sorted(long_modules, reverse=True), sorted(long_functions, reverse=True)


def main() -> int:
    """Print the offenders under the current directory; 1 if there are any, else 0."""
    long_modules, long_functions = measure(pathlib.Path.cwd())
    for lines, where in long_modules:
        print("module", lines, where)
    for lines, where in long_functions:
        print("func", lines, where)
    return 1 if long_modules or long_functions else 0


if __name__ == "__main__":
    sys.exit(main())
