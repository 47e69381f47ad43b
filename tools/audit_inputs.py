"""Bad-input audit of ``lib``: break every argument of every public function in turn.

For each row of the table ``tests/bad_inputs.py`` (one valid call per public function,
class or method of ``lib``) and each argument of that call, the driver substitutes
every value of a catalogue chosen by the argument's kind (inferred from the valid
value: integer, real, array, tensor, flag, text, generator), calls the function and
classifies what happened.

Clearly bad inputs (NaN, ±inf, None, the string ``"3"``, ``True`` or a boolean array, a
complex number, a ragged list, ``v + 0.5`` where an integer is meant, a 2-element array
where a scalar is meant, an empty array, an array with one axis too many or too few,
an unknown option) must raise a **named error**: a ``ValueError`` or ``TypeError`` (or
an exception type the row declares) whose message names the argument. Otherwise the
outcome is an **other exception** (a message that does not name the argument, a torch
``RuntimeError``, ``ZeroDivisionError``…), a **silent NaN/inf** (a result holding NaN
or inf with no warning from lib) or **accepted nonsense** (a finite result: ``L="3"``,
``True``, ``2.5`` for an integer, a complex value whose imaginary part was dropped).
A row may annotate a catalogue value as legitimate for one argument (a batch axis, an
optional ``None``): such an input is counted as **annotated** and only has to avoid an
other exception.

Borderline inputs (0, a negative value, 1e300, 1e-300, length-1 arrays, an empty
string, extra values a row lists) may succeed (**ok**), or raise a named error, or
raise ``FloatingPointError`` (the house's "result could not be computed", counted as
named) or an exception the row declares as its documented outcome (``ok``); they must
not return NaN/inf silently nor raise an other exception.

Usage::

    python tools/audit_inputs.py                      # lib on PYTHONPATH
    python tools/audit_inputs.py --root /work/wt/baseline --details
    python tools/audit_inputs.py --noncompliant       # rows failing the test's rules

With ``--root`` the lib of that checkout is audited (the table is always this
repository's); a module or function missing there is reported as absent, and the old
names of :data:`OLD_NAMES` are tried first (``lib.ssl`` for ``lib.pretraining``...).
The test ``tests/test_bad_inputs.py`` runs the same driver, one test per row.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import importlib
import importlib.util
import io
import math
import numbers
import os
import re
import signal
import sys
import tempfile
import threading
import time
import types
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "tests" / "bad_inputs.py"

# Names of the state before the API cleanup (issue 13), tried when a name is missing.
OLD_NAMES = {
    "lib.pretraining": "lib.ssl",
    "lib.pretraining.sample_pretraining_sequences": "lib.ssl.sample_ssl_sequences",
}

BAD, BORDERLINE = "clearly bad", "borderline"
NAMED, OTHER, NONFINITE, NONSENSE, OK, ANNOTATED = (
    "named error",
    "other exception",
    "silent NaN/inf",
    "accepted nonsense",
    "ok",
    "annotated",
)
BAD_COLUMNS = (NAMED, OTHER, NONFINITE, NONSENSE, ANNOTATED)
BORDER_COLUMNS = (OK, NAMED, OTHER, NONFINITE)
TIMEOUT = 2.0  # seconds per call; a call that takes longer is an "other exception"


class NonCompliance(AssertionError):
    """A row whose bad or borderline inputs are not handled as the house rules say."""


class CallTimeout(BaseException):
    """Raised inside a call that ran past :data:`TIMEOUT` (not an ``Exception``)."""


# ----------------------------------------------------------------------------- table
def load_table(path: Path = TABLE):
    """Import the table module ``tests/bad_inputs.py`` from its file."""
    spec = importlib.util.spec_from_file_location("bad_inputs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bad_inputs", module)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------- resolving
class Resolver:
    """Finds ``lib.module.name[.method]`` in the checkout whose ``lib`` is imported.

    A module counts only if its file lies in that checkout's ``lib/`` folder: the
    shared virtualenv installs ``lib`` editable from /work/main, whose finder would
    otherwise hand out main's copy of a module the checkout does not have.
    """

    def __init__(self, root: Path | None = None):
        lib = importlib.import_module("lib")
        self.lib_dir = Path(lib.__file__).resolve().parent
        if root is not None and self.lib_dir != (Path(root) / "lib").resolve():
            raise RuntimeError(
                f"lib is imported from {self.lib_dir}, not from {root}/lib: run the"
                " audit in a fresh process with --root first on the path"
            )
        self.root = self.lib_dir.parent
        self.renamed: set[str] = set()

    def module(self, name: str):
        for candidate in (name, OLD_NAMES.get(name)):
            if candidate is None:
                continue
            try:
                mod = importlib.import_module(candidate)
            except ImportError:
                continue
            if Path(mod.__file__).resolve().parent == self.lib_dir:
                if candidate != name:
                    self.renamed.add(f"{name} -> {candidate}")
                return mod
        return None

    def find(self, target: str):
        """The object ``lib.mod.func`` or ``lib.mod.Class.method`` (None: absent)."""
        parts = target.split(".")
        mod = self.module(".".join(parts[:2]))
        if mod is None:
            return None
        obj = getattr(mod, parts[2], None)
        old = OLD_NAMES.get(".".join(parts[:3]))
        if obj is None and old is not None:
            obj = getattr(mod, old.rsplit(".", 1)[1], None)
            if obj is not None:
                self.renamed.add(f"{'.'.join(parts[:3])} -> {old}")
        for attr in parts[3:]:
            obj = getattr(obj, attr, None)
        return obj


def public_names(module) -> list[str]:
    """The callables of ``__all__`` (constants take no input), or the non-underscore
    callables defined in the module itself."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return [n for n in names if callable(getattr(module, n, None))]
    return [
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and callable(v)
        and getattr(v, "__module__", None) == module.__name__
    ]


