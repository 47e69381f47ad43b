"""Every public function of lib rejects bad inputs by name: the table-driven test.

One test per row of ``tests/bad_inputs.py``. The driver ``tools/audit_inputs.py``
breaks each argument of the row's valid call in turn. Every clearly bad input must
raise a ``ValueError``/``TypeError`` naming the argument (or be annotated in the row as
legitimate); no borderline input may return NaN/inf silently or raise an exception
that does not name it. Rows listed in ``NOT_YET_COMPLIANT`` are strict expected
failures: when such a function starts passing, its test fails until its line is
removed. A row whose valid call fails, or that lib no longer has, fails outright,
unless the failure is a known bug of lib listed (with its reason) in
``VALID_CALL_BROKEN``: then the test is an expected failure until the call works.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


audit = _load("audit_inputs", ROOT / "tools" / "audit_inputs.py")
table = _load("bad_inputs", ROOT / "tests" / "bad_inputs.py")


@pytest.fixture(scope="module")
def resolver():
    with audit.sandbox():
        yield audit.Resolver()


class ValidCallFailed(Exception):
    """The row's valid call fails (a bug in lib listed in VALID_CALL_BROKEN)."""


def _param(row):
    marks = ()
    if row.id in table.VALID_CALL_BROKEN:
        marks = pytest.mark.xfail(
            strict=True,
            raises=(ValidCallFailed, audit.NonCompliance),
            reason=table.VALID_CALL_BROKEN[row.id],
        )
    elif row.id in table.NOT_YET_COMPLIANT:
        marks = pytest.mark.xfail(
            strict=True,
            raises=audit.NonCompliance,
            reason="not yet compliant (tests/bad_inputs.py: NOT_YET_COMPLIANT)",
        )
    return pytest.param(row, id=row.id, marks=marks)


@pytest.mark.parametrize("row", [_param(r) for r in table.ROWS])
def test_bad_inputs(row, resolver):
    result = audit.run_row(row, resolver)
    if result.status == "absent":
        pytest.fail(f"{row.id} is not in lib: update or remove its row")
    if result.status == "valid call failed":
        message = f"the table's valid call of {row.id} fails: {result.message}"
        if row.id in table.VALID_CALL_BROKEN:
            raise ValidCallFailed(message)
        pytest.fail(message)
    if row.id in table.VALID_CALL_BROKEN:
        pytest.fail(
            f"the valid call of {row.id} works again: delete it from"
            " VALID_CALL_BROKEN in tests/bad_inputs.py"
        )
    if audit.failures(result):
        raise audit.NonCompliance(audit.describe_failures(result))


def test_table_covers_the_public_api(resolver):
    """Every public name of every module in lib/ (and every public method of a public
    class) has exactly one row."""
    ids = [r.id for r in table.ROWS]
    assert len(ids) == len(set(ids)), "duplicate rows"
    modules = sorted(
        f"lib.{p.stem}"
        for p in resolver.lib_dir.glob("*.py")
        if not p.name.startswith("_")
    )
    missing = []
    for name in modules:
        module = resolver.module(name)
        assert module is not None, f"{name} is missing"
        for public in audit.public_names(module):
            obj = getattr(module, public)
            home = getattr(obj, "__module__", name)
            if home != name and home in modules:
                continue  # a re-export: audited in its own module's row
            if f"{name}.{public}" not in ids:
                missing.append(f"{name}.{public}")
            if isinstance(obj, type) and not issubclass(obj, BaseException):
                missing += [
                    f"{name}.{public}.{m}"
                    for m in audit.public_methods(obj)
                    if f"{name}.{public}.{m}" not in ids
                ]
    assert not missing, f"rows missing in tests/bad_inputs.py: {missing}"
    for listed in ("NOT_YET_COMPLIANT", "VALID_CALL_BROKEN"):
        unknown = sorted(set(getattr(table, listed)) - set(ids))
        assert not unknown, f"{listed} names unknown rows: {unknown}"


def test_names_argument():
    """The rule that decides whether a message names an argument."""
    assert audit.names_argument("a must be > 0, got -1.0", ["a"])
    assert not audit.names_argument("x must be a real number", ["a"])
    assert audit.names_argument("need q (d,), K (n, L, d)", ["K"])
    assert audit.names_argument("bandwidth must be finite", ["bandwidth"])
    assert not audit.names_argument("beta must be finite", ["beta_init"])
    assert not audit.names_argument("reference must be finite", ["bound"])
