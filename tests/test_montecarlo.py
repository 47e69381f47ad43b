"""lib.montecarlo against independent computations.

Oracles: exact rational arithmetic (``Fraction``) for means and
standard deviations, ``numpy.polyfit`` and weighted least squares by
``numpy.linalg.lstsq`` for slopes, the closed-form studentization term and simulated
coverage for the Edgeworth bands, a bootstrap for the nested-slope standard error.
Hypothesis draws the samples (shapes, axes, values up to ±1e300) and the fitted points
(abscissae, log-uniform ordinates and errors).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from lib import montecarlo as mc
from lib.montecarlo import SlopeFit, loglog_slope, mean_se
from lib.validation import InputTypeError

FAST = settings(max_examples=30, deadline=None)
EPS = np.finfo(float).eps


def exact_mean_sd(values) -> tuple[float, float]:
    """Mean and ddof=1 standard deviation in exact rational arithmetic."""
    q = [Fraction(v) for v in values]
    mean = sum(q) / len(q)
    var = sum((v - mean) ** 2 for v in q) / (len(q) - 1)
    k = (var.numerator.bit_length() - var.denominator.bit_length()) // 2
    sd = math.sqrt(float(var / Fraction(4) ** k)) * 2.0**k if k < 1030 else math.inf
    return float(mean), sd


@FAST
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=6),
        elements=st.floats(-1e300, 1e300),
    ),
    st.data(),
)
def test_mean_se_is_exact_mean_and_sd_over_root_n(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    rows = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    oracle = [exact_mean_sd(r) for r in rows]
    if any(not math.isfinite(s) for _, s in oracle):
        with pytest.raises(FloatingPointError):
            mean_se(x, axis=axis)
        return
    m, se = mean_se(x, axis=axis)
    n = x.shape[axis]
    for got_m, got_se, (om, osd) in zip(m.ravel(), se.ravel(), oracle, strict=True):
        slack = 8 * n * EPS * np.abs(rows).max() + 1e-320  # 1e-320: subnormal rounding
        assert abs(got_m - om) <= slack
        assert got_se == pytest.approx(osd / math.sqrt(n), rel=1e-12, abs=slack)


def test_mean_se_near_1e200_is_finite():
    """The audit's case: squares of 1e200 overflow; the scaled formula does not."""
    values = np.array([1.0, 1.5, 2.0, 3.5]) * 1e200
    m, se = mean_se(values)
    om, osd = exact_mean_sd(values)
    assert m == pytest.approx(om, rel=1e-15) and se == pytest.approx(osd / 2, rel=1e-14)


def test_mean_se_of_ordinary_values_is_the_textbook_formula_bit_for_bit():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(3, 50))
    m, se = mean_se(x)
    assert np.array_equal(m, x.mean(axis=-1))
    assert np.array_equal(se, x.std(axis=-1, ddof=1) / math.sqrt(50))


def test_mean_se_overflowing_spread_raises():
    with pytest.raises(FloatingPointError, match="standard error"):
        mean_se([-1.7e308, 1.7e308])


@FAST
@given(
    st.lists(st.integers(-20, 40), min_size=3, max_size=8, unique=True),
    st.floats(-3, 3),
    st.floats(-5, 5),
    st.data(),
)
def test_slope_against_polyfit_and_weighted_lstsq(powers, b, c, data):
    x = 1.5 ** np.array(powers, dtype=float)
    k = x.size
    noise = np.array(data.draw(st.lists(st.floats(-0.5, 0.5), min_size=k, max_size=k)))
    y = np.exp(c + b * np.log(x) + noise)
    rel = np.array(data.draw(st.lists(st.floats(1e-3, 1.0), min_size=k, max_size=k)))
    se = rel * y
    fit = loglog_slope(x, y)
    slope, icpt = np.polyfit(np.log(x), np.log(y), 1)
    assert mc.loglog_coefficients(x) @ np.log(y) == pytest.approx(
        slope, rel=1e-9, abs=1e-10
    )
    assert fit.slope == pytest.approx(slope, rel=1e-9, abs=1e-10)
    assert fit.intercept == pytest.approx(icpt, rel=1e-9, abs=1e-9)
    # weighted: least squares with rows scaled by 1/rel (precision weights 1/rel²)
    design = np.column_stack([np.ones_like(x), np.log(x)]) / rel[:, None]
    coef = np.linalg.lstsq(design, np.log(y) / rel, rcond=None)[0]
    fit_w = loglog_slope(x, y, se)
    cov = np.linalg.inv(design.T @ design)
    assert fit_w.slope == pytest.approx(coef[1], rel=1e-7, abs=1e-8)
    assert fit_w.se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-7)
    # unweighted with propagated errors: √Σ c_i² r_i², c_i = (u_i − ū)/Σ(u − ū)²
    u = np.log(x) - np.log(x).mean()
    fit_u = loglog_slope(x, y, se, weighted=False)
    assert fit_u.slope == pytest.approx(slope, rel=1e-9, abs=1e-10)
    expected_se = np.sqrt(np.sum((u / np.sum(u**2)) ** 2 * rel**2))
    assert fit_u.se == pytest.approx(expected_se, rel=1e-9)