def public_methods(cls) -> list[str]:
    """Non-underscore functions defined in the class body (not inherited)."""
    return [
        n
        for n, v in vars(cls).items()
        if not n.startswith("_")
        and isinstance(v, types.FunctionType | staticmethod | classmethod)
    ]


# ------------------------------------------------------------------------- catalogue
def infer_kind(value) -> str | None:
    """The catalogue an argument gets, from its valid value (None: cannot tell)."""
    import torch

    if isinstance(value, (bool, np.bool_)):
        return "flag"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "real"
    if isinstance(value, str):
        return "text"
    if isinstance(value, np.random.Generator):
        return "rng"
    if isinstance(value, torch.Tensor):
        if value.ndim == 0:
            return None
        return "tensor" if value.is_floating_point() else "int-tensor"
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            arr = np.asarray(value)
        except ValueError:
            return None
        if arr.ndim == 0:
            return None
        if arr.dtype.kind in "iu":
            return "int-array"
        if arr.dtype.kind == "f":
            return "array"
    return None


def _ragged(flat: list) -> list:
    first = flat[0] if flat else 1.0
    second = flat[1] if len(flat) > 1 else first
    return [[first], [first, second]]


def _scalar_probes(v, integer: bool):
    yield "nan", BAD, math.nan
    yield "+inf", BAD, math.inf
    yield "-inf", BAD, -math.inf
    yield "None", BAD, None
    yield "str", BAD, "3"
    yield "bool", BAD, True
    yield "complex", BAD, complex(v, 1.0)
    if integer:
        yield "non-integer", BAD, v + 0.5
    yield "array-for-scalar", BAD, np.array([v, v])
    yield "empty", BAD, np.array([], dtype=np.int64 if integer else float)
    yield "ragged", BAD, [[v], [v, v]]
    yield "zero", BORDERLINE, 0 if integer else 0.0
    yield "negative", BORDERLINE, (-v if v > 0 else v - 1)
    if not integer:
        yield "huge", BORDERLINE, 1e300
        yield "tiny", BORDERLINE, 1e-300


