"""Make every chapter declare the book's kernel, ``attention-book``.

``python tools/set_kernelspec.py`` rewrites, for every ``book/NN-*.md`` and its paired
``.ipynb``, only the kernelspec:

- in the ``.md``, the ``kernelspec:`` block of the YAML front matter (the rest of the
  file, including the jupytext header, is left byte for byte);
- in the ``.ipynb``, ``metadata.kernelspec``; cells and outputs are untouched (the
  file is written back the way nbformat writes it: one-space indent, sorted keys).

A file that already declares the kernel is not rewritten. ``--check`` writes
nothing and exits 1 when some chapter does not declare it (listing which).
``--book DIR`` works on another folder (the tests use a copy).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from book_kernel import KERNELSPEC

ROOT = Path(__file__).resolve().parents[1]

_BLOCK = "kernelspec:\n" + "".join(
    f"  {key}: {value}\n" for key, value in sorted(KERNELSPEC.items())
)


def _front_matter(text: str, path: Path) -> tuple[list[str], int]:
    """The lines of ``text`` and the index of the front matter's closing ``---``."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        raise ValueError(f"{path}: no YAML front matter (pair it with jupytext first)")
    for end in range(1, len(lines)):
        if lines[end].rstrip() == "---":
            return lines, end
    raise ValueError(f"{path}: the front matter is not closed by '---'")


def md_kernelspec(text: str, path: Path = Path("<md>")) -> dict:
    lines, end = _front_matter(text, path)
    meta = yaml.safe_load("".join(lines[1:end])) or {}
    return meta.get("kernelspec") or {}


def set_md(text: str, path: Path = Path("<md>")) -> str:
    """``text`` with its front matter's kernelspec replaced by the book's."""
    lines, end = _front_matter(text, path)
    start = next((i for i in range(1, end) if lines[i].startswith("kernelspec:")), None)
    if start is None:
        new = lines[:end] + [_BLOCK] + lines[end:]
    else:
        stop = start + 1
        while stop < end and (lines[stop].startswith((" ", "\t")) or not lines[stop]):
            stop += 1
        new = lines[:start] + [_BLOCK] + lines[stop:]
    result = "".join(new)
    if md_kernelspec(result, path) != KERNELSPEC:  # pragma: no cover - a guard
        raise RuntimeError(f"{path}: could not rewrite the kernelspec")
    return result


def set_ipynb(text: str) -> str:
    """The notebook JSON ``text`` with ``metadata.kernelspec`` set to the book's."""
    nb = json.loads(text)
    nb.setdefault("metadata", {})["kernelspec"] = dict(KERNELSPEC)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def chapters(book: Path) -> list[Path]:
    return sorted(book.glob("[0-9][0-9]-*.md"))


def declares(path: Path) -> bool:
    """Whether the chapter file ``path`` (.md or .ipynb) declares the book's kernel."""
    text = path.read_text("utf8")
    if path.suffix == ".ipynb":
        spec = json.loads(text).get("metadata", {}).get("kernelspec", {})
    else:
        spec = md_kernelspec(text, path)
    return spec == KERNELSPEC


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=ROOT / "book")
    parser.add_argument("--check", action="store_true", help="report, write nothing")
    args = parser.parse_args(argv)
    files = [p for md in chapters(args.book) for p in (md, md.with_suffix(".ipynb"))]
    todo = [p for p in files if p.exists() and not declares(p)]
    if args.check:
        for path in todo:
            print(f"{path.name}: does not declare kernel {KERNELSPEC['name']!r}")
        return 1 if todo else 0
    for path in todo:
        text = path.read_text("utf8")
        new = set_ipynb(text) if path.suffix == ".ipynb" else set_md(text, path)
        path.write_text(new, "utf8")
        print(f"{path.name}: kernelspec set to {KERNELSPEC['name']!r}")
    if not todo:
        print(f"every chapter already declares kernel {KERNELSPEC['name']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
