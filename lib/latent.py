"""Latent variable models of exchangeable tokens and their posteriors (Chapter 2).

The model is ``z ~ π``, ``x_1, …, x_L | z`` i.i.d. ``p(·|z)``. Two conjugate
instances:

- :class:`BetaBernoulli`: ``θ ~ Beta(a, b)``, ``x_ℓ | θ ~ Bernoulli(θ)``; the
  posterior is ``Beta(a + k, b + L − k)`` with ``k = Σ_ℓ x_ℓ``;
- :class:`NormalNormal`: ``z ~ N(μ0, τ²)``, ``x_ℓ | z ~ N(z, σ²)``; the posterior
  is ``N(m, v)`` with ``v = 1/(1/τ² + L/σ²)`` and ``m = v (μ0/τ² + S/σ²)``,
  ``S = Σ_ℓ x_ℓ``.

Sequences lie along the **last axis** of ``x``; every leading axis is a batch axis, so
a whole Monte Carlo experiment is one call. An empty last axis (``L = 0``) is allowed:
the posterior is then the prior. :func:`normal_median_variance` is the exact variance
of the median of ``L`` standard normal tokens.

For Chapter 2's Gaussian experiment: :func:`representation_predictions` and
:func:`representation_risks` (four representations of a sequence and their exact
reducible risks), :func:`token_features` and :func:`orthogonality_statistic` (an exact
χ² test that an error is uncorrelated with functions of the tokens), and
:class:`GaussianStudy` (the whole simulation, with the bands of its checks) and
:class:`HeadPredictions` (three heads by quadrature and in closed form).

Return types: NumPy throughout. Per-sequence results are ``float64`` arrays of shape
``x.shape[:-1]``, NumPy scalars (``np.float64``, ``np.int64``) when that shape is
``()``; a length ``L`` is a Python ``int``. Inputs are validated with
:mod:`lib.validation`; a result that overflows raises ``FloatingPointError``.

Examples
--------
>>> model = NormalNormal(mu0=0.5, tau=1.5, sigma=2.0)
>>> m, v = model.posterior([1.0, 2.0, 0.0])
>>> print(round(float(m), 4), round(float(v), 4))  # v = 1/(4/9 + 3/4) = 36/43
0.814 0.8372
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import integrate, optimize, special, stats

from lib.montecarlo import SlopeFit, loglog_slope, mean_se
from lib.validation import (
    InputTypeError,
    check_array,
    check_binary,
    check_choice,
    check_int,
    check_int_array,
    check_positive,
    check_real,
    check_rng,
)

__all__ = [
    "Band",
    "BetaBernoulli",
    "GaussianStudy",
    "HeadPredictions",
    "NormalNormal",
    "normal_median_variance",
    "orthogonality_statistic",
    "representation_predictions",
    "representation_risks",
    "token_features",
]

_EPS = float(np.finfo(float).eps)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _finite(value, what: str, culprit: str):
    """``value`` if finite, else ``FloatingPointError`` naming the argument to blame."""
    if not np.all(np.isfinite(value)):
        raise FloatingPointError(
            f"{culprit} is too large or too small: {what} is not a finite float"
        )
    return value


class BetaBernoulli:
    """``θ ~ Beta(a, b)``, tokens ``x_ℓ | θ`` i.i.d. ``Bernoulli(θ)``.

    Parameters
    ----------
    a, b : float
        Positive prior parameters.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not a finite positive real number.

    Examples
    --------
    >>> model = BetaBernoulli(2, 2)
    >>> print(model.posterior([1, 0, 1, 1]))
    (np.float64(5.0), np.float64(3.0))
    """

    def __init__(self, a: float, b: float) -> None:
        self.a = check_positive("a", a)
        self.b = check_positive("b", b)

    def __repr__(self) -> str:
        return f"BetaBernoulli(a={self.a!r}, b={self.b!r})"

    def sufficient_statistic(self, x) -> tuple[np.ndarray, int]:
        """The number of ones and the length of binary sequences.

        Parameters
        ----------
        x : array_like of 0/1, shape (..., L)
            Binary tokens along the last axis.

        Returns
        -------
        k : numpy.ndarray of int64, shape ``x.shape[:-1]``
            ``Σ_ℓ x_ℓ``.
        L : int
            The length.

        Raises
        ------
        ValueError
            If ``x`` is a scalar or holds anything but 0 and 1.

        Examples
        --------
        >>> BetaBernoulli(1, 1).sufficient_statistic([[1, 0, 1], [0, 0, 0]])
        (array([2, 0]), 3)
        """
        arr = check_binary("x", x, min_ndim=1)
        return arr.sum(axis=-1), int(arr.shape[-1])

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``Beta(a + k, b + L − k)`` of ``θ`` given binary ``x`` (..., L).

        Returns
        -------
        alpha, beta : numpy.ndarray, shape ``x.shape[:-1]``
            The two parameters of the posterior Beta law.

        Raises
        ------
        ValueError
            If ``x`` is a scalar or holds anything but 0 and 1.

        Examples
        --------
        >>> BetaBernoulli(1, 1).posterior([[1, 1], [0, 1]])
        (array([3., 2.]), array([1., 2.]))
        """
        k, L = self.sufficient_statistic(x)
        return self.a + k, self.b + (L - k)

    def predictive(self, x) -> np.ndarray:
        """``P(x_{L+1} = 1 | x) = (a + k)/(a + b + L)``, shape ``x.shape[:-1]``.

        Raises
        ------
        ValueError
            If ``x`` is a scalar or holds anything but 0 and 1.

        Examples
        --------
        >>> float(BetaBernoulli(2, 2).predictive([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]))
        0.42857142857142855
        """
        alpha, beta = self.posterior(x)
        return alpha / (alpha + beta)

    def log_marginal(self, x) -> np.ndarray:
        """``log p(x) = log B(a + k, b + L − k) − log B(a, b)``, shape
        ``x.shape[:-1]``.

        The evidence of the sequence in its given order (every order has the same).

        Raises
        ------
        ValueError
            If ``x`` is a scalar or holds anything but 0 and 1.

        Examples
        --------
        >>> round(float(np.exp(BetaBernoulli(1, 1).log_marginal([1, 0]))), 12)
        0.166666666667
        """
        alpha, beta = self.posterior(x)
        return special.betaln(alpha, beta) - special.betaln(self.a, self.b)

    def sample(
        self, L: int, size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw latents and sequences from the model.

        Parameters
        ----------
        L : int
            Sequence length (``>= 0``).
        size : int
            Number of sequences (``>= 1``).
        rng : numpy.random.Generator
            The source of randomness.

        Returns
        -------
        theta : numpy.ndarray, shape (size,)
        x : numpy.ndarray of int64, shape (size, L)

        Raises
        ------
        ValueError
            If ``L``, ``size`` or ``rng`` is invalid.

        Examples
        --------
        >>> theta, x = BetaBernoulli(2, 3).sample(4, 2, np.random.default_rng(0))
        >>> theta.shape, x.shape
        ((2,), (2, 4))
        """
        L = check_int("L", L, minimum=0)
        size = check_int("size", size, minimum=1)
        rng = check_rng("rng", rng)
        theta = rng.beta(self.a, self.b, size=size)
        x = (rng.random((size, L)) < theta[:, None]).astype(np.int64)
        return theta, x


def _lengths(name: str, L) -> np.ndarray:
    """Non-negative integer length(s) as an int64 array (0-d for a scalar)."""
    if isinstance(L, (list, tuple)) or (isinstance(L, np.ndarray) and L.ndim):
        return check_int_array(name, L, minimum=0)
    return np.asarray(check_int(name, L, minimum=0), dtype=np.int64)


def _scalar_or_array(value: np.ndarray):
    value = np.asarray(value, dtype=float)
    return value[()] if value.ndim == 0 else value


class NormalNormal:
    """``z ~ N(μ0, τ²)``, tokens ``x_ℓ | z`` i.i.d. ``N(z, σ²)``.

    The posterior is computed from the variance ratios ``σ²/τ²`` and ``τ²/σ²``
    (never from ``1/τ²``), so that extreme scales (``τ = 1e-200`` or ``1e200``)
    neither divide by zero nor overflow; a posterior variance below the smallest
    float rounds to 0.

    Parameters
    ----------
    mu0 : float
        Prior mean.
    tau, sigma : float
        Positive prior and token standard deviations.

    Raises
    ------
    ValueError
        If a parameter is not a finite real number, or ``tau``/``sigma`` is not
        positive.

    Examples
    --------
    >>> NormalNormal(0.0, 1e-200, 1.0).posterior([3.0])
    (np.float64(0.0), np.float64(0.0))
    """

    def __init__(self, mu0: float, tau: float, sigma: float) -> None:
        self.mu0 = check_real("mu0", mu0)
        self.tau = check_positive("tau", tau)
        self.sigma = check_positive("sigma", sigma)
        with np.errstate(over="ignore", under="ignore"):
            # variance ratios, inf or 0 at extreme scales (the formulas allow both)
            self._rho = np.float64(self.tau / self.sigma) ** 2  # τ²/σ²
            self._kappa = np.float64(self.sigma / self.tau) ** 2  # σ²/τ²

    def __repr__(self) -> str:
        return f"NormalNormal(mu0={self.mu0!r}, tau={self.tau!r}, sigma={self.sigma!r})"

    def _variance(self, n_tokens) -> np.ndarray:
        """``1/(1/τ² + n/σ²)`` for real ``n >= 0`` (``n = 1/c`` for the median).

        As ``τ (τ/(1 + n τ²/σ²))`` when ``τ <= σ``, else
        ``σ (σ/(n + σ²/τ²))`` (``τ²`` at ``n = 0``): no intermediate overflow, a
        few roundings.
        """
        n = np.asarray(n_tokens, dtype=float)
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            if self.tau <= self.sigma:
                v = self.tau * (self.tau / (1.0 + n * self._rho))
            else:
                v = np.where(
                    n > 0,
                    self.sigma * (self.sigma / (n + self._kappa)),
                    np.float64(self.tau) ** 2,
                )
        return _finite(v, "the posterior variance", "tau")

    def _gain(self, L: int) -> float:
        """``v_L/σ² = 1/(σ²/τ² + L)``, the weight of each token in the mean
        (L ≥ 1)."""
        return float(1.0 / (self._kappa + L))

    def posterior_variance(self, L) -> np.ndarray:
        """``v_L = 1/(1/τ² + L/σ²)``: the posterior variance after ``L`` tokens.

        Parameters
        ----------
        L : int or array_like of int
            Length(s), ``>= 0``.

        Returns
        -------
        numpy.float64 or numpy.ndarray
            ``v_L``, of the shape of ``L``.

        Raises
        ------
        ValueError
            If ``L`` is not a non-negative integer (``2.5`` is not).
        FloatingPointError
            If ``v_0 = τ²`` overflows.

        Examples
        --------
        >>> NormalNormal(0.0, 1.0, 2.0).posterior_variance([0, 4])
        array([1. , 0.5])
        """
        return _scalar_or_array(self._variance(_lengths("L", L)))

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``N(m, v)`` of ``z`` given tokens ``x`` of shape ``(..., L)``.

        ``v = 1/(1/τ² + L/σ²)`` and ``m = μ0 + (v/σ²) Σ_ℓ (x_ℓ − μ0)``,
        which equals ``v (μ0/τ² + S/σ²)``.

        Parameters
        ----------
        x : array_like, shape (..., L)
            Real tokens along the last axis.

        Returns
        -------
        m, v : numpy.ndarray, shape ``x.shape[:-1]``
            Posterior mean and variance (``v`` is the same for every sequence).

        Raises
        ------
        ValueError
            If ``x`` is a scalar or not a finite real array.
        FloatingPointError
            If the mean overflows.

        Examples
        --------
        >>> m, v = NormalNormal(0.0, 1.0, 1.0).posterior([[1.0, 1.0], [0.0, 3.0]])
        >>> m, v
        (array([0.66666667, 1.        ]), array([0.33333333, 0.33333333]))
        """
        arr = check_array("x", x, min_ndim=1, nonempty=False)
        L = arr.shape[-1]
        v = self._variance(L)
        if L == 0:
            m = np.full(arr.shape[:-1], self.mu0)
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                m = self.mu0 + self._gain(L) * (arr - self.mu0).sum(axis=-1)
            _finite(m, "the posterior mean", "x")
        return _scalar_or_array(m), _scalar_or_array(np.full(np.shape(m), v))

    def predictive(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Predictive law ``N(m, v + σ²)`` of the next token ``x_{L+1}`` given ``x``.

        Returns
        -------
        mean, variance : numpy.ndarray, shape ``x.shape[:-1]``

        Raises
        ------
        ValueError
            If ``x`` is a scalar or not a finite real array.
        FloatingPointError
            If ``v + σ²`` overflows.

        Examples
        --------
        >>> NormalNormal(0.0, 1.0, 1.0).predictive([2.0])
        (np.float64(1.0), np.float64(1.5))
        """
        m, v = self.posterior(x)
        with np.errstate(over="ignore"):
            total = v + np.square(np.float64(self.sigma))
        return m, _finite(total, "the predictive variance v + σ²", "sigma")

    def bayes_risk(self, L, sigma_y: float) -> np.ndarray:
        """Squared-error Bayes risk ``v_L + σ_y²`` of ``y = z + ε``,
        ``ε ~ N(0, σ_y²)``.

        Parameters
        ----------
        L : int or array_like of int
            Number of tokens, ``>= 0``.
        sigma_y : float
            Standard deviation of the head's noise, ``>= 0``.

        Returns
        -------
        numpy.float64 or numpy.ndarray
            ``1/(1/τ² + L/σ²) + σ_y²``, of the shape of ``L``.

        Raises
        ------
        ValueError
            If ``L`` or ``sigma_y`` is invalid.
        FloatingPointError
            If the risk overflows.

        Examples
        --------
        >>> float(NormalNormal(0.0, 1.0, 1.0).bayes_risk(3, 0.5))
        0.5
        """
        sigma_y = check_positive("sigma_y", sigma_y, allow_zero=True)
        with np.errstate(over="ignore"):
            risk = self.posterior_variance(L) + np.square(np.float64(sigma_y))
        return _finite(risk, "the Bayes risk v_L + σ_y²", "sigma_y")

    def sample(
        self, L: int, size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw latents ``z`` (shape ``(size,)``) and sequences ``x`` (``(size, L)``).

        Parameters
        ----------
        L : int
            Sequence length (``>= 0``).
        size : int
            Number of sequences (``>= 1``).
        rng : numpy.random.Generator
            The source of randomness.

        Returns
        -------
        z : numpy.ndarray, shape (size,)
        x : numpy.ndarray, shape (size, L)

        Raises
        ------
        ValueError
            If ``L``, ``size`` or ``rng`` is invalid.
        FloatingPointError
            If a draw overflows (scales near the largest float).

        Examples
        --------
        >>> z, x = NormalNormal(0.0, 1.0, 1.0).sample(3, 5, np.random.default_rng(0))
        >>> z.shape, x.shape
        ((5,), (5, 3))
        """
        L = check_int("L", L, minimum=0)
        size = check_int("size", size, minimum=1)
        rng = check_rng("rng", rng)
        with np.errstate(over="ignore", invalid="ignore"):
            z = self.mu0 + self.tau * rng.standard_normal(size)
            x = z[:, None] + self.sigma * rng.standard_normal((size, L))
        return _finite(z, "z", "tau"), _finite(x, "x", "sigma")

    def _check_quadrature_scale(self, name: str, arr: np.ndarray) -> None:
        if arr.size and np.max(np.abs(arr - self.mu0)) > 1e100 * min(
            self.sigma, self.tau
        ):
            raise ValueError(
                f"{name} is too far from mu0 on the scale of sigma and tau"
            )

    def quadrature_expectation(
        self, x, g: Callable[[float], float], breakpoints=()
    ) -> tuple[float, float]:
        """``E[g(z) | x]`` by quadrature of Bayes' rule on the raw token likelihood.

        The integrand is ``N(z; μ0, τ²) Π_ℓ N(x_ℓ; z, σ²)`` (never the
        sufficient statistic), divided by its value at its maximiser (found
        numerically); the window is that maximiser ± 40 ``min(τ, σ/√L)``, at least
        40 posterior standard deviations. An independent check of :meth:`posterior`.

        Parameters
        ----------
        x : array_like, shape (L,)
            One sequence of real tokens.
        g : callable
            The head, ``g(z) -> float``, bounded by a polynomial.
        breakpoints : array_like, optional
            Points where ``g`` is not smooth (passed to ``scipy.integrate.quad``).

        Returns
        -------
        value : float
            ``∫ g π(·|x) = N/D``.
        error : float
            First-order bound ``(e_N + |value| e_D)/D`` from quad's error
            estimates ``e_N``, ``e_D`` of the two integrals.

        Raises
        ------
        ValueError
            If ``x`` is not a finite 1-d array (with
            ``|x − μ0| <= 1e100 min(σ, τ)``) or ``breakpoints`` is not finite.
        InputTypeError
            If ``g`` is not callable.
        FloatingPointError
            If an integral is not finite.

        Examples
        --------
        >>> model = NormalNormal(0.0, 1.0, 1.0)
        >>> value, error = model.quadrature_expectation([1.0, 2.0], lambda z: z)
        >>> round(value, 10), error < 1e-10
        (1.0, True)
        """
        arr = check_array("x", x, ndim=1, nonempty=False)
        if not callable(g):
            raise InputTypeError(f"g must be callable, got {g!r}")
        points = check_array("breakpoints", breakpoints, ndim=1, nonempty=False)
        L = arr.size
        self._check_quadrature_scale("x", arr)

        def log_joint(z: float) -> float:
            # log N(z; μ0, τ²) + Σ_ℓ log N(x_ℓ; z, σ²), up to a constant
            prior = -0.5 * ((z - self.mu0) / self.tau) ** 2
            return float(prior - 0.5 * np.sum(((arr - z) / self.sigma) ** 2))

        # the posterior mean lies between μ0 and the token mean, hence in [lo, hi]
        lo = min(self.mu0, *arr) if L else self.mu0
        hi = max(self.mu0, *arr) if L else self.mu0
        scale = min(self.tau, self.sigma / math.sqrt(L)) if L else self.tau
        if hi > lo:
            mode = optimize.minimize_scalar(
                lambda z: -log_joint(z),
                bounds=(lo, hi),
                method="bounded",
                options={"xatol": 1e-9 * scale},
            ).x
        else:
            mode = lo
        top = log_joint(mode)
        a, b = mode - 40 * scale, mode + 40 * scale
        inner = sorted({mode, *[p for p in points if a < p < b]})
        opts = dict(epsabs=0.0, epsrel=1e-11, limit=400, points=inner)

        def weight(z: float) -> float:
            return math.exp(log_joint(z) - top)

        D, e_D = integrate.quad(weight, a, b, **opts)
        # N may vanish (a symmetric head): ask for 1e-12 of ∫|g| w, not of |N|
        size = integrate.quad(
            lambda z: abs(g(z)) * weight(z), a, b, epsrel=1e-6, limit=400, points=inner
        )[0]
        opts["epsabs"] = 1e-12 * size
        N, e_N = integrate.quad(lambda z: g(z) * weight(z), a, b, **opts)
        _finite(np.array([N, D, e_N, e_D]), "an integral", "g")
        value = N / D
        return float(value), float((e_N + abs(value) * e_D) / D)


def normal_median_variance(L: int) -> float:
    """Exact variance ``c_L`` of the median of ``L`` i.i.d. ``N(0, 1)`` variables.

    With ``L = 2j + 1`` the median is the ``(j+1)``-th order statistic, of density
    ``L!/(j!)² Φ(u)^j (1 − Φ(u))^j φ(u)``; its mean is 0, and
    ``c_L = ∫ u² (density) du`` is computed by adaptive quadrature (relative
    accuracy ``1e-12``). ``c_1 = 1``, ``c_3 = 1 − √3/π``, and ``c_L ~ π/(2L)``.

    Parameters
    ----------
    L : int
        Odd length, ``>= 1``.

    Returns
    -------
    float
        ``c_L``.

    Raises
    ------
    ValueError
        If ``L`` is not an odd positive integer.

    Examples
    --------
    >>> round(normal_median_variance(3), 10) == round(1 - 3**0.5 / np.pi, 10)
    True
    """
    L = check_int("L", L, minimum=1)
    if L % 2 == 0:
        raise ValueError(
            f"L must be odd (the median is then a single order statistic), got {L}"
        )
    return _median_variance(L)


@functools.lru_cache(maxsize=256)
def _median_variance(L: int) -> float:
    j = (L - 1) // 2
    log_const = special.gammaln(L + 1) - 2 * special.gammaln(j + 1)

    def integrand(u: float) -> float:
        log_density = (
            log_const
            + j * (special.log_ndtr(u) + special.log_ndtr(-u))
            - 0.5 * u * u
            - _HALF_LOG_2PI
        )
        return u * u * np.exp(log_density)

    # The median's standard deviation is about sqrt(π/(2L)); its density decays like
    # exp(-(j+1)u²/2), which 40 of those standard deviations out is below exp(-600):
    # the truncated integral is exact to double precision.
    half_width = 40.0 * np.sqrt(np.pi / (2 * L))
    value, _ = integrate.quad(
        integrand,
        -half_width,
        half_width,
        points=[0.0],
        epsabs=0.0,
        epsrel=1e-12,
        limit=200,
    )
    return float(value)


# ------------------------------------------------------------------ representations
REPRESENTATIONS = ("posterior", "first token", "half prefix", "median")
"""The four representations of a sequence compared in Chapter 2: the posterior
``(L, S)``, the first token, the first ``⌈L/2⌉`` tokens, and the median (with its
best affine predictor)."""


def _odd_sequences(x) -> np.ndarray:
    arr = check_array("x", x, min_ndim=1)
    if arr.shape[-1] % 2 == 0:
        raise ValueError(f"x must hold sequences of odd length, got {arr.shape[-1]}")
    return arr


def representation_predictions(model: NormalNormal, x) -> dict[str, np.ndarray]:
    """The best predictor of ``z`` from each representation of the sequences ``x``.

    ``posterior``, ``first token`` and ``half prefix`` use the posterior mean given
    what they keep (all tokens, ``x_1``, the first ``⌈L/2⌉``); ``median`` uses the
    best affine predictor ``μ0 + γ (med − μ0)``, ``γ = τ²/(τ² + σ² c_L)``.

    Parameters
    ----------
    model : NormalNormal
    x : array_like, shape (..., L)
        Sequences of odd length ``L``.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys ``REPRESENTATIONS``, values of shape ``x.shape[:-1]``.

    Raises
    ------
    ValueError
        If ``x`` is not a finite array of odd-length sequences.
    InputTypeError
        If ``model`` is not a :class:`NormalNormal`.

    Examples
    --------
    >>> preds = representation_predictions(NormalNormal(0, 1, 1), [0.0, 3.0, 3.0])
    >>> {k: round(float(v), 3) for k, v in preds.items()}
    {'posterior': 1.5, 'first token': 0.0, 'half prefix': 1.0, 'median': 2.071}
    """
    model = _check_model(model)
    return _predictions(model, _odd_sequences(x), None)


def _predictions(model: NormalNormal, arr: np.ndarray, median) -> dict:
    """:func:`representation_predictions` on validated input (median precomputed)."""
    L = arr.shape[-1]
    half = (L + 1) // 2
    c_L = normal_median_variance(L)
    with np.errstate(over="ignore"):
        shrink = 1.0 / (1.0 + np.square(np.float64(model.sigma / model.tau)) * c_L)
    if median is None:
        median = np.median(arr, axis=-1)
    return {
        "posterior": model.posterior(arr)[0],
        "first token": model.posterior(arr[..., :1])[0],
        "half prefix": model.posterior(arr[..., :half])[0],
        "median": model.mu0 + shrink * (median - model.mu0),
    }


def representation_risks(model: NormalNormal, L: int) -> dict[str, np.float64]:
    """Exact reducible risks ``E(z − ẑ)²`` of the predictors of
    :func:`representation_predictions`.

    ``v_L``, ``v_1``, ``v_{⌈L/2⌉}`` and ``1/(1/τ² + 1/(σ² c_L))``: the median
    acts as ``1/c_L`` tokens.

    Parameters
    ----------
    model : NormalNormal
    L : int
        Odd length, ``>= 1``.

    Returns
    -------
    dict of str to numpy.float64
        Keys ``REPRESENTATIONS``.

    Raises
    ------
    ValueError
        If ``L`` is not an odd positive integer.
    InputTypeError
        If ``model`` is not a :class:`NormalNormal`.

    Examples
    --------
    >>> risks = representation_risks(NormalNormal(0, 1, 1), 3)
    >>> {k: round(float(v), 4) for k, v in risks.items()}
    {'posterior': 0.25, 'first token': 0.5, 'half prefix': 0.3333, 'median': 0.3097}
    """
    model = _check_model(model)
    c_L = normal_median_variance(L)  # validates L (odd, >= 1)
    return {
        "posterior": model.posterior_variance(L),
        "first token": model.posterior_variance(1),
        "half prefix": model.posterior_variance((L + 1) // 2),
        "median": np.float64(model._variance(1.0 / c_L)),
    }


def _check_model(model) -> NormalNormal:
    if not isinstance(model, NormalNormal):
        raise InputTypeError(f"model must be a NormalNormal, got {model!r}")
    return model


def token_features(x, mu0: float = 0.0) -> np.ndarray:
    """Functions of the tokens against which a posterior-mean error is tested.

    Every token ``x_1, …, x_L``, then ``(S − Lμ0)²/L``, the median, the minimum,
    the maximum, ``(x_1 − μ0)²``, ``1{x_1 > μ0}``, ``sin x_1`` and ``x_1 x_L``:
    linear and non-linear, smooth and not, symmetric and not. Some coincide for
    ``L = 1``; :func:`orthogonality_statistic` drops what is collinear.

    Parameters
    ----------
    x : array_like, shape (..., L)
        Sequences, ``L >= 1``.
    mu0 : float
        Centre for the quadratic and indicator features.

    Returns
    -------
    numpy.ndarray, shape (..., L + 8)

    Raises
    ------
    ValueError
        If ``x`` is not a finite array with ``L >= 1`` or ``mu0`` is not finite.

    Examples
    --------
    >>> token_features([[1.0, 3.0, 2.0]]).shape
    (1, 11)
    """
    arr = check_array("x", x, min_ndim=1)
    return _features(arr, check_real("mu0", mu0), np.median(arr, axis=-1))


def _features(arr: np.ndarray, mu0: float, median: np.ndarray) -> np.ndarray:
    """:func:`token_features` on validated input (median precomputed)."""
    L = arr.shape[-1]
    first, last = arr[..., 0], arr[..., -1]
    extra = [
        (arr - mu0).sum(axis=-1) ** 2 / L,
        median,
        arr.min(axis=-1),
        arr.max(axis=-1),
        (first - mu0) ** 2,
        (first > mu0).astype(float),
        np.sin(first),
        first * last,
    ]
    features = np.concatenate([arr, np.stack(extra, axis=-1)], axis=-1)
    return _finite(features, "a feature", "x")


def orthogonality_statistic(errors, features, variance: float) -> tuple[float, int]:
    """Exact χ² test that Gaussian errors are uncorrelated with the features.

    With ``P`` the orthogonal projection onto the span of the constant and the
    columns of ``features`` (numerically collinear directions dropped), the
    statistic is ``‖P e‖² / variance``. If ``e ~ N(0, variance I)`` independently
    of the features, it has the χ² law with ``dof = rank P`` degrees of freedom,
    exactly; an error correlated with a feature (or a mean ≠ 0) inflates it.

    Parameters
    ----------
    errors : array_like, shape (n,)
    features : array_like, shape (n, p)
    variance : float
        The errors' variance under the hypothesis, ``> 0``.

    Returns
    -------
    statistic : float
    dof : int

    Raises
    ------
    ValueError
        If the arrays are not finite, their lengths differ, ``n <= p + 1``, or
        ``variance`` is not positive.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> H = rng.standard_normal((1000, 3))
    >>> stat, dof = orthogonality_statistic(H[:, 0] + 0.0, H, 1.0)
    >>> dof, stat > 900
    (4, True)
    """
    e = check_array("errors", errors, ndim=1)
    H = check_array("features", features, ndim=2)
    variance = check_positive("variance", variance)
    n = e.size
    if H.shape[0] != n:
        raise ValueError(f"features must have {n} rows like errors, got {H.shape[0]}")
    if n <= H.shape[1] + 1:
        raise ValueError(f"need more errors than features + 1, got {n} and {H.shape}")
    centred = H - H.mean(axis=0)
    scale = np.sqrt((centred**2).mean(axis=0))
    keep = scale > 1e-12 * (np.abs(H).max(axis=0) + 1e-300)
    Z = centred[:, keep] / scale[keep]
    eig, vecs = np.linalg.eigh(Z.T @ Z)
    good = eig > 1e-9 * eig.max() if eig.size else np.zeros(0, dtype=bool)
    proj = vecs[:, good].T @ (Z.T @ e)
    statistic = (e.sum() ** 2 / n + np.sum(proj**2 / eig[good])) / variance
    statistic = _finite(statistic, "the statistic", "errors (or variance)")
    return float(statistic), int(1 + good.sum())


# ------------------------------------------------------------------ the Gaussian study
class Band(NamedTuple):
    """One banded check: ``|measured − theory| ≤ half_width`` at one length."""

    family: str
    L: int
    measured: float
    theory: float
    half_width: float


def _chi2_half_width(dof: int, alpha: float) -> float:
    """Half-width, relative to the mean, of a symmetric band containing the exact
    two-sided χ²_dof interval of level α: ``max(q_hi − dof, dof − q_lo)/dof``."""
    lo, hi = stats.chi2.ppf(alpha / 2, dof), stats.chi2.isf(alpha / 2, dof)
    return float(max(hi - dof, dof - lo) / dof)


class GaussianStudy:
    """Chapter 2's Gaussian simulation: ``n`` sequences per length, each claim measured.

    For each ``L``: draw ``(z, x)`` from ``model`` and ``y = z + σ_y ε``; record the
    squared and absolute errors of the posterior mean ``m_L`` in ``y``, its calibration
    ``mean (z − m_L)²``, the orthogonality statistic of ``z − m_L`` against
    :func:`token_features`, and for each of ``REPRESENTATIONS`` its reducible risk
    ``mean (z − ẑ)²`` and its paired gap ``d = (z − ẑ)² − (z − m_L)²`` to
    the posterior, with standard errors and the exact values of
    :func:`representation_risks`.

    Parameters
    ----------
    model : NormalNormal
    lengths : array_like of int
        Odd lengths.
    n : int
        Sequences per length, at least ``max(lengths) + 10``.
    sigma_y : float
        Noise of the head ``y = z + ε``, ``>= 0``.
    rng : numpy.random.Generator

    Attributes
    ----------
    lengths
        The lengths, an integer ``numpy.ndarray``.
    risk, risk_theory, abs_risk, calibration, orth_stat, orth_dof
        ``numpy.ndarray`` with one entry per length.
    reducible, reducible_se, reducible_theory, gap, gap_se, gap_theory : dict
        Keyed by ``REPRESENTATIONS``, arrays over the lengths.
    gap_rounding : dict
        Floating-point slack ``8 ε mean((z − ẑ)² + (z − m_L)²)`` of each gap.

    Raises
    ------
    ValueError
        If an argument is invalid (even lengths, ``n`` too small, …).
    InputTypeError
        If an argument has the wrong type.
    FloatingPointError
        If ``sigma_y`` is so large that the risks overflow.

    Examples
    --------
    >>> study = GaussianStudy(NormalNormal(0.5, 1.5, 2.0), [1, 3], 200, 0.5,
    ...                       np.random.default_rng(0))
    >>> study.risk.shape, bool(max(study.worst(1e-3).values()) < 1)
    ((2,), True)
    """

    FAMILIES = (
        "Bayes risk E(y − m_L)²",
        "absolute risk E|y − m_L|",
        "calibration E(z − m_L)² = v_L",
        "orthogonality χ²/dof",
        "gap, first token",
        "gap, half prefix",
        "gap, median",
    )

    def __init__(
        self,
        model: NormalNormal,
        lengths,
        n: int,
        sigma_y: float,
        rng: np.random.Generator,
    ) -> None:
        self.model = _check_model(model)
        Ls = check_int_array("lengths", lengths, ndim=1, minimum=1)
        if np.any(Ls % 2 == 0):
            raise ValueError(f"lengths must be odd, got {Ls.tolist()}")
        self.lengths = Ls
        self.n = n = check_int("n", n, minimum=int(Ls.max()) + 10)
        self.sigma_y = check_positive("sigma_y", sigma_y, allow_zero=True)
        rng = check_rng("rng", rng)
        rows = [self._one_length(L, rng) for L in Ls.tolist()]
        for key in ("risk", "risk_theory", "abs_risk", "calibration", "orth_stat"):
            setattr(self, key, np.array([row[key] for row in rows], dtype=float))
        self.orth_dof = np.array([row["orth_dof"] for row in rows])
        for key in ("reducible", "reducible_se", "reducible_theory", "gap", "gap_se"):
            setattr(self, key, _by_rep(rows, key))
        self.gap_theory = _by_rep(rows, "gap_theory")
        self.gap_rounding = _by_rep(rows, "gap_rounding")
        _finite(self.risk, "a Monte Carlo risk", "sigma_y")

    def _one_length(self, L: int, rng: np.random.Generator) -> dict:
        model, n = self.model, self.n
        z, x = model.sample(L, n, rng)
        with np.errstate(over="ignore", invalid="ignore"):
            y = z + self.sigma_y * rng.standard_normal(n)
        median = np.median(x, axis=-1)
        preds = _predictions(model, x, median)
        theory = representation_risks(model, L)
        m = preds["posterior"]
        with np.errstate(over="ignore", invalid="ignore"):
            out = {
                "risk": np.mean((y - m) ** 2),
                "abs_risk": np.mean(np.abs(y - m)),
            }
        out["risk_theory"] = model.bayes_risk(L, self.sigma_y)
        out["calibration"] = np.mean((z - m) ** 2)
        features = _features(x, model.mu0, median)
        stat, dof = orthogonality_statistic(z - m, features, theory["posterior"])
        out["orth_stat"], out["orth_dof"] = stat, dof
        sq_post = (z - m) ** 2
        for r in REPRESENTATIONS:
            sq = (z - preds[r]) ** 2
            out["reducible", r], out["reducible_se", r] = mean_se(sq)
            out["gap", r], out["gap_se", r] = mean_se(sq - sq_post)
            out["reducible_theory", r] = theory[r]
            out["gap_theory", r] = theory[r] - theory["posterior"]
            # each d_i carries rounding ≤ 4ε(sq_i + sq_post_i); their mean as much
            # again
            out["gap_rounding", r] = 8 * _EPS * float(np.mean(sq + sq_post))
        return out

    def bands(self, alpha: float) -> list[Band]:
        """Every banded check at level ``alpha`` (each fails with probability ≤ α).

        χ² bands are exact (the symmetric band around the mean that contains the
        two-sided χ² interval); the absolute-risk band is a CLT band with the known
        variance ``R_L (1 − 2/π)``; gap bands are CLT bands ``z_{α/2} s_d/√n``
        plus ``gap_rounding``.

        Parameters
        ----------
        alpha : float
            Level of each band, in (0, 1).

        Returns
        -------
        list of Band
            ``len(FAMILIES)`` bands per length, in the order of ``FAMILIES``.

        Raises
        ------
        ValueError
            If ``alpha`` is not in (0, 1).

        Examples
        --------
        >>> study = GaussianStudy(NormalNormal(0, 1, 1), [3], 100, 0.5,
        ...                       np.random.default_rng(1))
        >>> [b.family for b in study.bands(0.01)][:2]
        ['Bayes risk E(y − m_L)²', 'absolute risk E|y − m_L|']
        """
        alpha = check_real("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
        zq = float(stats.norm.isf(alpha / 2))
        chi_n = _chi2_half_width(self.n, alpha)
        out = []
        v = self.reducible_theory["posterior"]
        for i, L in enumerate(self.lengths.tolist()):
            R = float(self.risk_theory[i])
            hw_abs = zq * math.sqrt(R * (1 - 2 / math.pi) / self.n)
            orth = self.orth_stat[i] / self.orth_dof[i]
            chi_r = _chi2_half_width(int(self.orth_dof[i]), alpha)
            families = iter(self.FAMILIES)
            out += [
                Band(next(families), L, self.risk[i], R, R * chi_n),
                Band(next(families), L, self.abs_risk[i], _abs_mean(R), hw_abs),
                Band(next(families), L, self.calibration[i], v[i], v[i] * chi_n),
                Band(next(families), L, orth, 1.0, chi_r),
            ]
            for family, rep in zip(families, REPRESENTATIONS[1:], strict=True):
                hw = zq * self.gap_se[rep][i] + self.gap_rounding[rep][i]
                theory = self.gap_theory[rep][i]
                out.append(Band(family, L, self.gap[rep][i], theory, hw))
        return [
            b._replace(measured=float(b.measured), theory=float(b.theory)) for b in out
        ]

    def worst(self, alpha: float) -> dict[str, float]:
        """Per family, ``max over L of |measured − theory| / half_width``.

        At most 1 exactly when every band of the family holds at level ``alpha``.

        Parameters
        ----------
        alpha : float
            Level of each band, in (0, 1).

        Returns
        -------
        dict of str to float
            Keyed by ``FAMILIES``.

        Raises
        ------
        ValueError
            If ``alpha`` is not in (0, 1).

        Examples
        --------
        >>> study = GaussianStudy(NormalNormal(0, 1, 1), [1, 3], 100, 0.5,
        ...                       np.random.default_rng(2))
        >>> sorted(study.worst(0.01)) == sorted(GaussianStudy.FAMILIES)
        True
        """
        worst: dict[str, float] = {}
        for b in self.bands(alpha):
            ratio = abs(b.measured - b.theory) / b.half_width
            worst[b.family] = max(worst.get(b.family, 0.0), ratio)
        return worst

    def strict_gaps(self, alpha: float) -> tuple[int, float, float]:
        """The gaps theory says are positive (above their half-width).

        Parameters
        ----------
        alpha : float
            Level of each band, in (0, 1).

        Returns
        -------
        count : int
            How many such gaps.
        power : float
            ``min gap/(2·half-width)``: at least 1 when the design resolves each.
        detected : float
            ``min measured/half-width``: at least 1 when each representation is
            detectably worse than the posterior.

        Raises
        ------
        ValueError
            If ``alpha`` is not in (0, 1), or no gap exceeds its half-width.

        Examples
        --------
        >>> study = GaussianStudy(NormalNormal(0, 1, 1), [1, 9], 4000, 0.5,
        ...                       np.random.default_rng(3))
        >>> study.strict_gaps(0.01)[0]
        3
        """
        bands = [b for b in self.bands(alpha) if b.family.startswith("gap")]
        strict = [b for b in bands if b.theory > b.half_width]
        if not strict:
            raise ValueError("alpha (or n) is so small that no gap exceeds its band")
        power = min(b.theory / (2 * b.half_width) for b in strict)
        detected = min(b.measured / b.half_width for b in strict)
        return len(strict), power, detected

    def slope(self, rep: str, min_length: int) -> tuple[SlopeFit, float]:
        """Log–log slope of the reducible risk of ``rep`` over ``L >= min_length``.

        Parameters
        ----------
        rep : str
            One of ``REPRESENTATIONS``.
        min_length : int
            Shortest length in the fit (at least 3 lengths must remain).

        Returns
        -------
        fit : SlopeFit
            Unweighted least squares with the delta-method standard error.
        slope_theory : float
            The least-squares slope of the exact values at the same lengths.

        Raises
        ------
        ValueError
            If ``rep`` is unknown or fewer than 3 lengths are ``>= min_length``.

        Examples
        --------
        >>> study = GaussianStudy(NormalNormal(0, 1, 1), [1, 3, 9], 100, 0.5,
        ...                       np.random.default_rng(4))
        >>> abs(study.slope("first token", 1)[1]) < 1e-12  # v_1 for every L
        True
        """
        rep = check_choice("rep", rep, REPRESENTATIONS)
        sel = self.lengths >= check_int("min_length", min_length, minimum=1)
        if sel.sum() < 3:
            raise ValueError(f"min_length leaves {sel.sum()} lengths; a fit needs 3")
        Ls = self.lengths[sel].astype(float)
        red, se = self.reducible[rep][sel], self.reducible_se[rep][sel]
        fit = loglog_slope(Ls, red, se, weighted=False)
        return fit, float(loglog_slope(Ls, self.reducible_theory[rep][sel]).slope)


def _by_rep(rows: list[dict], key: str) -> dict[str, np.ndarray]:
    return {
        r: np.array([row[key, r] for row in rows], dtype=float) for r in REPRESENTATIONS
    }


def _abs_mean(R: float) -> float:
    """``E|N(0, R)| = √(2R/π)``."""
    return math.sqrt(2 * R / math.pi)


# ------------------------------------------------------------------ heads by quadrature
_HEADS = (
    ("z", lambda t: t, lambda m, v: m, ()),
    ("z^2", lambda t: t * t, lambda m, v: m * m + v, ()),
    (
        r"\mathbf 1\{z > 0\}",
        lambda t: float(t > 0),
        lambda m, v: special.ndtr(m / np.sqrt(v)),
        (0.0,),
    ),
)


class HeadPredictions:
    """The heads ``z``, ``z²``, ``1{z > 0}`` predicted from each sequence, twice.

    Once by :meth:`NormalNormal.quadrature_expectation` (Bayes' rule on the raw token
    likelihood), once in closed form from the conjugate posterior ``(m, v)``: ``m``,
    ``m² + v``, ``Φ(m/√v)``.

    Parameters
    ----------
    model : NormalNormal
    sequences : sequence of array_like
        Finite 1-d token sequences (their lengths may differ).

    Attributes
    ----------
    heads
        The heads' names (LaTeX), a tuple of str.
    quadrature, error, closed_form
        Quadrature values, their error bounds, and the closed forms: each a
        ``numpy.ndarray`` of shape ``(3, len(sequences))``.

    Raises
    ------
    ValueError
        If a sequence is not a finite 1-d array, or there is none.
    InputTypeError
        If ``model`` is not a :class:`NormalNormal` or ``sequences`` is not a
        sequence of sequences.

    Examples
    --------
    >>> hp = HeadPredictions(NormalNormal(0, 1, 1), [[0.5, 1.5], [1.0, 1.0]])
    >>> bool(hp.closed_form_error() <= 1), bool(hp.separation(0, 1).max() <= 1)
    (True, True)
    """

    def __init__(self, model: NormalNormal, sequences) -> None:
        model = _check_model(model)
        if isinstance(sequences, np.ndarray) and sequences.ndim >= 1:
            sequences = list(sequences)
        if not isinstance(sequences, (list, tuple)):
            raise InputTypeError(
                f"sequences must be a list of sequences, got {sequences!r}"
            )
        if not sequences:
            raise ValueError("sequences must not be empty")
        seqs = [check_array("sequences", s, ndim=1, nonempty=False) for s in sequences]
        for seq in seqs:
            model._check_quadrature_scale("sequences", seq)
        shape = (len(_HEADS), len(seqs))
        self.heads = tuple(h[0] for h in _HEADS)
        self.quadrature, self.error = np.empty(shape), np.empty(shape)
        self.closed_form = np.empty(shape)
        for j, seq in enumerate(seqs):
            m, v = model.posterior(seq)
            for i, (_, g, form, kinks) in enumerate(_HEADS):
                value, err = model.quadrature_expectation(seq, g, kinks)
                self.quadrature[i, j], self.error[i, j] = value, err
                self.closed_form[i, j] = form(m, v)

    @property
    def tolerance(self) -> np.ndarray:
        """Quadrature error bound plus 64 units of rounding of the value."""
        return self.error + 64 * _EPS * np.maximum(1.0, np.abs(self.quadrature))

    def closed_form_error(self) -> float:
        """``max |quadrature − closed form| / tolerance`` over heads and sequences.

        Returns
        -------
        float
            At most 1 when quadrature and closed form agree within the tolerance.

        Examples
        --------
        >>> hp = HeadPredictions(NormalNormal(0, 1, 1), [[0.2]])
        >>> bool(hp.closed_form_error() <= 1)
        True
        """
        diff = np.abs(self.quadrature - self.closed_form)
        return float(np.max(diff / self.tolerance))

    def separation(self, i: int, j: int) -> np.ndarray:
        """Per head, ``|p_i − p_j| / (tol_i + tol_j)`` for sequences ``i`` and ``j``.

        Parameters
        ----------
        i, j : int
            Column indices of two sequences.

        Returns
        -------
        numpy.ndarray, shape (3,)
            At most 1 where the two predictions agree within their tolerances.

        Raises
        ------
        ValueError
            If an index is out of range.

        Examples
        --------
        >>> hp = HeadPredictions(NormalNormal(0, 1, 1), [[0.0], [3.0]])
        >>> bool(hp.separation(0, 1).min() > 1)
        True
        """
        n = self.quadrature.shape[1]
        i = check_int("i", i, minimum=0, maximum=n - 1)
        j = check_int("j", j, minimum=0, maximum=n - 1)
        tol = self.tolerance
        diff = np.abs(self.quadrature[:, i] - self.quadrature[:, j])
        return diff / (tol[:, i] + tol[:, j])
