"""Tests of lib.pretraining against independent computations (explicit loops, closed forms, brute force)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import i0, i1
from scipy.stats import chi2

from lib import pretraining as S
from lib.attention import softmax_attention
from lib.circle import fourier_features, unit_circle

VZ, VE = 1 / 3, 0.25 / 3


def _explicit_masked(t, v, beta, m):
    """Loop over targets: attention of the target's key over the tokens outside its block."""
    L = len(t)
    n_t = m * (L // m)
    K = unit_circle(t)
    out = []
    for ell in range(n_t):
        keep = [j for j in range(L) if j // m != ell // m]
        out.append(
            float(
                softmax_attention(K[ell][None], K[keep], v[keep][:, None], beta)[0, 0]
            )
        )
    return np.array(out)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_masked_predictions_match_explicit_loop(m):
    rng = np.random.default_rng(0)
    t, v = rng.uniform(0, 2 * np.pi, 7), rng.standard_normal(7)
    betas = [0.0, 0.7, 5.0]
    pred = S.masked_predictions(t, v, betas, n_mask=m).numpy()
    for g, b in enumerate(betas):
        np.testing.assert_allclose(
            pred[g], _explicit_masked(t, v, b, m), rtol=1e-12, atol=1e-12
        )
    loss = S.masked_loss(t[None], v[None], betas, n_mask=m)
    n_t = m * (7 // m)
    for g, b in enumerate(betas):
        np.testing.assert_allclose(
            loss[g, 0],
            np.mean((v[:n_t] - _explicit_masked(t, v, b, m)) ** 2),
            rtol=1e-12,
        )


def test_masked_loss_float32_close_and_chunking_invariant():
    rng = np.random.default_rng(1)
    t, v = rng.uniform(0, 2 * np.pi, (10, 6)), rng.standard_normal((10, 6))
    a = S.masked_loss(t, v, [1.0, 3.0])
    np.testing.assert_allclose(S.masked_loss(t, v, [1.0, 3.0], chunk=3), a, rtol=1e-13)
    np.testing.assert_allclose(
        S.masked_loss(t, v, [1.0, 3.0], dtype=torch.float32), a, rtol=1e-5
    )


@pytest.mark.parametrize("m", [1, 2])
def test_conditional_risk_equals_quadratic_form(m):
    """E[(e_l − w_l)ᵀ v]² = (e_l − w_l)ᵀ (var_z ΦΦᵀ + var_eps I)(e_l − w_l), looped."""
    rng = np.random.default_rng(2)
    t = rng.uniform(0, 2 * np.pi, 6)
    beta = 2.5
    W = S.masked_attention_weights(t, [beta], n_mask=m)[0].numpy()
    Phi = fourier_features(t)
    C = VZ * Phi @ Phi.T + VE * np.eye(6)
    n_t = W.shape[0]
    expected = np.mean(
        [
            (np.eye(6)[ell] - W[ell]) @ C @ (np.eye(6)[ell] - W[ell])
            for ell in range(n_t)
        ]
    )
    got = S.masked_risk_given_keys(t[None], [beta], var_z=VZ, var_eps=VE, n_mask=m)[
        0, 0
    ]
    assert got == pytest.approx(expected, rel=1e-12)


def test_conditional_risk_matches_monte_carlo():
    """Average of the empirical loss over many (z, ε) draws with the keys fixed."""
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 2 * np.pi, 8)
    n = 20000
    z = rng.uniform(-1, 1, (n, 5))
    eps = rng.uniform(-0.5, 0.5, (n, 8))
    v = z @ fourier_features(t).T + eps
    losses = S.masked_loss(np.broadcast_to(t, (n, 8)), v, [4.0])[0]
    exact = S.masked_risk_given_keys(t[None], [4.0], var_z=VZ, var_eps=VE)[0, 0]
    assert abs(losses.mean() - exact) < 5 * losses.std() / np.sqrt(
        n
    )  # 5-sigma: false failure < 1e-6


@pytest.mark.parametrize("L, m", [(5, 1), (7, 2), (8, 3), (9, 4)])
def test_bayes_risk_is_gaussian_conditional_variance(L, m):
    """Schur complement of the joint covariance of the values (independent of lib.circle).

    Target ℓ (one of the m⌊L/m⌋ positions of whole blocks) is predicted from the tokens outside its
    block of m: Var(v_ℓ | v_o) = C_ℓℓ − C_ℓo C_oo⁻¹ C_oℓ, averaged over the targets.
    """
    rng = np.random.default_rng(4 + L)
    t = rng.uniform(0, 2 * np.pi, L)
    Phi = fourier_features(t)
    C = VZ * Phi @ Phi.T + VE * np.eye(L)
    cv = []
    for ell in range(m * (L // m)):
        o = [j for j in range(L) if j // m != ell // m]
        cv.append(C[ell, ell] - C[ell, o] @ np.linalg.solve(C[np.ix_(o, o)], C[o, ell]))
    got = S.masked_bayes_risk_given_keys(t[None], var_z=VZ, var_eps=VE, n_mask=m)[0]
    assert got == pytest.approx(np.mean(cv), rel=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), beta=st.floats(0, 50), m=st.integers(1, 3))
def test_attention_never_beats_the_linear_bayes_floor(seed, beta, m):
    t = np.random.default_rng(seed).uniform(0, 2 * np.pi, (3, 9))
    risk = S.masked_risk_given_keys(t, [beta], var_z=VZ, var_eps=VE, n_mask=m)[0]
    floor = S.masked_bayes_risk_given_keys(t, var_z=VZ, var_eps=VE, n_mask=m)
    assert np.all(risk >= floor - 1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_masked_weights_permutation_equivariant(seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, 6)
    perm = rng.permutation(6)
    W = S.masked_attention_weights(t, [3.0])[0].numpy()
    Wp = S.masked_attention_weights(t[perm], [3.0])[0].numpy()
    np.testing.assert_allclose(Wp, W[np.ix_(perm, perm)], atol=1e-13)
    np.testing.assert_allclose(W.sum(-1), 1.0, atol=1e-13)
    assert np.all(np.diag(W) == 0)


def test_representation_and_downstream_moments():
    rng = np.random.default_rng(5)
    t, v = rng.uniform(0, 2 * np.pi, 7), rng.standard_normal(7)
    q = np.array([0.3, 2.0, 4.0])
    a = np.arange(1.0, 6.0)
    beta = 1.7
    WQ = np.exp(beta * np.cos(q[:, None] - t[None]))
    WQ /= WQ.sum(1, keepdims=True)
    np.testing.assert_allclose(
        S.representation(t, v, [beta], q)[0].numpy(), WQ @ v, rtol=1e-12
    )
    Phi = fourier_features(t)
    A, b = S.downstream_moments_given_keys(t, [beta], q, a, var_z=VZ, var_eps=VE)
    np.testing.assert_allclose(
        A[0], WQ @ (VZ * Phi @ Phi.T + VE * np.eye(7)) @ WQ.T, rtol=1e-12
    )
    np.testing.assert_allclose(b[0], VZ * WQ @ Phi @ a, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), lam=st.sampled_from([0.0, 1e-3, 0.1]))
def test_downstream_head_is_optimal(seed, lam):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((4, 4))
    A, b = M @ M.T + 0.1 * np.eye(4), rng.standard_normal(4)
    ey2 = 10.0 + b @ np.linalg.solve(A, b)
    fit = S.downstream_risk(A, b, ey2, lam)
    obj = lambda w: ey2 - 2 * w @ b + w @ A @ w + lam * w @ w  # noqa: E731
    assert fit.risk == pytest.approx(obj(fit.head), rel=1e-10)
    assert fit.risk == pytest.approx(
        ey2 - b @ np.linalg.solve(A + lam * np.eye(4), b), rel=1e-10
    )
    for _ in range(5):
        assert obj(fit.head + 0.01 * rng.standard_normal(4)) >= fit.risk - 1e-12


def test_downstream_per_sequence_mean_is_risk():
    rng = np.random.default_rng(6)
    t = rng.uniform(0, 2 * np.pi, (50, 8))
    q, a = np.array([0.0, 2.0, 4.0]), np.ones(5)
    c = S.risk_curves(
        t, [0.5, 3.0], q, a, var_z=VZ, var_eps=VE, var_y=0.01, ridge=1e-3, chunk=7
    )
    np.testing.assert_allclose(c.down_seq.mean(1), c.r_down, rtol=1e-12)
    np.testing.assert_allclose(
        c.r_pre, S.masked_risk_given_keys(t, [0.5, 3.0], var_z=VZ, var_eps=VE).mean(1)
    )


def test_transfer_constants_quadratic_case():
    """R_pre = a(θ−θ°)², R_down = b(θ−θ°)² gives κ = b/a; linear R_down gives κ' = |s|/√a."""
    grid = np.linspace(0, 10, 101)
    th0, a, b = grid[37], 2.0, 0.5
    tc = S.transfer_constants(a * (grid - th0) ** 2, b * (grid - th0) ** 2 + 3.0)
    assert (
        tc.index0 == 37
        and tc.kappa == pytest.approx(b / a)
        and tc.misalignment == pytest.approx(0.0)
    )
    s = -0.3
    tc = S.transfer_constants(a * (grid - th0) ** 2, s * (grid - th0))
    assert tc.kappa_sqrt == pytest.approx(abs(s) / np.sqrt(a))
    h = grid[1] - grid[0]
    assert tc.kappa == pytest.approx(
        abs(s) * h / (a * h**2)
    )  # ~ 1/h: blows up as the grid refines
    assert tc.misalignment == pytest.approx(
        -s * (grid[-1] - th0)
    )  # R_down(θ°) − min R_down
    # vectorised over leading axes
    batch = S.transfer_constants(
        np.stack([a * (grid - th0) ** 2] * 3), np.stack([b * (grid - th0) ** 2] * 3)
    )
    np.testing.assert_allclose(batch.kappa, b / a)


def test_local_transfer_constants_exact_on_quadratics():
    grid = np.linspace(0, 10, 41)
    th0 = 4.1  # off the grid
    cp, cd, s = 3.0, -0.7, 0.2
    rp = 0.5 * cp * (grid - th0) ** 2 + 1.0
    rd = 2.0 + s * (grid - th0) + 0.5 * cd * (grid - th0) ** 2
    loc = S.local_transfer_constants(grid, rp, rd)
    assert loc.theta0 == pytest.approx(th0)
    assert loc.slope_down == pytest.approx(s)
    assert loc.curv_pre == pytest.approx(cp) and loc.curv_down == pytest.approx(cd)
    assert loc.kappa_local == pytest.approx(cd / cp)
    assert loc.kappa_sqrt_local == pytest.approx(abs(s) * np.sqrt(2 / cp))


def test_pretraining_optimum_and_local_mc():
    rng = np.random.default_rng(7)
    t = S.sample_key_angles(300, 10, rng)
    grid = np.arange(1.0, 30.0, 0.5)
    c = S.risk_curves(
        t,
        grid,
        [0.0, 2.0, 4.0],
        np.ones(5),
        var_z=VZ,
        var_eps=VE,
        var_y=0.0,
        ridge=1e-3,
    )
    th = S.pretraining_optimum(t, grid[np.argmin(c.r_pre)], var_z=VZ, var_eps=VE)
    assert abs(th - grid[np.argmin(c.r_pre)]) <= 0.5
    r = S.masked_risk_given_keys(
        t, [th - 1e-3, th, th + 1e-3], var_z=VZ, var_eps=VE
    ).mean(1)
    assert r[1] <= r[0] and r[1] <= r[2]
    assert mc_positive(
        S.local_transfer_mc(
            t,
            th,
            [0.0, 2.0, 4.0],
            np.ones(5),
            var_z=VZ,
            var_eps=VE,
            var_y=0.0,
            ridge=1e-3,
        )
    )


def mc_positive(mc):
    return (
        mc.slope_down_se > 0
        and mc.theta0_se > 0
        and mc.curv_pre > 0
        and mc.kappa_sqrt_local_se > 0
    )


def test_local_mc_derivatives_against_an_independent_polynomial_fit():
    """Stencil derivatives against least-squares polynomials fitted on 31 other points of the same curve.

    The fit (degree 8 on θ° + [−0.3, 0.3], points off the stencil) gives the first four derivatives
    independently of the step-h stencil. The stencil's known truncation is h²·R3/6 for the central first
    difference and h²·R4/12 for the second (Rk the k-th derivative); after adding it to the fitted
    derivatives the two must agree within the fit's own error, estimated as the change between degrees 6
    and 8, plus the rounding of a difference quotient of sums over n sequences, n·eps·max|R|/h^k.
    """
    q, a = np.array([0.0, 2.0, 4.0]), np.ones(5)
    kw = dict(var_z=VZ, var_eps=VE, var_y=0.0, ridge=1e-3)
    t = S.sample_key_angles(300, 10, np.random.default_rng(7))
    th = S.pretraining_optimum(t, 8.0, var_z=VZ, var_eps=VE, tol=1e-8)
    h = 1e-2
    mc = S.local_transfer_mc(t, th, q, a, h=h, **kw)
    off = np.linspace(-0.3, 0.3, 31) + 0.0037  # none on the stencil θ° + {0, ±h, ±2h}
    c = S.risk_curves(t, th + off, q, a, **kw)

    def derivs(y, deg):
        p = np.polyfit(off, y, deg)
        return np.array([np.polyval(np.polyder(p, k), 0.0) for k in range(1, 5)])

    def rnd(k):  # risks are below 1
        return 300 * np.finfo(float).eps / h**k

    for y, slope, curv in [
        (c.r_down, mc.slope_down, mc.curv_down),
        (c.r_pre, None, mc.curv_pre),
    ]:
        d6, d8 = derivs(y, 6), derivs(y, 8)
        err = np.abs(d6 - d8)
        if slope is not None:
            assert abs(slope - (d8[0] + h**2 * d8[2] / 6)) <= err[0] + h**2 * err[
                2
            ] / 6 + rnd(1)
        assert abs(curv - (d8[1] + h**2 * d8[3] / 12)) <= err[1] + h**2 * err[
            3
        ] / 12 + rnd(2)
    d6, d8 = derivs(c.r_pre, 6), derivs(c.r_pre, 8)
    # five-point third difference: truncation h²·R5/4 is not fitted; bound it by the degree change of R4
    assert abs(mc.third_pre - d8[2]) <= abs(d6[2] - d8[2]) + h**2 * abs(d8[3]) + rnd(3)


def test_local_mc_standard_errors_match_replicate_spread():
    """Delta-method standard errors against the spread of 40 independent replicates.

    Each replicate draws its own key sample and its own θ̂°. If the reported standard error is right,
    (R − 1) sd²/se² is χ²_{R−1}; the ratio sd/se must lie in the two-sided band of that law, at level
    0.001/4 per quantity (false failure ≤ 0.001 for the four, up to the delta method's own error).
    A design with a clearly non-zero downstream slope (|S|/se ≈ 6) keeps |S| away from the fold at 0,
    where the delta method for κ'_loc = |S|·sqrt(2/c_pre) would not apply.
    """
    q, a = np.pi + np.array([-0.6, 0.0, 0.6]), np.ones(5)
    kw = dict(var_z=VZ, var_eps=VE, var_y=0.0, ridge=1e-3)
    t = S.sample_key_angles(2000, 10, np.random.default_rng(7), concentration=2.0)
    grid = np.arange(1.0, 30.0, 1.0)
    c = S.risk_curves(t, grid, q, a, **kw)
    th = S.pretraining_optimum(t, grid[np.argmin(c.r_pre)], var_z=VZ, var_eps=VE)
    R, n = 40, 400
    fields = [
        ("theta0", "theta0_se"),
        ("slope_down", "slope_down_se"),
        ("curv_pre", "curv_pre_se"),
        ("kappa_sqrt_local", "kappa_sqrt_local_se"),
    ]
    res = []
    for r in range(R):
        tr = S.sample_key_angles(
            n, 10, np.random.default_rng(100 + r), concentration=2.0
        )
        m = S.local_transfer_mc(
            tr, S.pretraining_optimum(tr, th, var_z=VZ, var_eps=VE), q, a, **kw
        )
        res.append([getattr(m, f) for pair in fields for f in pair])
    res = np.array(res)
    lo, hi = np.sqrt(chi2.ppf([0.001 / 8, 1 - 0.001 / 8], R - 1) / (R - 1))
    assert np.all(
        np.abs(res[:, 2] / res[:, 3]) > 3
    )  # the regime the delta method needs
    for k, (est, _) in enumerate(fields):
        ratio = res[:, 2 * k].std(ddof=1) / res[:, 2 * k + 1].mean()
        assert lo <= ratio <= hi, (est, ratio, lo, hi)


def test_key_sampler():
    rng = np.random.default_rng(8)
    t = S.sample_key_angles(20000, 1, rng, concentration=2.0, center=1.0)
    assert np.all((t >= 0) & (t < 2 * np.pi))
    R = np.abs(np.mean(np.exp(1j * (t - 1.0))))  # mean resultant length = I1(c)/I0(c)
    assert abs(R - i1(2.0) / i0(2.0)) < 5 * 0.5 / np.sqrt(20000)
    X = S.sample_pretraining_sequences(
        50,
        6,
        rng,
        concentration=3.0,
        tau=1.0,
        sigma=0.5,
        latent="uniform",
        noise="uniform",
    )
    eps = X.v - np.einsum("nlp,np->nl", fourier_features(X.t), X.z)
    assert np.all(np.abs(eps) <= 0.5) and np.all(np.abs(X.z) <= 1.0)


def test_bad_input_raises():
    t = np.zeros((2, 5))
    with pytest.raises(ValueError, match="beta"):
        S.masked_attention_weights(t, [-1.0])
    with pytest.raises(ValueError, match="n_mask"):
        S.mask_blocks(5, 5)
    with pytest.raises(ValueError, match="v must"):
        S.masked_loss(t, np.zeros((2, 4)), [1.0])
    with pytest.raises(ValueError, match="t must"):
        S.masked_loss(np.zeros(5), np.zeros(5), [1.0])
    with pytest.raises(ValueError, match="var_z"):
        S.masked_risk_given_keys(t, [1.0], var_z=-1.0, var_eps=0.1)
    with pytest.raises(ValueError, match="a must"):
        S.downstream_moments_given_keys(
            t, [1.0], [0.0], np.ones(3), var_z=1.0, var_eps=0.1
        )
    with pytest.raises(ValueError, match="query_angles"):
        S.representation(t, t, [1.0], [])
    with pytest.raises(ValueError, match="r_pre and r_down"):
        S.transfer_constants(np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match="interior"):
        S.local_transfer_constants(np.arange(5.0), np.arange(5.0), np.arange(5.0))
    with pytest.raises(ValueError, match="ridge"):
        S.downstream_risk(np.eye(2), np.ones(2), 1.0, -1.0)
    with pytest.raises(ValueError, match="concentration"):
        S.sample_key_angles(3, 4, np.random.default_rng(0), concentration=-1.0)
    with pytest.raises(ValueError, match="rng"):
        S.sample_key_angles(3, 4, 0)


def test_downstream_per_sequence_averages_to_the_risk():
    # with per-sequence moments A_i = r_i r_iᵀ, b_i = r_i y_i, the mean of the per-sequence risks of
    # the optimal head is the population risk, computed independently from the averaged moments
    rng = np.random.default_rng(5)
    G, n, H, lam = 3, 400, 4, 1e-3
    r = rng.normal(size=(G, n, H))
    y = r @ rng.normal(size=H) + 0.1 * rng.normal(size=(G, n))
    A_seq, b_seq = r[..., :, None] * r[..., None, :], r * y[..., None]
    ey2 = float((y**2).mean())
    fit = S.downstream_risk(A_seq.mean(1), b_seq.mean(1), ey2, lam)
    per_seq = S.downstream_per_sequence(A_seq, b_seq, fit.head, ey2, lam)
    assert per_seq.shape == (G, n)
    np.testing.assert_allclose(per_seq.mean(1), fit.risk, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="A_seq"):
        S.downstream_per_sequence(A_seq[0], b_seq, fit.head, ey2, lam)
