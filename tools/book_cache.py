"""The book's execution cache: each chapter is executed once and the build reuses it.

The build (myst-nb, ``execute_notebooks: cache``) looks every chapter up in
jupyter-cache (``_build/.jupyter_cache``) by a hash of its code cells and kernelspec,
and executes only what it does not find. This module fills that cache from outside:

- :func:`cache_executed` stores a chapter's outputs (from nbval's run in ``make test``,
  see ``tools/nbval_cache.py``);
- ``python tools/book_cache.py [--jobs 2]`` executes, two at a time, every chapter the
  cache lacks (``make book`` runs it before ``jupyter-book build``), so that a cold
  build uses both cores and a rebuild after editing prose executes nothing.

The cache also records each chapter's execution time, shown on the execution page.
``make book`` drops the cache when ``lib/`` changes (jupyter-cache cannot see that).
"""

from __future__ import annotations

import argparse
import copy
import fcntl
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from book_kernel import declared_kernel

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
LOCK = ROOT / "_build" / ".jupyter_cache.lock"


def chapters() -> list[Path]:
    return sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))


def read_source_notebook(md: Path) -> nbformat.NotebookNode:
    """The notebook myst-nb builds from ``md`` (its reader, the book's extensions)."""
    import yaml
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    extensions = config.get("parse", {}).get("myst_enable_extensions", [])
    return read_myst_markdown_notebook(
        md.read_text(encoding="utf8"),
        MdParserConfig(enable_extensions=set(extensions)),
        add_source_map=True,
        path=str(md),
    )


def _cache():
    from jupyter_cache import get_cache

    CACHE.mkdir(parents=True, exist_ok=True)
    return get_cache(str(CACHE))


def is_cached(md: Path) -> bool:
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _cache().match_cache_notebook(read_source_notebook(md))
            return True
        except KeyError:
            return False


def cache_notebook(md: Path, nb: nbformat.NotebookNode, seconds: float) -> None:
    """Store the executed notebook ``nb`` of chapter ``md`` (writes are serialised)."""
    from jupyter_cache.base import CacheBundleIn

    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _cache().cache_notebook_bundle(
            CacheBundleIn(nb, str(md), data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )


def cache_executed(md: Path, outputs: list[list], seconds: float) -> None:
    """Store ``md``'s notebook with the given outputs, one list per code cell."""
    nb = read_source_notebook(md)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if len(code) != len(outputs):
        raise RuntimeError(
            f"{md.name}: {len(code)} code cells in the .md, {len(outputs)} executed"
        )
    for count, (cell, outs) in enumerate(zip(code, outputs, strict=True), start=1):
        cell.outputs = [nbformat.from_dict(copy.deepcopy(o)) for o in outs]
        cell.execution_count = count
        for out in cell.outputs:
            if out.get("output_type") == "execute_result":
                out["execution_count"] = count
    cache_notebook(md, nb, seconds)


def execute_chapter(md: Path, timeout: int = 600) -> tuple[str, float, str]:
    """Execute ``md`` in a fresh kernel (cwd ``book/``) and cache it; '' if it ran."""
    import nbclient

    nb = read_source_notebook(md)
    start = time.perf_counter()
    try:
        nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=declared_kernel(nb),
            # no per-cell timestamps: jupyter-cache hashes the cells' metadata, and
            # the build looks the chapter up by the hash of the unexecuted cells
            record_timing=False,
            resources={"metadata": {"path": str(md.parent)}},
        ).execute()
    except Exception as err:  # the build will execute it again and report it
        return md.name, time.perf_counter() - start, f"{type(err).__name__}"
    seconds = time.perf_counter() - start
    cache_notebook(md, nb, seconds)
    return md.name, seconds, ""


def fill(jobs: int) -> int:
    todo = [md for md in chapters() if not is_cached(md)]
    if not todo:
        print("every chapter is in the execution cache")
        return 0
    print(f"executing {len(todo)} chapter(s), {jobs} at a time")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # the heaviest chapters first, so that the two workers finish together
    todo.sort(key=lambda md: -md.stat().st_size)
    with ProcessPoolExecutor(jobs) as pool:
        for name, seconds, error in pool.map(execute_chapter, todo):
            status = f"failed ({error}); the build will show why" if error else "ok"
            print(f"  {name}: {seconds:.1f} s, {status}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    return fill(parser.parse_args(argv).jobs)


if __name__ == "__main__":
    sys.exit(main())
