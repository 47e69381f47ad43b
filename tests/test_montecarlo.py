"""lib.montecarlo against direct computations."""

import numpy as np
import pytest

from lib.montecarlo import loglog_slope, mean_se


def test_mean_se_against_the_definition():
    x = np.random.default_rng(0).normal(size=(3, 50))
    m, se = mean_se(x)  # along the last axis
    np.testing.assert_allclose(m, [row.mean() for row in x], rtol=1e-14)
    np.testing.assert_allclose(
        se,
        [np.sqrt(np.sum((row - row.mean()) ** 2) / 49 / 50) for row in x],
        rtol=1e-12,
    )
    m0, se0 = mean_se(x, axis=0)
    assert m0.shape == se0.shape == (50,)
    for bad, msg in [
        (np.ones((3, 1)), "at least 2"),
        ([np.nan, 1.0], "finite"),
        ([], "empty"),
        (1.0, "axis"),
    ]:
        with pytest.raises(ValueError, match=msg):
            mean_se(bad)


def test_unweighted_slope_with_propagated_error():
    x = np.array([16.0, 64, 256, 1024])
    y = np.array([0.30, 0.16, 0.07, 0.04])
    se = np.array([0.01, 0.008, 0.002, 0.003])
    s, s_se, c = loglog_slope(x, y, se, weighted=False)
    slope_ls, icpt = np.polyfit(
        np.log(x), np.log(y), 1
    )  # ordinary least squares, independently
    assert s == pytest.approx(slope_ls, rel=1e-12) and c == pytest.approx(
        icpt, rel=1e-12
    )
    # delta method: slope = Σ c_i log y_i with c_i = (u_i − ū)/Σ(u − ū)², Var log y_i = (se_i/y_i)²
    u = np.log(x) - np.log(x).mean()
    assert s_se == pytest.approx(
        np.sqrt(np.sum((u / np.sum(u**2)) ** 2 * (se / y) ** 2)), rel=1e-12
    )
    # weighted by default: differs from the unweighted fit, with standard error 1/sqrt(Σ w (u_w)²)
    s_w, s_w_se, _ = loglog_slope(x, y, se)
    w = (y / se) ** 2
    uw = np.log(x) - np.sum(w * np.log(x)) / w.sum()
    assert s_w_se == pytest.approx(1 / np.sqrt(np.sum(w * uw**2)), rel=1e-12)
    assert abs(s_w - s) > 1e-3
