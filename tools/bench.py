"""``make bench``: how long the book takes, measured side by side in one run.

Prints one Markdown table and writes it to ``_build/bench.md``, where the book's
execution page shows it (rebuild with ``make book`` after the bench):

1. every chapter's cold execution, one at a time (a fresh kernel, from the MyST
   source), and their serial total;
2. a cold ``make book`` (execution cache dropped), and a rebuild after touching one
   chapter's prose;
3. each phase of ``make test`` (the prerequisites of ``test:`` in the Makefile), and
   ``make test``'s total against the serial chapter total; then the first chapter
   once more, to show how much this machine's speed drifted in between;
4. ``lib.attention.softmax_attention`` and ``nadaraya_watson`` against torch's
   ``scaled_dot_product_attention`` on the same float32 inputs (B = 64, M = 64,
   L = 1024, d = 16, one thread): 200 rounds, each timing the three calls back to back
   in a shuffled order; the ratio is the median of the per-round ratios (a shared
   machine's slow spells last longer than a round, so they cancel in a ratio but not
   in a minimum of separate runs), with its quartiles.

``--root PATH`` measures another checkout of the book with this checkout's
virtualenv (its ``lib`` first on the path), e.g. the state before a change.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

ATTENTION = r"""
import json, random, statistics, time, torch
import torch.nn.functional as F
torch.set_num_threads(1)
from lib.attention import nadaraya_watson, softmax_attention
g = torch.Generator().manual_seed(0)
B, M, L, d = 64, 64, 1024, 16
q, K, V = (torch.randn(B, n, d, generator=g) for n in (M, L, L))
beta = 0.7
calls = {
    "sdpa": lambda: F.scaled_dot_product_attention(q, K, V, scale=beta),
    "softmax_attention": lambda: softmax_attention(q, K, V, beta),
    "nadaraya_watson": lambda: nadaraya_watson(q, K, V, 1.2),
}
for call in calls.values():
    call()  # warm-up
times = {name: [] for name in calls}
for r in range(200):
    order = list(calls)
    random.Random(r).shuffle(order)
    for name in order:
        start = time.perf_counter()
        calls[name]()
        times[name].append(time.perf_counter() - start)
out = {}
for name, ts in times.items():
    ratios = [t / s for t, s in zip(ts, times["sdpa"])]
    quartiles = statistics.quantiles(ratios, n=4)
    out[name] = dict(ms=1e3 * statistics.median(ts), ratio=statistics.median(ratios),
                     q1=quartiles[0], q3=quartiles[2])
