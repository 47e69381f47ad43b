"""Run chapters as a referee would: under other seeds, and with planted errors.

``python tools/chapter_runs.py seeds [--seeds 1-20] [--chapters 01 03]``
    Executes every chapter (from its MyST source, in a fresh kernel) once per seed set
    ``BOOK_SEED = s`` and prints a chapter × seed table. Fails if any run fails.

``python tools/chapter_runs.py mutations [--chapters 01]``
    For every mutation in ``tests/mutations/NN.toml``: copies the repository to a
    temporary folder, replaces the mutation's ``find`` text (which must occur exactly
    once in its file) by ``replace``, then executes the chapter and runs its unit tests
    there. A mutation is *caught* if the chapter raises or a unit test fails. An
    unmutated control run must pass first. Prints a chapter × mutation table (what
    caught each one) and fails unless every mutation was caught.

Runs go two at a time (``--jobs``); each kernel is limited to one thread.
A mutation file looks like::

    unit_tests = ["tests/test_exchangeability.py"]

    [[mutation]]
    name = "df-bound-doubled"
    why = "the c-colour Diaconis-Freedman bound doubled"
    file = "lib/exchangeability.py"
    find = "2 * c * k / n"
    replace = "4 * c * k / n"
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTATIONS = ROOT / "tests" / "mutations"
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "_build", "__pycache__", "*.ipynb", ".hypothesis", "*.egg-info"
)


@dataclass
class Run:
    ok: bool
    seconds: float
    detail: str = ""


def chapters(selected: list[str] | None = None) -> list[Path]:
    mds = sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))
    if selected:
        mds = [md for md in mds if md.name[:2] in selected]
    return mds


def _last_error_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "assert" in line.lower():
            return line[:160]
    return lines[-1][:160] if lines else "(no output)"


def execute_chapter(md: Path, root: Path, env: dict[str, str], timeout: int) -> Run:
    """Execute ``md`` in a fresh kernel with ``root`` first on the import path."""
    script = (
        "import sys, jupytext, nbclient\n"
        "nb = jupytext.read(sys.argv[1])\n"
        "nbclient.NotebookClient(nb, timeout=int(sys.argv[2]),"
        " kernel_name=nb.metadata.kernelspec.name,"
        " resources={'metadata': {'path': sys.argv[3]}}).execute()\n"
    )
    full_env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "BOOK_FIGURES_DIR": str(Path(tempfile.gettempdir()) / "book-runs-figures"),
        **env,
    }
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", script, str(md), str(timeout), str(md.parent)],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode == 0:
        return Run(True, seconds)
    return Run(False, seconds, _last_error_line(proc.stderr + proc.stdout))


def run_unit_tests(tests: list[str], root: Path) -> Run:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    failed = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")]
    detail = failed[0][7:120] if failed else _last_error_line(proc.stdout)
    return Run(proc.returncode == 0, seconds, "" if proc.returncode == 0 else detail)


# --------------------------------------------------------------------- seeds
def _seed_job(args) -> tuple[str, int, Run]:
    md, seed, timeout = args
    return (
        md.name[:2],
        seed,
        execute_chapter(md, ROOT, {"BOOK_SEED": str(seed)}, timeout),
    )


def sweep_seeds(mds: list[Path], seeds: list[int], jobs: int, timeout: int) -> int:
    jobs_list = [(md, s, timeout) for md in mds for s in seeds]
    results: dict[str, dict[int, Run]] = {md.name[:2]: {} for md in mds}
    with ProcessPoolExecutor(jobs) as pool:
        for chapter, seed, run in pool.map(_seed_job, jobs_list):
            results[chapter][seed] = run
            mark = "ok" if run.ok else "FAILED: " + run.detail
            print(f"ch{chapter} BOOK_SEED={seed:<3} {run.seconds:6.1f} s  {mark}")
            sys.stdout.flush()
    print("\n| chapter | seed sets | passed | failed (seed: error) | max time |")
    print("|---|---|---|---|---|")
    failures = 0
    for chapter, runs in results.items():
        bad = {s: r for s, r in runs.items() if not r.ok}
        failures += len(bad)
        worst = max(r.seconds for r in runs.values())
        what = "; ".join(f"{s}: {r.detail}" for s, r in sorted(bad.items())) or "-"
        print(
            f"| {chapter} | {len(runs)} | {len(runs) - len(bad)} | {what} |"
            f" {worst:.1f} s |"
        )
    return 1 if failures else 0


# --------------------------------------------------------------------- mutations
def load_mutations(md: Path) -> tuple[list[str], list[dict]]:
    spec = MUTATIONS / f"{md.name[:2]}.toml"
    if not spec.exists():
        return [], []
    data = tomllib.loads(spec.read_text(encoding="utf8"))
    return data.get("unit_tests", []), data.get("mutation", [])


def _copy_repo(target: Path) -> Path:
    shutil.copytree(ROOT, target, ignore=COPY_IGNORE)
    return target


def planting_error(mutation: dict, root: Path = ROOT) -> str | None:
    """Why ``mutation`` cannot be planted in ``root`` (its ``find`` text must occur
    exactly once in its file), or None."""
    path = root / mutation["file"]
    if not path.exists():
        return f"{mutation['file']} does not exist"
    count = path.read_text(encoding="utf8").count(mutation["find"])
    if count != 1:
        return f"find text occurs {count} times in {mutation['file']}"
    return None


def _mutation_job(args) -> tuple[str, str, Run | None, Run | str]:
    md, tests, mutation, timeout = args
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        root = _copy_repo(Path(tmp) / "repo")
        if mutation is not None:
            # A mutation that cannot be planted changes nothing: it is reported as
            # NOT PLANTED (a failure), never as caught.
            why_not = planting_error(mutation, root)
            if why_not is not None:
                return md.name[:2], mutation["name"], None, why_not
            path = root / mutation["file"]
            text = path.read_text(encoding="utf8")
            path.write_text(text.replace(mutation["find"], mutation["replace"]))
        chapter = execute_chapter(root / "book" / md.name, root, {}, timeout)
        units = run_unit_tests(tests, root) if tests else Run(True, 0.0)
    name = "control" if mutation is None else mutation["name"]
    return md.name[:2], name, chapter, units


def run_mutations(mds: list[Path], jobs: int, timeout: int) -> int:
    specs = {md: load_mutations(md) for md in mds}
    work = [(md, tests, None, timeout) for md, (tests, _) in specs.items()]
    work += [
        (md, tests, m, timeout) for md, (tests, muts) in specs.items() for m in muts
    ]
    why = {
        (md.name[:2], m["name"]): m["why"] for md, (_, ms) in specs.items() for m in ms
    }
    rows, status = [], 0
    with ProcessPoolExecutor(jobs) as pool:
        for chapter, name, ch_run, unit_run in pool.map(_mutation_job, work):
            if name == "control":
                verdict = "passes" if ch_run.ok and unit_run.ok else "FAILS"
                if verdict == "FAILS":
                    status = 1
                print(f"ch{chapter} control run {verdict} {ch_run.detail}")
                continue
            if ch_run is None:
                status = 1
                print(f"ch{chapter} {name}: NOT PLANTED ({unit_run})")
                rows.append((chapter, name, why[(chapter, name)], None))
                continue
            caught = []
            if not ch_run.ok:
                caught.append(f"chapter ({ch_run.detail})")
            if not unit_run.ok:
                caught.append(f"unit tests ({unit_run.detail})")
            if not caught:
                status = 1
            rows.append((chapter, name, why[(chapter, name)], caught))
            print(f"ch{chapter} {name}: {'; '.join(caught) or 'NOT CAUGHT'}")
            sys.stdout.flush()
    print(
        "\n| chapter | mutation | what it plants | caught by chapter | by unit tests |"
    )
    print("|---|---|---|---|---|")
    for chapter, name, text, caught in rows:
        if caught is None:
            print(f"| {chapter} | {name} | {text} | NOT PLANTED | NOT PLANTED |")
            continue
        by_ch = next((c[9:-1] for c in caught if c.startswith("chapter")), "no")
        by_unit = next((c[12:-1] for c in caught if c.startswith("unit")), "no")
        print(f"| {chapter} | {name} | {text} | {by_ch} | {by_unit} |")
    missing = [r for r in rows if not r[3]]  # not caught, or not planted
    print(f"\n{len(rows) - len(missing)} of {len(rows)} mutations caught")
    return status or (1 if missing else 0)


def _parse_seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = (int(p) for p in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(p) for p in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["seeds", "mutations"])
    parser.add_argument("--chapters", nargs="*", help="two-digit chapter numbers")
    parser.add_argument("--seeds", default="1-20", help="e.g. 1-20 or 3,7")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per chapter")
    args = parser.parse_args(argv)
    mds = chapters(args.chapters)
    if not mds:
        parser.error("no chapter selected")
    if args.what == "seeds":
        return sweep_seeds(mds, _parse_seeds(args.seeds), args.jobs, args.timeout)
    return run_mutations(mds, args.jobs, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
