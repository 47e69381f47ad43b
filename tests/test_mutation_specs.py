"""Every planted error of ``tests/mutations/NN.toml`` can be planted.

``make test-mutations`` (slow, outside ``make test``) re-executes each chapter with one
semantic error planted. A mutation whose ``find`` text no longer occurs exactly once in
its file would plant nothing; this fast check keeps the suite honest as ``lib`` and the
chapters change.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "chapter_runs", ROOT / "tools" / "chapter_runs.py"
)
chapter_runs = importlib.util.module_from_spec(_spec)
sys.modules["chapter_runs"] = chapter_runs  # its dataclasses look themselves up
_spec.loader.exec_module(chapter_runs)

CASES = [
    pytest.param(md, m, id=f"{md.name[:2]}-{m['name']}")
    for md in sorted((ROOT / "book").glob("0*.md"))
    for m in chapter_runs.load_mutations(md)[1]
]


def test_every_chapter_has_at_least_five_mutations():
    chapters = sorted(md.name[:2] for md in (ROOT / "book").glob("0*.md"))
    counts = {
        c: len(chapter_runs.load_mutations(ROOT / "book" / f"{c}-x.md")[1])
        for c in chapters
    }
    assert all(n >= 5 for n in counts.values()), counts


@pytest.mark.parametrize(("md", "mutation"), CASES)
def test_mutation_can_be_planted(md, mutation):
    assert {"name", "file", "find", "replace", "why"} <= mutation.keys()
    assert mutation["find"] != mutation["replace"]
    assert chapter_runs.planting_error(mutation) is None


@pytest.mark.parametrize("md", sorted((ROOT / "book").glob("0*.md")), ids=str)
def test_unit_tests_named_by_a_spec_exist(md):
    for test in chapter_runs.load_mutations(md)[0]:
        assert (ROOT / test.split("::")[0]).exists(), test


def test_a_stale_mutation_is_reported_not_planted(tmp_path):
    (tmp_path / "f.py").write_text("x = 1\n")
    stale = {"file": "f.py", "find": "x = 2", "replace": "x = 3"}
    assert "occurs 0 times" in chapter_runs.planting_error(stale, tmp_path)
