"""lib.learning against independent computations: hand arithmetic, brute-force loops, exact
enumeration of Rademacher signs, finite differences, and Monte Carlo over the latent variables."""

import inspect
import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.learning import (
    attention_loss_matrix,
    beta_derivative_autograd,
    beta_derivative_covariance,
    block_empirical_risks,
    bootstrap_loglog_slope,
    empirical_rademacher,
    excess_risk,
    grid_erm,
    linear_model_risk_matrix,
    loglog_slope,
    net_size,
    squared_loss_constants,
    sup_gap,
    tightest_uniform_convergence_bound,
    uniform_convergence_bound,
)


# --------------------------------------------------------------------------- the bound
def test_bound_by_hand():
    # n = ceil(1/0.25) = 4 net points; Λε = 3 * 0.25
    expected = 0.75 + 2.0 * math.sqrt(math.log(2 * 4 / 0.1) / (2 * 100))
    assert uniform_convergence_bound(100, 0.1, 2.0, 3.0, 1.0, 0.25) == pytest.approx(
        expected, rel=1e-14
    )
    # vectorised over N, same formula entrywise
    Ns = np.array([[1, 10], [100, 1000]])
    got = uniform_convergence_bound(Ns, 0.05, 1.5, 0.0, 10.0, 0.3)
    n = math.ceil(10 / 0.3)
    assert got.shape == (2, 2)
    for N, g in zip(Ns.ravel(), got.ravel()):
        assert g == pytest.approx(
            1.5 * math.sqrt(math.log(2 * n / 0.05) / (2 * N)), rel=1e-14
        )


def test_net_size_and_covering():
    assert net_size(1.0, 0.25) == 4
    assert net_size(0.9, 0.3) == 3  # 0.9/0.3 = 3.0000000000000004 in floating point
    assert net_size(1.0, 0.3) == 4
    assert net_size(0.1, 5.0) == 1


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 50.0), st.floats(0.001, 10.0))
def test_net_midpoints_cover_within_half_eps(B, eps):
    # the derivation: midpoints (j - 1/2) eps, j = 1..ceil(B/eps), clipped to B, are eps/2-close to all of [0, B]
    n = net_size(B, eps)
    net = np.minimum((np.arange(1, n + 1) - 0.5) * eps, B)
    betas = np.linspace(0, B, 2001)
    dist = np.min(np.abs(betas[:, None] - net[None, :]), axis=1)
    assert dist.max() <= eps / 2 * (1 + 1e-9) + 1e-12


