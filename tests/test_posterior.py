"""Tests of lib.posterior against independent computations.

Oracles: brute-force Bayes (likelihoods multiplied with scipy.stats and normalised),
scipy quadrature of the binned-prior posterior, direct Normal cell masses, and mpmath
(50 digits) for the rounding bound. Hypothesis draws priors, atoms, data and sizes.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.integrate import quad

from lib import posterior
from lib.validation import InputTypeError

FAST = settings(max_examples=25, deadline=None)


def _brute(prior, lik):
    """prior (m,), lik (..., m, L) → posterior (..., m) by direct multiplication."""
    unnorm = prior * lik.prod(-1)
    return unnorm / unnorm.sum(-1, keepdims=True)


def _simplex(draw, m):
    w = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=m, max_size=m)))
    return w / w.sum()


@settings(max_examples=15, deadline=None)
@given(data=st.data(), m=st.integers(1, 7), L=st.integers(0, 25))
def test_bernoulli_against_brute_force(data, m, L):
    p = np.array(data.draw(st.lists(st.floats(0.02, 0.98), min_size=m, max_size=m)))
    prior = _simplex(data.draw, m)
    x = np.array(data.draw(st.lists(st.integers(0, 1), min_size=L, max_size=L)))
    eta, A = posterior.bernoulli_natural(p)
    post = posterior.atom_posterior([x.sum()], L, eta, A, prior)
    ref = _brute(prior, stats.bernoulli.pmf(x[None, :], p[:, None]))
    np.testing.assert_allclose(post, ref, rtol=1e-10, atol=1e-14)
    mean = posterior.atom_posterior_mean([x.sum()], L, eta, A, prior, p[:, None])
    np.testing.assert_allclose(mean[0], ref @ p, rtol=1e-10)


@FAST
@given(
    data=st.data(),
    m=st.integers(1, 9),
    L=st.integers(1, 20),
    sigma=st.floats(0.3, 5.0),
)
def test_gaussian_against_brute_force(data, m, L, sigma):
    mu = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=m, max_size=m)))
    prior = _simplex(data.draw, m)
    x = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=L, max_size=L)))
    eta, A = posterior.gaussian_natural(mu, sigma)
    post = posterior.atom_posterior([x.sum()], L, eta, A, prior)
    log_lik = stats.norm.logpdf(x[None, :], mu[:, None], sigma).sum(-1)
    ref = prior * np.exp(log_lik - log_lik.max())
    np.testing.assert_allclose(post, ref / ref.sum(), rtol=1e-9, atol=1e-14)


def test_categorical_against_brute_force():
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(4), size=3)
    prior = np.array([0.2, 0.5, 0.3])
    x = rng.integers(0, 4, (5, 12))
    eta, A = posterior.categorical_natural(probs)
    counts = np.stack([(x == c).sum(-1) for c in range(4)], -1)
    post = posterior.atom_posterior(counts, 12, eta, A, prior)
    onehot = np.eye(4)[x]
    lik = np.stack([stats.multinomial.pmf(onehot, 1, probs[j]) for j in range(3)], -2)
    np.testing.assert_allclose(post, _brute(prior, lik), rtol=1e-11, atol=1e-14)


@FAST
@given(seed=st.integers(0, 2**31 - 1), L=st.integers(0, 30))
def test_relabelling_the_atoms_permutes_the_posterior(seed, L):
    rng = np.random.default_rng(seed)
    p, prior = rng.uniform(0.05, 0.95, 4), rng.dirichlet(np.ones(4))
    s = rng.integers(0, L + 1)
    eta, A = posterior.bernoulli_natural(p)
    post = posterior.atom_posterior([s], L, eta, A, prior)
    perm = rng.permutation(4)
    post_p = posterior.atom_posterior([s], L, eta[perm], A[perm], prior[perm])
    np.testing.assert_allclose(post_p, post[perm], rtol=1e-12, atol=1e-300)
    if L == 0:
        np.testing.assert_allclose(post, prior, rtol=1e-12)


def test_query_keys_layout_and_zero_prior():
    q = posterior.posterior_query(np.array([[3.0], [1.0]]), np.array([5, 2]))
    np.testing.assert_array_equal(q, [[3, 5, 1], [1, 2, 1]])
    eta, A = posterior.gaussian_natural([0.0, 1.0], 1.0)
    K = posterior.posterior_keys(eta, A, [0.25, 0.75])
    np.testing.assert_allclose(K, [[0, 0, np.log(0.25)], [1, -0.5, np.log(0.75)]])
    post = posterior.atom_posterior(np.array([0.3]), 1, eta, A, [0.0, 1.0])
    np.testing.assert_array_equal(post, [0.0, 1.0])


@pytest.mark.parametrize(
    "call, err, name",
    [
        (lambda: posterior.posterior_query([np.nan], 3), ValueError, "suff_stat"),
        (lambda: posterior.posterior_query([1j], 3), InputTypeError, "suff_stat"),
        (lambda: posterior.posterior_query([1.0], 2.5), InputTypeError, "L"),
        (lambda: posterior.posterior_query([1.0], True), InputTypeError, "L"),
        (lambda: posterior.posterior_query([1.0], -1), ValueError, "L"),
        (
            lambda: posterior.posterior_query([[1.0], [2.0, 3.0]], 1),
            InputTypeError,
            "suff",
        ),
        (
            lambda: posterior.posterior_keys([[0.0]], [np.inf], [1.0]),
            ValueError,
            "log_p",
        ),
        (lambda: posterior.posterior_keys([[0.0]], [0.0], [0.5]), ValueError, "prior"),
        (lambda: posterior.bernoulli_natural([0.0, 0.5]), ValueError, "p must"),
        (lambda: posterior.bernoulli_natural([True]), InputTypeError, "p"),
        (lambda: posterior.gaussian_natural([0.0], -1.0), ValueError, "sigma"),
        (lambda: posterior.gaussian_natural([np.nan], 1.0), ValueError, "mu"),
        (lambda: posterior.categorical_natural([[0.5, 0.6]]), ValueError, "row"),
        (lambda: posterior.categorical_natural([0.5, 0.5]), ValueError, "probs"),
        (lambda: posterior.binned_normal_prior(2.5, 1.0, 1.0), InputTypeError, "m"),
        (lambda: posterior.binned_normal_prior(4, 80.0, 1.0), ValueError, "R/tau"),
        (
            lambda: posterior.binned_posterior_mean(1.0, 0, 0.1, tau=1, sigma=1),
            ValueError,
            "L",
        ),
        (
            lambda: posterior.grid_remainder_bounds(
                50.0, 10, 8, 4.0, tau=1.0, sigma=1.0
            ),
            ValueError,
            "R",
        ),
    ],
)
def test_bad_inputs_are_named(call, err, name):
    with pytest.raises(err, match=name):
        call()


def test_dimension_mismatches():
    eta, A = posterior.bernoulli_natural([0.2, 0.6])
    with pytest.raises(ValueError, match="d_T"):
        posterior.atom_posterior(np.array([1.0, 2.0]), 3, eta, A, [0.5, 0.5])
    with pytest.raises(ValueError, match="values"):
        posterior.atom_posterior_mean([1.0], 3, eta, A, [0.5, 0.5], np.zeros((3, 1)))


# ----------------------------------------------------------------------------- grid
@settings(max_examples=10, deadline=None)
@given(m=st.integers(1, 60), R=st.floats(0.5, 10.0), tau=st.floats(0.2, 5.0))
def test_binned_prior_masses_are_the_cell_probabilities(m, R, tau):
    grid = posterior.binned_normal_prior(m, R, tau)
    edges = np.linspace(-R, R, m + 1)
    with mpmath.workdps(400):  # tail cells of mass 1e-300 near cdf = 1
        cdf = [mpmath.ncdf(mpmath.mpf(e) / tau) for e in edges]
        cells = np.array([float(b - a) for a, b in zip(cdf[:-1], cdf[1:], strict=True)])
    np.testing.assert_allclose(grid.atoms, (edges[:-1] + edges[1:]) / 2, atol=1e-12 * R)
    np.testing.assert_allclose(grid.prior, cells / cells.sum(), rtol=1e-12, atol=1e-300)
    assert grid.h == pytest.approx(2 * R / m)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@settings(max_examples=6, deadline=None)
@given(
    x_sum=st.floats(-8, 8),
    L=st.integers(1, 12),
    h=st.floats(0.01, 1.5),
    tau=st.floats(0.5, 3.0),
    sigma=st.floats(0.5, 3.0),
)
def test_binned_posterior_mean_against_quadrature(x_sum, L, h, tau, sigma):
    """∫ z Λ p̄ / ∫ Λ p̄ with p̄(z) = (Φ((z + h/2)/τ) − Φ((z − h/2)/τ))/h (scipy quad)."""
    xbar = x_sum / L
    s2 = 1 / (1 / tau**2 + L / sigma**2)
    centre, width = s2 * x_sum / sigma**2, 12 * (s2**0.5 + h)

    def weight(z):
        lik = np.exp(
            -L * (z - xbar) ** 2 / (2 * sigma**2)
            + L * (centre - xbar) ** 2 / (2 * sigma**2)
        )
        return lik * (
            stats.norm.cdf(z + h / 2, scale=tau) - stats.norm.cdf(z - h / 2, scale=tau)
        )

    lo, hi = centre - width, centre + width
    num = quad(lambda z: z * weight(z), lo, hi, epsabs=0, epsrel=1e-11, limit=200)[0]
    den = quad(weight, lo, hi, epsabs=0, epsrel=1e-11, limit=200)[0]
    got = posterior.binned_posterior_mean(x_sum, L, h, tau=tau, sigma=sigma)
    np.testing.assert_allclose(got, num / den, rtol=1e-8, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(
    x_sum=st.floats(-10, 10),
    L=st.integers(1, 10),
    m=st.integers(4, 400),
    R_over_tau=st.floats(1.5, 9.0),
    tau=st.floats(0.5, 3.0),
    sigma=st.floats(0.5, 3.0),
)
def test_grid_remainder_bounds_hold(x_sum, L, m, R_over_tau, tau, sigma):
    """|μ̂_m − μ̃(h)| ≤ aliasing + truncation + rounding (the proposition)."""
    R = R_over_tau * tau
    xbar = x_sum / L
    s = (1 / tau**2 + L / sigma**2) ** -0.5
    assume(R > abs(xbar) and R * (R - abs(xbar)) >= sigma**2 / L and 2 * R / m < 3 * s)
    grid = posterior.binned_normal_prior(m, R, tau)
    eta, A = posterior.gaussian_natural(grid.atoms, sigma)
    mu_hat = posterior.atom_posterior_mean(
        [x_sum], L, eta, A, grid.prior, grid.atoms[:, None]
    )[0]
    mu_t = posterior.binned_posterior_mean(x_sum, L, grid.h, tau=tau, sigma=sigma)
    b = posterior.grid_remainder_bounds(x_sum, L, m, R, tau=tau, sigma=sigma)
    assert abs(mu_hat - mu_t) <= sum(b)


def test_grid_bounds_are_not_vacuous():
    """A coarse grid (aliasing) and a narrow one (truncation) use a sizeable part of
    their bounds, and a fine wide grid reaches rounding level."""
    coarse = dict(x_sum=3.0, L=4, m=10, R=6.0, tau=1.0, sigma=1.0)
    narrow = dict(x_sum=12.0, L=6, m=400, R=3.0, tau=1.0, sigma=1.0)
    for case, part in [(coarse, "aliasing"), (narrow, "truncation")]:
        grid = posterior.binned_normal_prior(case["m"], case["R"], case["tau"])
        eta, A = posterior.gaussian_natural(grid.atoms, case["sigma"])
        mu_hat = posterior.atom_posterior_mean(
            [case["x_sum"]], case["L"], eta, A, grid.prior, grid.atoms[:, None]
        )[0]
        mu_t = posterior.binned_posterior_mean(
            case["x_sum"], case["L"], grid.h, tau=case["tau"], sigma=case["sigma"]
        )
        b = posterior.grid_remainder_bounds(
            **{k: case[k] for k in ("x_sum", "L", "m", "R")},
            tau=case["tau"],
            sigma=case["sigma"],
        )
        assert 1e-3 * getattr(b, part) <= abs(mu_hat - mu_t) <= sum(b)


@FAST
@given(data=st.data(), m=st.integers(2, 30))
def test_attention_rounding_bound_against_mpmath(data, m):
    q = np.array(data.draw(st.lists(st.floats(-50, 50), min_size=3, max_size=3)))
    K = np.array(
        data.draw(st.lists(st.floats(-20, 20), min_size=3 * m, max_size=3 * m))
    )
    K = K.reshape(m, 3)
    v = np.array(data.draw(st.lists(st.floats(-5, 5), min_size=m, max_size=m)))
    eta, A, logp = K[:, :1], -K[:, 1], K[:, 2]
    prior = np.exp(logp - logp.max())
    prior /= prior.sum()
    K = posterior.posterior_keys(eta, A, prior)  # the keys actually used
    got = posterior.atom_posterior_mean([q[0]], 1, eta, A, prior, v[:, None])[0]
    with mpmath.workdps(50):
        s = [
            mpmath.fsum(
                mpmath.mpf(a) * b for a, b in zip([q[0], 1.0, 1.0], k, strict=True)
            )
            for k in K
        ]
        top = max(s)
        w = [mpmath.exp(si - top) for si in s]
        exact = mpmath.fsum(wi * vi for wi, vi in zip(w, v, strict=True)) / mpmath.fsum(
            w
        )
    bound = posterior.attention_rounding_bound([q[0], 1.0, 1.0], K, v)
    assert abs(got - float(exact)) <= bound
