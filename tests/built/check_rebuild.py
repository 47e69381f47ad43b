"""A rebuild re-reads only the pages whose sources changed.

Run by ``make test-pdf`` after the HTML build: ``.venv/bin/python -m pytest
tests/built/check_rebuild.py``. Sphinx re-reads a page on every build if one of its
recorded dependencies is not a file (a folder, or a file that does not exist yet):
the API page once depended on the folder ``lib/`` and the execution page on the
bench file before it existed, and both were read again, with all of lib imported,
after every prose edit. Here the build environment is opened and every dependency
of every page must be an existing file.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
from book_site.api import lib_folder, lib_modules  # noqa: E402

HTML = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
ENVIRONMENT = HTML.parent / ".doctrees" / "environment.pickle"


@pytest.fixture(scope="module")
def env():
    if not ENVIRONMENT.is_file():
        pytest.fail(f"no build environment {ENVIRONMENT}: run `make test-build` first")
    with ENVIRONMENT.open("rb") as fh:
        return pickle.load(fh)


def test_every_dependency_is_an_existing_file(env):
    assert env.dependencies, "the build recorded no dependencies at all"
    srcdir = Path(env.srcdir)
    not_files = sorted(
        f"{doc}: {dep}"
        for doc, deps in env.dependencies.items()
        for dep in deps
        if not (srcdir / dep).is_file()
    )
    assert not not_files, (
        "dependencies that are not files (their pages are re-read on every build):\n"
        + "\n".join(not_files)
    )


def test_the_api_page_depends_on_every_module_of_lib(env):
    """... every public module file of lib (``lib/<name>.py``)."""
    (api,) = [doc for doc in env.all_docs if doc.endswith("api")]
    deps = {Path(d) for d in env.dependencies[api]}
    listed = {d.stem for d in deps if d.parent.name == "lib" and d.suffix == ".py"}
    missing = set(lib_modules(lib_folder())) - listed
    assert not missing, f"the API page does not depend on lib modules {missing}"
