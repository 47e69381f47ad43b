"""lib.learning against independent computations.

Oracles: hand arithmetic, brute-force loops, exact enumeration of Rademacher signs and
of small samples, finite differences of a NumPy softmax, numerical quadrature, and
Monte Carlo over the latent variables.
"""

import inspect
import itertools
import math

import numpy as np
import pytest
import torch
from conftest import softmax_attention_np, softmax_np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.integrate import quad
from scipy.special import ive

import lib.learning as learning
from lib.learning import (
    attention_derivative_terms,
    attention_loss_matrix,
    beta_derivative_autograd,
    beta_derivative_covariance,
    block_empirical_risks,
    bootstrap_band,
    bootstrap_loglog_slope,
    empirical_rademacher,
    erm_size_sweep,
    erm_study,
    excess_risk,
    grid_erm,
    lemma_by_length,
    limit_risk,
    limit_score_variance,
    linear_model_risk_matrix,
    net_size,
    optimisation_error,
    rademacher_bound,
    score_matrix_gradient,
    squared_loss_constants,
    sup_gap,
    tightest_uniform_convergence_bound,
    uniform_convergence_bound,
)
from lib.validation import InputTypeError

FAST = settings(max_examples=30, deadline=None)
risks = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def _keys(t):
    return np.stack([np.cos(t), np.sin(t)], -1)


# --------------------------------------------------------------------------- bounds
def test_bound_by_hand():
    # n = ceil(1/0.25) = 4 net points; Λε = 3 * 0.25
    expected = 0.75 + 2.0 * math.sqrt(math.log(2 * 4 / 0.1) / (2 * 100))
    got = uniform_convergence_bound(100, 0.1, 2.0, 3.0, 1.0, 0.25)
    assert isinstance(got, float) and got == pytest.approx(expected, rel=1e-14)
    Ns = np.array([[1, 10], [100, 1000]])
    got = uniform_convergence_bound(Ns, 0.05, 1.5, 0.0, 10.0, 0.3)
    n = math.ceil(10 / 0.3)
    assert got.shape == (2, 2)
    for N, g in zip(Ns.ravel(), got.ravel(), strict=True):
        assert g == pytest.approx(1.5 * math.sqrt(math.log(2 * n / 0.05) / (2 * N)))


def test_net_size_and_covering():
    assert net_size(1.0, 0.25) == 4
    assert net_size(0.9, 0.3) == 3  # 0.9/0.3 = 3.0000000000000004 in floating point
    assert net_size(1.0, 0.3) == 4
    assert net_size(0.1, 5.0) == 1


@FAST
@given(st.floats(0.01, 50.0), st.floats(0.001, 10.0))
def test_net_midpoints_cover_within_half_eps(B, eps):
    n = net_size(B, eps)
    net = np.minimum((np.arange(1, n + 1) - 0.5) * eps, B)
    betas = np.linspace(0, B, 2001)
    right = np.clip(np.searchsorted(net, betas), 0, n - 1)  # nearest net points
    left = np.clip(right - 1, 0, n - 1)
    dist = np.minimum(np.abs(betas - net[right]), np.abs(betas - net[left]))
    assert dist.max() <= eps / 2 * (1 + 1e-9) + 1e-12


def test_huge_ranges_do_not_overflow():
    """log⌈B/ε⌉ in floats: B/ε = 1e616 is fine for the bound, named for net_size."""
    with pytest.raises(ValueError, match="param_range/eps"):
        net_size(1e308, 1e-308)
    got = uniform_convergence_bound(10, 0.5, 1.0, 0.0, 1e308, 1e-308)
    log_n = math.log(1e308) - math.log(1e-308)
    assert got == pytest.approx(math.sqrt((math.log(4.0) + log_n) / 20), rel=1e-12)
    big = uniform_convergence_bound(10, 0.5, 1.0, 0.0, 1e300, 1.0)  # ⌈B/ε⌉ exact
    assert big == pytest.approx(math.sqrt((math.log(4.0) + 300 * math.log(10)) / 20))
    with pytest.raises(FloatingPointError):
        uniform_convergence_bound(1, 0.5, 1e308, 1e308, 1.0, 1e10)
    with pytest.raises(FloatingPointError):
        squared_loss_constants(1e200, 1e200)