def test_weights_past_overflow():
    """(y/se)² = 1e400 overflowed the old weights (NaN slope); now scaled."""
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    y = np.array([3.0, 0.4, 0.02, 0.003])
    rel = np.array([0.1, 0.01, 0.2, 0.05])
    base = loglog_slope(x, y, rel * y)
    tiny = loglog_slope(x, y, rel * y * 1e-200)
    assert tiny.slope == pytest.approx(base.slope, rel=1e-12)
    assert tiny.intercept == pytest.approx(base.intercept, rel=1e-12)
    assert tiny.se == pytest.approx(base.se * 1e-200, rel=1e-12)


def test_exact_power_law_and_tuple_compatibility():
    fit = loglog_slope([2.0, 4.0, 8.0, 16.0], [5.0, 2.5, 1.25, 0.625])
    assert isinstance(fit, SlopeFit) and isinstance(fit.slope, float)
    slope, se, icpt = fit
    assert slope == pytest.approx(-1.0, rel=1e-14) and se < 1e-14
    assert icpt == pytest.approx(np.log(10.0), rel=1e-14)
    # two points with errors: slope log 2 / log 2, se √((0.1/1)² + (0.1/2)²) / log 2
    two = loglog_slope([1.0, 2.0], [1.0, 2.0], [0.1, 0.1])
    assert two.slope == pytest.approx(1.0, rel=1e-14)
    assert two.se == pytest.approx(np.hypot(0.1, 0.05) / np.log(2), rel=1e-14)


