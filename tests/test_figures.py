"""lib.figures: the book style, and figure files that are complete and reproducible."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import matplotlib as mpl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from lib import figures
from lib.validation import InputTypeError

NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _figure() -> Figure:
    fig = Figure(figsize=(2.0, 1.5))  # no pyplot: no global state
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, 1, 4], label="$x^2$")
    ax.set_xlabel("x")
    ax.legend()
    return fig


def test_book_style_is_applied():
    with mpl.rc_context():
        mpl.rcParams["font.size"] = 7.0
        figures.use_book_style()
        for key, value in figures.BOOK_STYLE.items():
            assert mpl.rcParams[key] == mpl.rcParams.validate[key](value), key
        assert mpl.rcParams["svg.fonttype"] == "path"  # text as outlines


@pytest.fixture(scope="module")
def saved_twice(tmp_path_factory):
    """The same figure saved twice, in two folders, under the book's style."""
    root = tmp_path_factory.mktemp("saved")
    with mpl.rc_context(figures.BOOK_STYLE):
        first = figures.save_figure(_figure(), "probe-line", folder=root / "a")
        second = figures.save_figure(_figure(), "probe-line", folder=root / "b")
    return first, second


def test_save_figure_writes_three_formats(saved_twice):
    paths, _ = saved_twice
    assert set(paths) == set(figures.FIGURE_FORMATS) == {"svg", "pdf", "png"}
    assert sorted(p.name for p in paths["svg"].parent.iterdir()) == [
        "probe-line.pdf",
        "probe-line.png",
        "probe-line.svg",
    ]
    assert paths["pdf"].read_bytes().startswith(b"%PDF-")
    assert paths["png"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg = ET.parse(paths["svg"]).getroot()
    assert svg.tag.endswith("svg")
    text = paths["svg"].read_text(encoding="utf8")
    assert "<text" not in text  # outlines: the same in every browser
    assert "<dc:date>" not in text


def test_save_figure_is_reproducible_byte_for_byte(saved_twice):
    first, second = saved_twice
    for fmt in figures.FIGURE_FORMATS:
        assert first[fmt].read_bytes() == second[fmt].read_bytes(), fmt
    assert b"CreationDate" not in first["pdf"].read_bytes()


_ONE_FIGURE = []


def _shared_figure() -> Figure:
    """One figure for the rejection tests: a rejected name never touches it."""
    if not _ONE_FIGURE:
        _ONE_FIGURE.append(_figure())
    return _ONE_FIGURE[0]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.text(max_size=12).filter(lambda s: not NAME.match(s)))
def test_bad_names_are_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match="name"):
        figures.save_figure(_shared_figure(), bad, folder=tmp_path)
    assert not any(tmp_path.iterdir())


@settings(max_examples=15, deadline=None)
@given(name=st.from_regex(r"\A[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}\Z"))
def test_good_names_are_accepted(name):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        fig = Figure(figsize=(0.5, 0.5), dpi=20)
        paths = figures.save_figure(fig, name, folder=folder)
        assert all(p.stem == name and p.is_file() for p in paths.values())


@pytest.mark.parametrize(
    "fig, name, folder, argument",
    [
        ("not a figure", "ok", None, "fig"),
        (None, "ok", None, "fig"),
        ("fig", 3, None, "name"),
        ("fig", None, None, "name"),
        ("fig", "ok", 2.5, "folder"),
    ],
)
def test_wrong_kinds_are_named(tmp_path, fig, name, folder, argument):
    fig = _figure() if fig == "fig" else fig
    with pytest.raises(InputTypeError, match=argument):
        figures.save_figure(fig, name, folder=folder)


def test_book_figures_dir_is_honoured(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere" / "figs"
    monkeypatch.setenv("BOOK_FIGURES_DIR", str(target))
    assert figures.figures_dir() == target and target.is_dir()
    paths = figures.save_figure(Figure(figsize=(0.5, 0.5), dpi=20), "probe-env")
    assert paths["svg"] == target / "probe-env.svg" and paths["svg"].is_file()


def test_default_folder_is_build_figures(monkeypatch):
    monkeypatch.delenv("BOOK_FIGURES_DIR", raising=False)
    assert figures.figures_dir() == figures.REPO_ROOT / "_build" / "figures"
