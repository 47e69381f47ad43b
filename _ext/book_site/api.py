"""The API reference of ``lib``: ``{book-api}`` documents every public module.

The directive lists the modules of the package ``lib`` present in this checkout
(``pkgutil``: every module whose name does not start with an underscore), in the
order of :data:`ORDER` (the foundation first, then the chapters' modules), any
other module after them alphabetically, so that a new module (e.g.
``lib.autoregressive``) appears without editing the page. Each module gets a
section ``lib.<name>`` (label ``api-lib-<name>``) with Sphinx's ``automodule``
(members in ``__all__``, in source order); docstrings are numpydoc, read by
``sphinx.ext.napoleon`` (configured in ``_config.yml``). The page depends on
every module file, and is re-read when a module is added or removed
(:func:`_outdated`; a folder cannot be a Sphinx dependency: Sphinx counts a
dependency that is not a file as missing and re-reads the page on every build).

In a MyST page the generated sections are MyST headings around ``{eval-rst}``
blocks (autodoc parses docstrings as reStructuredText).

Two adjustments keep the strict build quiet without hiding real mistakes:

- ``|x|`` in a docstring is an absolute value or a norm, but reStructuredText reads
  it as a substitution reference ("Undefined substitution referenced"):
  :func:`escape_bars` escapes bars outside inline literals and roles.
- A reference to a module of :data:`UPCOMING` that this checkout does not have yet
  (``:mod:`lib.markov``` in another module's docstring) is shown as plain text
  instead of a nitpicky warning; once the module lands it is a link.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from . import reread

ORDER = (
    "validation",
    "checks",
    "seeding",
    "montecarlo",
    "figures",
    "progress",
    "exchangeability",
    "latent",
    "attention",
    "posterior",
    "circle",
    "learning",
    "pretraining",
    "transformer",
    "autoregressive",
    "markov",
)


# modules announced by other modules' docstrings before they land
UPCOMING = ("autoregressive", "markov")
_LITERAL = re.compile(r"(``.+?``|:[\w:-]+:`[^`]*`|`[^`]*`_?)")


def escape_bars(line: str) -> str:
    """``|x - y|`` → ``\\|x - y\\|`` outside inline literals, roles and tables."""
    stripped = line.lstrip()
    if stripped in ("|", "") or stripped.startswith(("| ", "+-", "+=")):
        # a line block ("| text") or a grid table
        return line
    parts = _LITERAL.split(line)
    return "".join(
        part if i % 2 else re.sub(r"(?<!\\)\|", r"\\|", part)
        for i, part in enumerate(parts)
    )


def _process_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    if not name.startswith("lib"):
        return
    in_example = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            in_example = True
        elif not line.strip():
            in_example = False
        if not in_example and "|" in line:
            lines[i] = escape_bars(line)


def _upcoming_module(app: Sphinx, env, node, contnode):
    """A reference to an upcoming lib module absent here: plain text, no warning."""
    target = node.get("reftarget", "")
    if (
        node.get("refdomain") == "py"
        and node.get("reftype") == "mod"
        and target.removeprefix("lib.") in UPCOMING
        and target.startswith("lib.")
        and (folder := lib_folder()) is not None
        and not (folder / f"{target.removeprefix('lib.')}.py").is_file()
    ):
        return contnode
    return None


def lib_folder() -> Path | None:
    spec = importlib.util.find_spec("lib")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def lib_modules(folder: Path) -> list[str]:
    """Public module names of ``lib`` found in ``folder``, in reading order."""
    names = [
        m.name
        for m in pkgutil.iter_modules([str(folder)])
        if not m.name.startswith("_")
    ]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(ORDER)), n))


def _automodule(module: str) -> list[str]:
    return [
        f".. automodule:: {module}",
        "   :members:",
        "   :member-order: bysource",
    ]


class BookApiDirective(SphinxDirective):
    """``{book-api}``: a section with ``automodule`` per public module of lib."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        folder = lib_folder()
        if folder is None:
            raise self.error("the package lib is not importable")
        modules = lib_modules(folder)
        pages_modules(self.env)[self.env.docname] = tuple(modules)
        myst = type(self.state).__name__ == "MockState"
        lines: list[str] = []
        for name in modules:
            module = f"lib.{name}"
            self.env.note_dependency(str(folder / f"{name}.py"))
            if myst:
                lines += [f"(api-lib-{name})=", f"## `{module}`", "", "```{eval-rst}"]
                lines += _automodule(module) + ["```", ""]
            else:
                lines += [f".. _api-lib-{name}:", "", module, "-" * len(module), ""]
                lines += _automodule(module) + [""]
        holder = nodes.section()
        holder.document = self.state.document
        content = StringList(lines, source="<book-api>")
        if myst:
            self.state.nested_parse(content, 0, holder, match_titles=True)
        else:
            nested_parse_with_titles(self.state, content, holder)
        return holder.children


def pages_modules(env) -> dict[str, tuple[str, ...]]:
    """API page → the modules of lib it listed when it was read."""
    return reread.records(env, "book_api_modules")


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """API pages whose list of modules is not lib's list any more."""
    folder = lib_folder()
    now = tuple(lib_modules(folder)) if folder else ()
    return reread.outdated(env, "book_api_modules", now, removed)


def setup(app: Sphinx) -> None:
    app.add_directive("book-api", BookApiDirective)
    app.connect("env-get-outdated", _outdated)
    reread.forget_purged_pages(app, "book_api_modules")
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("missing-reference", _upcoming_module)
