"""Reading rules for the chapters' code (README: "Reading rules", issue 11).

What a reader sees of a chapter's code is short and fits the page:

- no code line over :data:`MAX_COLUMNS` characters in any code cell of
  ``book/*.md`` (hidden cells too: they are one click away, and printed);
- no *visible* code cell over :data:`MAX_VISIBLE_LINES` lines; a cell is hidden
  when it carries one of :data:`HIDING_TAGS` (plumbing goes into ``lib`` or into a
  ``hide-input`` cell with a one-line summary before it).

Chapters that do not meet a rule yet are listed in :data:`NOT_YET`: their test is a
strict xfail, so the suite stays green while they are being rewritten and turns red
as soon as a listed chapter meets the rule (then remove it from the list). A chapter
that is not listed (e.g. a new one) must meet both rules.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_COLUMNS = 88
MAX_VISIBLE_LINES = 25
HIDING_TAGS = {"hide-input", "hide-cell", "remove-input", "remove-cell"}

# Chapter numbers that do not meet a rule yet (strict xfail; see the module doc).
NOT_YET: dict[str, set[str]] = {
    "long-lines": set(),
    "long-cells": set(),
}

PAGES = sorted(
    md
    for md in (ROOT / "book").glob("*.md")
    if "{code-cell}" in md.read_text(encoding="utf8")
)


def code_cells(md: Path) -> list[tuple[int, list[str], set[str]]]:
    """``(number, source lines, tags)`` of every code cell of ``md`` (from 1)."""
    nb = jupytext.read(md)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    return [
        (i, c.source.rstrip("\n").splitlines(), set(c.metadata.get("tags", [])))
        for i, c in enumerate(cells, start=1)
    ]


def _param(md: Path, rule: str):
    number = md.name[:2]
    marks = ()
    if number in NOT_YET[rule]:
        marks = pytest.mark.xfail(
            strict=True,
            reason=f"chapter {number} is in NOT_YET[{rule!r}]: remove it once it "
            "meets the rule",
        )
    return pytest.param(md, id=md.stem, marks=marks)


@pytest.mark.parametrize("md", [_param(md, "long-lines") for md in PAGES])
def test_no_code_line_is_wider_than_88_columns(md):
    wide = [
        f"cell {n}, line {k}: {len(line)} columns"
        for n, lines, _ in code_cells(md)
        for k, line in enumerate(lines, start=1)
        if len(line) > MAX_COLUMNS
    ]
    assert not wide, (
        f"{md.name}: {len(wide)} code lines over {MAX_COLUMNS} columns: "
        + "; ".join(wide[:10])
    )


@pytest.mark.parametrize("md", [_param(md, "long-cells") for md in PAGES])
def test_no_visible_code_cell_is_longer_than_25_lines(md):
    long = [
        f"cell {n}: {len(lines)} lines"
        for n, lines, tags in code_cells(md)
        if not tags & HIDING_TAGS and len(lines) > MAX_VISIBLE_LINES
    ]
    assert not long, (
        f"{md.name}: visible code cells over {MAX_VISIBLE_LINES} lines "
        "(move plumbing into lib, or tag it 'hide-input' after a one-line "
        "summary): " + "; ".join(long)
    )


def test_the_rules_see_hidden_cells_and_wide_lines(tmp_path):
    """The parser finds tags and counts lines as a reader sees them."""
    md = tmp_path / "99-probe.md"
    md.write_text(
        "---\njupytext:\n  text_representation: {extension: .md, format_name: myst}\n"
        "kernelspec: {display_name: Python 3, language: python, name: python3}\n---\n"
        "# Probe\n\n```{code-cell} ipython3\n:tags: [hide-input]\n"
        + "x = 1\n" * 30
        + "```\n\n```{code-cell} ipython3\n"
        + "y = '"
        + "a" * 90
        + "'\n```\n",
        encoding="utf8",
    )
    cells = code_cells(md)
    assert [(n, len(lines), tags) for n, lines, tags in cells] == [
        (1, 30, {"hide-input"}),
        (2, 1, set()),
    ]
    assert len(cells[1][1][0]) == 96
