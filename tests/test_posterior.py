"""Tests of lib.posterior: the atom posterior computed as softmax attention equals brute-force
Bayes (likelihoods multiplied with scipy.stats and normalised)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lib.posterior import (
    atom_posterior,
    atom_posterior_mean,
    bernoulli_natural,
    categorical_natural,
    gaussian_natural,
    posterior_keys,
    posterior_query,
)


def _brute(prior, lik):
    """prior (m,), lik (..., m, L) → posterior (..., m) by direct multiplication."""
    unnorm = prior * lik.prod(-1)
    return unnorm / unnorm.sum(-1, keepdims=True)


def test_bernoulli_against_brute_force():
    rng = np.random.default_rng(0)
    p = np.array([0.1, 0.35, 0.5, 0.8, 0.97])
    prior = rng.dirichlet(np.ones(5))
    x = rng.integers(0, 2, (6, 20))
    eta, A = bernoulli_natural(p)
    post = atom_posterior(x.sum(-1, keepdims=True), 20, eta, A, prior)
    ref = _brute(prior, stats.bernoulli.pmf(x[:, None, :], p[None, :, None]))
    np.testing.assert_allclose(post, ref, rtol=1e-11, atol=1e-14)
    mean = atom_posterior_mean(x.sum(-1, keepdims=True), 20, eta, A, prior, p[:, None])
    np.testing.assert_allclose(mean[:, 0], ref @ p, rtol=1e-11)


def test_gaussian_against_brute_force():
    rng = np.random.default_rng(1)
    mu, sigma = np.linspace(-2, 2, 7), 0.8
    prior = rng.dirichlet(np.ones(7))
    x = rng.normal(0.3, sigma, (4, 15))
    eta, A = gaussian_natural(mu, sigma)
    post = atom_posterior(x.sum(-1, keepdims=True), 15, eta, A, prior)
    ref = _brute(prior, stats.norm.pdf(x[:, None, :], mu[None, :, None], sigma))
    np.testing.assert_allclose(post, ref, rtol=1e-11, atol=1e-14)


def test_categorical_against_brute_force():
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(4), size=3)  # m = 3 atoms, C = 4 categories
    prior = np.array([0.2, 0.5, 0.3])
    x = rng.integers(0, 4, (5, 12))
    eta, A = categorical_natural(probs)
    counts = np.stack([(x == c).sum(-1) for c in range(4)], -1)
    post = atom_posterior(counts, 12, eta, A, prior)
    onehot = np.eye(4)[x]  # (5, 12, 4)
    lik = np.stack([stats.multinomial.pmf(onehot, 1, probs[j]) for j in range(3)], -2)
    np.testing.assert_allclose(post, _brute(prior, lik), rtol=1e-11, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), L=st.integers(0, 30))
def test_properties(seed, L):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, 4)
    prior = rng.dirichlet(np.ones(4))
    x = rng.integers(0, 2, L)
    eta, A = bernoulli_natural(p)
    post = atom_posterior(np.array([x.sum()]), L, eta, A, prior)
    np.testing.assert_allclose(post.sum(), 1.0, atol=1e-12)
    assert np.all(post >= 0)
    # relabelling the atoms (keys — natural parameters, log-partition, prior — permuted together)
    # permutes the posterior the same way, and the posterior mean of g(z) with the values
    # permuted alongside is unchanged: attention is equivariant in its keys
    perm = rng.permutation(4)
    post_p = atom_posterior(np.array([x.sum()]), L, eta[perm], A[perm], prior[perm])
    np.testing.assert_allclose(post_p, post[perm], rtol=1e-12, atol=1e-300)
    g = p[:, None] ** 2
    mean = atom_posterior_mean(np.array([x.sum()]), L, eta, A, prior, g)
    mean_p = atom_posterior_mean(
        np.array([x.sum()]), L, eta[perm], A[perm], prior[perm], g[perm]
    )
    np.testing.assert_allclose(mean_p, mean, rtol=1e-12)
    if L == 0:  # no tokens: the posterior is the prior
        np.testing.assert_allclose(post, prior, rtol=1e-12)


def test_query_keys_layout_and_zero_prior():
    q = posterior_query(np.array([[3.0], [1.0]]), np.array([5, 2]))
    np.testing.assert_array_equal(q, [[3, 5, 1], [1, 2, 1]])
    eta, A = gaussian_natural([0.0, 1.0], 1.0)
    K = posterior_keys(eta, A, [0.25, 0.75])
    np.testing.assert_allclose(K, [[0, 0, np.log(0.25)], [1, -0.5, np.log(0.75)]])
    post = atom_posterior(np.array([0.3]), 1, eta, A, [0.0, 1.0])
    np.testing.assert_array_equal(post, [0.0, 1.0])


def test_value_errors():
    eta, A = bernoulli_natural([0.2, 0.6])
    with pytest.raises(ValueError, match="prior"):
        atom_posterior(np.array([1.0]), 3, eta, A, [0.5, 0.6])
    with pytest.raises(ValueError, match="prior"):
        atom_posterior(np.array([1.0]), 3, eta, A, [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="p must"):
        bernoulli_natural([0.0, 0.5])
    with pytest.raises(ValueError, match="sigma"):
        gaussian_natural([0.0], -1.0)
    with pytest.raises(ValueError, match="probs"):
        categorical_natural([[0.5, 0.6]])
    with pytest.raises(ValueError, match="L must"):
        posterior_query(np.array([1.0]), -1)
    with pytest.raises(ValueError, match="d_T"):
        atom_posterior(np.array([1.0, 2.0]), 3, eta, A, [0.5, 0.5])
    with pytest.raises(ValueError, match="values"):
        atom_posterior_mean(np.array([1.0]), 3, eta, A, [0.5, 0.5], np.zeros((3, 1)))
