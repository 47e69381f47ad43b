"""Re-read a page when something that is not a file has changed since it was read.

Sphinx tracks files only: a dependency that is not a file counts as missing, and the
page is then re-read on every build. Instead, a directive records per page the state
it was read under (:func:`records`), and an ``env-get-outdated`` handler returns the
pages whose recorded state differs from the current one (:func:`outdated`). The
records live in the environment, which Sphinx pickles between builds.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def records(env, key: str) -> dict[str, Any]:
    """Page → the state it was read under, kept in ``env`` as the attribute ``key``."""
    if not hasattr(env, key):
        setattr(env, key, {})
    return getattr(env, key)


def outdated(env, key: str, current: Any, removed: set[str]) -> list[str]:
    """The pages (not being removed) whose recorded state is not ``current``."""
    return [
        doc
        for doc, state in records(env, key).items()
        if state != current and doc not in removed
    ]


def forget_purged_pages(app: Sphinx, key: str) -> None:
    """Drop a page's record when Sphinx purges the page (before re-reading it)."""
    app.connect("env-purge-doc", lambda app, env, doc: records(env, key).pop(doc, 0))