def _len1(shape: tuple) -> tuple | None:
    if shape[-1] > 1:
        return (..., slice(0, 1))
    if shape[0] > 1:
        return (slice(0, 1),)
    return None


def _extremes(dtype) -> tuple[float, float]:
    info = np.finfo(dtype)
    return float(info.max) / 4, float(info.tiny)


def _array_probes(v, integer: bool):
    a = np.array(v)
    flat = a.ravel().tolist()
    if integer:
        a_f = a.astype(float)
    else:
        a_f = a

    def poke(x):
        out = a_f.copy()
        out.flat[0] = x
        return out

    yield "nan", BAD, poke(math.nan)
    yield "+inf", BAD, poke(math.inf)
    yield "-inf", BAD, poke(-math.inf)
    yield "None", BAD, None
    yield "str", BAD, "3"
    yield "bool", BAD, np.ones(a.shape, dtype=bool)
    yield "complex", BAD, a + 1j
    if integer:
        yield "non-integer", BAD, poke(a_f.flat[0] + 0.5)
    yield "ragged", BAD, _ragged(flat)
    yield "rank-up", BAD, np.stack([a, a])
    yield "rank-down", BAD, a[0]
    yield "empty", BAD, np.empty(a.shape[:-1] + (0,), dtype=a.dtype)
    yield "zero", BORDERLINE, np.zeros_like(a)
    yield "negative", BORDERLINE, np.where(a != 0, -np.abs(a), -1).astype(a.dtype)
    if not integer:  # the extremes of the array's own float type
        big, small = (1e300, 1e-300) if a.dtype == np.float64 else _extremes(a.dtype)
        yield "huge", BORDERLINE, np.full_like(a, big)
        yield "tiny", BORDERLINE, np.full_like(a, small)
    cut = _len1(a.shape)
    if cut is not None:
        yield "len-1", BORDERLINE, a[cut].copy()


def _tensor_probes(v, integer: bool):
    import torch

    for label, severity, value in _array_probes(v.detach().cpu().numpy(), integer):
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
            value = torch.from_numpy(np.array(value))
        elif isinstance(value, np.generic):
            value = torch.tensor(value.item(), dtype=v.dtype)
        yield label, severity, value


def probes(kind: str, value):
    """``(label, severity, value)`` for every catalogue input of an argument."""
    if kind == "int":
        yield from _scalar_probes(int(value), integer=True)
    elif kind == "real":
        yield from _scalar_probes(float(value), integer=False)
    elif kind in ("array", "int-array"):
        yield from _array_probes(value, integer=kind == "int-array")
    elif kind in ("tensor", "int-tensor"):
        yield from _tensor_probes(value, integer=kind == "int-tensor")
    elif kind == "flag":
        yield "None", BAD, None
        yield "str", BAD, "3"
        yield "non-bool", BAD, 2.5
        yield "int-as-flag", BAD, 1
    elif kind in ("text", "choice"):
        yield "None", BAD, None
        yield "number", BAD, 3
        yield "bool", BAD, True
        if kind == "choice":
            yield "bogus-choice", BAD, "bogus"
            yield "empty-str", BAD, ""
        else:
            yield "empty-str", BORDERLINE, ""
    elif kind == "rng":
        yield "None", BAD, None
        yield "int-seed", BAD, 0
        yield "str", BAD, "3"
    else:
        raise ValueError(f"unknown argument kind {kind!r}")


# ----------------------------------------------------------------------------- calling
@dataclasses.dataclass
class Outcome:
    row: str
    arg: str
    label: str
    severity: str
    category: str
    detail: str = ""
    exc_type: str = ""
    imag_dropped: bool = False


