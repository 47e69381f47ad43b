"""One-line verdicts: how a chapter states a numerical check, and fails loudly.

A chapter's visible check is one call that returns a :class:`Verdict` and prints as one
line, e.g. ``fixed-β MSE slope: -0.512 ± 0.011; theory -0.5, band ± 0.034 (P(false
alarm) ≤ 1e-3): holds``. If the claim does not hold the call raises ``AssertionError``
with that same line, so the chapter (and the book's build) fails. The band's derivation
is the chapter's mathematics; this module only applies it.

- :func:`close`: ``|measured - expected| ≤ tol``;
- :func:`at_most` / :func:`at_least`: a one-sided bound;
- :func:`exact`: agreement to a rounding tolerance (sympy vs floating point, etc.);
- :func:`round_sig`: a number rounded for a printed summary that nbval compares.

Examples
--------
>>> print(close("slope", -0.512, -0.5, 0.034, se=0.011, fpp=1e-3))
slope: -0.512 ± 0.011; theory -0.5, band ± 0.034 (P(false alarm) ≤ 0.001): holds
>>> at_most("sup-gap", 0.3, 0.2)
Traceback (most recent call last):
...
AssertionError: sup-gap: 0.3; bound ≤ 0.2: FAILS
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.validation import InputTypeError, check_int, check_positive, check_real

__all__ = ["Verdict", "at_least", "at_most", "close", "exact", "round_sig"]


def _fmt(x: float, digits: int) -> str:
    return f"{x:.{digits}g}"


@dataclass(frozen=True)
class Verdict:
    """A checked claim: what was measured, what theory says, and whether it holds."""

    claim: str
    measured: float
    reference: float
    kind: str  # "close", "at_most", "at_least", "exact"
    tol: float = 0.0
    se: float | None = None
    fpp: float | None = None
    digits: int = 3

    @property
    def holds(self) -> bool:
        gap = self.measured - self.reference
        if self.kind == "at_most":
            return gap <= self.tol
        if self.kind == "at_least":
            return gap >= -self.tol
        return abs(gap) <= self.tol

    def __str__(self) -> str:
        d = self.digits
        text = f"{self.claim}: {_fmt(self.measured, d)}"
        if self.se is not None:
            text += f" ± {_fmt(self.se, 2)}"
        ref = _fmt(self.reference, d)
        if self.kind == "close":
            text += f"; theory {ref}, band ± {_fmt(self.tol, 2)}"
        elif self.kind == "exact":
            text += f"; exact {ref}, rounding tolerance {_fmt(self.tol, 2)}"
        else:
            sign = "≤" if self.kind == "at_most" else "≥"
            slack = f" (+ {_fmt(self.tol, 2)})" if self.tol else ""
            text += f"; bound {sign} {ref}{slack}"
        if self.fpp is not None:
            text += f" (P(false alarm) ≤ {self.fpp:.2g})"
        return text + (": holds" if self.holds else ": FAILS")

    def _repr_markdown_(self) -> str:
        return str(self)


_REFERENCE_NAME = {
    "close": "expected",
    "exact": "expected",
    "at_most": "bound",
    "at_least": "bound",
}


def _verdict(claim, measured, reference, kind, tol, se, fpp, digits) -> Verdict:
    if not isinstance(claim, str) or not claim:
        raise InputTypeError(f"claim must be a non-empty string, got {claim!r}")
    v = Verdict(
        claim,
        check_real("measured", measured),
        check_real(_REFERENCE_NAME[kind], reference),
        kind,
        check_positive("tol", tol, allow_zero=True),
        None if se is None else check_positive("se", se, allow_zero=True),
        None if fpp is None else check_real("fpp", fpp, low=0.0, high=1.0),
        check_int("digits", digits, minimum=1, maximum=17),
    )
    if not v.holds:
        raise AssertionError(str(v))
    return v


def close(
    claim: str,
    measured: float,
    expected: float,
    tol: float,
    *,
    se: float | None = None,
    fpp: float | None = None,
    digits: int = 3,
) -> Verdict:
    """Check ``|measured - expected| ≤ tol``; ``tol`` is a derived band.

    ``se`` (the measurement's standard error) and ``fpp`` (the probability that the
    check fails although the claim is true) are reported in the verdict line.
    """
    return _verdict(claim, measured, expected, "close", tol, se, fpp, digits)


def at_most(
    claim: str,
    measured: float,
    bound: float,
    tol: float = 0.0,
    *,
    se: float | None = None,
    fpp: float | None = None,
    digits: int = 3,
) -> Verdict:
    """Check ``measured ≤ bound + tol``."""
    return _verdict(claim, measured, bound, "at_most", tol, se, fpp, digits)


def at_least(
    claim: str,
    measured: float,
    bound: float,
    tol: float = 0.0,
    *,
    se: float | None = None,
    fpp: float | None = None,
    digits: int = 3,
) -> Verdict:
    """Check ``measured ≥ bound - tol``."""
    return _verdict(claim, measured, bound, "at_least", tol, se, fpp, digits)


def exact(
    claim: str, measured: float, expected: float, tol: float, *, digits: int = 3
) -> Verdict:
    """Check agreement up to a rounding tolerance ``tol`` (derived, not tuned)."""
    return _verdict(claim, measured, expected, "exact", tol, None, None, digits)


def round_sig(x: float, digits: int = 2) -> float:
    """``x`` rounded to ``digits`` significant digits (for summaries nbval compares).

    >>> round_sig(0.012345, 3)
    0.0123
    """
    x = check_real("x", x, allow_inf=True)
    digits = check_int("digits", digits, minimum=1, maximum=17)
    return float(f"{x:.{digits}g}")
