"""pytest plugin: nbval's fresh execution of a chapter also feeds the book's build.

``make test`` executes every chapter exactly once. nbval runs each chapter's
``book/NN-slug.ipynb`` cell by cell in a fresh kernel and compares the marked cells
with the stored outputs; this plugin collects the outputs of that same execution and,
when every cell of a chapter ran without error, stores them in the book's execution
cache under the chapter's MyST source ``book/NN-slug.md``
(:func:`book_cache.cache_executed`). The strict build that follows finds every
chapter executed and renders these outputs.

A chapter with a failing cell is not cached, so the build executes it again and fails
on it too. The cache key is the hash of the code cells and kernelspec of the notebook
myst-nb reads from the ``.md``; the pair test guarantees those are the ``.ipynb``'s.

Enabled with ``-p nbval_cache`` (``tools/`` is on pytest's ``pythonpath``); under
pytest-xdist each worker caches the chapters it ran.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from book_cache import cache_executed

_runs: dict[str, dict] = {}


def _is_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def _run(item) -> dict:
    return _runs.setdefault(
        item.parent.nodeid, {"outputs": {}, "failed": False, "seconds": 0.0}
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    start = time.perf_counter()
    yield
    if _is_cell(item):
        _run(item)["seconds"] += time.perf_counter() - start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if _is_cell(item) and call.when == "call":
        run = _run(item)
        report = outcome.get_result()
        run["failed"] |= report.failed or report.skipped
        run["outputs"][item.cell_num] = list(item.test_outputs or [])


def pytest_runtest_teardown(item, nextitem):
    if not _is_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
        return
    run = _runs.pop(item.parent.nodeid, None)
    md = Path(str(item.parent.fspath)).with_suffix(".md")
    if run is None or run["failed"] or not md.exists():
        return
    n_cells = sum(cell.cell_type == "code" for cell in item.parent.nb.cells)
    if sorted(run["outputs"]) != list(range(n_cells)):
        return  # some cells did not run (deselected, skipped): nothing to cache
    outputs = [run["outputs"][i] for i in range(n_cells)]
    cache_executed(md, outputs, run["seconds"])