def test_bound_decreases_in_N_and_has_no_length_argument():
    b = uniform_convergence_bound(np.array([10, 100, 1000]), 0.05, 1.0, 1.0, 5.0, 0.01)
    assert np.all(np.diff(b) < 0)
    params = set(inspect.signature(uniform_convergence_bound).parameters)
    assert params == {"N", "delta", "loss_bound", "lipschitz", "param_range", "eps"}


def test_tightest_bound_is_min_over_eps_grid():
    grid = np.geomspace(1e-4, 1.0, 30)
    Ns = np.array([10, 1000])
    bound, eps = tightest_uniform_convergence_bound(Ns, 0.05, 2.0, 5.0, 10.0, grid)
    for k, N in enumerate(Ns):
        values = [
            uniform_convergence_bound(int(N), 0.05, 2.0, 5.0, 10.0, e) for e in grid
        ]
        assert bound[k] == pytest.approx(min(values), rel=1e-14)
        assert eps[k] == grid[int(np.argmin(values))]
    b1, e1 = tightest_uniform_convergence_bound(10, 0.05, 2.0, 5.0, 10.0, grid)
    assert isinstance(b1, float) and b1 == pytest.approx(bound[0])


def test_squared_loss_constants_by_hand():
    M, lam = squared_loss_constants(2.0, 1.0, 1.0, 0.5)
    assert M == 9.0 and lam == 2 * 3.0 * 2.0 * 1.0 * 0.5


def test_rademacher_bound_by_hand():
    got = rademacher_bound([0.1, 0.2], 50, 4, 3.0, 0.01)
    tail = 3.0 * math.sqrt((9 + 16 / 4) * math.log(100) / 100)
    np.testing.assert_allclose(got, [0.2 + tail, 0.4 + tail], rtol=1e-14)


def test_symmetrisation_by_exact_enumeration():
    """The premise of the Rademacher bound: E sup|P_N f − P f| ≤ 2 E sup|P_N σ f|,
    exactly, for a three-point law, three functions and every sample of size 4."""
    p = np.array([0.2, 0.5, 0.3])
    F = np.array([[0.0, 1.0, 0.5], [2.0, 0.0, 1.0], [1.0, 1.0, 0.0]])  # (point, f)
    N = 4
    gap, rad = 0.0, 0.0
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=N)))
    for sample in itertools.product(range(3), repeat=N):
        prob = np.prod(p[list(sample)])
        losses = F[list(sample)]  # (N, G)
        gap += prob * np.max(np.abs(losses.mean(0) - p @ F))
        rad += prob * np.mean(np.max(np.abs(signs @ losses), axis=1)) / N
    assert gap <= 2 * rad
    assert gap > 0.2 * rad  # a meaningful comparison, not 0 <= something


# --------------------------------------------------------------------------- ERM
def test_grid_erm_block_risks_gap_excess_against_brute_force():
    rng = np.random.default_rng(0)
    n, G, N = 12, 5, 3
    losses = rng.exponential(size=(n, G))
    pop = rng.exponential(size=G)
    emp = block_empirical_risks(losses, N)
    assert emp.shape == (4, G)
    for r in range(4):
        for g in range(G):
            want = sum(losses[r * N + i, g] for i in range(N)) / N
            assert emp[r, g] == pytest.approx(want)
        best = min(range(G), key=lambda g, r=r: emp[r, g])
        assert grid_erm(emp)[r] == best
        assert sup_gap(emp, pop)[r] == pytest.approx(
            max(abs(emp[r, g] - pop[g]) for g in range(G))
        )
        assert excess_risk(emp, pop)[r] == pytest.approx(pop[best] - min(pop))
    assert block_empirical_risks(losses[:11], 3).shape == (3, G)
    assert block_empirical_risks(losses.reshape(2, 6, G), 2).shape == (2, 3, G)
    assert np.array_equal(grid_erm(emp.T, axis=0), grid_erm(emp))
    assert grid_erm([[1.0, 0.5, 0.5]])[0] == 1  # ties: the first


@FAST
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3), elements=risks),
    st.data(),
)
def test_erm_properties_on_drawn_risks(emp, data):
    pop = data.draw(hnp.arrays(np.float64, emp.shape[-1], elements=risks))
    assert np.all(excess_risk(emp, pop) >= 0)
    assert np.all(excess_risk(pop, pop) == 0) and np.all(sup_gap(pop, pop) == 0)
    assert np.all(optimisation_error(emp, grid_erm(emp)) == 0)
    # the theorem's deterministic step: excess <= 2 sup-gap for any "population" risk
    assert np.all(excess_risk(emp, pop) <= 2 * sup_gap(emp, pop) * (1 + 1e-12) + 1e-9)


