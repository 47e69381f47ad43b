"""The Jupyter set-up: JupyterLab, its extensions, and the book's named kernel.

``make lab`` must open the chapters as a reader expects: JupyterLab at the pinned
version, ``.md`` chapters opened as notebooks (jupytext, the default viewer through
the settings overrides that ``tools/lab_setup.py`` installs), MyST rendered
(jupyterlab-myst), and the kernel ``attention-book`` of this environment declared by
every chapter and started by everything that executes one (nbval, myst-nb and
jupyter-cache, the tools).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest
import set_kernelspec
from book_cache import read_source_notebook
from book_kernel import KERNEL_NAME, KERNELSPEC, declared_kernel
from lab_setup import settings_overrides_path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _pinned(package: str) -> str:
    text = (ROOT / "requirements.txt").read_text()
    match = re.search(rf"^{re.escape(package)}==(\S+)", text, flags=re.MULTILINE)
    assert match, f"{package} is not pinned in requirements.txt"
    return match.group(1)


def _jupyter(*args: str) -> str:
    proc = subprocess.run(
        [str(BIN / "jupyter"), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return ANSI.sub("", proc.stdout + proc.stderr)


def test_jupyterlab_is_the_pinned_version():
    assert _jupyter("lab", "--version").strip() == _pinned("jupyterlab")


def test_markdown_opens_as_a_jupytext_notebook():
    settings = json.loads(settings_overrides_path().read_text())
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    # the factory name the override names is the one jupytext's extension registers
    static = Path(sys.prefix, "share/jupyter/labextensions/jupyterlab-jupytext")
    assert any(
        "Jupytext Notebook" in js.read_text(errors="replace")
        for js in static.rglob("*.js")
    )


def test_the_named_kernel_is_this_environment():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert Path(spec.argv[0]) == Path(sys.executable), spec.argv
    assert spec.display_name == KERNELSPEC["display_name"]


def test_a_notebook_declaring_the_kernel_runs_here():
    """nbclient (as myst-nb, jupyter-cache and the tools call it) and nbval both
    start the declared kernel; it is this interpreter, with this checkout's lib."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": dict(KERNELSPEC)})
    nb.cells = [nbformat.v4.new_code_cell("import sys, lib; print(sys.executable)")]
    nb.cells.append(nbformat.v4.new_code_cell("print(lib.__file__)"))
    nbclient.NotebookClient(nb, timeout=120, kernel_name=declared_kernel(nb)).execute()
    assert nb.cells[0].outputs[0].text.strip() == sys.executable
    assert Path(nb.cells[1].outputs[0].text.strip()).is_relative_to(ROOT / "lib")


def test_nbval_and_the_tools_use_the_declared_kernel():
    from nbval import plugin

    # nbval takes the notebook's kernelspec unless told otherwise; the Makefile doesn't
    source = Path(plugin.__file__).read_text()
    assert re.search(r"metadata\.get\(\s*'kernelspec', \{\}\)\.get\('name'", source)
    makefile = (ROOT / "Makefile").read_text()
    assert "--nbval-kernel-name" not in makefile
    assert "--nbval-current-env" not in makefile
    for tool in sorted((ROOT / "tools").glob("*.py")):
        text = tool.read_text()
        assert not re.search(r"kernel_name\s*=\s*['\"]python3['\"]", text), tool.name


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_declares_the_kernel(md):
    """The .md front matter and the .ipynb metadata (``tools/set_kernelspec.py``)."""
    for path in (md, md.with_suffix(".ipynb")):
        assert set_kernelspec.declares(path), (
            f"{path.name} does not declare kernel {KERNEL_NAME!r}: "
            "run `python tools/set_kernelspec.py`"
        )
    # what the build hashes and executes (myst-nb's reader) and what nbval runs
    assert declared_kernel(read_source_notebook(md)) == KERNEL_NAME
    assert declared_kernel(jupytext.read(md.with_suffix(".ipynb"))) == KERNEL_NAME


