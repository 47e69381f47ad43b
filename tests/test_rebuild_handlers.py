"""The build's ``env-get-outdated`` handlers, in place of non-file dependencies.

``_ext/book_site/api.py`` re-reads the API page when lib gains or loses a module;
``_ext/book_site/execution.py`` re-reads the execution page when the bench file
appears or disappears. (``tests/built/check_rebuild.py`` checks the real build: every
recorded dependency is a file.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
from book_site import api, execution, reread  # noqa: E402


def test_api_page_is_outdated_exactly_when_the_module_list_changes():
    env = SimpleNamespace()
    now = tuple(api.lib_modules(api.lib_folder()))
    api.pages_modules(env)["book/api"] = now
    assert api._outdated(None, env, set(), set(), set()) == []
    api.pages_modules(env)["book/api"] = now[:-1]  # read before a module was added
    assert api._outdated(None, env, set(), set(), set()) == ["book/api"]
    assert api._outdated(None, env, set(), set(), {"book/api"}) == []


def test_execution_page_is_outdated_when_the_bench_file_appears_or_goes(tmp_path):
    app = SimpleNamespace(outdir=str(tmp_path / "html"))
    env = SimpleNamespace()
    execution.bench_pages(env)["book/execution"] = False  # read without the file
    assert execution._outdated(app, env, set(), set(), set()) == []
    execution.bench_file(app).write_text("| a |\n")
    assert execution._outdated(app, env, set(), set(), set()) == ["book/execution"]
    execution.bench_pages(env)["book/execution"] = True  # re-read with it
    assert execution._outdated(app, env, set(), set(), set()) == []
    execution.bench_file(app).unlink()
    assert execution._outdated(app, env, set(), set(), set()) == ["book/execution"]


def test_a_purged_page_loses_its_record():
    handlers = {}
    app = SimpleNamespace(connect=lambda event, fn: handlers.setdefault(event, fn))
    reread.forget_purged_pages(app, "book_api_modules")
    env = SimpleNamespace()
    api.pages_modules(env).update({"book/api": ("a",), "other": ("b",)})
    handlers["env-purge-doc"](app, env, "book/api")
    assert api.pages_modules(env) == {"other": ("b",)}
    handlers["env-purge-doc"](app, env, "never-read")  # no record: nothing to drop
    assert api._outdated(None, env, set(), set(), set()) == ["other"]
