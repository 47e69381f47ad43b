"""The book's named Jupyter kernel: one name, declared by every chapter.

Every chapter declares ``kernelspec: name: attention-book`` (front matter of the
``.md``, metadata of the ``.ipynb``; ``tools/set_kernelspec.py`` writes both), and the
set-up (``tools/lab_setup.py``, run by the Makefile's install step) registers a kernel
of that name for the project's ``.venv``. Whatever executes a chapter (nbval, the
build through myst-nb and jupyter-cache, ``tools/book_cache.py``,
``tools/chapter_runs.py``, ``tools/bench.py``, ``tools/figure.py``, a reader's own
Jupyter) then starts the kernel the chapter declares: :func:`declared_kernel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KERNEL_NAME = "attention-book"
DISPLAY_NAME = "Python (attention-book)"
KERNELSPEC = {"display_name": DISPLAY_NAME, "language": "python", "name": KERNEL_NAME}


def declared_kernel(nb: Any) -> str:
    """The kernel name a notebook declares (``metadata.kernelspec.name``).

    Raises ``ValueError`` when the notebook declares none: executing it would fall
    back on whatever ``python3`` happens to be, which is what the name prevents.
    """
    spec = nb.get("metadata", {}).get("kernelspec", {})
    name = spec.get("name") if isinstance(spec, Mapping) else None
    if not name:
        raise ValueError("the notebook declares no kernelspec name")
    return str(name)