def test_optimisation_error_by_hand():
    np.testing.assert_allclose(
        optimisation_error([[1.0, 0.5, 0.7], [0.0, 3.0, 2.0]], [2, 1]), [0.2, 3.0]
    )


def test_size_sweep_against_loops():
    rng = np.random.default_rng(1)
    losses = rng.exponential(size=(2, 16, 4))
    pop = rng.exponential(size=(2, 4))
    sweep = erm_size_sweep(losses, pop, [2, 4], 2, bounds=[0.9, 0.5])
    assert sweep.gap.shape == sweep.excess.shape == (2, 2, 2)
    np.testing.assert_array_equal(sweep.n_datasets, [8, 4])
    for j in range(2):
        for k, N in enumerate((2, 4)):
            gaps, excs = [], []
            for r in range(16 // N):
                emp = losses[j, r * N : (r + 1) * N].mean(0)
                gaps.append(np.abs(emp - pop[j]).max())
                excs.append(pop[j][int(np.argmin(emp))] - pop[j].min())
            gaps, excs = np.array(gaps), np.array(excs)
            half = len(gaps) // 2
            np.testing.assert_allclose(
                sweep.gap[:, j, k], [gaps[:half].mean(), gaps[half:].mean()]
            )
            np.testing.assert_allclose(
                sweep.excess[:, j, k], [excs[:half].mean(), excs[half:].mean()]
            )
            assert sweep.violations[j, k] == np.sum(gaps > (0.9, 0.5)[k])
    assert sweep.optimisation_error == 0.0 and sweep.excess_minus_twice_gap <= 0
    with pytest.raises(ValueError, match="divide"):
        erm_size_sweep(losses, pop, [3], 2)


# --------------------------------------------------------------------------- Rademacher
def _exact_rademacher(losses, absolute=False):
    N = losses.shape[0]
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=N)))
    sums = signs @ losses
    return np.mean(np.max(np.abs(sums) if absolute else sums, axis=1)) / N


def test_rademacher_of_pm_f_matches_enumeration():
    rng = np.random.default_rng(1)
    N = 10
    f = rng.normal(size=N)
    losses = np.stack([f, -f], axis=1)  # class {f, −f}: sup = |Σ σ_i f_i| / N
    exact = np.mean(np.abs(np.array(list(itertools.product([-1, 1], repeat=N))) @ f))
    assert exact / N == pytest.approx(_exact_rademacher(losses))
    est, se = empirical_rademacher(losses, 20_000, np.random.default_rng(2))
    assert abs(est - exact / N) <= 4 * se  # CLT band, false failure ~6e-5


def test_rademacher_of_constant_pair_has_closed_form():
    # class {+1, −1}: sup = |S_N|/N, E|S_N| = N C(N−1, ⌊(N−1)/2⌋) / 2^(N−1)
    N = 9
    closed = math.comb(N - 1, (N - 1) // 2) / 2 ** (N - 1)
    losses = np.stack([np.ones(N), -np.ones(N)], axis=1)
    assert _exact_rademacher(losses) == pytest.approx(closed, rel=1e-12)
    est, se = empirical_rademacher(losses, 40_000, np.random.default_rng(7))
    assert abs(est - closed) <= 4 * se


def test_rademacher_general_class_absolute_and_batch():
    rng = np.random.default_rng(3)
    losses = rng.exponential(size=(3, 8, 4))
    for absolute in (False, True):
        est, se = empirical_rademacher(
            losses, 20_000, np.random.default_rng(4), absolute=absolute
        )
        assert est.shape == se.shape == (3,)
        for k in range(3):  # 4 SE per comparison, six comparisons: ~4e-4
            assert abs(est[k] - _exact_rademacher(losses[k], absolute)) <= 4 * se[k]
    ones = np.array(list(itertools.product([-1.0, 1.0], repeat=6))).T  # all patterns
    est, se = empirical_rademacher(ones, 50, np.random.default_rng(8))
    assert est == pytest.approx(1.0) and se == pytest.approx(0.0, abs=1e-15)


# --------------------------------------------------------------------------- lemma
def _toy_sequences(rng, B=4, L=7):
    K = _keys(rng.uniform(0, 2 * np.pi, (B, L)))
    V = rng.uniform(-2, 2, (B, L, 1))
    return np.array([[[0.6, 0.8]]]), K, V


def _np_attention(q, K, V, beta):
    s = beta * np.einsum("bmd,bld->bml", np.broadcast_to(q, (K.shape[0], 1, 2)), K)
    return softmax_np(s) @ V


def test_beta_derivative_autograd_covariance_and_finite_differences():
    q, K, V = _toy_sequences(np.random.default_rng(5))
    betas = np.array([0.0, 0.7, 3.0, 12.0])
    a = beta_derivative_autograd(q, K, V, betas)
    c = beta_derivative_covariance(q, K, V, betas)
    assert isinstance(a, np.ndarray) and a.shape == c.shape == (4, 4, 1, 1)
    np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)
    h = 1e-5
    fd = np.stack(
        [
            (_np_attention(q, K, V, b + h) - _np_attention(q, K, V, b - h)) / (2 * h)
            for b in betas
        ]
    )
    np.testing.assert_allclose(a, fd, rtol=1e-6, atol=1e-8)


