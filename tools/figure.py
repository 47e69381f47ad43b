"""Regenerate one figure's files: ``make figure NAME=<name>``.

(Or ``python tools/figure.py NAME``.) The chapter that owns figure ``<name>`` is the
one whose source ``book/NN-slug.md`` calls ``save_figure(<fig>, "<name>")``. That
chapter is executed from its MyST source in a fresh kernel (its paired ``.ipynb`` is
not touched), which rewrites ``<name>.svg``, ``.pdf`` and ``.png`` in
:func:`lib.figures.figures_dir` (``_build/figures/`` unless ``BOOK_FIGURES_DIR`` says
otherwise).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from book_kernel import declared_kernel

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("svg", "pdf", "png")


def owners(name: str, book: Path = ROOT / "book") -> list[Path]:
    """The chapter sources that save figure ``name`` (there should be exactly one)."""
    call = re.compile(
        r"save_figure\(\s*[^,()]+,\s*(?:name\s*=\s*)?[\"']" + re.escape(name) + r"[\"']"
    )
    return sorted(
        md
        for md in book.glob("[0-9]*.md")
        if call.search(md.read_text(encoding="utf8"))
    )


def names_in(text: str) -> list[str]:
    """The figure names a chapter saves (its ``save_figure(fig, "<name>")`` calls)."""
    return re.findall(
        r"save_figure\(\s*[^,()]+,\s*(?:name\s*=\s*)?[\"']([a-z0-9-]+)[\"']", text
    )


def known_names(book: Path = ROOT / "book") -> list[str]:
    return sorted(
        {
            n
            for md in book.glob("[0-9]*.md")
            for n in names_in(md.read_text(encoding="utf8"))
        }
    )


def execute(md: Path) -> None:
    """Run every cell of the chapter in a fresh kernel, with a progress bar."""
    import jupytext
    import nbclient

    from lib.progress import progress

    nb = jupytext.read(md)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name=declared_kernel(nb),
        resources={"metadata": {"path": str(md.parent)}},
    )
    with client.setup_kernel():
        for index, cell in progress(
            list(enumerate(nb.cells)), desc=md.name, unit="cell"
        ):
            client.execute_cell(cell, index)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "name", help="the figure's name: its label without 'fig-', e.g. ch3-rates"
    )
    args = parser.parse_args(argv)
    found = owners(args.name)
    if len(found) != 1:
        what = "no chapter saves" if not found else f"{len(found)} chapters save"
        known = ", ".join(known_names())
        print(
            f"error: {what} figure {args.name!r} "
            f"({', '.join(p.name for p in found) or 'known names: ' + known})",
            file=sys.stderr,
        )
        return 2
    from lib.figures import figures_dir

    md, start = found[0], time.time()
    print(f"executing {md.relative_to(ROOT)} to regenerate {args.name} ...", flush=True)
    execute(md)
    folder = figures_dir()
    files = [folder / f"{args.name}.{fmt}" for fmt in FORMATS]
    stale = [f for f in files if not f.is_file() or f.stat().st_mtime < start]
    if stale:
        print(
            f"error: {md.name} ran but did not write {', '.join(map(str, stale))}",
            file=sys.stderr,
        )
        return 1
    for f in files:
        print(f"wrote {f}")
    print("`make book` copies them into _build/html/figures/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