print(json.dumps(out))
"""


def _env(root: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", **extra}


def _timed(cmd: list[str], root: Path, **env: str) -> tuple[float, bool]:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=root,
        env=_env(root, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode:
        print(f"  {' '.join(cmd)} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
    return seconds, proc.returncode == 0


def _make(root: Path, target: str) -> tuple[float, bool]:
    # STAMP= : use this virtualenv as it is (no install step in another checkout)
    return _timed(["make", "STAMP=", f"BIN={sys.prefix}/bin", target], root)


Timing = tuple[str, float, bool]  # (what, seconds, succeeded)


def chapter_times(root: Path, first_only: bool = False) -> list[Timing]:
    script = (
        "import sys, jupytext, nbclient\n"
        "nb = jupytext.read(sys.argv[1])\n"
        "nbclient.NotebookClient(nb, timeout=900,"
        " kernel_name=nb.metadata.kernelspec.name,"
        " resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
    )
    rows = []
    with tempfile.TemporaryDirectory() as figures:
        chapters = sorted((root / "book").glob("[0-9][0-9]-*.md"))
        for md in chapters[:1] if first_only else chapters:
            cmd = [sys.executable, "-c", script, str(md), str(md.parent)]
            seconds, ok = _timed(cmd, root, BOOK_FIGURES_DIR=figures)
            rows.append((md.stem, seconds, ok))
            print(f"  {md.stem}: {seconds:.1f} s{'' if ok else ' (failed)'}")
    return rows


def test_phases(root: Path) -> list[str]:
    text = (root / "Makefile").read_text(encoding="utf8")
    match = re.search(r"^test:\s*(.*)$", text, flags=re.MULTILINE)
    return match.group(1).split() if match else []


def attention_ratios(root: Path) -> dict[str, dict[str, float]]:
    proc = subprocess.run(
        [sys.executable, "-c", ATTENTION],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(root: Path, skip_test: bool) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    print("chapters, cold, one at a time:")
    chapters = chapter_times(root)
    serial = sum(s for _, s, _ in chapters)
    for stem, seconds, ok in chapters:
        rows.append((f"chapter {stem}", f"{seconds:.1f}", "ok" if ok else "FAILED"))
    rows.append(("chapters, serial total", f"{serial:.1f}", ""))

    print("make book, cold; then after editing one chapter's prose:")
    shutil.rmtree(root / "_build", ignore_errors=True)
    seconds, ok = _make(root, "book")
    rows.append(("make book (cold)", f"{seconds:.1f}", "ok" if ok else "FAILED"))
    first = sorted((root / "book").glob("[0-9][0-9]-*.md"))[0]
    text = first.read_text(encoding="utf8")
    try:
        first.write_text(text + "\n<!-- bench: a prose edit -->\n", encoding="utf8")
        seconds, ok = _make(root, "book")
    finally:
        first.write_text(text, encoding="utf8")
    rows.append(
        ("make book after a prose edit", f"{seconds:.1f}", "ok" if ok else "FAILED")
    )

    if not skip_test:
        print("make test, phase by phase:")
        total = 0.0
        for phase in test_phases(root):
            seconds, ok = _make(root, phase)
            total += seconds
            status = "ok" if ok else "FAILED"
            rows.append((f"make test: {phase}", f"{seconds:.1f}", status))
            print(f"  {phase}: {seconds:.1f} s")
        rows.append(("make test, total", f"{total:.1f}", ""))
        ratio = f"{total / serial:.2f}"
        rows.append(("make test / serial chapters", ratio, "goal ≤ 1.3"))
        # This machine's speed drifts (other tenants): the first chapter once more,
        # to show how far the two ends of the ratio were measured under other loads.
        (stem, again, ok), *_ = chapter_times(root, first_only=True)
        drift = f"×{again / chapters[0][1]:.2f} the first measurement (machine drift)"
        note = drift if ok else "FAILED"
        rows.append((f"chapter {stem}, again after make test", f"{again:.1f}", note))

    print("attention against torch's fused kernel:")
    paired = attention_ratios(root)
    for name in ("softmax_attention", "nadaraya_watson"):
        p, sdpa = paired[name], paired["sdpa"]
        note = (
            f"median of 200 paired ratios (quartiles {p['q1']:.2f}–{p['q3']:.2f});"
            f" {p['ms']:.1f} ms vs {sdpa['ms']:.1f} ms (medians); goal ≤ 1.0"
        )
        rows.append((f"{name} / SDPA", f"{p['ratio']:.2f}", note))
    return rows


def table(rows: list[tuple[str, str, str]], root: Path) -> str:
    head = (
        f"Measured by `make bench` on {date.today().isoformat()},"
        f" {os.cpu_count()} cores, Python {platform.python_version()},"
        f" checkout `{root.name}`.\n\n"
        "| measurement | seconds (or ratio) | note |\n|---|---|---|\n"
    )
    return head + "".join(f"| {a} | {b} | {c} |\n" for a, b, c in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="checkout to measure")
    parser.add_argument("--skip-test", action="store_true", help="skip make test")
    parser.add_argument("--out", type=Path, default=None, help="where to write it")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    text = table(run(root, args.skip_test), root)
    print("\n" + text)
    out = args.out or root / "_build" / "bench.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