@FAST
@given(
    st.integers(1, 30),
    st.floats(0.0, 60.0),
    hnp.arrays(np.float64, 30, elements=st.floats(0, 2 * np.pi)),
    hnp.arrays(np.float64, 30, elements=st.floats(-2, 2)),
)
def test_derivative_terms_obey_cauchy_schwarz_and_the_constant(L, beta, t, v):
    K, v = _keys(t[:L])[None], v[None, :L]
    terms = attention_derivative_terms([0.6, 0.8], K, v, [beta])
    w = softmax_np(beta * (K[0] @ np.array([0.6, 0.8])))
    s = K[0] @ np.array([0.6, 0.8])
    sd_v = math.sqrt(max(w @ v[0] ** 2 - (w @ v[0]) ** 2, 0))
    sd_s = math.sqrt(max(w @ s**2 - (w @ s) ** 2, 0))
    assert terms.sd_value[0, 0] == pytest.approx(sd_v, abs=1e-7)
    assert terms.sd_score[0, 0] == pytest.approx(sd_s, abs=1e-7)
    d = terms.autograd[0, 0]
    assert d == pytest.approx(terms.covariance[0, 0], abs=1e-10)
    assert abs(d) <= sd_v * sd_s + 1e-9 and abs(d) <= 2.0 + 1e-12  # B_V B_Q B_K


def test_score_matrix_gradient_against_finite_differences():
    rng = np.random.default_rng(6)
    K = _keys(rng.uniform(0, 2 * np.pi, (3, 5)))
    v = rng.normal(size=(3, 5))
    q = np.array([0.6, 0.8])
    W = rng.normal(size=(2, 2, 2)) * 3
    grad, formula = score_matrix_gradient(q, K, v, W)
    assert grad.shape == formula.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(grad, formula, atol=1e-12)

    def h(Wm, i):
        return softmax_np(K[i] @ (Wm.T @ q)) @ v[i]

    eps = 1e-6
    for m, i, a, b in itertools.product(range(2), range(3), range(2), range(2)):
        E = np.zeros((2, 2))
        E[a, b] = eps
        fd = (h(W[m] + E, i) - h(W[m] - E, i)) / (2 * eps)
        assert grad[m, i, a, b] == pytest.approx(fd, abs=1e-7)


def test_lemma_by_length_against_separate_calls():
    rng = np.random.default_rng(12)
    K = _keys(rng.uniform(0, 2 * np.pi, (3, 9)))
    v, q = rng.uniform(-1, 1, (3, 9)), np.array([0.6, 0.8])
    W, betas, Ls = rng.normal(size=(2, 2, 2)), np.array([0.0, 1.5, 20.0]), [4, 9]
    out = lemma_by_length(q, K, v, betas, W, Ls)
    for j, L in enumerate(Ls):
        w = np.stack(
            [[softmax_np(b * (K[i, :L] @ q)) for i in range(3)] for b in betas]
        )
        s = K[:, :L] @ q  # (n, L)
        cov = (w * v[:, :L] * s).sum(-1) - (w * v[:, :L]).sum(-1) * (w * s).sum(-1)
        var = (w * s**2).sum(-1) - (w * s).sum(-1) ** 2
        np.testing.assert_allclose(
            out.sup_derivative[:, j], np.abs(cov).max(0), atol=1e-12
        )
        np.testing.assert_allclose(out.score_variance[j], var, atol=1e-12)
        norms = [
            [
                np.linalg.norm(np.outer(q, _cov_vk(Wm, K[i, :L], v[i, :L], q)))
                for i in range(3)
            ]
            for Wm in W
        ]
        np.testing.assert_allclose(out.sup_matrix_gradient[:, j], np.max(norms, 0))
    assert out.autograd_error < 1e-12 and out.cauchy_schwarz_slack < 1e-12


