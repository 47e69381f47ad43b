"""Tests of lib.latent against independent computations: numerical integration of Bayes' rule
(scipy.integrate.quad on the raw product likelihood), the Pólya-urn chain rule, Gaussian
conditioning by linear algebra, and Monte Carlo; plus hypothesis property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from lib.latent import BetaBernoulli, NormalNormal, normal_median_variance

# ---------------------------------------------------------------- Beta–Bernoulli


def _quad_beta_bernoulli(a, b, x):
    """Posterior mean, variance and evidence of θ by quadrature of prior × Π_ℓ p(x_ℓ | θ)."""
    x = np.asarray(x)

    def unnorm(t):
        return stats.beta.pdf(t, a, b) * np.prod(np.where(x == 1, t, 1 - t))

    opts = dict(epsabs=0.0, epsrel=1e-11, limit=200)
    z0 = integrate.quad(unnorm, 0, 1, **opts)[0]
    z1 = integrate.quad(lambda t: t * unnorm(t), 0, 1, **opts)[0]
    z2 = integrate.quad(lambda t: t * t * unnorm(t), 0, 1, **opts)[0]
    return z1 / z0, z2 / z0 - (z1 / z0) ** 2, z0


@pytest.mark.parametrize(
    "a, b, x",
    [
        (1.0, 1.0, [1, 0, 1]),
        (2.5, 0.7, [0, 0, 0, 1, 1, 0, 1]),
        (0.5, 0.5, [1] * 9),
        (3.0, 4.0, []),
    ],
)
def test_beta_bernoulli_posterior_matches_quadrature(a, b, x):
    model = BetaBernoulli(a, b)
    alpha, beta = model.posterior(np.array(x, dtype=int))
    mean, var, evidence = _quad_beta_bernoulli(a, b, x)
    assert alpha / (alpha + beta) == pytest.approx(mean, rel=1e-9)
    assert stats.beta.var(alpha, beta) == pytest.approx(var, rel=1e-8)
    assert model.predictive(np.array(x, dtype=int)) == pytest.approx(mean, rel=1e-9)
    assert np.exp(model.log_marginal(np.array(x, dtype=int))) == pytest.approx(
        evidence, rel=1e-9
    )


def test_beta_bernoulli_predictive_matches_polya_chain_rule():
    """P(x_{L+1}=1 | x) = p(x, 1)/p(x), with p(x) from the sequential (Pólya urn) chain rule."""
    a, b = 1.7, 2.2

    def chain(seq):
        p, k = 1.0, 0
        for t, xt in enumerate(seq):
            p1 = (a + k) / (a + b + t)
            p *= p1 if xt == 1 else 1 - p1
            k += xt
        return p

    model = BetaBernoulli(a, b)
    rng = np.random.default_rng(3)
    for _ in range(20):
        seq = list(rng.integers(0, 2, size=rng.integers(0, 12)))
        expected = chain(seq + [1]) / chain(seq)
        assert model.predictive(np.array(seq, dtype=int)) == pytest.approx(
            expected, rel=1e-12
        )


def test_beta_bernoulli_is_vectorised():
    model = BetaBernoulli(2.0, 3.0)
    x = np.random.default_rng(0).integers(0, 2, size=(4, 5, 7))
    alpha, beta = model.posterior(x)
    assert alpha.shape == beta.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            a1, b1 = model.posterior(x[i, j])
            assert (a1, b1) == (alpha[i, j], beta[i, j])


def test_beta_bernoulli_sampler_is_seeded_and_has_the_right_marginals():
    model = BetaBernoulli(2.0, 5.0)
    t1, x1 = model.sample(6, 50_000, np.random.default_rng(11))
    t2, x2 = model.sample(6, 50_000, np.random.default_rng(11))
    assert np.array_equal(t1, t2) and np.array_equal(x1, x2)
    assert (
        t1.shape == (50_000,)
        and x1.shape == (50_000, 6)
        and set(np.unique(x1)) <= {0, 1}
    )
    # P(x_1 = 1) = a/(a+b); P(x_1 = x_2 = 1) = a(a+1)/((a+b)(a+b+1)). 5-sigma binomial bands
    # (false-failure probability below 1e-6 each).
    n = x1.shape[0]
    for observed, p in [
        (x1[:, 0].mean(), 2 / 7),
        ((x1[:, 0] * x1[:, 1]).mean(), 2 * 3 / (7 * 8)),
    ]:
        assert abs(observed - p) <= 5 * np.sqrt(p * (1 - p) / n)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 1), min_size=0, max_size=30),
    st.randoms(use_true_random=False),
)
def test_beta_bernoulli_permutation_invariance(seq, rnd):
    model = BetaBernoulli(1.3, 0.8)
    perm = list(seq)
    rnd.shuffle(perm)
    assert model.posterior(np.array(seq, dtype=int)) == model.posterior(
        np.array(perm, dtype=int)
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 25), st.integers(0, 25), st.integers(0, 2**32 - 1))
def test_beta_bernoulli_depends_only_on_count(L, k, seed):
    k = min(k, L)
    rng = np.random.default_rng(seed)
    x, x2 = np.zeros((2, L), dtype=int)
    x[rng.choice(L, k, replace=False)] = 1
    x2[rng.choice(L, k, replace=False)] = 1
    model = BetaBernoulli(0.9, 2.1)
    assert model.posterior(x) == model.posterior(x2) == (0.9 + k, 2.1 + (L - k))


@pytest.mark.parametrize(
    "a, b",
    [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.0), (1.0, float("nan")), (1.0, float("inf"))],
)
def test_beta_bernoulli_rejects_bad_parameters(a, b):
    name = "a" if not a > 0 else "b"
    with pytest.raises(ValueError, match=rf"^{name} "):
        BetaBernoulli(a, b)


@pytest.mark.parametrize("x", [[0, 2, 1], [0.5], [-1, 0]])
def test_beta_bernoulli_rejects_non_binary_tokens(x):
    with pytest.raises(ValueError, match="^x "):
        BetaBernoulli(1, 1).posterior(x)


def test_beta_bernoulli_rejects_scalar_and_bad_sampler_arguments():
    model = BetaBernoulli(1, 1)
    with pytest.raises(ValueError, match="^x "):
        model.predictive(1)
    with pytest.raises(ValueError, match="^L "):
        model.sample(-1, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="^size "):
        model.sample(3, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="^rng "):
        model.sample(3, 5, 0)


# ---------------------------------------------------------------- Normal–Normal


def _quad_normal_normal(mu0, tau, sigma, x):
    """Posterior mean and variance of z by quadrature of prior × Π_ℓ N(x_ℓ; z, σ²)."""
    x = np.asarray(x, dtype=float)
    centre = (
        np.median(x) if x.size else mu0
    )  # any constant works; this keeps exp() in range
    ref = stats.norm.logpdf(x, centre, sigma).sum()

    def unnorm(z):
        return np.exp(
            stats.norm.logpdf(z, mu0, tau) + stats.norm.logpdf(x, z, sigma).sum() - ref
        )

    lo, hi = (
        min(mu0 - 12 * tau, centre - 12 * sigma),
        max(mu0 + 12 * tau, centre + 12 * sigma),
    )
    opts = dict(epsabs=0.0, epsrel=1e-11, limit=400, points=[centre, mu0])
    z0 = integrate.quad(unnorm, lo, hi, **opts)[0]
    z1 = integrate.quad(lambda z: z * unnorm(z), lo, hi, **opts)[0]
    z2 = integrate.quad(lambda z: z * z * unnorm(z), lo, hi, **opts)[0]
    return z1 / z0, z2 / z0 - (z1 / z0) ** 2


@pytest.mark.parametrize(
    "mu0, tau, sigma, x",
    [
        (0.0, 1.0, 1.0, [0.3]),
        (0.5, 2.0, 0.7, [1.2, -0.4, 2.2, 0.9]),
        (-1.0, 0.3, 1.5, list(np.linspace(-2, 3, 17))),
        (2.0, 1.0, 1.0, []),
    ],
)
def test_normal_normal_posterior_matches_quadrature(mu0, tau, sigma, x):
    model = NormalNormal(mu0, tau, sigma)
    m, v = model.posterior(np.array(x, dtype=float))
    mean, var = _quad_normal_normal(mu0, tau, sigma, x)
    assert m == pytest.approx(mean, rel=1e-8, abs=1e-10)
    assert v == pytest.approx(var, rel=1e-7)
    pm, pv = model.predictive(np.array(x, dtype=float))
    assert pm == pytest.approx(mean, rel=1e-8, abs=1e-10) and pv == pytest.approx(
        var + sigma**2, rel=1e-7
    )


def test_normal_normal_matches_gaussian_conditioning():
    """Posterior from the joint covariance of (z, x_1..x_L) by the Schur complement (linear algebra)."""
    mu0, tau, sigma, sigma_y = 0.4, 1.3, 0.8, 0.5
    model = NormalNormal(mu0, tau, sigma)
    x = np.random.default_rng(5).normal(size=6)
    L = x.size
    cov_xx = tau**2 * np.ones((L, L)) + sigma**2 * np.eye(L)
    cov_zx = tau**2 * np.ones(L)
    gain = np.linalg.solve(cov_xx, cov_zx)
    m_expected = mu0 + gain @ (x - mu0)
    v_expected = tau**2 - gain @ cov_zx
    m, v = model.posterior(x)
    assert m == pytest.approx(m_expected, rel=1e-12) and v == pytest.approx(
        v_expected, rel=1e-12
    )
    assert model.bayes_risk(L, sigma_y) == pytest.approx(
        v_expected + sigma_y**2, rel=1e-12
    )
    assert model.posterior_variance(0) == pytest.approx(tau**2)


def test_normal_normal_is_vectorised_and_sampler_is_seeded():
    model = NormalNormal(0.2, 1.0, 2.0)
    z, x = model.sample(9, 1000, np.random.default_rng(1))
    z2, x2 = model.sample(9, 1000, np.random.default_rng(1))
    assert np.array_equal(z, z2) and np.array_equal(x, x2)
    assert z.shape == (1000,) and x.shape == (1000, 9)
    m, v = model.posterior(x.reshape(10, 100, 9))
    assert m.shape == v.shape == (10, 100)
    m_row, _ = model.posterior(x[17])
    assert m.reshape(-1)[17] == pytest.approx(m_row, rel=1e-14)


def test_normal_normal_sampler_moments():
    """E z = μ0, Var x_1 = τ² + σ², Cov(x_1, x_2) = τ²: 5-sigma bands from the known fourth moments."""
    mu0, tau, sigma = 0.7, 1.5, 0.5
    n = 100_000
    z, x = NormalNormal(mu0, tau, sigma).sample(2, n, np.random.default_rng(2))
    assert abs(z.mean() - mu0) <= 5 * tau / np.sqrt(n)
    s2 = tau**2 + sigma**2
    assert abs(x[:, 0].var() - s2) <= 5 * np.sqrt(2 * s2**2 / n) + 1e-12
    c = tau**2  # Var((x1-μ)(x2-μ)) = s2² + c² for a bivariate normal
    assert abs(np.mean((x[:, 0] - mu0) * (x[:, 1] - mu0)) - c) <= 5 * np.sqrt(
        (s2**2 + c**2) / n
    )


finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_normal_normal_permutation_invariance(seq, rnd):
    model = NormalNormal(0.3, 1.2, 0.9)
    perm = list(seq)
    rnd.shuffle(perm)
    m1, v1 = model.posterior(np.array(seq))
    m2, v2 = model.posterior(np.array(perm))
    assert v1 == v2
    # the sum is accumulated in another order: allow rounding, L·eps·Σ|x_ℓ| scaled by the gain
    assert abs(m1 - m2) <= 4 * len(seq) * np.finfo(float).eps * (np.abs(seq).sum() + 1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(finite, min_size=2, max_size=30), st.lists(finite, min_size=2, max_size=30)
)
def test_normal_normal_depends_only_on_length_and_sum(seq, noise):
    """Add a zero-sum perturbation: different sequence, same (L, S), same posterior."""
    x = np.array(seq)
    d = np.resize(np.array(noise), x.size)
    d = d - d.mean()
    x2 = x + d
    model = NormalNormal(-0.5, 2.0, 1.1)
    m1, v1 = model.posterior(x)
    m2, v2 = model.posterior(x2)
    assert v1 == v2
    tol = 8 * x.size * np.finfo(float).eps * (np.abs(x).sum() + np.abs(d).sum() + 1)
    assert abs(m1 - m2) <= tol


@pytest.mark.parametrize(
    "args, name",
    [
        ((0.0, 0.0, 1.0), "tau"),
        ((0.0, 1.0, -2.0), "sigma"),
        ((float("nan"), 1.0, 1.0), "mu0"),
    ],
)
def test_normal_normal_rejects_bad_parameters(args, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        NormalNormal(*args)


def test_normal_normal_rejects_bad_inputs():
    model = NormalNormal(0, 1, 1)
    with pytest.raises(ValueError, match="^x "):
        model.posterior(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="^x "):
        model.posterior(2.0)
    with pytest.raises(ValueError, match="^sigma_y "):
        model.bayes_risk(3, -1.0)
    with pytest.raises(ValueError, match="^L "):
        model.posterior_variance(-1)


# ---------------------------------------------------------------- median of normal tokens


def test_median_variance_closed_forms_and_asymptotics():
    assert normal_median_variance(1) == pytest.approx(1.0, rel=1e-10)
    assert normal_median_variance(3) == pytest.approx(1 - np.sqrt(3) / np.pi, rel=1e-10)
    c = np.array([normal_median_variance(L) for L in (5, 25, 125, 625)])
    L = np.array([5, 25, 125, 625])
    assert np.all(c > 1 / L)  # the median is less efficient than the mean (Cramér–Rao)
    assert (
        np.all(np.diff(c * L) > 0) and abs(c[-1] * L[-1] - np.pi / 2) < 0.01
    )  # c_L L ↑ π/2


def test_median_variance_matches_monte_carlo():
    """E[med²] by Monte Carlo, 5-sigma CLT band with the sample standard deviation."""
    L, n = 7, 200_000
    med = np.median(np.random.default_rng(4).standard_normal((n, L)), axis=1)
    sq = med**2
    assert abs(sq.mean() - normal_median_variance(L)) <= 5 * sq.std() / np.sqrt(n)


@pytest.mark.parametrize("L", [0, 2, 10, 1.5])
def test_median_variance_rejects_bad_length(L):
    with pytest.raises(ValueError, match="^L "):
        normal_median_variance(L)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: NormalNormal("1.0", 1.0, 1.0), "mu0"),
        (lambda: NormalNormal("abc", 1.0, 1.0), "mu0"),
        (lambda: NormalNormal(0.0, 1.0, 1.0).posterior(["a"]), "x"),
        (lambda: NormalNormal(0.0, 1.0, 1.0).posterior([[1.0, 2.0], [3.0]]), "x"),
    ],
)
def test_non_numeric_input_is_rejected_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()
