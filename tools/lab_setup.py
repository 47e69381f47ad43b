"""Set up Jupyter for the book: the named kernel and JupyterLab's settings.

Run by the Makefile's install step with the project's interpreter
(``.venv/bin/python tools/lab_setup.py``):

1. registers the kernel ``attention-book`` (``tools/book_kernel.py``) for this
   interpreter twice: inside the virtualenv (``<venv>/share/jupyter/kernels``, which
   the venv's own Jupyter prefers), and for the user (``~/.local/share/jupyter``), so
   that any other Jupyter on the machine running a chapter starts this environment;
2. installs ``jupyter/overrides.json`` as JupyterLab's settings overrides
   (``<venv>/share/jupyter/lab/settings/overrides.json``, merged with what is there):
   Markdown and MyST files open as notebooks through jupytext ("Jupytext Notebook"),
   where jupyterlab-myst renders the MyST (theorems, proofs, citations, math).

``--no-user`` skips the user-level registration (e.g. for a throw-away virtualenv).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from book_kernel import DISPLAY_NAME, KERNEL_NAME

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ROOT / "jupyter" / "overrides.json"


def settings_overrides_path(prefix: str | Path = sys.prefix) -> Path:
    """Where JupyterLab (installed in ``prefix``) reads its settings overrides."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def install_overrides(prefix: str | Path = sys.prefix) -> Path:
    """Merge the book's settings into the overrides of the JupyterLab in ``prefix``."""
    target = settings_overrides_path(prefix)
    current = json.loads(target.read_text("utf8")) if target.exists() else {}
    for plugin, settings in json.loads(OVERRIDES.read_text("utf8")).items():
        current.setdefault(plugin, {}).update(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(current, indent=2) + "\n", "utf8")
    return target


def register_kernel(user: bool) -> str:
    """Register ``attention-book`` for this interpreter; the kernelspec's folder."""
    from ipykernel.kernelspec import install

    if user:
        return install(user=True, kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME)
    return install(
        prefix=sys.prefix, kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-user", action="store_true", help="venv only")
    args = parser.parse_args(argv)
    print(f"kernel {KERNEL_NAME!r} -> {sys.executable}")
    print(f"  registered in {register_kernel(user=False)}")
    if not args.no_user:
        try:
            print(f"  registered in {register_kernel(user=True)}")
        except OSError as err:  # a read-only home: the venv's Jupyter still has it
            print(f"  not registered for the user ({err})")
    print(f"JupyterLab settings overrides: {install_overrides()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