BAD = [
    (lambda: mean_se([]), ValueError, "samples"),
    (lambda: mean_se(1.0), ValueError, "samples"),
    (lambda: mean_se([np.nan, 1.0]), ValueError, "samples"),
    (lambda: mean_se([1.0, np.inf]), ValueError, "samples"),
    (lambda: mean_se([1 + 1j, 2.0]), InputTypeError, "samples"),
    (lambda: mean_se([True, False]), InputTypeError, "samples"),
    (lambda: mean_se([[1.0, 2.0], [3.0]]), InputTypeError, "samples"),
    (lambda: mean_se("abc"), InputTypeError, "samples"),
    (lambda: mean_se(np.ones((3, 1))), ValueError, "samples"),
    (lambda: mean_se(np.ones((3, 2)), axis=2), ValueError, "axis"),
    (lambda: mean_se(np.ones((3, 2)), axis=0.5), InputTypeError, "axis"),
    (lambda: loglog_slope([1.0, 2.0, 0.0], [1.0, 2.0, 3.0]), ValueError, "x"),
    (lambda: loglog_slope([1.0, 2.0, 3.0], [1.0, -2.0, 3.0]), ValueError, "y"),
    (lambda: loglog_slope([1.0, 2.0, np.nan], [1.0, 2.0, 3.0]), ValueError, "x"),
    (lambda: loglog_slope([1.0, 2.0, 3.0], [1.0, 2.0, 1j]), InputTypeError, "y"),
    (lambda: loglog_slope([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "x"),
    (lambda: loglog_slope([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "x"),
    (lambda: loglog_slope([1.0, 2.0], [1.0, 2.0]), ValueError, "an unweighted"),
    (lambda: loglog_slope([1.0, 2.0], [1.0, 2.0], [0.1, 0.0]), ValueError, "se"),
    (lambda: loglog_slope([1.0, 2.0], [1.0, 2.0], [0.1]), ValueError, "se"),
    (
        lambda: loglog_slope([1.0, 2.0], [1.0, 2.0], [0.1, 0.1], weighted="no"),
        InputTypeError,
        "weighted",
    ),
]


@pytest.mark.parametrize(
    "call, error, name", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_inputs_raise_named_errors(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


# ----------------------------------------------------------------------------- bands
@FAST
@given(fpp=st.floats(1e-6, 0.2), n=st.integers(2, 10**6))
def test_edgeworth_z_is_the_normal_quantile_without_skew_beyond_order_one_over_n(
    fpp, n
):
    z = mc.edgeworth_z(fpp, n)
    z0 = stats.norm.isf(fpp / 2)
    assert z >= z0 - 1e-12
    # with γ = κ = 0 only the studentization term remains: tail = 2Φ(−z) + z(z²+3)φ/(2n)
    tail = 2 * stats.norm.sf(z) + z * (z * z + 3) * stats.norm.pdf(z) / (2 * n)
    assert tail <= fpp * (1 + 1e-8) or z == z0


def test_edgeworth_band_coverage_for_skewed_data():
    """Exponential data (γ = 2, κ = 6), n = 40: the two-sided miss rate of the
    normal band at 1 % is far above 1 %; the Edgeworth band is closer (5000 reps)."""
    rng = np.random.default_rng(0)
    x = rng.exponential(size=(5000, 40))
    T = (x.mean(1) - 1) / (x.std(1, ddof=1) / math.sqrt(40))
    z_norm = stats.norm.isf(0.005)
    z_edge = mc.edgeworth_z(0.01, 40, 2.0, 6.0)
    miss_norm, miss_edge = np.mean(np.abs(T) > z_norm), np.mean(np.abs(T) > z_edge)
    assert z_edge > z_norm and miss_edge < 0.6 * miss_norm


def test_mean_and_sum_bands_with_controls():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 1.5, (4000, 3))
    c = mc.latent_controls(z, 1.5)
    np.testing.assert_allclose(c.mean(0), 0, atol=0.2)  # mean zero by construction
    y = 2.0 + (z**2).sum(1) - 3 * 1.5**2 + rng.normal(0, 0.1, 4000)
    plain = mc.mean_band(y, 2.0, 1e-3)
    cv = mc.mean_band(y, 2.0, 1e-3, controls=c)
    assert cv.se < 0.1 * plain.se and abs(cv.measured - 2.0) <= cv.tol
    both = mc.sum_band([(y, c), rng.normal(1.0, 1.0, 500)], 3.0, 1e-3)
    assert abs(both.measured - 3.0) <= both.tol and both.n == 4500
    with pytest.raises(ValueError, match="30"):
        mc.mean_band(np.ones(10), 1.0, 1e-3)
    with pytest.raises(ValueError, match="controls"):
        mc.mean_band(y, 2.0, 1e-3, controls=c[:10])
    with pytest.raises(InputTypeError, match="groups"):
        mc.sum_band(y, 2.0, 1e-3)


def test_nested_slope_band():
    L = np.array([100.0, 400.0, 1600.0, 6400.0])
    y = np.outer(1 / L, np.linspace(0.5, 1.5, 60))  # exact power law per sequence
    b = mc.nested_slope_band(L, y, -0.5, 1e-3)
    np.testing.assert_allclose(b.measured, -0.5, atol=1e-12)
    assert b.se < 1e-12
    rng = np.random.default_rng(1)
    y = rng.chisquare(3, (4, 400)) / 3 / L[:, None]
    b = mc.nested_slope_band(L, y, -0.5, 1e-3)
    # the delta-method SE against a direct bootstrap of the slope
    idx = rng.integers(0, 400, (300, 400))
    x = np.log(L) - np.log(L).mean()
    boots = [0.5 * x @ np.log(y[:, i].mean(1)) / (x @ x) for i in idx]
    np.testing.assert_allclose(b.se, np.std(boots), rtol=0.25)
    with pytest.raises(ValueError, match="positive mean"):
        mc.nested_slope_band(L, -y, -0.5, 1e-3)