def test_set_kernelspec_changes_nothing_but_the_kernelspec(tmp_path):
    md = CHAPTERS[0]
    old = "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n"
    text = re.sub(r"kernelspec:\n(?:  .*\n)+", old, md.read_text(), count=1)
    (tmp_path / md.name).write_text(text)
    nb = json.loads(md.with_suffix(".ipynb").read_text())
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    ipynb = tmp_path / md.with_suffix(".ipynb").name
    ipynb.write_text(
        json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    )
    flow = "---\nkernelspec: {name: python3}\njupytext: {x: 1}\n---\n# T\n"
    (tmp_path / "02-flow.md").write_text(flow)
    (tmp_path / "03-none.md").write_text("---\njupytext: {x: 1}\n---\n# T\n")
    assert set_kernelspec.main(["--book", str(tmp_path), "--check"]) == 1
    assert set_kernelspec.main(["--book", str(tmp_path)]) == 0
    assert set_kernelspec.main(["--book", str(tmp_path), "--check"]) == 0
    new_md = (tmp_path / md.name).read_text()
    assert new_md.replace(set_kernelspec._BLOCK, old, 1) == text
    new_nb = json.loads(ipynb.read_text())
    assert new_nb["metadata"].pop("kernelspec") == KERNELSPEC
    nb["metadata"].pop("kernelspec")
    assert new_nb == nb  # cells and outputs untouched
    assert (
        (tmp_path / "02-flow.md").read_text().endswith("jupytext: {x: 1}\n---\n# T\n")
    )
    for name in ("02-flow.md", "03-none.md"):
        assert set_kernelspec.declares(tmp_path / name)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    set_kernelspec.main(["--book", str(tmp_path)])  # idempotent
    assert before == {p.name: p.read_bytes() for p in tmp_path.iterdir()}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """``jupyter lab`` as ``make lab`` starts it (no browser), on a free local port."""
    port, token = _free_port(), secrets.token_hex(16)
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    cmd = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)}
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )

    def get(path: str, page_config: bool = False):
        auth = {"Authorization": f"token {token}"}
        url = f"http://127.0.0.1:{port}{path}"
        with urllib.request.urlopen(urllib.request.Request(url, headers=auth)) as resp:
            text = resp.read().decode()
        if page_config:  # the JSON JupyterLab's page is started with
            match = re.search(
                r'id="jupyter-config-data"[^>]*>(.*?)</script>', text, re.S
            )
            return json.loads(match.group(1))
        return json.loads(text)

    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                get("/api/status")
                break
            except OSError as err:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = proc.stderr.read() if proc.poll() is not None else ""
                    raise RuntimeError(f"jupyter lab did not start: {log}") from err
                time.sleep(0.5)
        yield get
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(runtime, ignore_errors=True)


def test_the_lab_loads_the_myst_and_jupytext_extensions(lab_server):
    config = lab_server("/lab", page_config=True)
    loaded = {ext["name"] for ext in config["federated_extensions"]}
    assert {"jupyterlab-myst", "jupyterlab-jupytext"} <= loaded, loaded
    disabled = config.get("disabledExtensions", [])
    assert not [d for d in disabled if "myst" in d or "jupytext" in d], disabled
    assert config["appVersion"] == _pinned("jupyterlab")


def test_the_lab_serves_a_chapter_as_a_notebook_with_the_book_settings(lab_server):
    specs = lab_server("/api/kernelspecs")["kernelspecs"]
    assert KERNEL_NAME in specs
    plugin = "@jupyterlab/docmanager-extension:plugin"
    schema = lab_server(f"/lab/api/settings/{plugin}")["schema"]  # with overrides
    viewers = schema["properties"]["defaultViewers"]["default"]
    assert viewers["markdown"] == "Jupytext Notebook"
    chapter = CHAPTERS[0].relative_to(ROOT).as_posix()
    model = lab_server(f"/api/contents/{chapter}?type=notebook&content=1")
    nb = nbformat.from_dict(model["content"])
    assert nb.metadata.kernelspec.name == declared_kernel(jupytext.read(CHAPTERS[0]))
    assert [c.cell_type for c in nb.cells] == [
        c.cell_type for c in jupytext.read(CHAPTERS[0]).cells
    ]