@dataclasses.dataclass
class RowResult:
    row: str
    module: str
    status: str  # "ok", "absent", "record", "valid call failed"
    message: str = ""
    outcomes: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def _nonfinite(x, depth: int = 0) -> bool:
    import torch

    if depth > 5 or x is None:
        return False
    if isinstance(x, torch.Tensor):
        if x.is_floating_point() or x.is_complex():
            return not bool(torch.isfinite(x.detach()).all())
        return False
    if isinstance(x, torch.nn.Module):
        return any(not bool(torch.isfinite(p).all()) for p in x.parameters())
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fc":
            return not bool(np.all(np.isfinite(x)))
        if x.dtype == object:
            return any(_nonfinite(e, depth + 1) for e in x.ravel()[:1000])
        return False
    if isinstance(x, (bool, np.bool_, numbers.Integral)):
        return False
    if isinstance(x, numbers.Complex):
        return not (math.isfinite(x.real) and math.isfinite(x.imag))
    if isinstance(x, (list, tuple)):
        return any(_nonfinite(e, depth + 1) for e in x)
    if isinstance(x, dict):
        return any(_nonfinite(e, depth + 1) for e in x.values())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(
            _nonfinite(getattr(x, f.name), depth + 1) for f in dataclasses.fields(x)
        )
    return False


def _has_complex(x, depth: int = 0) -> bool:
    import torch

    if depth > 5:
        return False
    if isinstance(x, torch.Tensor):
        return x.is_complex()
    if isinstance(x, np.ndarray):
        return x.dtype.kind == "c"
    if isinstance(x, complex | np.complexfloating):
        return True
    if isinstance(x, list | tuple):
        return any(_has_complex(e, depth + 1) for e in x)
    return False


_SHORT_NAME_FOLLOW = re.compile(r"\s+(must|and|has|have|is|are|of|or|=|\()|[=,:)\]]|$")


def names_argument(message: str, words) -> bool:
    """Does ``message`` name the argument (one of ``words``) as an identifier?

    Names of one or two letters (``a``, ``t``, ``x``) also occur as English words, so
    they count only when followed by a verb of a rule (``a must be``), ``and``, ``=``,
    ``(``, punctuation or the end of the message.
    """
    for word in words:
        for m in re.finditer(rf"(?<![\w.]){re.escape(word)}(?!\w)", message):
            if len(word) > 2 or _SHORT_NAME_FOLLOW.match(message, m.end()):
                return True
    return False


@contextlib.contextmanager
def _time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread() or not seconds:
        yield
        return

    def handler(signum, frame):
        raise CallTimeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _fresh(value):
    import torch

    if isinstance(
        value, (np.ndarray, torch.Tensor, list, tuple, dict, np.random.Generator)
    ):
        return copy.deepcopy(value)
    return value


def _call(func, kwargs, timeout: float):
    """``(result, exception, warnings)`` of ``func(**kwargs)``; output is swallowed."""
    sink = io.StringIO()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stderr(sink),
        contextlib.redirect_stdout(sink),
        np.errstate(all="warn"),
    ):
        warnings.simplefilter("always")
        try:
            with _time_limit(timeout):
                return func(**kwargs), None, list(caught)
        except CallTimeout:
            return None, CallTimeout(f"no result after {timeout} s"), list(caught)
        except Exception as err:  # noqa: BLE001  (classifying is the point)
            return None, err, list(caught)


