"""lib.checks: a verdict holds exactly when its inequality does, and says so."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import checks

finite = st.floats(-1e6, 1e6, allow_nan=False)
width = st.floats(0, 1e3, allow_nan=False)


@given(finite, finite, width)
def test_close_holds_iff_within_band(measured, expected, tol):
    inside = abs(measured - expected) <= tol
    if inside:
        v = checks.close("c", measured, expected, tol)
        assert v.holds and str(v).endswith(": holds")
    else:
        with pytest.raises(AssertionError, match="FAILS"):
            checks.close("c", measured, expected, tol)


@given(finite, finite, width)
def test_one_sided(measured, bound, tol):
    if measured - bound <= tol:
        assert checks.at_most("m", measured, bound, tol).holds
    else:
        with pytest.raises(AssertionError):
            checks.at_most("m", measured, bound, tol)
    if measured - bound >= -tol:
        assert checks.at_least("m", measured, bound, tol).holds
    else:
        with pytest.raises(AssertionError):
            checks.at_least("m", measured, bound, tol)


def test_line_reports_se_and_false_alarm_probability():
    line = str(checks.close("slope", -0.51, -0.5, 0.03, se=0.01, fpp=1e-3))
    assert line == (
        "slope: -0.51 ± 0.01; theory -0.5, band ± 0.03 (P(false alarm) ≤ 0.001): holds"
    )
    assert "rounding tolerance" in str(checks.exact("sum", 1.0, 1.0, 1e-15))


@pytest.mark.parametrize("bad", [math.nan, math.inf, "1", None, True, 1j])
def test_bad_measurements_are_named(bad):
    with pytest.raises(ValueError, match="measured"):
        checks.close("c", bad, 0.0, 1.0)
    with pytest.raises(ValueError, match="tol"):
        checks.close("c", 0.0, 0.0, -1.0)
