"""lib.latent against independent computations.

Oracles: exact rational arithmetic (``fractions.Fraction``) for the conjugate
formulas, whatever the scales; the Pólya-urn chain rule; quadrature of Bayes' rule
on the raw likelihood; Gaussian conditioning by linear algebra; the Beta-quantile
form of the median's variance; least squares for the orthogonality statistic.
Hypothesis draws the data (values, lengths, batch shapes, extreme scales).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate, stats

from lib.latent import (
    BetaBernoulli,
    GaussianStudy,
    HeadPredictions,
    NormalNormal,
    normal_median_variance,
    orthogonality_statistic,
    representation_predictions,
    representation_risks,
    token_features,
)
from lib.validation import InputTypeError

EPS = np.finfo(float).eps
FAST = settings(max_examples=25, deadline=None)

positive = st.floats(1e-3, 1e3)
extreme_scale = st.floats(1e-250, 1e250)
token = st.floats(-1e3, 1e3)


def exact_posterior(mu0, tau, sigma, x):
    """Posterior (m, v) in exact rational arithmetic, rounded once to float."""
    prec = 1 / Fraction(tau) ** 2 + len(x) / Fraction(sigma) ** 2
    v = 1 / prec
    m = v * (
        Fraction(mu0) / Fraction(tau) ** 2
        + sum(map(Fraction, x)) / Fraction(sigma) ** 2
    )
    return m, v


def as_float(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.inf


# ---------------------------------------------------------------- Beta–Bernoulli
def polya_chain(a, b, seq):
    """p(seq) by the sequential (Pólya urn) chain rule."""
    p, k = 1.0, 0
    for t, xt in enumerate(seq):
        p1 = (a + k) / (a + b + t)
        p *= p1 if xt == 1 else 1 - p1
        k += xt
    return p


@FAST
@given(positive, positive, st.lists(st.integers(0, 1), max_size=25))
def test_beta_bernoulli_predictive_is_the_polya_chain_rule(a, b, seq):
    model = BetaBernoulli(a, b)
    expected = polya_chain(a, b, seq + [1]) / polya_chain(a, b, seq)
    assert model.predictive(seq) == pytest.approx(expected, rel=1e-12)
    evidence = np.exp(model.log_marginal(seq))
    assert evidence == pytest.approx(polya_chain(a, b, seq), rel=1e-9)


@FAST
@given(
    positive,
    positive,
    hnp.arrays(
        np.int64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
        elements=st.integers(0, 1),
    ),
    st.randoms(use_true_random=False),
)
def test_beta_bernoulli_batched_posterior_is_order_free(a, b, x, rnd):
    model = BetaBernoulli(a, b)
    alpha, beta = model.posterior(x)
    k = x.sum(axis=-1)
    assert np.array_equal(alpha, a + k) and np.array_equal(beta, b + (x.shape[-1] - k))
    order = list(range(x.shape[-1]))
    rnd.shuffle(order)
    assert np.array_equal(model.predictive(x[..., order]), model.predictive(x))


def test_beta_bernoulli_posterior_matches_quadrature():
    a, b, x = 2.5, 0.7, [0, 0, 0, 1, 1, 0, 1]

    def unnorm(t):
        return stats.beta.pdf(t, a, b) * np.prod(np.where(np.array(x) == 1, t, 1 - t))

    z0 = integrate.quad(unnorm, 0, 1, epsabs=0, epsrel=1e-11)[0]
    z1 = integrate.quad(lambda t: t * unnorm(t), 0, 1, epsabs=0, epsrel=1e-11)[0]
    model = BetaBernoulli(a, b)
    assert model.predictive(x) == pytest.approx(z1 / z0, rel=1e-9)
    assert np.exp(model.log_marginal(x)) == pytest.approx(z0, rel=1e-9)


def test_beta_bernoulli_sampler_marginals():
    """P(x_1 = 1) = a/(a+b), P(x_1 = x_2 = 1) = a(a+1)/((a+b)(a+b+1)): 5σ bands."""
    t1, x1 = BetaBernoulli(2.0, 5.0).sample(3, 20_000, np.random.default_rng(11))
    t2, x2 = BetaBernoulli(2.0, 5.0).sample(3, 20_000, np.random.default_rng(11))
    assert np.array_equal(t1, t2) and np.array_equal(x1, x2) and x1.shape == (20_000, 3)
    for observed, p in [
        (x1[:, 0].mean(), 2 / 7),
        ((x1[:, 0] * x1[:, 1]).mean(), 6 / 56),
    ]:
        assert abs(observed - p) <= 5 * np.sqrt(p * (1 - p) / x1.shape[0])


# ---------------------------------------------------------------- Normal–Normal
@settings(max_examples=50, deadline=None)
@given(st.floats(-1e3, 1e3), extreme_scale, extreme_scale, st.lists(token, max_size=12))
def test_normal_normal_matches_exact_rational_formula_at_any_scale(mu0, tau, sigma, x):
    """Extreme τ, σ (1e-250 … 1e250): no division by zero, no silent inf/NaN."""
    model = NormalNormal(mu0, tau, sigma)
    m_exact, v_exact = exact_posterior(mu0, tau, sigma, x)
    v_float = as_float(v_exact)
    if not math.isfinite(v_float):
        with pytest.raises(FloatingPointError):
            model.posterior(x)
        return
    m, v = model.posterior(x)
    assert v == pytest.approx(v_float, rel=1e-12, abs=1e-300)
    # m = μ0 + gain Σ(x − μ0): rounding is relative to the terms, not to m
    gain = 1 / (Fraction(sigma) ** 2 / Fraction(tau) ** 2 + len(x)) if x else 0
    scale = abs(mu0) + as_float(gain * sum(abs(Fraction(t) - Fraction(mu0)) for t in x))
    assert abs(m - as_float(m_exact)) <= 8 * (len(x) + 2) * EPS * scale


@FAST
@given(st.floats(-5, 5), positive, positive, st.lists(st.floats(-5, 5), max_size=8))
def test_normal_normal_matches_gaussian_conditioning(mu0, tau, sigma, x):
    """Schur complement of the joint covariance of (z, x_1, …, x_L)."""
    model = NormalNormal(mu0, tau, sigma)
    L = len(x)
    cov_xx = tau**2 * np.ones((L, L)) + sigma**2 * np.eye(L)
    gain = np.linalg.solve(cov_xx, tau**2 * np.ones(L)) if L else np.zeros(0)
    m, v = model.posterior(x)
    cond = 1 + L * tau**2 / sigma**2
    assert m == pytest.approx(
        mu0 + gain @ (np.array(x) - mu0), rel=1e-9 * cond, abs=1e-9
    )
    assert v == pytest.approx(tau**2 - tau**2 * gain.sum(), rel=1e-8 * cond, abs=1e-12)
    pm, pv = model.predictive(x)
    assert pm == m and pv == pytest.approx(v + sigma**2, rel=1e-14)


@FAST
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3), elements=token),
    st.randoms(use_true_random=False),
)
def test_normal_normal_batches_and_permutations(x, rnd):
    model = NormalNormal(0.3, 1.2, 0.9)
    m, v = model.posterior(x)
    assert m.shape == v.shape == x.shape[:-1]
    first = tuple(0 for _ in x.shape[:-1])
    assert m[first] == model.posterior(x[first])[0]
    order = list(range(x.shape[-1]))
    rnd.shuffle(order)
    m2, v2 = model.posterior(x[..., order])
    assert np.array_equal(v, v2)
    bound = 4 * x.shape[-1] * EPS * (np.abs(x - 0.3).sum(axis=-1) + 1)
    assert np.all(np.abs(m - m2) <= bound)


@settings(max_examples=8, deadline=None)
@given(
    st.lists(st.floats(-4, 4), min_size=1, max_size=6),
    st.floats(0.3, 3),
    st.floats(0.3, 3),
)
def test_quadrature_expectation_matches_closed_forms(x, tau, sigma):
    model = NormalNormal(0.5, tau, sigma)
    m, v = model.posterior(x)
    for g, exact, kinks in [
        (lambda t: t, m, ()),
        (lambda t: t * t, m**2 + v, ()),
        (lambda t: float(t > 0), stats.norm.cdf(m / np.sqrt(v)), (0.0,)),
    ]:
        value, err = model.quadrature_expectation(x, g, kinks)
        assert err < 1e-8
        assert abs(value - exact) <= err + 64 * EPS * max(1, abs(exact))


def test_quadrature_expectation_without_tokens_is_the_prior():
    value, _ = NormalNormal(0.7, 2.0, 1.0).quadrature_expectation([], lambda t: t * t)
    assert value == pytest.approx(0.7**2 + 4.0, rel=1e-10)


def test_posterior_variance_and_bayes_risk():
    model = NormalNormal(0.0, 1.5, 2.0)
    Ls = np.array([0, 1, 7, 1000])
    expected = [float(1 / (1 / Fraction(1.5) ** 2 + L / Fraction(4))) for L in Ls]
    np.testing.assert_allclose(model.posterior_variance(Ls), expected, rtol=1e-15)
    assert model.posterior_variance(0) == 1.5**2
    assert model.bayes_risk(3, 0.5) == pytest.approx(
        expected[0] * 0 + 1 / (1 / 2.25 + 0.75) + 0.25
    )
    assert model.bayes_risk(3, 0.0) == model.posterior_variance(3)


def test_normal_normal_sampler_moments():
    """E z = μ0, Var x_1 = τ² + σ², Cov(x_1, x_2) = τ²: 5σ bands."""
    mu0, tau, sigma, n = 0.7, 1.5, 0.5, 40_000
    z, x = NormalNormal(mu0, tau, sigma).sample(2, n, np.random.default_rng(2))
    assert abs(z.mean() - mu0) <= 5 * tau / np.sqrt(n)
    s2, c = tau**2 + sigma**2, tau**2
    assert abs(x[:, 0].var() - s2) <= 5 * np.sqrt(2 * s2**2 / n)
    cross = np.mean((x[:, 0] - mu0) * (x[:, 1] - mu0))
    assert abs(cross - c) <= 5 * np.sqrt((s2**2 + c**2) / n)


def test_extreme_scales_do_not_divide_by_zero():
    assert NormalNormal(0.0, 1e-200, 1.0).posterior([3.0]) == (0.0, 0.0)
    m, v = NormalNormal(0.0, 1e200, 1.0).posterior([3.0, 5.0])
    assert (m, v) == (4.0, 0.5)
    with pytest.raises(FloatingPointError):
        NormalNormal(0.0, 1e200, 1.0).posterior_variance(0)  # τ² = 1e400
    with pytest.raises(FloatingPointError):
        NormalNormal(0.0, 1.0, 1e200).predictive([1.0])  # σ² = 1e400


# ---------------------------------------------------------------- median of the tokens
@pytest.mark.parametrize("L", [1, 3, 11])
def test_median_variance_matches_the_beta_quantile_form(L):
    """Median of L uniforms ~ Beta(j+1, j+1): c_L = E[Φ⁻¹(U)²], another quadrature."""
    j = (L - 1) // 2
    oracle = stats.beta.expect(lambda u: stats.norm.ppf(u) ** 2, args=(j + 1, j + 1))
    assert normal_median_variance(L) == pytest.approx(oracle, rel=1e-7)


def test_median_variance_closed_forms_and_asymptotics():
    assert normal_median_variance(1) == pytest.approx(1.0, rel=1e-12)
    assert normal_median_variance(3) == pytest.approx(1 - np.sqrt(3) / np.pi, rel=1e-12)
    assert normal_median_variance(2001) * 2001 == pytest.approx(np.pi / 2, rel=2e-3)


# ---------------------------------------------------------------- representations
@FAST
@given(
    st.floats(-2, 2),
    positive,
    positive,
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.sampled_from([1, 3, 5, 7])),
        elements=st.floats(-50, 50),
    ),
)
def test_representation_predictions_are_their_definitions(mu0, tau, sigma, x):
    model = NormalNormal(mu0, tau, sigma)
    preds = representation_predictions(model, x)
    L = x.shape[-1]
    for row in range(x.shape[0]):
        for rep, kept in [
            ("posterior", L),
            ("first token", 1),
            ("half prefix", (L + 1) // 2),
        ]:
            m_exact, _ = exact_posterior(mu0, tau, sigma, list(x[row, :kept]))
            scale = abs(mu0) + np.abs(x[row, :kept] - mu0).sum()
            # relative rounding, plus an absolute floor for subnormal results
            tol = 8 * (L + 2) * (EPS * scale + np.finfo(float).smallest_subnormal)
            assert abs(preds[rep][row] - float(m_exact)) <= tol
        gamma = tau**2 / (tau**2 + sigma**2 * normal_median_variance(L))
        median = np.median(x[row])
        assert preds["median"][row] == pytest.approx(
            mu0 + gamma * (median - mu0), abs=1e-12 * (1 + abs(median))
        )


def test_representation_risks_are_exact_and_the_median_risk_is_right():
    model = NormalNormal(0.5, 1.5, 2.0)
    risks = representation_risks(model, 9)
    c9 = normal_median_variance(9)
    for rep, n_eff in [
        ("posterior", 9),
        ("first token", 1),
        ("half prefix", 5),
        ("median", 1 / c9),
    ]:
        exact = 1 / (1 / Fraction(1.5) ** 2 + Fraction(n_eff) / 4)
        assert risks[rep] == pytest.approx(float(exact), rel=1e-14)
    # Monte Carlo: the affine median predictor's error has the stated variance (5σ band)
    z, x = model.sample(9, 20_000, np.random.default_rng(8))
    sq = (z - representation_predictions(model, x)["median"]) ** 2
    assert abs(sq.mean() - risks["median"]) <= 5 * sq.std() / np.sqrt(sq.size)


def test_token_features_columns():
    x = np.array([[1.0, 4.0, -2.0], [0.5, 0.5, 3.0]])
    F = token_features(x, mu0=0.5)
    row = x[0]
    expected = [
        *row,
        (row - 0.5).sum() ** 2 / 3,
        1.0,
        -2.0,
        4.0,
        0.25,
        1.0,
        np.sin(1.0),
        -2.0,
    ]
    np.testing.assert_allclose(F[0], expected, rtol=1e-15)
    assert F.shape == (2, 11) and F[1, 8] == 0.0  # 1{x_1 > μ0} is 0 at x_1 = μ0


@FAST
@given(
    st.integers(30, 120),
    st.integers(1, 4),
    st.integers(0, 2**32 - 1),
    st.floats(0.1, 10),
)
def test_orthogonality_statistic_is_the_least_squares_fit(n, p, seed, variance):
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((n, p)) * rng.uniform(0.1, 100, size=p)
    e = rng.standard_normal(n) + 0.3 * H[:, 0] / H[:, 0].std()
    design = np.column_stack([np.ones(n), H])
    fitted = design @ np.linalg.lstsq(design, e, rcond=None)[0]
    stat, dof = orthogonality_statistic(e, H, variance)
    assert dof == p + 1
    assert stat == pytest.approx(fitted @ fitted / variance, rel=1e-9)
    # a duplicated and a constant column change nothing
    H2 = np.column_stack([H, H[:, :1] * 3.0, np.full(n, 2.0)])
    assert orthogonality_statistic(e, H2, variance) == pytest.approx(
        (stat, dof), rel=1e-9
    )


def test_orthogonality_statistic_is_chi_square_under_the_hypothesis():
    """Mean of 400 statistics within 5σ of dof (Var χ²_r = 2r)."""
    rng = np.random.default_rng(4)
    H = rng.standard_normal((60, 3))
    stats_ = [
        orthogonality_statistic(rng.normal(0, 2, 60), H, 4.0)[0] for _ in range(400)
    ]
    assert abs(np.mean(stats_) - 4) <= 5 * np.sqrt(2 * 4 / 400)


def test_head_predictions_agree_for_the_same_statistic_and_not_otherwise():
    model = NormalNormal(0.5, 1.5, 2.0)
    x = np.array([0.3, -1.2, 2.5, 0.9, 1.1])
    d = np.array([0.4, -0.1, 0.3, -0.5, -0.1])  # zero-sum: same L and S
    hp = HeadPredictions(model, [x, x + d, x + 1.0, list(x[:3])])
    assert hp.quadrature.shape == hp.closed_form.shape == (3, 4)
    assert hp.closed_form_error() <= 1
    assert np.all(hp.separation(0, 1) <= 1)
    assert np.all(hp.separation(0, 2) > 1e6)
    assert np.array_equal(hp.separation(1, 0), hp.separation(0, 1))
    m, v = model.posterior(x)
    np.testing.assert_allclose(
        hp.closed_form[:, 0], [m, m * m + v, stats.norm.cdf(m / np.sqrt(v))], rtol=1e-15
    )


# ---------------------------------------------------------------- the Gaussian study
def test_study_reproduces_a_hand_simulation():
    model, sigma_y, n = NormalNormal(0.5, 1.5, 2.0), 0.5, 400
    study = GaussianStudy(model, [1, 5], n, sigma_y, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    for i, L in enumerate([1, 5]):
        z, x = model.sample(L, n, rng)
        y = z + sigma_y * rng.standard_normal(n)
        m = model.posterior(x)[0]
        assert study.risk[i] == pytest.approx(np.mean((y - m) ** 2), rel=1e-13)
        assert study.calibration[i] == pytest.approx(np.mean((z - m) ** 2), rel=1e-13)
        prefix = model.posterior(x[:, : (L + 1) // 2])[0]
        d = (z - prefix) ** 2 - (z - m) ** 2
        assert study.gap["half prefix"][i] == pytest.approx(
            d.mean(), rel=1e-10, abs=1e-15
        )
        assert study.gap_se["half prefix"][i] == pytest.approx(
            d.std(ddof=1) / np.sqrt(n), abs=1e-15
        )
    assert np.allclose(study.risk_theory, model.bayes_risk(np.array([1, 5]), sigma_y))


def test_study_bands_are_the_stated_quantiles():
    study = GaussianStudy(
        NormalNormal(0, 1, 1), [3], 200, 0.0, np.random.default_rng(0)
    )
    alpha = 1e-3
    bands = {b.family: b for b in study.bands(alpha)}
    lo, hi = stats.chi2.ppf(alpha / 2, 200), stats.chi2.isf(alpha / 2, 200)
    band = bands["calibration E(z − m_L)² = v_L"]
    assert band.half_width == pytest.approx(0.25 * max(hi - 200, 200 - lo) / 200)
    zq = stats.norm.isf(alpha / 2)
    gap = bands["gap, first token"]
    assert gap.half_width >= zq * study.gap_se["first token"][0]
    assert len(study.bands(alpha)) == len(study.FAMILIES)
    fit, slope_theory = GaussianStudy(
        NormalNormal(0, 1, 1), [1, 3, 9], 200, 0.0, np.random.default_rng(1)
    ).slope("posterior", 1)
    assert slope_theory == pytest.approx(
        np.polyfit(np.log([1, 3, 9]), np.log([0.5, 0.25, 0.1]), 1)[0]
    )


def test_a_wrong_posterior_fails_the_studys_bands(monkeypatch):
    """σ for σ² in the posterior variance: the calibration band fails."""
    model = NormalNormal(0.5, 1.5, 2.0)
    monkeypatch.setattr(model, "_rho", np.float64(1.5**2 / 2.0))  # τ²/σ for τ²/σ²
    study = GaussianStudy(model, [9], 2000, 0.5, np.random.default_rng(5))
    assert study.worst(1e-6)["calibration E(z − m_L)² = v_L"] > 1


# ---------------------------------------------------------------- bad inputs
BAD = [
    (lambda: BetaBernoulli(0.0, 1.0), ValueError, "a"),
    (lambda: BetaBernoulli(1.0, float("nan")), ValueError, "b"),
    (lambda: BetaBernoulli(True, 1.0), InputTypeError, "a"),
    (lambda: BetaBernoulli(1, 1).posterior([0, 2, 1]), ValueError, "x"),
    (lambda: BetaBernoulli(1, 1).posterior([0.5]), InputTypeError, "x"),
    (lambda: BetaBernoulli(1, 1).posterior([True, False]), InputTypeError, "x"),
    (lambda: BetaBernoulli(1, 1).predictive(1), ValueError, "x"),
    (
        lambda: BetaBernoulli(1, 1).sample(2.5, 3, np.random.default_rng(0)),
        InputTypeError,
        "L",
    ),
    (
        lambda: BetaBernoulli(1, 1).sample(3, 0, np.random.default_rng(0)),
        ValueError,
        "size",
    ),
    (lambda: BetaBernoulli(1, 1).sample(3, 5, 0), InputTypeError, "rng"),
    (lambda: NormalNormal("1.0", 1.0, 1.0), InputTypeError, "mu0"),
    (lambda: NormalNormal(1 + 0j, 1.0, 1.0), InputTypeError, "mu0"),
    (lambda: NormalNormal(float("inf"), 1.0, 1.0), ValueError, "mu0"),
    (lambda: NormalNormal(0.0, 0.0, 1.0), ValueError, "tau"),
    (lambda: NormalNormal(0.0, 1.0, -2.0), ValueError, "sigma"),
    (lambda: NormalNormal(0, 1, 1).posterior([1.0, np.nan]), ValueError, "x"),
    (lambda: NormalNormal(0, 1, 1).posterior(2.0), ValueError, "x"),
    (lambda: NormalNormal(0, 1, 1).posterior([[1.0, 2.0], [3.0]]), InputTypeError, "x"),
    (lambda: NormalNormal(0, 1, 1).posterior([1 + 1j]), InputTypeError, "x"),
    (lambda: NormalNormal(0, 1, 1).posterior(["a"]), InputTypeError, "x"),
    (lambda: NormalNormal(0, 1, 1).posterior_variance(2.5), InputTypeError, "L"),
    (lambda: NormalNormal(0, 1, 1).posterior_variance(-1), ValueError, "L"),
    (lambda: NormalNormal(0, 1, 1).posterior_variance(True), InputTypeError, "L"),
    (lambda: NormalNormal(0, 1, 1).bayes_risk(3, -1.0), ValueError, "sigma_y"),
    (
        lambda: NormalNormal(0, 1, 1).quadrature_expectation([1.0], 3.0),
        InputTypeError,
        "g",
    ),
    (
        lambda: NormalNormal(0, 1, 1).quadrature_expectation([[1.0]], abs),
        ValueError,
        "x",
    ),
    (lambda: normal_median_variance(2), ValueError, "L"),
    (lambda: normal_median_variance(1.5), InputTypeError, "L"),
    (lambda: normal_median_variance(0), ValueError, "L"),
    (
        lambda: representation_predictions(NormalNormal(0, 1, 1), [1.0, 2.0]),
        ValueError,
        "x",
    ),
    (lambda: representation_predictions("model", [1.0]), InputTypeError, "model"),
    (lambda: representation_risks(NormalNormal(0, 1, 1), 4), ValueError, "L"),
    (lambda: HeadPredictions(NormalNormal(0, 1, 1), 3.0), InputTypeError, "sequences"),
    (
        lambda: HeadPredictions(NormalNormal(0, 1, 1), np.ones(3)),
        ValueError,
        "sequences",
    ),
    (lambda: HeadPredictions(NormalNormal(0, 1, 1), []), ValueError, "sequences"),
    (
        lambda: HeadPredictions(NormalNormal(0, 1, 1), [[np.nan]]),
        ValueError,
        "sequences",
    ),
    (
        lambda: HeadPredictions(NormalNormal(0, 1, 1), [[1.0]]).separation(0, 1),
        ValueError,
        "j",
    ),
    (lambda: token_features([1.0, np.inf]), ValueError, "x"),
    (lambda: token_features([1.0], mu0=np.nan), ValueError, "mu0"),
    (
        lambda: orthogonality_statistic([1.0, 2.0, 3.0], [[1.0]], 1.0),
        ValueError,
        "features",
    ),
    (
        lambda: orthogonality_statistic(np.ones(5), np.ones((5, 1)), 0.0),
        ValueError,
        "variance",
    ),
    (
        lambda: GaussianStudy(
            NormalNormal(0, 1, 1), [2], 50, 0.5, np.random.default_rng(0)
        ),
        ValueError,
        "lengths",
    ),
    (
        lambda: GaussianStudy(
            NormalNormal(0, 1, 1), [3], 5, 0.5, np.random.default_rng(0)
        ),
        ValueError,
        "n",
    ),
    (
        lambda: GaussianStudy(NormalNormal(0, 1, 1), [3], 50, 0.5, 7),
        InputTypeError,
        "rng",
    ),
]


@pytest.mark.parametrize(
    "call, error, name", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_inputs_raise_named_errors(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()