def _short(text: str, n: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def classify(row, arg, label, severity, result, err, caught) -> Outcome:
    """The category of one call (see the module docstring).

    A borderline value may conflict with another argument (``degree=0`` with a ``z``
    of 5 coefficients): there an error naming any argument of the call is named.
    """
    accepted = row.accepts.get(arg, {})
    words = [arg, *row.names.get(arg, ())]
    if severity == BORDERLINE:
        words += [w for a in row.call for w in (a, *row.names.get(a, ()))]
    declared = tuple(row.raises)
    imag = label == "complex"
    lib_warned = any(
        issubclass(w.category, UserWarning)
        and not issubclass(w.category, RuntimeWarning)
        for w in caught
    )
    if err is not None:
        etype = type(err).__name__
        msg = f"{etype}: {_short(err)}"
        if isinstance(err, (ValueError, TypeError, *declared)) and names_argument(
            str(err), words
        ):
            category = NAMED
        elif severity == BORDERLINE and isinstance(err, FloatingPointError):
            category = NAMED
        elif severity == BORDERLINE and declared and isinstance(err, declared):
            category = OK
        else:
            category = OTHER
        if label in accepted and category != OTHER:
            category = ANNOTATED
        return Outcome(row.id, arg, label, severity, category, msg, etype)
    bad_result = _nonfinite(result) and not lib_warned
    if label in accepted:
        detail = "accepted: " + accepted[label]
        if bad_result:
            detail += " (result not finite)"
        return Outcome(row.id, arg, label, severity, ANNOTATED, detail)
    if bad_result:
        return Outcome(row.id, arg, label, severity, NONFINITE, "result holds NaN/inf")
    if severity == BAD:
        imag = imag and not _has_complex(result)
        what = "imaginary part dropped" if imag else "returned a finite result"
        return Outcome(row.id, arg, label, severity, NONSENSE, what, imag_dropped=imag)
    return Outcome(row.id, arg, label, severity, OK, "")


def _resolve_value(value, resolver: Resolver):
    """Evaluate the table's deferred values (``Ref`` to lib, ``Lazy`` factories)."""
    kind = type(value).__name__
    if kind == "Ref":
        func = resolver.find(value.target)
        if func is None:
            raise LookupError(f"{value.target} is absent")
        kwargs = {k: _resolve_value(v, resolver) for k, v in value.kwargs.items()}
        return func(**kwargs)
    if kind == "Lazy":
        return value.factory()
    return value


def run_row(row, resolver: Resolver, *, timeout: float = TIMEOUT) -> RowResult:
    """Audit one row: its valid call, then every catalogue input of every argument."""
    start = time.perf_counter()
    module = ".".join(row.id.split(".")[:2])
    res = RowResult(row.id, module, "ok")
    target = resolver.find(row.id)
    if target is None:
        res.status, res.message = "absent", "not in this checkout"
        return res
    try:
        kwargs = {k: _resolve_value(v, resolver) for k, v in row.call.items()}
        init = {k: _resolve_value(v, resolver) for k, v in row.init.items()}
    except LookupError as err:
        res.status, res.message = "absent", str(err)
        return res
    if len(row.id.split(".")) == 4:  # lib.module.Class.method: a fresh instance
        cls, method = resolver.find(row.id.rsplit(".", 1)[0]), row.id.rsplit(".", 1)[1]

        def func(**kw):
            return getattr(cls(**_fresh(init)), method)(**kw)

    else:
        func = target

    result, err, caught = _call(func, {k: _fresh(v) for k, v in kwargs.items()}, 30)
    if err is not None or _nonfinite(result):
        res.status = "valid call failed"
        res.message = (
            f"{type(err).__name__}: {_short(err, 300)}"
            if err is not None
            else "the valid call returned NaN/inf"
        )
        res.seconds = time.perf_counter() - start
        return res
    if row.record:
        res.status, res.message = "record", row.record
        res.seconds = time.perf_counter() - start
        return res
    for arg, value in kwargs.items():
        if arg in row.skip:
            continue
        kind = row.kinds.get(arg) or infer_kind(value)
        if kind is None:
            raise TypeError(
                f"{row.id}: cannot tell the kind of argument {arg!r}"
                f" ({type(value).__name__}); give kinds={{{arg!r}: ...}}"
                " or skip={...: 'why'} in its row"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inputs = list(probes(kind, value))
        inputs += [(f"extra {v!r}"[:40], BORDERLINE, v) for v in row.extra.get(arg, ())]
        for label, severity, bad in inputs:
            call = {k: _fresh(v) for k, v in kwargs.items()}
            call[arg] = bad
            result, err, caught = _call(func, call, timeout)
            res.outcomes.append(
                classify(row, arg, label, severity, result, err, caught)
            )
    res.seconds = time.perf_counter() - start
    return res


def failures(result: RowResult) -> list[Outcome]:
    """The outcomes that break the test's rules.

    Clearly bad: anything but a named error or an annotated acceptance that did not
    end in an other exception. Borderline: a silent NaN/inf or an other exception.
    """
    bad = []
    for o in result.outcomes:
        if o.severity == BAD and o.category not in (NAMED, ANNOTATED):
            bad.append(o)
        elif o.severity == BORDERLINE and o.category in (OTHER, NONFINITE):
            bad.append(o)
    return bad


def describe_failures(result: RowResult) -> str:
    lines = [f"{result.row}: {len(failures(result))} inputs not handled"]
    for o in failures(result):
        lines.append(
            f"  {o.arg} = <{o.label}> ({o.severity}): {o.category}"
            + (f" - {o.detail}" if o.detail else "")
        )
    return "\n".join(lines)


@contextlib.contextmanager
def quiet_fds():
    """Silence what C libraries print (LAPACK's ``DLASCL`` messages) during a run."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


@contextlib.contextmanager
def sandbox():
    """Run the rows without side effects: figures go to a temporary folder, the
    matplotlib style is restored afterwards, and torch uses one thread meanwhile (tiny
    models on a shared machine: 10-40 times faster)."""
    import matplotlib
    import torch

    old = os.environ.get("BOOK_FIGURES_DIR")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp, matplotlib.rc_context():
        os.environ["BOOK_FIGURES_DIR"] = tmp
        try:
            yield
        finally:
            torch.set_num_threads(threads)
            if old is None:
                os.environ.pop("BOOK_FIGURES_DIR", None)
            else:
                os.environ["BOOK_FIGURES_DIR"] = old


# ----------------------------------------------------------------------------- report
def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "-"


def report(results: list[RowResult], *, details: bool = False) -> str:
    out = []
    status = Counter(r.status for r in results)
    n_inputs = sum(len(r.outcomes) for r in results)
    out.append(
        f"rows: {len(results)} ({status['ok']} audited, {status['record']} records"
        f" checked by their valid call only, {status['absent']} absent,"
        f" {status['valid call failed']} whose valid call fails); inputs: {n_inputs}"
    )
    for r in results:
        if r.status in ("absent", "valid call failed"):
            out.append(f"  {r.status}: {r.row} ({r.message})")
    modules = list(dict.fromkeys(r.module for r in results))
    for severity, columns in ((BAD, BAD_COLUMNS), (BORDERLINE, BORDER_COLUMNS)):
        counts = defaultdict(Counter)
        for r in results:
            for o in r.outcomes:
                if o.severity == severity:
                    counts[r.module][o.category] += 1
        total = Counter()
        for c in counts.values():
            total.update(c)
        width = 22
        head = f"{severity + ' inputs':<{width}}" + "".join(f"{c:>18}" for c in columns)
        out += ["", head + f"{'total':>8}"]
        for m in modules:
            c = counts.get(m, Counter())
            n = sum(c.values())
            if not n:
                continue
            out.append(
                f"{m:<{width}}" + "".join(f"{c[k]:>18}" for k in columns) + f"{n:>8}"
            )
        n = sum(total.values())
        out.append(
            f"{'total':<{width}}"
            + "".join(f"{total[k]:>11} ({_pct(total[k], n):>4})" for k in columns)
            + f"{n:>8}"
        )
    out += [""] + headline(results)
    if details:
        out += ["", "failures by function (inputs the test would reject):"]
        for r in results:
            if failures(r):
                out.append(describe_failures(r))
    return "\n".join(out)


def headline(results: list[RowResult]) -> list[str]:
    """The counts in the issue's terms, with the breakdowns."""
    every = [o for r in results for o in r.outcomes]
    bad = [o for o in every if o.severity == BAD]
    border = [o for o in every if o.severity == BORDERLINE]
    n_bad, cat = len(bad), Counter(o.category for o in bad)
    other = Counter(o.exc_type for o in bad if o.category == OTHER)
    torch_errors = other["RuntimeError"] + other["NotImplementedError"]
    imag = sum(o.imag_dropped for o in bad if o.category == NONSENSE)
    nonsense = Counter(
        o.label for o in bad if o.category == NONSENSE and not o.imag_dropped
    )
    nan_rows = sorted({o.row for o in every if o.category == NONFINITE})
    b_cat = Counter(o.category for o in border)
    b_other = Counter(o.exc_type for o in border if o.category == OTHER)
    return [
        f"clearly bad: {n_bad} inputs; named error {cat[NAMED]}"
        f" ({_pct(cat[NAMED], n_bad)}), other exception {cat[OTHER]}"
        f" ({_pct(cat[OTHER], n_bad)}; torch RuntimeError/NotImplementedError"
        f" {torch_errors}), silent NaN/inf {cat[NONFINITE]}, accepted nonsense"
        f" {cat[NONSENSE]} (imaginary part dropped {imag},"
        f" other {cat[NONSENSE] - imag}),"
        f" annotated {cat[ANNOTATED]}",
        "  other exceptions by type: "
        + ", ".join(f"{k} {v}" for k, v in other.most_common()),
        "  accepted nonsense (besides complex) by input: "
        + ", ".join(f"{k} {v}" for k, v in nonsense.most_common()),
        f"borderline: {len(border)} inputs; ok {b_cat[OK]}, named error {b_cat[NAMED]},"
        f" other exception {b_cat[OTHER]}, silent NaN/inf {b_cat[NONFINITE]}",
        "  other exceptions by type: "
        + ", ".join(f"{k} {v}" for k, v in b_other.most_common()),
        f"silent NaN/inf, all inputs: {cat[NONFINITE] + b_cat[NONFINITE]} in"
        f" {len(nan_rows)} functions: " + ", ".join(nan_rows),
        f"rows failing the test's rules: {sum(bool(failures(r)) for r in results)}",
    ]


def noncompliant(results: list[RowResult]) -> str:
    by_module = defaultdict(list)
    for r in results:
        if failures(r):
            by_module[r.module].append(r.row)
    lines = ["NOT_YET_COMPLIANT = {"]
    for m, rows in by_module.items():
        lines.append(f"    # {m}")
        lines += [f'    "{row}",' for row in rows]
    lines.append("}")
    return "\n".join(lines)


def run_all(rows, resolver: Resolver, only: str | None = None) -> list[RowResult]:
    with sandbox():
        return [
            run_row(row, resolver)
            for row in rows
            if only is None or row.id.startswith(only)
        ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="checkout whose lib is audited")
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--details", action="store_true", help="list every failure")
    parser.add_argument("--only", help="audit rows whose id starts with this")
    parser.add_argument(
        "--noncompliant",
        action="store_true",
        help="print the rows failing the test's rules as a NOT_YET_COMPLIANT set",
    )
    args = parser.parse_args(argv)
    if args.root is not None:
        sys.path.insert(0, str(args.root.resolve()))
    resolver = Resolver(args.root)
    table = load_table(args.table)
    start = time.perf_counter()
    with quiet_fds():
        results = run_all(table.ROWS, resolver, args.only)
    print(f"Bad-input audit of {resolver.lib_dir} (table {args.table})")
    if resolver.renamed:
        print("old names used: " + ", ".join(sorted(resolver.renamed)))
    print(report(results, details=args.details))
    if args.noncompliant:
        print()
        print(noncompliant(results))
    print(f"\n{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
