"""Latent variable models of exchangeable tokens and their posteriors (Chapter 2).

The model is ``z ~ π``, ``x_1, …, x_L | z`` i.i.d. ``p(·|z)``. Two conjugate instances:

- :class:`BetaBernoulli`  ``θ ~ Beta(a, b)``, ``x_ℓ | θ ~ Bernoulli(θ)``; the posterior is
  ``Beta(a + k, b + L − k)`` with ``k = Σ_ℓ x_ℓ``;
- :class:`NormalNormal`   ``z ~ N(μ0, τ²)``, ``x_ℓ | z ~ N(z, σ²)``; the posterior is
  ``N(m, v)`` with ``v = 1/(1/τ² + L/σ²)`` and ``m = v (μ0/τ² + S/σ²)``, ``S = Σ_ℓ x_ℓ``.

Sequences lie along the **last axis** of ``x``; every leading axis is a batch axis, so a whole
Monte Carlo experiment is one call. An empty last axis (``L = 0``) is allowed: the posterior is
then the prior. :func:`normal_median_variance` gives the exact variance of the median of ``L``
standard normal tokens (the "median representation" of Chapter 2).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import integrate, special, stats

from lib.validation import check_binary, check_int, check_positive, check_rng

__all__ = ["BetaBernoulli", "NormalNormal", "normal_median_variance"]


def _as_sequences(name: str, x) -> np.ndarray:
    """``x`` as a float array with at least one axis (the token axis, last), all entries finite."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as err:  # strings, ragged nested lists
        raise ValueError(
            f"{name} must be a numeric array of sequences: {err}"
        ) from None
    if arr.ndim < 1:
        raise ValueError(
            f"{name} must have at least one axis (tokens along the last axis), got a scalar"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


class BetaBernoulli:
    """``θ ~ Beta(a, b)``, tokens ``x_ℓ | θ`` i.i.d. ``Bernoulli(θ)``.

    Parameters
    ----------
    a, b : float
        Positive prior parameters.
    """

    def __init__(self, a: float, b: float) -> None:
        self.a = check_positive("a", a)
        self.b = check_positive("b", b)

    def __repr__(self) -> str:
        return f"BetaBernoulli(a={self.a!r}, b={self.b!r})"

    @staticmethod
    def _binary(x) -> np.ndarray:
        arr = np.asarray(x)
        if arr.ndim < 1:
            raise ValueError(
                "x must have at least one axis (tokens along the last axis), got a scalar"
            )
        return check_binary("x", arr)

    def sufficient_statistic(self, x) -> tuple[np.ndarray, int]:
        """``(k, L)``: the number of ones ``k = Σ_ℓ x_ℓ`` (shape ``x.shape[:-1]``) and the length ``L``."""
        arr = self._binary(x)
        return arr.sum(axis=-1), arr.shape[-1]

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``Beta(a + k, b + L − k)`` of ``θ`` given binary ``x`` of shape ``(..., L)``.

        Returns the two parameters, each of shape ``x.shape[:-1]``.
        """
        k, L = self.sufficient_statistic(x)
        return self.a + k, self.b + (L - k)

    def predictive(self, x) -> np.ndarray:
        """``P(x_{L+1} = 1 | x) = (a + k)/(a + b + L)``, shape ``x.shape[:-1]``."""
        alpha, beta = self.posterior(x)
        return alpha / (alpha + beta)

    def log_marginal(self, x) -> np.ndarray:
        """``log p(x) = log B(a + k, b + L − k) − log B(a, b)`` (the order of ``x`` is irrelevant)."""
        alpha, beta = self.posterior(x)
        return special.betaln(alpha, beta) - special.betaln(self.a, self.b)

    def sample(
        self, L: int, size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``size`` latents ``θ`` (shape ``(size,)``) and sequences ``x`` (shape ``(size, L)``, int)."""
        L = check_int("L", L, minimum=0)
        size = check_int("size", size, minimum=1)
        rng = check_rng("rng", rng)
        theta = rng.beta(self.a, self.b, size=size)
        x = (rng.random((size, L)) < theta[:, None]).astype(np.int64)
        return theta, x


class NormalNormal:
    """``z ~ N(μ0, τ²)``, tokens ``x_ℓ | z`` i.i.d. ``N(z, σ²)``.

    Parameters
    ----------
    mu0 : float
        Prior mean.
    tau, sigma : float
        Positive prior and token standard deviations.
    """

    def __init__(self, mu0: float, tau: float, sigma: float) -> None:
        if (
            isinstance(mu0, bool)
            or not isinstance(mu0, numbers.Real)
            or not np.isfinite(float(mu0))
        ):
            raise ValueError(f"mu0 must be a finite real number, got {mu0!r}")
        self.mu0 = float(mu0)
        self.tau = check_positive("tau", tau)
        self.sigma = check_positive("sigma", sigma)

    def __repr__(self) -> str:
        return f"NormalNormal(mu0={self.mu0!r}, tau={self.tau!r}, sigma={self.sigma!r})"

    def posterior_variance(self, L) -> np.ndarray | float:
        """``v_L = 1/(1/τ² + L/σ²)``: the posterior variance after ``L`` tokens (does not depend on x)."""
        L_arr = np.asarray(L, dtype=float)
        if not np.all(np.isfinite(L_arr)) or np.any(L_arr < 0):
            raise ValueError(f"L must be >= 0, got {L!r}")
        v = 1.0 / (1.0 / self.tau**2 + L_arr / self.sigma**2)
        return float(v) if v.ndim == 0 else v

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``N(m, v)`` of ``z`` given ``x`` of shape ``(..., L)``.

        ``v = 1/(1/τ² + L/σ²)`` and ``m = v (μ0/τ² + S/σ²)`` with ``S = Σ_ℓ x_ℓ``; both are
        returned with shape ``x.shape[:-1]``.
        """
        arr = _as_sequences("x", x)
        L = arr.shape[-1]
        v = self.posterior_variance(L)
        m = v * (self.mu0 / self.tau**2 + arr.sum(axis=-1) / self.sigma**2)
        return m, np.full(m.shape, v)

    def predictive(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Predictive law ``N(m, v + σ²)`` of the next token ``x_{L+1}`` given ``x``: ``(mean, variance)``."""
        m, v = self.posterior(x)
        return m, v + self.sigma**2

    def bayes_risk(self, L, sigma_y: float) -> np.ndarray | float:
        """Squared-error Bayes risk ``1/(1/τ² + L/σ²) + σ_y²`` of ``y = z + ε``, ``ε ~ N(0, σ_y²)``, from ``L`` tokens."""
        sigma_y = check_positive("sigma_y", sigma_y, allow_zero=True)
        return self.posterior_variance(L) + sigma_y**2

    def sample(
        self, L: int, size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``size`` latents ``z`` (shape ``(size,)``) and sequences ``x`` (shape ``(size, L)``)."""
        L = check_int("L", L, minimum=0)
        size = check_int("size", size, minimum=1)
        rng = check_rng("rng", rng)
        z = self.mu0 + self.tau * rng.standard_normal(size)
        x = z[:, None] + self.sigma * rng.standard_normal((size, L))
        return z, x


def normal_median_variance(L: int) -> float:
    """Exact variance ``c_L`` of the median of ``L`` i.i.d. ``N(0, 1)`` variables, ``L`` odd.

    With ``L = 2j + 1`` the median is the ``(j+1)``-th order statistic, of density
    ``L!/(j!)² Φ(u)^j (1 − Φ(u))^j φ(u)``; its mean is 0, and ``c_L = ∫ u² (density) du`` is
    computed by adaptive quadrature. ``c_1 = 1``, ``c_3 = 1 − √3/π``, and
    ``c_L ~ π/(2L)`` as ``L → ∞``. Even ``L`` raises ``ValueError``.
    """
    L = check_int("L", L, minimum=1)
    if L % 2 == 0:
        raise ValueError(
            f"L must be odd (the median is then a single order statistic), got {L}"
        )
    j = (L - 1) // 2
    log_const = special.gammaln(L + 1) - 2 * special.gammaln(j + 1)

    def integrand(u: float) -> float:
        log_density = (
            log_const
            + j * (stats.norm.logcdf(u) + stats.norm.logsf(u))
            + stats.norm.logpdf(u)
        )
        return u * u * np.exp(log_density)

    # The median's standard deviation is about sqrt(π/(2L)); its density decays like
    # exp(-(j+1)u²/2), which 40 of those standard deviations out is below exp(-600): the
    # truncated integral is exact to double precision.
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