def test_bound_decreases_in_N_and_has_no_length_argument():
    b = uniform_convergence_bound(np.array([10, 100, 1000]), 0.05, 1.0, 1.0, 5.0, 0.01)
    assert np.all(np.diff(b) < 0)
    params = set(inspect.signature(uniform_convergence_bound).parameters)
    assert params == {
        "N",
        "delta",
        "loss_bound",
        "lipschitz",
        "param_range",
        "eps",
    }  # no sequence length


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(N=0), "N"),
        (dict(N=2.5), "N"),
        (dict(N=[10, -1]), "N"),
        (dict(N=True), "N"),
        (dict(delta=0.0), "delta"),
        (dict(delta=1.0), "delta"),
        (dict(loss_bound=0.0), "loss_bound"),
        (dict(lipschitz=-1.0), "lipschitz"),
        (dict(param_range=0.0), "param_range"),
        (dict(eps=0.0), "eps"),
        (dict(eps=float("nan")), "eps"),
    ],
)
def test_bound_rejects_bad_input(kwargs, name):
    args = dict(
        N=100, delta=0.05, loss_bound=1.0, lipschitz=1.0, param_range=1.0, eps=0.1
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        uniform_convergence_bound(**args)


def test_tightest_bound_is_min_over_eps_grid():
    grid = np.geomspace(1e-4, 1.0, 30)
    Ns = np.array([10, 1000])
    bound, eps = tightest_uniform_convergence_bound(Ns, 0.05, 2.0, 5.0, 10.0, grid)
    for k, N in enumerate(Ns):
        values = [
            uniform_convergence_bound(int(N), 0.05, 2.0, 5.0, 10.0, float(e))
            for e in grid
        ]
        assert bound[k] == pytest.approx(min(values), rel=1e-14)
        assert eps[k] == grid[int(np.argmin(values))]
    with pytest.raises(ValueError, match="eps_grid"):
        tightest_uniform_convergence_bound(10, 0.05, 1.0, 1.0, 1.0, [0.1, -0.1])


def test_squared_loss_constants_by_hand():
    M, lam = squared_loss_constants(2.0, 1.0, 1.0, 0.5)
    assert M == pytest.approx(9.0)
    assert lam == pytest.approx(2 * 3.0 * 2.0 * 1.0 * 0.5)
    with pytest.raises(ValueError, match="value_bound"):
        squared_loss_constants(0.0, 1.0)
    with pytest.raises(ValueError, match="label_bound"):
        squared_loss_constants(1.0, -1.0)


# --------------------------------------------------------------------------- ERM on a grid
def test_grid_erm_block_risks_gap_excess_against_brute_force():
    rng = np.random.default_rng(0)
    n, G, N = 12, 5, 3
    losses = rng.exponential(size=(n, G))
    pop = rng.exponential(size=G)
    emp = block_empirical_risks(losses, N)
    assert emp.shape == (4, G)
    for r in range(4):
        for g in range(G):
            assert emp[r, g] == pytest.approx(
                sum(losses[r * N + i, g] for i in range(N)) / N
            )
        best = min(range(G), key=lambda g: emp[r, g])
        assert grid_erm(emp)[r] == best
        assert sup_gap(emp, pop)[r] == pytest.approx(
            max(abs(emp[r, g] - pop[g]) for g in range(G))
        )
        assert excess_risk(emp, pop)[r] == pytest.approx(pop[best] - min(pop))
    # a remainder that does not fill a block is dropped; batch dimensions pass through
    assert block_empirical_risks(losses[:11], 3).shape == (3, G)
    assert block_empirical_risks(losses.reshape(2, 6, G), 2).shape == (2, 3, G)
    # grid along another axis
    assert np.array_equal(grid_erm(emp.T, axis=0), grid_erm(emp))


def test_grid_erm_ties_pick_first():
    assert grid_erm(np.array([[1.0, 0.5, 0.5]]))[0] == 1


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 10_000))
def test_excess_risk_nonnegative_and_zero_for_population(R, G, seed):
    rng = np.random.default_rng(seed)
    emp, pop = rng.normal(size=(R, G)), rng.normal(size=G)
    assert np.all(excess_risk(emp, pop) >= 0)
    assert np.all(excess_risk(pop[None, :], pop) == 0)
    assert np.all(sup_gap(pop[None, :], pop) == 0)


def test_erm_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="N"):
        block_empirical_risks(np.ones((4, 2)), 5)
    with pytest.raises(ValueError, match="losses"):
        block_empirical_risks(np.ones(4), 1)
    with pytest.raises(ValueError, match="risks"):
        grid_erm(np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="pop_risk"):
        sup_gap(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match="pop_risk"):
        excess_risk(np.ones((2, 3)), np.ones(4))


# --------------------------------------------------------------------------- Rademacher
def _exact_rademacher(losses):
    N = losses.shape[0]
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=N)))
    return np.mean(np.max(signs @ losses, axis=1)) / N


