"""A screenshot of ``make lab``: a chapter's .md opened as a notebook, MyST rendered.

``python tools/lab_screenshot.py [--chapter 03]`` starts ``make lab CHAPTER=03`` on a
free port of 127.0.0.1 with a random token (no browser), opens the page a reader
gets in headless ``/usr/bin/chromium`` (Playwright; no other address is reached),
waits for the chapter to open as a notebook on the kernel ``attention-book`` and
for jupyterlab-myst to render its first theorem, checks that the jupytext and MyST
extensions loaded (the browser console) and that no MyST directive or role is left
as raw text in the rendered cells, and saves
``_build/screenshots/lab-chapter.png`` (the first theorem and its proof) and
``lab-chapter-top.png`` (the chapter's start: title and claim). The server, run
with a workspace of its own, is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
RAW_MYST = (":::{prf:", "```{prf:", "{prf:ref}`", "{cite}`", "{numref}`")

_RAW_TEXT = """(raw) => [...document.querySelectorAll('.jp-MarkdownCell div.myst')]
  .flatMap(r => raw.filter(s => r.innerText.includes(s)))"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(chapter: str, port: int, token: str, workspaces: str) -> subprocess.Popen:
    """``make lab CHAPTER=<chapter>`` in its own process group, until it answers."""
    args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
    args += f"--IdentityProvider.token={token} --LabApp.workspaces_dir={workspaces}"
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"CHAPTER={chapter}", f"LAB_ARGS={args}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}")
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    stop_lab(proc)
    raise RuntimeError("`make lab` did not start a server")


def stop_lab(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # make and the jupyter server it started
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def screenshot(chapter: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    port, token = _free_port(), secrets.token_hex(16)
    # a workspace of its own: the reader's open tabs are neither used nor changed
    workspaces = tempfile.mkdtemp(prefix="lab-workspaces-")
    proc = start_lab(chapter, port, token, workspaces)
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = [SHOTS / "lab-chapter.png", SHOTS / "lab-chapter-top.png"]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            console: list[str] = []
            page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
            page.route(
                "**/*",
                lambda r: (
                    r.continue_()
                    if urlsplit(r.request.url).hostname == "127.0.0.1"
                    else r.abort()
                ),
            )
            # what a reader opens: the address `make lab` prints, with its token
            page.goto(f"http://127.0.0.1:{port}/?token={token}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_selector(".jp-Notebook aside.myst-proof", timeout=120_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-Toolbar-kernelName')]"
                ".some(e => e.innerText.includes('attention-book'))",
                timeout=60_000,
            )
            page.wait_for_timeout(3000)  # math and the kernel status settle
            # an extension built for another JupyterLab fails here, not in the CLI
            failed = [m for m in console if "Failed to create module" in m]
            assert not failed, f"a JupyterLab extension did not load: {failed}"
            for name in ("jupyterlab-myst is activated", "jupytext is activating"):
                assert any(name in m for m in console), f"no '{name}' in the console"
            raw = page.evaluate(_RAW_TEXT, list(RAW_MYST))
            if raw:
                raise RuntimeError(f"MyST left raw in the rendered cells: {raw}")
            page.screenshot(path=str(out[1]))
            # the first theorem near the top of the notebook's panel
            page.locator(".jp-Notebook aside.myst-proof").first.evaluate(
                "e => e.closest('.jp-Cell').scrollIntoView({block: 'start'})"
            )
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out[0]))
            browser.close()
    finally:
        stop_lab(proc)
        shutil.rmtree(workspaces, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="03", help="chapter number, e.g. 03")
    args = parser.parse_args(argv)
    for path in screenshot(args.chapter):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