def _cov_vk(Wm, K, v, q):
    w = softmax_np(K @ (Wm.T @ q))
    return (w * v) @ K - (w @ v) * (w @ K)


# --------------------------------------------------------------------------- limits
def _von_mises_mean(fun, beta, epsabs=1e-14):
    """E fun(t) under the von Mises law ∝ exp(β(cos t − 1)) of a 2π-periodic ``fun``,
    by quadrature over [-π, π] with the density's peak (width ~β^{-1/2}) at 0 flagged
    to quad, the weight written as exp(-2β sin²(t/2)) (no cancellation in cos t − 1).
    Tolerances: 1e-13 relative, ``epsabs`` absolute (a sign-changing ``fun`` can have
    a mean of exactly zero, which no relative tolerance reaches)."""

    def weight(t):
        return math.exp(-2 * beta * math.sin(t / 2) ** 2)

    kw = dict(points=[0.0], limit=200, epsabs=epsabs, epsrel=1e-13)
    num = quad(lambda t: fun(t) * weight(t), -math.pi, math.pi, **kw)[0]
    return num / quad(weight, -math.pi, math.pi, **kw)[0]


def _von_mises_variance_of_cos(beta):
    """Var(cos t) without cancellation: with s = 2 sin²(t/2) = 1 - cos t,
    Var(cos t) = E[(s - E s)²]. (E[cos²] - E[cos]² over [0, 2π] was off by 2.7e-7
    relative at β = 165, where lib agrees with 50-digit mpmath to 1e-11.)"""

    def s(t):
        return 2 * math.sin(t / 2) ** 2

    s_mean = _von_mises_mean(s, beta)
    return _von_mises_mean(lambda t: (s(t) - s_mean) ** 2, beta)


@FAST
@given(st.one_of(st.floats(0.0, 1e-6), st.floats(1e-6, 200.0)))
def test_limit_score_variance_against_quadrature(beta):
    got = float(limit_score_variance([beta])[0])
    want = _von_mises_variance_of_cos(beta)
    assert got == pytest.approx(want, rel=1e-7, abs=1e-12)


def test_limit_score_variance_branches_and_asymptotics():
    b = np.array([1.001e3, 2e3, 1e6])
    v = limit_score_variance(b)
    A = ive(1, b[:2]) / ive(0, b[:2])  # the closed form, still accurate to ~1e-9 here
    np.testing.assert_allclose(v[:2], 1 - A / b[:2] - A**2, rtol=1e-6)
    assert v[2] * 2e12 == pytest.approx(1.0, rel=1e-5)  # 1/(2β²)
    assert limit_score_variance(np.zeros((2, 2))).shape == (2, 2)


@FAST
@given(st.floats(0.0, 100.0), st.floats(-math.pi, math.pi))
def test_limit_risk_against_quadrature(beta, t_star):
    """‖φ* − E_p φ‖² with p ∝ exp(β cos(t − t*)) by quadrature, plus the noise."""
    feats = [
        lambda t: 1.0,
        math.cos,
        math.sin,
        lambda t: math.cos(2 * t),
        lambda t: math.sin(2 * t),
    ]
    phi_star = np.array([f(t_star) for f in feats])
    mean = np.array(
        [_von_mises_mean(lambda u, f=f: f(u + t_star), beta, 1e-13) for f in feats]
    )
    want = 0.7 * np.sum((phi_star - mean) ** 2) + 0.1
    got = limit_risk([beta], t_star=t_star, latent_var=0.7, label_noise_var=0.1)
    assert got[0] == pytest.approx(want, rel=1e-7, abs=1e-12)


def test_limit_risk_for_huge_temperatures():
    """Beyond β = 1e7 the Bessel ratios come from Hankel's expansion: continuous at the
    switch, and 1 − r_n ~ n²/(2β) far out (so the risk tends to the noise c)."""
    kw = dict(t_star=0.3, latent_var=1.0, label_noise_var=0.2)
    near = limit_risk([1e7 * (1 - 1e-9), 1e7 * (1 + 1e-9)], **kw)
    assert near[0] == pytest.approx(near[1], rel=1e-9)
    b = 1e150
    phi = np.array([1, math.cos(0.3), math.sin(0.3), math.cos(0.6), math.sin(0.6)])
    one_minus_r = np.array([0, 1, 1, 4, 4]) / (2 * b)
    want = np.sum((one_minus_r * phi) ** 2) + 0.2
    assert limit_risk([b], **kw)[0] == pytest.approx(want, rel=1e-12)


