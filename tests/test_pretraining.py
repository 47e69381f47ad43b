"""Tests of lib.pretraining against independent computations.

The oracles are explicit loops, closed forms, brute force and the shared NumPy softmax
of ``tests/conftest.py``; property tests draw angles, values, grids and parameters with
hypothesis (extremes included).
"""

import warnings

import numpy as np
import pytest
from conftest import softmax_attention_np, softmax_np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate
from scipy.special import i0, i1
from scipy.stats import norm

from lib import pretraining as S
from lib.circle import CircleSample, fourier_features, unit_circle
from lib.validation import InputTypeError

VZ, VE = 1 / 3, 0.25 / 3
RISK = dict(var_z=VZ, var_eps=VE, var_y=0.0, ridge=1e-3)
FAST = settings(max_examples=8, deadline=None)


def angles(n_max=7, n_min=2):
    """Angles of any real size (the circle wraps them), in arrays of length 2..7."""
    elem = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False)
    return st.integers(n_min, n_max).flatmap(lambda L: arrays(float, L, elements=elem))


betas = st.floats(0.0, 500.0, allow_nan=False, allow_infinity=False)


def explicit_masked(t, v, beta, m):
    """Loop over targets: NumPy softmax attention over the tokens outside the block."""
    L = len(t)
    out = []
    for ell in range(m * (L // m)):
        keep = [j for j in range(L) if j // m != ell // m]
        K = unit_circle(t)
        pred, _ = softmax_attention_np(K[ell][None], K[keep], v[keep][:, None], beta)
        out.append(pred[0, 0])
    return np.array(out)


# --- masking
@FAST
@given(t=angles(), data=st.data(), beta=betas)
def test_masked_predictions_and_loss_match_explicit_loop(t, data, beta):
    L = t.size
    m = data.draw(st.integers(1, L - 1))
    v = data.draw(arrays(float, L, elements=st.floats(-1e3, 1e3)))
    pred = S.masked_predictions(t, v, [beta], n_mask=m)[0]
    np.testing.assert_allclose(pred, explicit_masked(t, v, beta, m), atol=1e-9)
    loss = S.masked_loss(t[None], v[None], [beta], n_mask=m)[0, 0]
    n_t = m * (L // m)
    expected = np.mean((v[:n_t] - explicit_masked(t, v, beta, m)) ** 2)
    assert loss == pytest.approx(expected, rel=1e-9, abs=1e-9)


@FAST
@given(t=angles(), beta=betas, m=st.integers(1, 3))
def test_masked_weights_rows_blocks_and_permutations(t, beta, m):
    L = t.size
    m = min(m, L - 1)
    W = S.masked_attention_weights(t, beta, n_mask=m)[0]
    _, blocked = S.mask_blocks(L, m)
    assert np.all(np.isfinite(W)) and np.all(W[blocked] == 0)
    np.testing.assert_allclose(W.sum(-1), 1.0, atol=1e-12)
    perm = np.random.default_rng(L).permutation(L)
    if m == 1:  # leave-one-out is permutation equivariant
        Wp = S.masked_attention_weights(t[perm], beta)[0]
        np.testing.assert_allclose(Wp, W[np.ix_(perm, perm)], atol=1e-12)


def test_masked_loss_float32_and_chunking():
    rng = np.random.default_rng(1)
    t, v = rng.uniform(0, 2 * np.pi, (10, 6)), rng.standard_normal((10, 6))
    a = S.masked_loss(t, v, [1.0, 3.0])
    np.testing.assert_allclose(S.masked_loss(t, v, [1.0, 3.0], chunk=3), a, rtol=1e-13)
    b = S.masked_loss(t, v, [1.0, 3.0], dtype="float32")
    np.testing.assert_allclose(b, a, rtol=1e-5)
    assert b.dtype == np.float64


def test_mask_blocks_by_hand():
    targets, blocked = S.mask_blocks(7, 3)
    np.testing.assert_array_equal(targets, np.arange(6))
    assert blocked[4].tolist() == [False, False, False, True, True, True, False]


# --- risks given keys
@FAST
@given(t=angles(n_max=6, n_min=3), beta=betas, data=st.data())
def test_conditional_risk_is_the_quadratic_form(t, beta, data):
    """(e_l − w_l)ᵀ(var_z ΦΦᵀ + var_eps I)(e_l − w_l), looped over targets."""
    L = t.size
    m = data.draw(st.integers(1, L - 1))
    vz, ve = data.draw(st.floats(0.0, 10.0)), data.draw(st.floats(0.0, 10.0))
    W = S.masked_attention_weights(t, beta, n_mask=m)[0]
    Phi = fourier_features(t)
    C = vz * Phi @ Phi.T + ve * np.eye(L)
    E = np.eye(L)
    expected = np.mean([(E[k] - W[k]) @ C @ (E[k] - W[k]) for k in range(W.shape[0])])
    got = S.masked_risk_given_keys(t, beta, var_z=vz, var_eps=ve, n_mask=m)[0]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_conditional_risk_matches_monte_carlo():
    """Mean empirical loss over 2000 draws of (z, ε) with the keys fixed."""
    rng = np.random.default_rng(3)
    t, n = rng.uniform(0, 2 * np.pi, 8), 2000
    z = rng.uniform(-1, 1, (n, 5))
    v = z @ fourier_features(t).T + rng.uniform(-0.5, 0.5, (n, 8))
    losses = S.masked_loss(np.broadcast_to(t, (n, 8)), v, [4.0])[0]
    exact = S.masked_risk_given_keys(t, [4.0], var_z=VZ, var_eps=VE)[0]
    assert abs(losses.mean() - exact) < 5 * losses.std() / np.sqrt(n)  # P < 1e-6


@pytest.mark.parametrize("L, m", [(5, 1), (7, 2), (9, 4)])
def test_bayes_floor_is_the_gaussian_conditional_variance(L, m):
    """Schur complement of the values' joint covariance, averaged over the targets."""
    t = np.random.default_rng(4 + L).uniform(0, 2 * np.pi, L)
    Phi = fourier_features(t)
    C = VZ * Phi @ Phi.T + VE * np.eye(L)
    cv = []
    for ell in range(m * (L // m)):
        o = [j for j in range(L) if j // m != ell // m]
        cv.append(C[ell, ell] - C[ell, o] @ np.linalg.solve(C[np.ix_(o, o)], C[o, ell]))
    got = S.masked_bayes_risk_given_keys(t, var_z=VZ, var_eps=VE, n_mask=m)
    assert got == pytest.approx(np.mean(cv), rel=1e-10)


@FAST
@given(t=arrays(float, (2, 6), elements=st.floats(0, 7)), beta=betas)
def test_attention_never_beats_the_linear_bayes_floor(t, beta):
    risk = S.masked_risk_given_keys(t, beta, var_z=VZ, var_eps=VE)[0]
    floor = S.masked_bayes_risk_given_keys(t, var_z=VZ, var_eps=VE)
    assert np.all(risk >= floor - 1e-12)


# --- downstream
@FAST
@given(t=angles(), beta=betas, q=arrays(float, 3, elements=st.floats(-7, 7)))
def test_representation_and_moments_match_numpy(t, beta, q):
    v = np.cos(3 * t) + 0.5
    a = np.arange(1.0, 6.0)
    WQ = softmax_np(beta * np.cos(q[:, None] - t[None]))
    np.testing.assert_allclose(S.representation(t, v, beta, q)[0], WQ @ v, atol=1e-9)
    Phi = fourier_features(t)
    A, b = S.downstream_moments_given_keys(t, beta, q, a, var_z=VZ, var_eps=VE)
    C = VZ * Phi @ Phi.T + VE * np.eye(t.size)
    np.testing.assert_allclose(A[0], WQ @ C @ WQ.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b[0], VZ * WQ @ Phi @ a, rtol=1e-9, atol=1e-12)


def test_sampled_downstream_loss_matches_numpy():
    rng = np.random.default_rng(5)
    t, v, y = rng.uniform(0, 7, (4, 6)), rng.normal(size=(4, 6)), rng.normal(size=4)
    q, head, lam = np.array([0.0, 2.0]), np.array([[0.5, -1.0], [2.0, 0.1]]), 0.3
    got = S.sampled_downstream_loss(t, v, y, [1.0, 7.0], q, head, lam)
    for g, beta in enumerate([1.0, 7.0]):
        r = np.stack([softmax_np(beta * np.cos(q[:, None] - ti)) @ vi
                      for ti, vi in zip(t, v, strict=True)])  # fmt: skip
        expected = (y - r @ head[g]) ** 2 + lam * head[g] @ head[g]
        np.testing.assert_allclose(got[g], expected, rtol=1e-10)


@FAST
@given(
    M=arrays(float, (4, 4), elements=st.floats(-10, 10)),
    b=arrays(float, 4, elements=st.floats(-10, 10)),
    lam=st.sampled_from([0.0, 1e-3, 0.1, 10.0]),
)
def test_downstream_head_is_optimal(M, b, lam):
    A = M @ M.T + 0.1 * np.eye(4)
    ey2 = 1.0 + b @ np.linalg.solve(A, b)
    fit = S.downstream_risk(A, b, ey2, lam)

    def obj(w):
        return ey2 - 2 * w @ b + w @ A @ w + lam * w @ w

    expected = ey2 - b @ np.linalg.solve(A + lam * np.eye(4), b)
    assert fit.risk == pytest.approx(expected, rel=1e-8, abs=1e-8)
    for e in np.eye(4):
        assert obj(fit.head + 1e-3 * e) >= fit.risk - 1e-9


def test_downstream_per_sequence_averages_to_the_risk():
    rng = np.random.default_rng(5)
    G, n, H, lam = 3, 400, 4, 1e-3
    r = rng.normal(size=(G, n, H))
    y = r @ rng.normal(size=H) + 0.1 * rng.normal(size=(G, n))
    A_seq, b_seq = r[..., :, None] * r[..., None, :], r * y[..., None]
    ey2 = float((y**2).mean())
    fit = S.downstream_risk(A_seq.mean(1), b_seq.mean(1), ey2, lam)
    per_seq = S.downstream_per_sequence(A_seq, b_seq, fit.head, ey2, lam)
    np.testing.assert_allclose(per_seq.mean(1), fit.risk, rtol=1e-12, atol=1e-12)


def test_downstream_risk_rejects_non_moment_matrices():
    with pytest.raises(ValueError, match="symmetric"):
        S.downstream_risk([[1.0, 2.0], [0.0, 1.0]], [1.0, 0.0], 1.0, 0.0)
    with pytest.raises(ValueError, match="semi-definite"):
        S.downstream_risk([[1.0, 0.0], [0.0, -1.0]], [1.0, 0.0], 1.0, 0.0)


# --- curves
def test_risk_curves_extend_and_chunk():
    t = S.sample_key_angles(30, 8, np.random.default_rng(6))
    q, a = np.array([0.0, 2.0, 4.0]), np.ones(5)
    full = S.risk_curves(t, [0.5, 2.0, 3.0], q, a, chunk=7, **RISK)
    np.testing.assert_allclose(full.down_seq.mean(1), full.r_down, rtol=1e-12)
    pre = S.masked_risk_given_keys(t, [0.5, 2.0, 3.0], var_z=VZ, var_eps=VE)
    np.testing.assert_allclose(full.r_pre, pre.mean(1), rtol=1e-12)
    part = S.risk_curves(t, [0.5, 3.0], q, a, **RISK)
    ext = S.extend_curves(part, [0.5, 3.0], [0.5, 2.0, 3.0], t, q, a, **RISK)
    for name in S.RiskCurves._fields:
        np.testing.assert_allclose(getattr(ext, name), getattr(full, name), rtol=1e-12)


def test_pretraining_optimum_is_a_minimiser():
    t = S.sample_key_angles(80, 10, np.random.default_rng(7))
    th = S.pretraining_optimum(t, 8.0, var_z=VZ, var_eps=VE, tol=1e-8)
    r = S.masked_risk_given_keys(t, th + np.array([-1e-2, 0, 1e-2]), var_z=VZ,
                                 var_eps=VE).mean(1)  # fmt: skip
    assert r[1] < r[0] and r[1] < r[2]


# --- constants
@FAST
@given(
    rp=arrays(float, 9, elements=st.floats(0, 1)),
    rd=arrays(float, 9, elements=st.floats(-1, 1)),
)
def test_transfer_constants_match_loops(rp, rd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tc = S.transfer_constants(rp, rd)
    # it warns exactly when κ or κ_sqrt is not finite (a tie with the minimum)
    unbounded = not (np.isfinite(tc.kappa) and np.isfinite(tc.kappa_sqrt))
    assert any("unbounded" in str(w.message) for w in caught) == unbounded
    i0 = int(np.argmin(rp))
    lin, sq, sqp = [], [], []
    for i in range(9):
        if i == i0:
            continue
        dp, dd = rp[i] - rp[i0], rd[i] - rd[i0]
        if dp > 0:
            with np.errstate(over="ignore"):
                lin.append(np.float64(dd) / np.float64(dp))
                sq.append(np.float64(abs(dd)) / np.sqrt(np.float64(dp)))
        else:  # a tie with the minimum
            lin.append(np.inf if dd > 0 else -np.inf)
            sq.append(np.inf if dd != 0 else 0.0)
        sqp.append(sq[-1] if dd > 0 else 0.0)
    assert tc.index0 == i0 and tc.kappa == max(lin)
    assert tc.kappa_sqrt == max(sq) and tc.kappa_sqrt_plus == max(sqp)
    assert tc.misalignment == rd[i0] - rd.min()


def test_transfer_constants_quadratic_case():
    grid = np.linspace(0, 10, 101)
    th0, a, b, s = grid[37], 2.0, 0.5, -0.3
    tc = S.transfer_constants(a * (grid - th0) ** 2, b * (grid - th0) ** 2 + 3.0)
    assert tc.kappa == pytest.approx(b / a) and tc.misalignment == pytest.approx(0.0)
    tc = S.transfer_constants(a * (grid - th0) ** 2, s * (grid - th0))
    assert tc.kappa_sqrt == pytest.approx(abs(s) / np.sqrt(a))
    h = grid[1] - grid[0]
    assert tc.kappa == pytest.approx(abs(s) / (a * h))  # ~ 1/h
    assert tc.misalignment == pytest.approx(-s * (grid[-1] - th0))


def test_transfer_constants_se_is_batch_means():
    rng = np.random.default_rng(8)
    g = np.linspace(-1.0, 1.0, 7)[:, None]
    P = g**2 + 0.01 * rng.normal(size=(7, 60))
    D = 0.3 * g + 0.01 * rng.normal(size=(7, 60))
    se = S.transfer_constants_se(P, D, 6)
    vals = [
        S.transfer_constants(P[:, b].mean(1), D[:, b].mean(1)).kappa_sqrt
        for b in np.split(np.arange(60), 6)
    ]
    assert se.kappa_sqrt == pytest.approx(np.std(vals, ddof=1) / np.sqrt(6))


def test_local_transfer_constants_exact_on_quadratics():
    grid = np.linspace(0, 10, 41)
    th0, cp, cd, s = 4.1, 3.0, -0.7, 0.2
    rp = 0.5 * cp * (grid - th0) ** 2 + 1.0
    rd = 2.0 + s * (grid - th0) + 0.5 * cd * (grid - th0) ** 2
    loc = S.local_transfer_constants(grid, rp, rd)
    assert loc.theta0 == pytest.approx(th0) and loc.slope_down == pytest.approx(s)
    assert loc.curv_pre == pytest.approx(cp) and loc.curv_down == pytest.approx(cd)
    assert loc.kappa_sqrt_local == pytest.approx(abs(s) * np.sqrt(2 / cp))


def test_local_mc_derivatives_against_a_polynomial_fit():
    """Stencil derivatives against least-squares polynomials on 31 other points.

    The known truncation (h²R3/6 for the first difference, h²R4/12 for the second) is
    added to the fitted derivatives; they must agree within the fit's own error (the
    change between degrees 6 and 8) plus the rounding of difference quotients.
    """
    q, a = np.array([0.0, 2.0, 4.0]), np.ones(5)
    t = S.sample_key_angles(50, 8, np.random.default_rng(7))
    grid = np.arange(1.0, 30.0)
    start = grid[
        np.argmin(S.masked_risk_given_keys(t, grid, var_z=VZ, var_eps=VE).mean(1))
    ]
    th = S.pretraining_optimum(t, start, var_z=VZ, var_eps=VE, tol=1e-8)
    h = 1e-2
    mc = S.local_transfer_mc(t, th, q, a, h=h, **RISK)
    off = np.linspace(-0.3, 0.3, 31) + 0.0037  # none on the stencil
    c = S.risk_curves(t, th + off, q, a, **RISK)

    def derivs(y, deg):
        p = np.polyfit(off, y, deg)
        return np.array([np.polyval(np.polyder(p, k), 0.0) for k in range(1, 5)])

    def rnd(k):
        return 50 * np.finfo(float).eps / h**k

    for y, slope, curv in [(c.r_down, mc.slope_down, mc.curv_down),
                           (c.r_pre, None, mc.curv_pre)]:  # fmt: skip
        d6, d8 = derivs(y, 6), derivs(y, 8)
        err = np.abs(d6 - d8)
        if slope is not None:
            tol = err[0] + h**2 * err[2] / 6 + rnd(1)
            assert abs(slope - (d8[0] + h**2 * d8[2] / 6)) <= tol
        tol = err[1] + h**2 * err[3] / 12 + rnd(2)
        assert abs(curv - (d8[1] + h**2 * d8[3] / 12)) <= tol
    d6, d8 = derivs(c.r_pre, 6), derivs(c.r_pre, 8)
    tol = abs(d6[2] - d8[2]) + h**2 * abs(d8[3]) + rnd(3)
    assert abs(mc.third_pre - d8[2]) <= tol
    assert mc.kappa_sqrt_local == pytest.approx(
        abs(mc.slope_down) * np.sqrt(2 / mc.curv_pre)
    )


def test_local_mc_delta_method_on_exact_quadratics(monkeypatch):
    """Standard errors on per-key-set quadratics, whose influences are known exactly.

    With ``pre_i(β) = c_i (β − u_i)²/2`` and ``down_i(β) = s_i (β − θ) + d (β − θ)²/2``
    the stencils are exact: ``ψ1_pre,i = c_i (θ − u_i)``, ``ψ2_pre,i = c_i``,
    ``ψ1_down,i = s_i``, and the delta method gives the standard deviations below.
    """
    rng = np.random.default_rng(13)
    n = 50
    c_i, u, s_i, d = rng.uniform(1, 2, n), rng.normal(5, 1, n), rng.normal(1, 1, n), 0.7
    theta = float(np.sum(c_i * u) / np.sum(c_i))  # the minimiser of the mean

    def fake_curves(t, beta, *args, **kw):
        b = np.asarray(beta)[:, None]
        pre = c_i * (b - u) ** 2 / 2
        down = s_i * (b - theta) + d * (b - theta) ** 2 / 2
        return S.RiskCurves(pre.mean(1), down.mean(1), pre, down, None)

    monkeypatch.setattr(S, "risk_curves", fake_curves)
    m = S.local_transfer_mc(None, theta, None, None, **RISK)
    cp, slope = c_i.mean(), s_i.mean()

    def se(x):
        return np.std(x, ddof=1) / np.sqrt(n)

    infl_s = s_i - (d / cp) * c_i * (theta - u)
    k = slope * np.sqrt(2 / cp)
    infl_k = np.sqrt(2 / cp) * infl_s - k * c_i / (2 * cp)
    assert m.curv_pre == pytest.approx(cp) and m.slope_down == pytest.approx(slope)
    assert m.theta0_se == pytest.approx(se(c_i * (theta - u)) / cp)
    assert m.slope_down_se == pytest.approx(se(infl_s))
    assert m.curv_pre_se == pytest.approx(se(c_i))
    assert m.kappa_signed == pytest.approx(k)
    assert m.kappa_signed_se == pytest.approx(se(infl_k))


# --- experiments
def test_transfer_ratios_on_exact_polynomial_curves(monkeypatch):
    """With R_pre, R_down exact cubics/quadratics in β, the ratios have closed forms."""
    cp, s, cd, g3, th0 = 2.0, 0.3, 0.5, 0.4, 5.0

    def fake_curves(t, beta, *args, **kw):
        d = np.asarray(beta) - th0
        pre, down = cp * d**2 / 2 + g3 * d**3 / 6, s * d + cd * d**2 / 2
        return S.RiskCurves(pre, down, pre[:, None], down[:, None], None)

    monkeypatch.setattr(S, "risk_curves", fake_curves)
    loc = S.LocalTransferMC(
        th0, 0, s, 0, cp, 0, cd, g3, 0, s * np.sqrt(2 / cp), 0, 0, 0
    )
    tr = S.transfer_ratios(None, loc, None, None, **RISK)
    h = tr.h
    np.testing.assert_allclose(
        tr.linear, (s + cd * h / 2) / (cp * h / 2 + g3 * h**2 / 6)
    )
    assert tr.k == pytest.approx(cd / (2 * s) - g3 / (3 * cp))
    assert abs(tr.slope + 1) <= tr.slope_band
    assert abs(tr.sqrt_limit - loc.kappa_sqrt_local) <= tr.sqrt_limit_band


@FAST
@given(
    center=st.floats(0.0, 10.0),
    step=st.floats(0.01, 1.0),
    half=st.floats(0.05, 3.0),
)
def test_refine_grid_properties(center, step, half):
    g = np.arange(0.0, 10.5, 0.5)
    rg = S.refine_grid(g, center, step, half)
    assert rg.grid[rg.index0] == pytest.approx(center)
    assert np.all(np.diff(rg.grid) > 0)
    far = g[np.abs(g - center) > half]
    assert set(far) <= set(rg.grid)
    near = rg.grid[np.abs(rg.grid - center) <= half + 1e-9]
    np.testing.assert_allclose(np.diff(near), step, rtol=1e-9)


def test_erm_rates_against_brute_force():
    rng = np.random.default_rng(9)
    g = np.linspace(-2.0, 2.0, 41)
    losses = (g - rng.normal(0.0, 1.0, (64, 1))) ** 2 + 0.1 * rng.normal(size=(64, 41))
    rp, rd = g**2 + 1.0, 0.5 * g
    er = S.erm_rates(losses, [4, 8, 16], g, rp, rd, 20, curv_pre=2.0, theta0_se=0.0,
                     fpp=1e-3, n_boot=50, rng=rng)  # fmt: skip
    for k, N in enumerate([4, 8, 16]):
        for r in range(64 // N):
            emp = losses[r * N : (r + 1) * N].mean(0)
            j = int(np.argmin(emp))
            assert er.pre[k][r] == rp[j] - rp[20] and er.down[k][r] == rd[j] - rd[20]
            assert er.sup_gap[k][r] == pytest.approx(np.max(np.abs(emp - rp)))
    assert er.basic_slack >= 0
    deriv = (losses[:, 21] - losses[:, 19]) / (g[21] - g[19])
    assert er.varsigma2 == pytest.approx(np.var(deriv, ddof=1) / 4)
    fit = np.polyfit(np.log([4, 8, 16]), np.log(er.mean_pre), 1)[0]
    assert er.slope_pre == pytest.approx(fit)


@FAST
@given(
    sizes=st.lists(st.integers(1, 10**4), min_size=2, max_size=6, unique=True),
    s2=st.floats(1e-3, 1e3),
    phi=st.floats(0.0, 10.0),
    w=st.floats(0.0, 1.0),
)
def test_rate_floor_bias_is_a_polyfit_slope(sizes, s2, phi, w):
    N = np.array(sizes, dtype=float)
    expected = np.polyfit(np.log(N), np.log1p(w * phi * N / s2), 1)[0]
    assert S.rate_floor_bias(N, s2, phi, w) == pytest.approx(expected, abs=1e-10)


@settings(max_examples=15, deadline=None)
@given(a=st.floats(-5, 5), b=st.floats(-5, 5), n=st.integers(1, 1000))
def test_asymptotic_changes_against_quadrature(a, b, n):
    loc = S.LocalTransfer(0.0, a, 2.0, b, 0.0, 0.0)
    out = S.asymptotic_changes([n], 1.0, loc)
    sd = 1 / np.sqrt(n)
    f = lambda z: abs(a * sd * z + b * sd**2 * z**2 / 2) * norm.pdf(z)  # noqa: E731
    root = -2 * a / (b * sd) if abs(b * sd) > 1e-12 else np.inf
    pts = [0.0] + ([root] if abs(root) < 12 else [])
    expected = integrate.quad(f, -12, 12, points=pts, limit=100)[0]
    assert out.down[0] == pytest.approx(expected, rel=1e-7, abs=1e-12)
    assert out.pre[0] == pytest.approx(1.0 / n)


def test_mc_agreement_by_hand():
    rng = np.random.default_rng(10)
    s, p = rng.normal(size=(3, 50)), rng.normal(size=(3, 20))
    ag = S.mc_agreement(s, p, 0.01)
    se = np.sqrt(s.var(1, ddof=1) / 50 + p.var(1, ddof=1) / 20)
    np.testing.assert_allclose(ag.z, (s.mean(1) - p.mean(1)) / se)
    assert ag.z_crit == pytest.approx(norm.isf(0.01 / 6))


def test_length_trend_against_brute_force():
    rng = np.random.default_rng(11)
    X = S.sample_pretraining_sequences(32, 8, rng)
    keys = S.sample_key_angles(40, 8, rng)
    grid = np.array([1.0, 4.0, 9.0])
    lt = S.length_trend(X, keys, [4, 8], 8, grid, n_keys=[40, 20], var_z=VZ,
                        var_eps=VE, n_boot=50, rng=rng, fpp=0.01)  # fmt: skip
    for k, (L, m) in enumerate([(4, 40), (8, 20)]):
        pop = S.masked_risk_given_keys(keys[:m, :L], grid, var_z=VZ, var_eps=VE).mean(1)
        loss = S.masked_loss(X.t[:, :L], X.v[:, :L], grid)
        for r in range(4):
            gap = np.max(np.abs(loss[:, 8 * r : 8 * r + 8].mean(1) - pop))
            assert lt.gaps[r, k] == pytest.approx(gap, rel=1e-5)
    assert lt.power == pytest.approx(norm.cdf(lt.alt_slope / lt.se - norm.isf(0.01)))


def test_tracking_pairs_and_sweep_point():
    rng = np.random.default_rng(12)
    g = np.linspace(-2.0, 2.0, 21)
    losses = (g - rng.normal(0.0, 1.0, (32, 1))) ** 2
    er = S.erm_rates(losses, [2, 8], g, g**2, g, 10, curv_pre=2.0, theta0_se=0.0,
                     fpp=1e-3, n_boot=20, rng=rng)  # fmt: skip
    x, y, n_zero = S.tracking_pairs(er)
    assert x.size + n_zero == 20 and np.all(x > 0)
    np.testing.assert_allclose(y, np.sqrt(x))  # |g| = √(g²)
    t = S.sample_key_angles(60, 8, rng)
    sp = S.sweep_point(
        t, np.arange(0.0, 20.0, 2.0), [0.0, 2.0, 4.0], np.ones(5), **RISK
    )
    c = S.risk_curves(t, np.arange(0.0, 20.0, 2.0), [0.0, 2.0, 4.0], np.ones(5), **RISK)
    assert sp.beta_down == np.arange(0.0, 20.0, 2.0)[np.argmin(c.r_down)]


def test_key_sampler():
    rng = np.random.default_rng(8)
    t = S.sample_key_angles(20000, 1, rng, concentration=2.0, center=1.0)
    assert np.all((t >= 0) & (t < 2 * np.pi))
    R = np.abs(np.mean(np.exp(1j * (t - 1.0))))  # mean resultant length I1/I0
    assert abs(R - i1(2.0) / i0(2.0)) < 5 * 0.5 / np.sqrt(20000)
    X = S.sample_pretraining_sequences(50, 6, rng, concentration=3.0)
    eps = X.v - np.einsum("nlp,np->nl", fourier_features(X.t), X.z)
    assert np.all(np.abs(eps) <= 0.5) and np.all(np.abs(X.z) <= 1.0)


# --- bad inputs
def _valid_calls():
    rng = np.random.default_rng(0)
    T, V, B, Q = (
        rng.uniform(0, 6, (3, 5)),
        rng.normal(size=(3, 5)),
        [1.0, 2.0],
        [0.0, 3.0],
    )
    A5 = np.ones(5)
    risk = dict(var_z=0.3, var_eps=0.1, var_y=0.01, ridge=1e-3, degree=2, n_mask=1)
    A_seq = np.broadcast_to(np.eye(2), (2, 3, 2, 2)).copy()
    loc = S.LocalTransferMC(5.0, 0.1, 0.2, 0.1, 1.0, 0.1, 0.5, 0.1, 0.5, 0.3, 0.1, 0.3,
                            0.1)  # fmt: skip
    g = np.linspace(-1.0, 1.0, 9)
    X = S.sample_pretraining_sequences(8, 4, rng)
    return [
        (S.sample_key_angles,
         dict(size=3, L=4, rng=rng, concentration=1.0, center=0.5)),
        (S.sample_pretraining_sequences,
         dict(size=2, L=4, rng=rng, concentration=1.0, tau=1.0, sigma=0.5, degree=2)),
        (S.mask_blocks, dict(L=5, n_mask=2)),
        (S.masked_attention_weights, dict(t=T, beta=B, n_mask=1)),
        (S.masked_predictions, dict(t=T, v=V, beta=B, n_mask=1)),
        (S.masked_loss, dict(t=T, v=V, beta=B, n_mask=1, chunk=2)),
        (S.masked_risk_given_keys,
         dict(t=T, beta=B, var_z=0.3, var_eps=0.1, degree=2, n_mask=1, chunk=2)),
        (S.masked_bayes_risk_given_keys,
         dict(t=T, var_z=0.3, var_eps=0.1, degree=2, n_mask=1)),
        (S.representation, dict(t=T, v=V, beta=B, query_angles=Q, chunk=2)),
        (S.sampled_downstream_loss,
         dict(t=T, v=V, y=[1.0, 2.0, 3.0], beta=B, query_angles=Q,
              head=np.ones((2, 2)), ridge=0.1)),
        (S.downstream_moments_given_keys,
         dict(t=T, beta=B, query_angles=Q, a=A5, var_z=0.3, var_eps=0.1, degree=2)),
        (S.downstream_risk, dict(A=np.eye(2), b=[1.0, 0.0], ey2=2.0, ridge=0.1)),
        (S.downstream_per_sequence,
         dict(A_seq=A_seq, b_seq=np.ones((2, 3, 2)), head=np.ones((2, 2)), ey2=2.0,
              ridge=0.1)),
        (S.risk_curves, dict(t=T, beta=B, query_angles=Q, a=A5, chunk=2, **risk)),
        (S.pretraining_optimum,
         dict(t=T, beta_init=2.0, var_z=0.3, var_eps=0.1, degree=2, n_mask=1, h=1e-3,
              tol=1e-4, max_steps=3)),
        (S.transfer_constants, dict(r_pre=g**2, r_down=g)),
        (S.transfer_constants_se,
         dict(pre_seq=np.ones((3, 4)), down_seq=np.ones((3, 4)), n_batches=2)),
        (S.local_transfer_constants, dict(grid=g, r_pre=g**2, r_down=g, window=2)),
        (S.local_transfer_mc,
         dict(t=T, theta0=2.0, query_angles=Q, a=A5, h=0.01, **risk)),
        (S.transfer_ratios,
         dict(t=T, local=loc, query_angles=Q, a=A5, h0=0.01, n_steps=5, richardson=1,
              **risk)),
        (S.refine_grid, dict(grid=g, center=0.1, step=0.05, half_width=0.2)),
        (S.erm_sandwich, dict(losses=np.ones((3, 9)), grid=g, index0=4, curv_pre=1.0)),
        (S.rate_floor_bias,
         dict(sizes=[2, 4], varsigma2=1.0, floor_var=0.1, weight=1.0)),
        (S.erm_rates,
         dict(losses=rng.normal(size=(8, 9)) + g**2, sizes=[2, 4], grid=g, r_pre=g**2,
              r_down=g,
              index0=4, curv_pre=2.0, theta0_se=0.1, fpp=0.01, n_boot=10, rng=rng)),
        (S.length_trend,
         dict(X=X, keys=T[:, :4], lengths=[2, 4], N=4, beta=B, n_keys=[3, 3], var_z=0.3,
              var_eps=0.1, degree=2, n_boot=10, rng=rng, fpp=0.01)),
        (S.sweep_point,
         dict(t=T, grid=np.arange(0.0, 20.0, 4.0), query_angles=Q, a=A5, **risk)),
        (S.extend_curves,
         dict(curves=S.risk_curves(T, B, Q, A5, **risk), grid=B, new_grid=[1.0, 1.5],
              t=T, query_angles=Q, a=A5, **risk)),
        (S.mc_agreement,
         dict(sampled=rng.normal(size=(2, 5)), population=rng.normal(size=(2, 4)),
              fpp=0.01)),
        (S.asymptotic_changes, dict(sizes=[1, 2], varsigma2=1.0, local=loc)),
    ]  # fmt: skip


def _bad_values(value):
    """Broken versions of a valid argument value: NaN, inf, complex, bool, ragged…"""
    if isinstance(value, np.random.Generator):
        return [None, 0, "rng"]
    if isinstance(value, (S.LocalTransferMC, S.RiskCurves, CircleSample)):
        return [None, (1.0, 2.0), "x"]
    if isinstance(value, str):
        return [3, "no-such-option"]
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [2.5, True, float("nan"), "3", None]
    if isinstance(value, float):
        return [float("nan"), float("inf"), 1 + 0j, True, None, "1"]
    arr = np.asarray(value, dtype=float)
    out = [None, "x", arr.astype(complex), arr > 0]
    for bad in (np.nan, np.inf):
        broken = arr.copy()
        broken.flat[0] = bad
        out.append(broken)
    out.append([[0.0, 1.0], [0.0]])  # ragged
    return out


CASES = [(f.__name__, f, kwargs, arg) for f, kwargs in _valid_calls() for arg in kwargs]


@pytest.mark.parametrize(
    "fname, f, kwargs, arg", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES]
)
def test_bad_inputs_raise_named_errors(fname, f, kwargs, arg):
    for bad in _bad_values(kwargs[arg]):
        with pytest.raises((ValueError, TypeError)) as err:
            f(**{**kwargs, arg: bad})
        text = str(err.value)
        assert arg in text or arg.split("_")[0] in text, (fname, arg, bad, text)


def test_named_error_types():
    with pytest.raises(InputTypeError):
        S.mask_blocks(5.0)
    with pytest.raises(InputTypeError):
        S.masked_loss([[0.0, 1.0]], [[1 + 1j, 0.0]], 1.0)
    with pytest.raises(ValueError, match="beta"):
        S.masked_attention_weights([0.0, 1.0], -1.0)
    with pytest.raises(ValueError, match="n_mask"):
        S.mask_blocks(5, 5)