def test_rademacher_of_pm_f_matches_enumeration():
    # class {f, -f}: sup = |Σ σ_i f_i| / N, expectation by enumerating all 2^N signs
    rng = np.random.default_rng(1)
    N = 10
    f = rng.normal(size=N)
    losses = np.stack([f, -f], axis=1)
    exact = (
        np.mean(np.abs(np.array(list(itertools.product([-1, 1], repeat=N))) @ f)) / N
    )
    assert exact == pytest.approx(_exact_rademacher(losses))
    est, se = empirical_rademacher(losses, 20_000, np.random.default_rng(2))
    # CLT band: |est - exact| <= 4 se fails with probability ~6e-5
    assert abs(est - exact) <= 4 * se
    assert se > 0


def test_rademacher_of_constant_pair_has_closed_form():
    # class {+1, -1}: sup = |S_N|/N with S_N a sum of N signs, and E|S_N| = N C(N-1, floor((N-1)/2)) / 2^(N-1)
    N = 9
    closed = math.comb(N - 1, (N - 1) // 2) / 2 ** (N - 1)
    losses = np.stack([np.ones(N), -np.ones(N)], axis=1)
    assert _exact_rademacher(losses) == pytest.approx(closed, rel=1e-12)
    est, se = empirical_rademacher(losses, 40_000, np.random.default_rng(7))
    assert abs(est - closed) <= 4 * se  # CLT, false failure ~6e-5


def test_rademacher_of_all_sign_vectors_is_one():
    # the class of all 2^N sign patterns matches every sigma exactly: sup = N/N = 1 for every draw
    N = 6
    losses = np.array(list(itertools.product([-1.0, 1.0], repeat=N))).T  # (N, 2^N)
    est, se = empirical_rademacher(losses, 50, np.random.default_rng(8))
    assert est == pytest.approx(1.0, abs=1e-15) and se == pytest.approx(0.0, abs=1e-15)


def test_rademacher_general_class_and_batch():
    rng = np.random.default_rng(3)
    losses = rng.exponential(size=(3, 8, 4))  # 3 samples of N = 8 examples, 4 functions
    est, se = empirical_rademacher(losses, 20_000, np.random.default_rng(4))
    assert est.shape == se.shape == (3,)
    for k in range(3):
        # 4 se per comparison; three comparisons: false failure ~2e-4
        assert abs(est[k] - _exact_rademacher(losses[k])) <= 4 * se[k]
    # one function: E Σσ_i f_i / N = 0 exactly
    assert _exact_rademacher(losses[0][:, :1]) == pytest.approx(0.0, abs=1e-12)


def test_rademacher_rejects_bad_input():
    with pytest.raises(ValueError, match="n_signs"):
        empirical_rademacher(np.ones((3, 2)), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        empirical_rademacher(np.ones((3, 2)), 10, 0)
    with pytest.raises(ValueError, match="losses"):
        empirical_rademacher(np.ones(3), 10, np.random.default_rng(0))


# --------------------------------------------------------------------------- the lemma
def _toy_sequences(rng, B=4, L=7):
    t = rng.uniform(0, 2 * np.pi, (B, L))
    K = np.stack([np.cos(t), np.sin(t)], -1)
    V = rng.uniform(-2, 2, (B, L, 1))
    q = np.array([[[0.6, 0.8]]])
    return q, K, V


def test_beta_derivative_autograd_covariance_and_finite_differences():
    rng = np.random.default_rng(5)
    q, K, V = _toy_sequences(rng)
    betas = np.array([0.0, 0.7, 3.0, 12.0])
    a = beta_derivative_autograd(q, K, V, betas)
    c = beta_derivative_covariance(q, K, V, betas)
    assert a.shape == c.shape == (4, 4, 1, 1)
    torch.testing.assert_close(a, c, rtol=1e-10, atol=1e-12)

    # central finite differences of a direct numpy softmax smoother
    def attn(beta):
        s = beta * np.einsum("bmd,bld->bml", np.broadcast_to(q, (4, 1, 2)), K)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        return w @ V

    h = 1e-5
    fd = np.stack([(attn(b + h) - attn(b - h)) / (2 * h) for b in betas])
    np.testing.assert_allclose(a.numpy(), fd, rtol=1e-6, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.floats(0.0, 60.0), st.integers(0, 10_000))
def test_beta_derivative_obeys_cauchy_schwarz_and_the_constant(L, beta, seed):
    rng = np.random.default_rng(seed)
    q, K, V = _toy_sequences(rng, B=3, L=L)
    d = beta_derivative_covariance(q, K, V, [beta])[0, :, 0, 0].numpy()
    s = np.einsum("d,bld->bl", q[0, 0], K)
    w = np.exp(beta * s - (beta * s).max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    v = V[..., 0]
    var_v = (w * v**2).sum(-1) - (w * v).sum(-1) ** 2
    var_s = (w * s**2).sum(-1) - (w * s).sum(-1) ** 2
    cs = np.sqrt(np.clip(var_v, 0, None) * np.clip(var_s, 0, None))
    assert np.all(np.abs(d) <= cs + 1e-9)
    assert np.all(
        np.abs(d) <= 2.0 * 1.0 * 1.0 + 1e-12
    )  # B_V B_Q B_K with |v| <= 2, unit q and k


def test_beta_derivative_rejects_bad_betas():
    q, K, V = _toy_sequences(np.random.default_rng(0))
    with pytest.raises(ValueError, match="betas"):
        beta_derivative_covariance(q, K, V, [])
    with pytest.raises(ValueError, match="betas"):
        beta_derivative_autograd(q, K, V, [np.inf])


# --------------------------------------------------------------------------- loss and risk matrices
def _np_weights(q, K, beta):
    s = beta * (K @ q)  # (n, L)
    w = np.exp(s - s.max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)


def test_attention_loss_matrix_against_numpy():
    rng = np.random.default_rng(6)
    n, L = 9, 13
    t = rng.uniform(0, 2 * np.pi, (n, L))
    K = np.stack([np.cos(t), np.sin(t)], -1)
    V = rng.normal(size=(n, L))
    y = rng.normal(size=n)
    q = np.array([1.0, 0.0])
    betas = np.array([0.0, 1.0, 5.0, 40.0])
    got = attention_loss_matrix(
        q, K, V, y, betas, chunk_elements=50, dtype=torch.float64
    )
    want = np.stack(
        [(y - (_np_weights(q, K, b) * V).sum(-1)) ** 2 for b in betas], axis=1
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    got32 = attention_loss_matrix(q, K, V, y, betas)  # float32 attention
    np.testing.assert_allclose(got32, want, rtol=1e-4, atol=1e-5)


def test_linear_model_risk_matrix_closed_form_and_monte_carlo():
    rng = np.random.default_rng(7)
    n, L, p = 3, 6, 5
    t = rng.uniform(0, 2 * np.pi, (n, L))
    K = np.stack([np.cos(t), np.sin(t)], -1)
    Phi = rng.normal(size=(n, L, p))
    target = rng.normal(size=p)
    q = np.array([1.0, 0.0])
    betas = np.array([0.0, 2.0, 9.0])
    a, s, c = 0.3, 0.2, 0.1
    got = linear_model_risk_matrix(
        q,
        K,
        Phi,
        target,
        betas,
        latent_var=a,
        noise_var=s,
        label_noise_var=c,
        dtype=torch.float64,
    )
    for g, b in enumerate(betas):
        w = _np_weights(q, K, b)
        closed = (
            a * np.sum((target - np.einsum("nl,nlp->np", w, Phi)) ** 2, -1)
            + s * np.sum(w**2, -1)
            + c
        )
        np.testing.assert_allclose(got[:, g], closed, rtol=1e-12)
    # Monte Carlo over z (uniform, variance a), eps (uniform, variance s), eta (uniform, variance c)
    M = 200_000
    ha, hs, hc = (math.sqrt(3 * x) for x in (a, s, c))
    z = rng.uniform(-ha, ha, (M, p))
    eps = rng.uniform(-hs, hs, (M, L))
    eta = rng.uniform(-hc, hc, M)
    for i in range(n):
        v = z @ Phi[i].T + eps
        y = z @ target + eta
        for g, b in enumerate(betas):
            loss = (y - v @ _np_weights(q, K[i : i + 1], b)[0]) ** 2
            # 4.5 standard errors, 9 comparisons: false failure < 1e-4
            assert abs(loss.mean() - got[i, g]) <= 4.5 * loss.std() / math.sqrt(M)


def test_loss_and_risk_matrices_reject_bad_input():
    K = np.zeros((2, 3, 2))
    with pytest.raises(ValueError, match="y"):
        attention_loss_matrix([1.0, 0.0], K, np.zeros((2, 3)), np.zeros(3), [1.0])
    with pytest.raises(ValueError, match="betas"):
        attention_loss_matrix([1.0, 0.0], K, np.zeros((2, 3)), np.zeros(2), [-1.0])
    with pytest.raises(ValueError, match="q"):
        attention_loss_matrix(np.zeros((2, 2)), K, np.zeros((2, 3)), np.zeros(2), [1.0])
    with pytest.raises(ValueError, match="latent_var"):
        linear_model_risk_matrix(
            [1.0, 0.0],
            K,
            np.zeros((2, 3, 5)),
            np.zeros(5),
            [1.0],
            latent_var=-1,
            noise_var=1,
            label_noise_var=0,
        )
    with pytest.raises(ValueError, match="shapes"):
        linear_model_risk_matrix(
            [1.0, 0.0],
            K,
            np.zeros((2, 3, 5)),
            np.zeros(4),
            [1.0],
            latent_var=1,
            noise_var=1,
            label_noise_var=0,
        )


# --------------------------------------------------------------------------- slopes
def test_loglog_slope_exact_power_law_and_polyfit():
    x = np.array([16.0, 64.0, 256.0, 1024.0])
    s, se, c = loglog_slope(x, 3.0 * x**-0.4, se=0.01 * x**-0.4)
    assert s == pytest.approx(-0.4) and c == pytest.approx(math.log(3.0))
    # unweighted: agrees with numpy.polyfit and its covariance
    rng = np.random.default_rng(8)
    y = x**0.2 * np.exp(0.1 * rng.normal(size=4))
    s, se, _ = loglog_slope(x, y)
    coef, cov = np.polyfit(np.log(x), np.log(y), 1, cov="unscaled")
    resid = np.log(y) - np.polyval(coef, np.log(x))
    assert s == pytest.approx(coef[0])
    assert se == pytest.approx(math.sqrt(cov[0, 0] * np.sum(resid**2) / 2))
    with pytest.raises(ValueError, match="x and y"):
        loglog_slope(x, -y)
    with pytest.raises(ValueError, match="se"):
        loglog_slope(x, y, se=np.zeros(4))


def test_bootstrap_loglog_slope():
    rng = np.random.default_rng(9)
    x = np.array([1.0, 2.0, 4.0, 8.0])
    exact = np.tile(x**-0.5, (30, 1))
    s, se = bootstrap_loglog_slope(x, exact, 200, rng)
    assert s == pytest.approx(-0.5) and se == pytest.approx(0.0, abs=1e-12)
    # coupled columns (a common row factor) cancel in the slope: tiny bootstrap SE
    noisy = exact * rng.exponential(size=(30, 1))
    s, se = bootstrap_loglog_slope(x, noisy, 500, rng)
    assert s == pytest.approx(-0.5) and se < 1e-12
    # independent columns: slope within 4 bootstrap SE of the truth
    noisy = x**-0.5 * rng.exponential(size=(200, 4))
    s, se = bootstrap_loglog_slope(x, noisy, 2000, rng)
    assert abs(s + 0.5) <= 4 * se
    with pytest.raises(ValueError, match="samples"):
        bootstrap_loglog_slope(x, np.ones((1, 4)), 10, rng)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_loglog_slope(x, exact, 1, rng)