# --------------------------------------------------------------------------- matrices
def test_attention_loss_matrix_against_numpy():
    rng = np.random.default_rng(6)
    n, L = 9, 13
    K = _keys(rng.uniform(0, 2 * np.pi, (n, L)))
    V, y = rng.normal(size=(n, L)), rng.normal(size=n)
    q, betas = np.array([1.0, 0.0]), np.array([0.0, 1.0, 5.0, 40.0])
    got = attention_loss_matrix(
        q, K, V, y, betas, chunk_elements=50, dtype=torch.float64
    )
    want = np.stack(
        [
            (
                y
                - np.array(
                    [
                        softmax_attention_np(q[None], K[i], V[i][:, None], b)[0][0, 0]
                        for i in range(n)
                    ]
                )
            )
            ** 2
            for b in betas
        ],
        axis=1,
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        attention_loss_matrix(q, K, V, y, betas), want, atol=1e-5
    )


def _np_weights(q, K, beta):
    return softmax_np(beta * (K @ q))


def test_linear_model_risk_matrix_closed_form_and_monte_carlo():
    rng = np.random.default_rng(7)
    n, L, p = 3, 6, 5
    K = _keys(rng.uniform(0, 2 * np.pi, (n, L)))
    Phi, target = rng.normal(size=(n, L, p)), rng.normal(size=p)
    q, betas = np.array([1.0, 0.0]), np.array([0.0, 2.0, 9.0])
    a, s, c = 0.3, 0.2, 0.1
    kw = dict(latent_var=a, noise_var=s, label_noise_var=c)
    got = linear_model_risk_matrix(q, K, Phi, target, betas, dtype=torch.float64, **kw)
    for g, b in enumerate(betas):
        w = _np_weights(q, K, b)
        bias = target - np.einsum("nl,nlp->np", w, Phi)
        np.testing.assert_allclose(
            got[:, g], a * np.sum(bias**2, -1) + s * np.sum(w**2, -1) + c, rtol=1e-12
        )
    M = 50_000  # Monte Carlo over uniform z, ε, η with these variances
    ha, hs, hc = (math.sqrt(3 * x) for x in (a, s, c))
    z, eps = rng.uniform(-ha, ha, (M, p)), rng.uniform(-hs, hs, (M, L))
    y = z @ target + rng.uniform(-hc, hc, M)
    for i in range(n):
        v = z @ Phi[i].T + eps
        for g, b in enumerate(betas):
            loss = (y - v @ _np_weights(q, K[i : i + 1], b)[0]) ** 2
            # 4.5 standard errors, 9 comparisons: false failure < 1e-4
            assert abs(loss.mean() - got[i, g]) <= 4.5 * loss.std() / math.sqrt(M)


def test_erm_study_reproduces_its_draws():
    """Re-draw the study's randomness in the same order; recompute everything in
    NumPy: softmax losses, closed-form conditional risks, posterior covariances."""
    Ls, betas = np.array([3, 5]), np.array([0.0, 2.0, 7.0])
    st_ = erm_study(Ls, 4, 3, betas, np.random.default_rng(11), tau=1.2, sigma=0.4,
                    sigma_y=0.3, t_star=0.5)  # fmt: skip
    rng = np.random.default_rng(11)
    z = rng.uniform(-1.2, 1.2, (4, 5))
    t = rng.uniform(0, 2 * np.pi, (4, 5))
    e = rng.uniform(-0.4, 0.4, (4, 5))

    def phi(u):
        return np.stack(
            [np.ones_like(u), np.cos(u), np.sin(u), np.cos(2 * u), np.sin(2 * u)], -1
        )

    v = np.einsum("nlp,np->nl", phi(t), z) + e
    y = z @ phi(np.array(0.5)) + rng.uniform(-0.3, 0.3, 4)
    tp = rng.uniform(0, 2 * np.pi, (3, 5))
    q = np.array([math.cos(0.5), math.sin(0.5)])
    a, s, c = 1.2**2 / 3, 0.4**2 / 3, 0.3**2 / 3
    for j, L in enumerate(Ls):
        for g, b in enumerate(betas):
            pred = [_np_weights(q, _keys(t[i, :L]), b) @ v[i, :L] for i in range(4)]
            np.testing.assert_allclose(st_.losses[j, :, g], (y - pred) ** 2, atol=1e-5)
            for i in range(3):
                w = _np_weights(q, _keys(tp[i, :L]), b)
                P = phi(tp[i, :L])
                r = a * np.sum((phi(np.array(0.5)) - P.T @ w) ** 2) + s * w @ w + c
                assert st_.r_pop[j, i, g] == pytest.approx(r, rel=1e-10)
        for i in range(3):
            P = phi(tp[i, :L])
            Sig = np.linalg.inv(P.T @ P / s + np.eye(5) / a)
            f = phi(np.array(0.5))
            assert st_.r_lin[j, i] == pytest.approx(f @ Sig @ f + c, rel=1e-10)
    # the proposition: no softmax smoother beats the best linear one, draw by draw
    assert np.all(st_.r_pop >= st_.r_lin[..., None] - 1e-12)


# --------------------------------------------------------------------------- slopes
def test_bootstrap_loglog_slope():
    rng = np.random.default_rng(9)
    x = np.array([1.0, 2.0, 4.0, 8.0])
    exact = np.tile(x**-0.5, (30, 1))
    s, se = bootstrap_loglog_slope(x, exact, 200, rng)
    assert s == pytest.approx(-0.5) and se == pytest.approx(0.0, abs=1e-12)
    # a common row factor cancels in the slope: tiny bootstrap SE
    s, se = bootstrap_loglog_slope(x, exact * rng.exponential(size=(30, 1)), 500, rng)
    assert s == pytest.approx(-0.5) and se < 1e-12
    # independent columns: the slope is the OLS slope of the log column means
    noisy = x**-0.5 * rng.exponential(size=(200, 4))
    s, se = bootstrap_loglog_slope(x, noisy, 2000, rng)
    assert s == pytest.approx(np.polyfit(np.log(x), np.log(noisy.mean(0)), 1)[0])
    assert abs(s + 0.5) <= 4 * se


def test_bootstrap_band_against_t_table():
    # t_{15} upper 0.05 % point 4.073 and t_{63} upper 0.1 % point 3.225 (tables)
    assert bootstrap_band(1.0, 16, 1e-3) == pytest.approx(4.0728, abs=1e-4)
    assert bootstrap_band(2.0, 64, 1e-3, two_sided=False) == pytest.approx(
        2 * 3.225, abs=2e-3
    )


def test_slope_lives_in_montecarlo_only():
    assert not hasattr(learning, "loglog_slope")
    assert all(hasattr(learning, name) for name in learning.__all__)


# --------------------------------------------------------------------------- bad input
K3 = np.zeros((2, 3, 2))
GOOD = {
    uniform_convergence_bound: dict(
        N=100, delta=0.05, loss_bound=1.0, lipschitz=1.0, param_range=1.0, eps=0.1
    ),
    tightest_uniform_convergence_bound: dict(
        N=[10, 20],
        delta=0.05,
        loss_bound=1.0,
        lipschitz=1.0,
        param_range=1.0,
        eps_grid=[0.1, 0.2],
    ),
    net_size: dict(param_range=1.0, eps=0.1),
    squared_loss_constants: dict(value_bound=1.0, label_bound=1.0),
    rademacher_bound: dict(
        rademacher=[0.1], N=10, n_signs=5, loss_bound=1.0, delta=0.1
    ),
    grid_erm: dict(risks=[[1.0, 2.0]], axis=-1),
    optimisation_error: dict(emp_risks=[[1.0, 2.0]], chosen=[0]),
    block_empirical_risks: dict(losses=np.ones((4, 2)), N=2),
    sup_gap: dict(emp_risks=np.ones((2, 3)), pop_risk=np.ones(3)),
    excess_risk: dict(emp_risks=np.ones((2, 3)), pop_risk=np.ones(3)),
    erm_size_sweep: dict(
        losses=np.ones((1, 4, 2)), pop_risk=np.ones((1, 2)), sizes=[2], n_super=2
    ),
    attention_loss_matrix: dict(
        q=[1.0, 0.0], K=K3, V=np.zeros((2, 3)), y=np.zeros(2), betas=[1.0]
    ),
    linear_model_risk_matrix: dict(
        q=[1.0, 0.0],
        K=K3,
        Phi=np.zeros((2, 3, 5)),
        target=np.zeros(5),
        betas=[1.0],
        latent_var=1.0,
        noise_var=1.0,
        label_noise_var=0.0,
    ),
    erm_study: dict(
        lengths=[2],
        n_sequences=2,
        n_population=2,
        betas=[0.0, 1.0],
        rng=np.random.default_rng(0),
        tau=1.0,
        sigma=0.5,
        sigma_y=0.5,
    ),
    limit_score_variance: dict(betas=[1.0]),
    limit_risk: dict(betas=[1.0], t_star=0.0, latent_var=1.0, label_noise_var=0.1),
    beta_derivative_autograd: dict(
        q=[[1.0, 0.0]], K=np.zeros((3, 2)), V=np.zeros((3, 1)), betas=[1.0]
    ),
    beta_derivative_covariance: dict(
        q=[[1.0, 0.0]], K=np.zeros((3, 2)), V=np.zeros((3, 1)), betas=[1.0]
    ),
    attention_derivative_terms: dict(
        q=[1.0, 0.0], K=K3, v=np.zeros((2, 3)), betas=[1.0]
    ),
    lemma_by_length: dict(
        q=[1.0, 0.0],
        K=K3,
        v=np.zeros((2, 3)),
        betas=[1.0],
        W=np.zeros((1, 2, 2)),
        lengths=[2, 3],
    ),
    score_matrix_gradient: dict(
        q=[1.0, 0.0], K=K3, v=np.zeros((2, 3)), W=np.zeros((1, 2, 2))
    ),
    empirical_rademacher: dict(
        losses=np.ones((3, 2)), n_signs=4, rng=np.random.default_rng(0), absolute=False
    ),
    bootstrap_loglog_slope: dict(
        x=[1.0, 2.0], samples=np.ones((3, 2)), n_boot=4, rng=np.random.default_rng(0)
    ),
    bootstrap_band: dict(se=1.0, n_rows=4, fpp=0.01, two_sided=True),
}
NUMBER_BAD = [float("nan"), float("inf"), 1 + 1j, True, "1", None, -1.0]
INT_BAD = [2.5, True, "3", None, float("nan"), -3]
ARRAY_BAD = [
    [float("nan")],
    [[1.0, 2.0], [1.0]],
    np.array([1 + 1j]),
    np.array([True]),
    "abc",
    None,
]
INT_ARGS = {
    "N",
    "n_signs",
    "n_boot",
    "n_rows",
    "n_super",
    "n_sequences",
    "n_population",
}
FLOAT_ARGS = {
    "delta", "loss_bound", "lipschitz", "param_range", "eps", "value_bound",
    "label_bound", "latent_var", "noise_var", "label_noise_var", "tau", "sigma",
    "sigma_y", "se", "fpp",
}  # fmt: skip


def _bad_values(arg, good):
    if arg in INT_ARGS and np.ndim(good) == 0:
        return INT_BAD
    if arg in FLOAT_ARGS:
        return NUMBER_BAD
    special = {
        "rng": [0, None, "seed"],
        "absolute": [1, None, "yes"],
        "two_sided": [1, None, "yes"],
        "t_star": [float("nan"), 1j, True, None],
        "axis": [2.5, True, 5],
    }
    return special.get(arg, ARRAY_BAD)


@pytest.mark.parametrize("fn", list(GOOD), ids=lambda fn: fn.__name__)
def test_every_public_function_names_its_bad_argument(fn):
    """One valid call per public function; then each argument broken in turn (NaN,
    inf, complex, bool, str, None, ragged, 2.5 for an integer, out of range)."""
    kwargs = GOOD[fn]
    fn(**kwargs)  # the good call works
    for arg, good in kwargs.items():
        for bad in _bad_values(arg, good):
            with pytest.raises(ValueError, match=arg):
                fn(**{**kwargs, arg: bad})


def test_wrong_kinds_are_type_errors_too():
    with pytest.raises(InputTypeError):
        uniform_convergence_bound(2.5, 0.05, 1.0, 1.0, 1.0, 0.1)
    with pytest.raises(InputTypeError):
        grid_erm([[1 + 1j, 2.0]])
    with pytest.raises(InputTypeError):
        attention_loss_matrix([1.0, 0.0], K3, np.zeros((2, 3)), np.zeros(2), [True])
    with pytest.raises(ValueError, match="dtype"):
        attention_loss_matrix(
            [1.0, 0.0], K3, np.zeros((2, 3)), np.zeros(2), [1.0], dtype=torch.int64
        )
