"""The bad-input table: one valid call per public function, class and method of lib.

The driver (``tools/audit_inputs.py``; the test ``tests/test_bad_inputs.py``) takes each
row's valid call and, one argument at a time, replaces the value by every input of a
catalogue chosen from the valid value's kind, then classifies what happened:

- int (``3``), real (``0.5``), array or int array (list or ``np.ndarray``), tensor:
  clearly bad NaN, +inf, -inf, None, ``"3"``, ``True`` (or a boolean array), a complex
  number, ``v + 0.5`` for an integer, a 2-element array for a scalar, an empty array,
  a ragged list, one axis too many (``rank-up``) or too few (``rank-down``);
  borderline 0, a negative value, 1e300, 1e-300, a length-1 array (``len-1``);
- flag (``True``/``False``): None, ``"3"``, 2.5; text (``"name"``): None, 3, True and
  the borderline ``""``; choice (``kinds={"arg": "choice"}``): also ``"bogus"`` and
  ``""``; rng (a ``np.random.Generator``): None, the int seed 0, ``"3"``.

A clearly bad input must raise a ``ValueError``/``TypeError`` whose message names the
argument (use ``lib.validation``); a borderline one must not return NaN/inf silently
nor raise an exception that does not name it.

How to add a row
----------------
1. Find your module's section (``# --- lib.<module>``) and append
   ``Row("lib.<module>.<function>", dict(arg=value, ...))``: the smallest call that
   succeeds with a finite result (every argument by keyword; each argument you give is
   broken in turn, so give the optional numeric ones too). For a method write
   ``Row("lib.<module>.<Class>.<method>", dict(...), init=dict(...))``; ``init`` builds
   a fresh instance for every call.
2. A value that lib must compute at run time is ``Ref("lib.<module>.<function>",
   **kwargs)``; any other object is ``Lazy(factory)`` (no lib imports at the top of
   this file: the same table audits older checkouts).
3. Annotate what is legitimate, always with the reason:
   ``accepts={"t": {"rank-up": "leading axes are batch axes"}}`` (the labels: nan,
   +inf, -inf, None, str, bool, complex, non-integer, array-for-scalar, empty, ragged,
   rank-up, rank-down, non-bool, number, bogus-choice, empty-str, int-seed; the
   helpers ``BATCH``, ``BATCHED``, ``GRID``, ``ANY_SHAPE``, ``SCALAR_OR_ARRAY``,
   ``OPTIONAL`` cover the usual cases); ``skip={"model": "why"}`` for an argument
   the catalogue cannot describe (a callable, a model, a dtype);
   ``kinds={"latent": "choice"}``; ``names={"value": ("speed",)}`` when the message
   names the argument by another word; ``raises=(AssertionError,)`` when an
   exception type is the documented outcome; ``extra={"n": [10**10]}`` for further
   borderline values. A record (a NamedTuple or dataclass without behaviour) gets
   ``record="why"``: only its valid call is run.
4. Run ``python tools/audit_inputs.py --only lib.<module> --details`` (every input
   the test rejects, with the message it got) and ``pytest tests/test_bad_inputs.py
   -k <module>``. A row that does not pass yet goes into ``NOT_YET_COMPLIANT`` at the
   end of this file (``--noncompliant`` prints the set); once its function passes,
   the strict xfail fails until you delete its line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Row:
    """One valid call and what the catalogue should know about its arguments."""

    id: str
    call: dict
    init: dict = field(default_factory=dict)
    accepts: dict = field(default_factory=dict)
    skip: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    raises: tuple = ()
    extra: dict = field(default_factory=dict)
    record: str = ""

    def __post_init__(self):
        for arg in (*self.accepts, *self.skip, *self.kinds, *self.names, *self.extra):
            if arg not in self.call:
                raise ValueError(f"{self.id}: annotation for unknown argument {arg!r}")


@dataclass
class Ref:
    """A value computed by lib when the row runs: ``target(**kwargs)``."""

    target: str
    kwargs: dict

    def __init__(self, target: str, **kwargs):
        self.target, self.kwargs = target, kwargs


@dataclass
class Lazy:
    """Any other value built when the row runs."""

    factory: Callable[[], object]


def rng():
    return np.random.default_rng(0)


BATCH = {"rank-up": "leading axes are batch axes"}
BATCHED = {**BATCH, "rank-down": "one item: the valid value has a batch axis"}
GRID = {"rank-down": "a single value is a grid of one"}
ANY_SHAPE = {
    "rank-up": "any shape is allowed",
    "rank-down": "any shape is allowed (a scalar too)",
    "empty": "any shape is allowed (an empty one too)",
}
SCALAR_OR_ARRAY = {
    "array-for-scalar": "a number or an array of them (vectorised)",
    "empty": "an empty array of them gives an empty result",
}
OPTIONAL = {"None": "None is the documented default"}
_SIZE = {
    "array-for-scalar": "size may be a shape tuple",
    "empty": "size may be the shape () of a single draw",
}
RECORD = "a NamedTuple/dataclass record: fields are not validated, only returned"

# small fixtures shared by the rows
ANGLES = np.array([0.1, 1.7, 3.2, 4.9])
T2 = np.array([[0.1, 1.7, 3.2, 4.9], [0.4, 2.2, 3.9, 5.5]])  # (n, L) key angles
V2 = np.array([[0.5, -0.2, 0.3, 0.9], [-0.4, 0.1, 0.7, 0.2]])  # (n, L) values
Q = torch.tensor([[0.6, 0.8]], dtype=torch.float64)  # (M, d)
K = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8]], dtype=torch.float64)  # (L, d)
V = torch.tensor([[1.0], [2.0], [0.5]], dtype=torch.float64)  # (L, d_v)
T_MANY = np.random.default_rng(0).uniform(0.0, 2 * np.pi, (12, 6))  # for optima
A_VEC = np.array([1.0, 0.5, 0.0, 0.0, 0.0])  # downstream weights (degree 2)


def _figure():
    from matplotlib.figure import Figure  # no pyplot: no backend, no global state

    fig = Figure(figsize=(1, 1), dpi=20)
    fig.add_subplot().plot([0, 1], [0, 1])
    return fig


ROWS: list[Row] = []

# --- lib.exchangeability
ROWS += [
    Row(
        "lib.exchangeability.polya_sequence_probability",
        dict(x=[1, 0, 1], a=1.0, b=2.0),
        accepts={"x": {**BATCH, "empty": "n = 0 tokens has probability 1"}},
    ),
    Row(
        "lib.exchangeability.beta_mixture_probability",
        dict(k=2, n=3, a=1.0, b=2.0),
        accepts={"k": SCALAR_OR_ARRAY, "n": SCALAR_OR_ARRAY},
    ),
    Row("lib.exchangeability.polya_count_pmf", dict(n=3, a=1.0, b=2.0)),
    Row(
        "lib.exchangeability.sample_polya_urn",
        dict(n=4, a=1.0, b=1.0, size=2, rng=rng()),
    ),
    Row(
        "lib.exchangeability.kolmogorov_distance_frequency_to_beta",
        dict(n=5, a=1.0, b=2.0),
    ),
    Row("lib.exchangeability.dkw_epsilon", dict(num_samples=100, delta=0.05)),
    Row(
        "lib.exchangeability.tv_urn_without_vs_with_replacement",
        dict(composition=[2, 3], k=2),
        accepts={"k": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.exchangeability.tv_sampling_without_vs_with_replacement",
        dict(n=5, m=2, k=3),
        accepts={"m": SCALAR_OR_ARRAY, "k": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.exchangeability.tv_distinct_balls",
        dict(n=5, k=2),
        accepts={"k": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.exchangeability.diaconis_freedman_bound",
        dict(k=2, n=10, c=2),
        accepts={"k": SCALAR_OR_ARRAY, "c": {**OPTIONAL}},
    ),
    Row(
        "lib.exchangeability.polya_sequence_log_probability",
        dict(x=[1, 0, 1], a=1.0, b=2.0),
        accepts={"x": {**BATCH, "empty": "n = 0 tokens has log-probability 0"}},
    ),
    Row(
        "lib.exchangeability.beta_mixture_log_probability",
        dict(k=2, n=3, a=1.0, b=2.0),
        accepts={"k": SCALAR_OR_ARRAY, "n": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.exchangeability.polya_exact_probability",
        dict(k=2, n=3, a=1.0, b=2.0),
        accepts={"k": SCALAR_OR_ARRAY, "n": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.exchangeability.beta_mixture_tolerance",
        dict(k=2, n=3, a=1.0, b=2.0),
        accepts={"k": SCALAR_OR_ARRAY, "n": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.exchangeability.rounding_gamma",
        dict(m=70),
        accepts={"m": {**SCALAR_OR_ARRAY, "empty": "vectorised: no sizes, no result"}},
    ),
    Row("lib.exchangeability.urn_probability_tolerance", dict(n=14)),
    Row("lib.exchangeability.probability_sum_tolerance", dict(n=3, count=8)),
    Row("lib.exchangeability.tv_rounding_tolerance", dict(n=30, colours=2)),
    Row("lib.exchangeability.distinct_iid_tolerance", dict(length=12, k=6)),
    Row(
        "lib.exchangeability.distinct_iid_probability",
        dict(rho=[0.5, 0.5], k=2),
        accepts={"rho": BATCH},
    ),
    Row("lib.exchangeability.worst_composition_tv", dict(n=6, colours=2)),
    Row(
        "lib.exchangeability.diaconis_freedman_ratio",
        dict(tvs=Lazy(lambda: {5: np.array([0.0, 0.0, 0.2, 0.52, 0.8, 0.96])}), c=2),
        skip={"tvs": "a dict {n: tv array}; its arrays are checked by the callee"},
        accepts={"c": OPTIONAL},
    ),
    Row(
        "lib.exchangeability.frequency_distances",
        dict(counts=[0, 1, 1, 2], n=2, a=1.0, b=1.0),
    ),
    Row(
        "lib.exchangeability.urn_enumeration",
        dict(n=3, urns=[(2.0, 3.0)], rng=rng()),
        skip={"urns": "a list of (a, b) pairs, each checked by the callee"},
    ),
    Row(
        "lib.exchangeability.encoder_permutation_errors",
        dict(
            length=3,
            generator=Lazy(lambda: torch.Generator().manual_seed(0)),
            d_model=8,
            n_heads=2,
            d_ff=8,
            num_layers=1,
            batch=2,
        ),
        skip={"generator": "a torch.Generator"},
    ),
    Row(
        "lib.exchangeability.BoundRatio",
        dict(ratio=0.5, n=5, k=2, tol=0.0),
        record=RECORD,
    ),
    Row(
        "lib.exchangeability.EncoderPermutationErrors",
        dict(equivariance=0.0, pooled=0.0, causal=1.0, causal_pooled=1.0, scale=1.0),
        record=RECORD,
    ),
    Row(
        "lib.exchangeability.FrequencyDistances",
        dict(to_exact=0.0, to_beta=0.0, d_n=0.0),
        record=RECORD,
    ),
    Row(
        "lib.exchangeability.UrnEnumeration",
        dict(urn=0.0, mixture=0.0, total=0.0, urn_tol=0.0),
        record=RECORD,
    ),
]

# --- lib.latent
_BB = dict(a=1.0, b=2.0)
_NN = dict(mu0=0.5, tau=1.0, sigma=0.5)
_BITS = np.array([[1, 0, 1], [0, 0, 1]])
_TOKENS = np.array([[0.1, 0.2, 0.3], [-0.5, 0.4, 1.0]])
_SEQ = {**BATCHED, "empty": "L = 0 tokens: the posterior is the prior"}
_STUDY = dict(
    model=Ref("lib.latent.NormalNormal", **_NN),
    lengths=[1, 3, 5],
    n=40,
    sigma_y=0.5,
    rng=Lazy(rng),
)
_HEADS = dict(
    model=Ref("lib.latent.NormalNormal", **_NN), sequences=[[0.5, 1.5], [1.0, 1.0]]
)
ROWS += [
    Row("lib.latent.BetaBernoulli", dict(a=1.0, b=2.0)),
    Row(
        "lib.latent.BetaBernoulli.sufficient_statistic",
        dict(x=_BITS),
        init=_BB,
        accepts={"x": _SEQ},
    ),
    Row(
        "lib.latent.BetaBernoulli.posterior",
        dict(x=_BITS),
        init=_BB,
        accepts={"x": _SEQ},
    ),
    Row(
        "lib.latent.BetaBernoulli.predictive",
        dict(x=_BITS),
        init=_BB,
        accepts={"x": _SEQ},
    ),
    Row(
        "lib.latent.BetaBernoulli.log_marginal",
        dict(x=_BITS),
        init=_BB,
        accepts={"x": _SEQ},
    ),
    Row("lib.latent.BetaBernoulli.sample", dict(L=3, size=2, rng=rng()), init=_BB),
    Row("lib.latent.NormalNormal", dict(mu0=0.5, tau=1.0, sigma=0.5)),
    Row(
        "lib.latent.NormalNormal.posterior_variance",
        dict(L=3),
        init=_NN,
        accepts={"L": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.latent.NormalNormal.posterior",
        dict(x=_TOKENS),
        init=_NN,
        accepts={"x": _SEQ},
    ),
    Row(
        "lib.latent.NormalNormal.predictive",
        dict(x=_TOKENS),
        init=_NN,
        accepts={"x": _SEQ},
    ),
    Row(
        "lib.latent.NormalNormal.bayes_risk",
        dict(L=3, sigma_y=0.5),
        init=_NN,
        accepts={"L": SCALAR_OR_ARRAY},
    ),
    Row("lib.latent.NormalNormal.sample", dict(L=3, size=2, rng=rng()), init=_NN),
    Row(
        "lib.latent.NormalNormal.quadrature_expectation",
        dict(x=np.array([0.2, 0.8]), g=Lazy(lambda: abs), breakpoints=np.array([0.0])),
        init=_NN,
        accepts={
            "x": {"empty": "L = 0 tokens: the prior expectation"},
            "breakpoints": {
                "empty": "no kinks",
                "rank-down": "one kink",
            },
        },
        skip={"g": "a callable head"},
    ),
    Row("lib.latent.normal_median_variance", dict(L=3)),
    Row(
        "lib.latent.representation_predictions",
        dict(model=Ref("lib.latent.NormalNormal", **_NN), x=_TOKENS),
        accepts={"x": BATCHED},
        skip={"model": "a NormalNormal"},
    ),
    Row(
        "lib.latent.representation_risks",
        dict(model=Ref("lib.latent.NormalNormal", **_NN), L=3),
        skip={"model": "a NormalNormal"},
    ),
    Row("lib.latent.token_features", dict(x=_TOKENS, mu0=0.5), accepts={"x": BATCHED}),
    Row(
        "lib.latent.orthogonality_statistic",
        dict(
            errors=np.array([0.3, -1.0, 0.4, 1.2, -0.2, 0.1]),
            features=np.array([[1.0], [2.0], [0.5], [-1.0], [0.0], [3.0]]),
            variance=1.0,
        ),
    ),
    Row(
        "lib.latent.Band",
        dict(family="gap", L=3, measured=0.1, theory=0.1, half_width=0.2),
        record=RECORD,
    ),
    Row("lib.latent.GaussianStudy", _STUDY, skip={"model": "a NormalNormal"}),
    Row("lib.latent.GaussianStudy.bands", dict(alpha=0.01), init=_STUDY),
    Row("lib.latent.GaussianStudy.worst", dict(alpha=0.01), init=_STUDY),
    Row("lib.latent.GaussianStudy.strict_gaps", dict(alpha=0.01), init=_STUDY),
    Row(
        "lib.latent.GaussianStudy.slope",
        dict(rep="posterior", min_length=1),
        init=_STUDY,
        kinds={"rep": "choice"},
    ),
    Row(
        "lib.latent.HeadPredictions",
        dict(
            model=Ref("lib.latent.NormalNormal", **_NN),
            sequences=[[0.5, 1.5], [1.0, 1.0]],
        ),
        accepts={
            "sequences": {
                "ragged": "sequences may differ in length",
                "empty": "sequences of no tokens: the prior's predictions",
            }
        },
        skip={"model": "a NormalNormal"},
    ),
    Row("lib.latent.HeadPredictions.closed_form_error", dict(), init=_HEADS),
    Row("lib.latent.HeadPredictions.separation", dict(i=0, j=1), init=_HEADS),
]

# --- lib.attention
_QKV = {"q": BATCH, "K": BATCH, "V": BATCH}
ROWS += [
    Row(
        "lib.attention.attention_weights",
        dict(scores=torch.tensor([[0.1, 2.0, -1.0], [0.0, 0.5, 0.3]])),
        accepts={"scores": {**BATCHED, "-inf": "a -inf score is a masked key"}},
    ),
    Row(
        "lib.attention.softmax_attention",
        dict(q=Q, K=K, V=V, beta=1.5, return_weights=False),
        accepts=_QKV,
    ),
    Row(
        "lib.attention.gaussian_kernel",
        dict(X=K, Y=Q, bandwidth=0.7),
        accepts={"X": BATCH, "Y": BATCH},
    ),
    Row(
        "lib.attention.nadaraya_watson",
        dict(q=Q, K=K, V=V, bandwidth=0.7, return_weights=False),
        accepts=_QKV,
    ),
    Row(
        "lib.attention.cme_attention",
        dict(q=Q, K=K, V=V, bandwidth=0.7, lam=0.1),
        accepts=_QKV,
    ),
]

# --- lib.posterior
_ETA = np.array([[0.1], [-0.2]])
_APART = np.array([0.5, 0.3])
_PRIOR = np.array([0.4, 0.6])
ROWS += [
    Row(
        "lib.posterior.posterior_query",
        dict(suff_stat=np.array([[2.0], [1.0]]), L=3),
        accepts={"suff_stat": BATCHED, "L": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.posterior.posterior_keys",
        dict(eta=_ETA, log_partition=_APART, prior=_PRIOR),
    ),
    Row(
        "lib.posterior.atom_posterior",
        dict(
            suff_stat=np.array([2.0]), L=3, eta=_ETA, log_partition=_APART, prior=_PRIOR
        ),
        accepts={"suff_stat": BATCH, "L": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.posterior.atom_posterior_mean",
        dict(
            suff_stat=np.array([2.0]),
            L=3,
            eta=_ETA,
            log_partition=_APART,
            prior=_PRIOR,
            values=np.array([[1.0], [2.0]]),
        ),
        accepts={"suff_stat": BATCH, "L": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.posterior.bernoulli_natural",
        dict(p=np.array([0.3, 0.6])),
        accepts={"p": {"rank-down": "a single atom"}},
    ),
    Row(
        "lib.posterior.gaussian_natural",
        dict(mu=np.array([0.0, 1.0]), sigma=0.5),
        accepts={"mu": {"rank-down": "a single atom"}},
    ),
    Row(
        "lib.posterior.categorical_natural",
        dict(probs=np.array([[0.2, 0.8], [0.5, 0.5]])),
    ),
]

_BINNED = dict(atoms=np.array([-0.5, 0.5]), prior=np.array([0.5, 0.5]))
ROWS += [
    Row(
        "lib.posterior.BinnedPrior",
        dict(**_BINNED, mass_error=0.0, h=1.0),
        record=RECORD,
    ),
    Row(
        "lib.posterior.GridBounds",
        dict(aliasing=0.0, truncation=0.0, rounding=0.0),
        record=RECORD,
    ),
    Row(
        "lib.posterior.attention_rounding_bound",
        dict(
            q=np.array([1.0, 2.0]),
            K=np.array([[0.0, 1.0], [1.0, 0.0]]),
            values=np.array([0.0, 1.0]),
            key_error=0.0,
        ),
    ),
    Row("lib.posterior.binned_normal_prior", dict(m=4, R=2.0, tau=1.0)),
    Row(
        "lib.posterior.binned_posterior_mean",
        dict(x_sum=5.0, L=10, h=np.array([1e-6, 0.5]), tau=1.0, sigma=1.0),
        accepts={"h": ANY_SHAPE},
    ),
    Row(
        "lib.posterior.grid_remainder_bounds",
        dict(x_sum=5.0, L=10, m=200, R=8.0, tau=1.0, sigma=1.0),
    ),
]

# --- lib.circle
_TERMS = Ref(
    "lib.circle.attention_error_terms",
    beta=2.0,
    t_q=0.3,
    tau=1.0,
    sigma=0.5,
    degree=2,
    n_grid=64,
)
_HEADS = np.array([0.0, 2.0, 4.0])
ROWS += [
    Row(
        "lib.circle.fourier_features",
        dict(t=ANGLES, degree=2),
        accepts={"t": ANY_SHAPE},
    ),
    Row("lib.circle.unit_circle", dict(t=ANGLES), accepts={"t": ANY_SHAPE}),
    Row(
        "lib.circle.bessel_ratio",
        dict(n=np.array([0, 1, 2]), beta=1.5),
        accepts={
            "n": {**ANY_SHAPE, "non-integer": "I_ν is defined for real orders ν"},
            "beta": SCALAR_OR_ARRAY,
        },
    ),
    Row(
        "lib.circle.smoothing_factors",
        dict(beta=1.5, degree=2),
        accepts={"beta": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.circle.CircleSample",
        dict(z=np.zeros(5), t=ANGLES, K=np.zeros((4, 2)), v=np.zeros(4)),
        record=RECORD,
    ),
    Row(
        "lib.circle.sample_circle_model",
        dict(
            size=2,
            L=3,
            rng=rng(),
            tau=1.0,
            sigma=0.5,
            degree=2,
            latent="gaussian",
            noise="gaussian",
        ),
        kinds={"latent": "choice", "noise": "choice"},
        accepts={"size": _SIZE},
    ),
    Row(
        "lib.circle.linear_gaussian_posterior",
        dict(t=T2, v=V2, tau=1.0, sigma=0.5, degree=2),
        accepts={"t": BATCHED, "v": BATCHED},
    ),
    Row(
        "lib.circle.AttentionErrorTerms",
        dict(bias2=0.1, s2=0.2, c2=0.3, posterior=-0.1, cross=0.0),
        record=RECORD,
    ),
    Row(
        "lib.circle.attention_error_terms",
        dict(beta=2.0, t_q=0.3, tau=1.0, sigma=0.5, degree=2, n_grid=64),
    ),
    Row(
        "lib.circle.predicted_attention_mse",
        dict(L=np.array([10, 20]), terms=_TERMS, target="smoothed"),
        accepts={"L": ANY_SHAPE},
        kinds={"target": "choice"},
        skip={"terms": "a record returned by attention_error_terms"},
    ),
    Row("lib.circle.readout_matrix", dict(t_heads=_HEADS, beta=1.5, degree=2)),
    Row(
        "lib.circle.multihead_error_covariance",
        dict(
            t_heads=_HEADS,
            beta=1.5,
            tau=1.0,
            sigma=0.5,
            degree=1,
            n_grid=64,
            z=np.array([0.3, -0.2, 0.5]),
        ),
        accepts={"z": {**BATCH, **OPTIONAL}},
    ),
    Row(
        "lib.circle.multihead_error_terms",
        dict(t_heads=_HEADS, beta=1.5, tau=1.0, sigma=0.5, degree=1, n_grid=64),
    ),
]

_SAMPLE = Ref(
    "lib.circle.sample_circle_model", size=3, L=8, rng=rng(), tau=1.0, sigma=0.5
)
_ERRORS = Ref(
    "lib.circle.attention_errors",
    sample=_SAMPLE,
    query_angles=ANGLES,
    beta=2.0,
    tau=1.0,
    sigma=0.5,
    lengths=[4, 8],
)
_NOT_A_NUMBER_C = "a record returned by lib.circle (an object, not a number)"
ROWS += [
    Row("lib.circle.feature_moment_inverse", dict(degree=2)),
    Row(
        "lib.circle.temperature_schedule",
        dict(L=np.array([1.0, 32.0]), tau=1.0, sigma=1.0, degree=2),
        accepts={"L": ANY_SHAPE},
    ),
    Row(
        "lib.circle.gaussian_tv",
        dict(
            mean_difference=np.array([[2.0, 0.0], [0.5, 0.5]]),
            precision=np.array([[1.0, 0.2], [0.2, 2.0]]),
        ),
        accepts={
            "mean_difference": BATCHED,
            "precision": {"rank-up": "a precision per difference (broadcast)"},
        },
    ),
    Row(
        "lib.circle.multihead_tv_limit",
        dict(
            t_heads=2 * np.pi * np.arange(5) / 5,
            beta=4.0,
            rng=rng(),
            size=3,
            tau=1.0,
            sigma=0.5,
            degree=2,
        ),
    ),
    Row(
        "lib.circle.AttentionErrors",
        dict(
            lengths=np.array([4]),
            beta=np.array([2.0]),
            error=np.zeros((1, 1, 1)),
            linear=None,
            bias=np.zeros((1, 1, 1)),
            gap=np.zeros((1, 1, 1)),
            gap_noise=np.zeros((1, 1, 1)),
            gap_var=np.zeros((1, 1, 1)),
            z=np.zeros((1, 5)),
            mu=np.zeros((1, 1, 5)),
            noise_moment=np.zeros((1, 1, 5)),
            Sigma=np.zeros((1, 1, 5, 5)),
        ),
        record=RECORD,
    ),
    Row(
        "lib.circle.attention_errors",
        dict(
            sample=_SAMPLE,
            query_angles=ANGLES,
            beta=2.0,
            tau=1.0,
            sigma=0.5,
            lengths=np.array([4, 8]),
            degree=2,
            linear=True,
            chunk=1000,
        ),
        skip={"sample": _NOT_A_NUMBER_C},
        accepts={
            "beta": {"array-for-scalar": "one inverse temperature per length"},
            "lengths": {**OPTIONAL, "rank-down": "a single length"},
        },
    ),
    Row(
        "lib.circle.MultiheadErrors",
        dict(sq_error=0.0, linear=0.0, floor=0.0, floor_cross=0.0, tv=0.0),
        record=RECORD,
    ),
    Row(
        "lib.circle.multihead_errors",
        dict(errors=_ERRORS, heads=np.array([0, 1, 2]), query_angles=ANGLES),
        skip={"errors": _NOT_A_NUMBER_C},
    ),
]

# --- lib.learning
_RISKS = np.array([[0.3, 0.1, 0.2], [0.25, 0.2, 0.4]])
_LOSSES = np.array([[0.3, 0.1, 0.2], [0.2, 0.4, 0.1], [0.5, 0.3, 0.3], [0.1, 0.2, 0.6]])
_KS = np.stack([K.numpy(), K.numpy()[::-1]])  # (n, L, d)
_VS = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 1.0]])  # (n, L) scalar values
_BOUND = dict(delta=0.05, loss_bound=1.0, lipschitz=2.0, param_range=5.0)
ROWS += [
    Row(
        "lib.learning.uniform_convergence_bound",
        dict(N=100, **_BOUND, eps=0.1),
        accepts={"N": SCALAR_OR_ARRAY},
    ),
    Row("lib.learning.net_size", dict(param_range=5.0, eps=0.1)),
    Row(
        "lib.learning.squared_loss_constants",
        dict(value_bound=1.0, label_bound=1.0, query_norm=1.0, key_norm=1.0),
    ),
    Row(
        "lib.learning.grid_erm",
        dict(risks=_RISKS, axis=-1),
        accepts={"risks": BATCHED},
    ),
    Row(
        "lib.learning.block_empirical_risks",
        dict(losses=_LOSSES, N=2),
        accepts={"losses": BATCH},
    ),
    Row(
        "lib.learning.attention_loss_matrix",
        dict(
            q=np.array([0.6, 0.8]),
            K=_KS,
            V=np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 1.0]]),
            y=np.array([1.0, 0.5]),
            betas=np.array([0.0, 1.0, 2.0]),
            chunk_elements=1000,
        ),
        accepts={"betas": GRID},
    ),
    Row(
        "lib.learning.linear_model_risk_matrix",
        dict(
            q=np.array([0.6, 0.8]),
            K=_KS,
            Phi=np.ones((2, 3, 3)) * np.array([1.0, 0.5, -0.5]),
            target=np.array([1.0, 0.0, 0.0]),
            betas=np.array([0.0, 1.0, 2.0]),
            latent_var=1.0,
            noise_var=0.25,
            label_noise_var=0.1,
            chunk_elements=1000,
        ),
        accepts={"betas": GRID},
    ),
    Row(
        "lib.learning.sup_gap",
        dict(emp_risks=_RISKS, pop_risk=np.array([0.2, 0.15, 0.3])),
        accepts={"emp_risks": BATCHED, "pop_risk": BATCH},
    ),
    Row(
        "lib.learning.excess_risk",
        dict(emp_risks=_RISKS, pop_risk=np.array([0.2, 0.15, 0.3])),
        accepts={"emp_risks": BATCHED, "pop_risk": BATCH},
    ),
    Row(
        "lib.learning.empirical_rademacher",
        dict(losses=_LOSSES, n_signs=8, rng=rng(), absolute=False),
        accepts={"losses": BATCH},
    ),
    Row(
        "lib.learning.beta_derivative_autograd",
        dict(q=Q, K=K, V=V, betas=np.array([0.5, 1.0])),
        accepts={**_QKV, "betas": GRID},
    ),
    Row(
        "lib.learning.beta_derivative_covariance",
        dict(q=Q, K=K, V=V, betas=np.array([0.5, 1.0])),
        accepts={**_QKV, "betas": GRID},
    ),
    Row(
        "lib.learning.bootstrap_loglog_slope",
        dict(
            x=np.array([1.0, 2.0, 4.0]),
            samples=np.array([[1.0, 0.6, 0.3], [0.8, 0.5, 0.2], [1.2, 0.4, 0.3]]),
            n_boot=10,
            rng=rng(),
        ),
    ),
    Row(
        "lib.learning.tightest_uniform_convergence_bound",
        dict(N=100, **_BOUND, eps_grid=np.array([0.05, 0.1, 0.2])),
        accepts={"N": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.learning.rademacher_bound",
        dict(
            rademacher=np.array([0.1, 0.2]), N=10, n_signs=5, loss_bound=1.0, delta=0.1
        ),
        accepts={"rademacher": ANY_SHAPE},
    ),
    Row(
        "lib.learning.optimisation_error",
        dict(emp_risks=_RISKS, chosen=np.array([1, 0])),
    ),
    Row(
        "lib.learning.erm_size_sweep",
        dict(
            losses=np.stack([_LOSSES, _LOSSES[::-1]]),
            pop_risk=np.array([[0.2, 0.15, 0.3], [0.25, 0.2, 0.3]]),
            sizes=np.array([1, 2]),
            n_super=2,
            bounds=np.array([1.0, 0.5]),
        ),
        accepts={"bounds": OPTIONAL},
    ),
    Row(
        "lib.learning.erm_study",
        dict(
            lengths=np.array([2, 3]),
            n_sequences=2,
            n_population=2,
            betas=np.array([0.0, 1.0]),
            rng=rng(),
            tau=1.0,
            sigma=0.5,
            sigma_y=0.5,
            t_star=0.0,
            degree=2,
        ),
        accepts={"lengths": GRID, "betas": GRID},
    ),
    Row(
        "lib.learning.limit_score_variance",
        dict(betas=np.array([0.0, 1.0])),
        accepts={"betas": ANY_SHAPE},
    ),
    Row(
        "lib.learning.limit_risk",
        dict(
            betas=np.array([1.0]),
            t_star=0.0,
            latent_var=1.0,
            label_noise_var=0.1,
            degree=2,
        ),  # fmt: skip
        accepts={"betas": ANY_SHAPE},
    ),
    Row(
        "lib.learning.attention_derivative_terms",
        dict(q=np.array([0.6, 0.8]), K=_KS, v=_VS, betas=np.array([0.5, 1.0])),
        accepts={"betas": GRID},
    ),
    Row(
        "lib.learning.score_matrix_gradient",
        dict(q=np.array([0.6, 0.8]), K=_KS, v=_VS, W=np.ones((1, 2, 2))),
    ),
    Row(
        "lib.learning.lemma_by_length",
        dict(
            q=np.array([0.6, 0.8]),
            K=_KS,
            v=_VS,
            betas=np.array([0.5, 1.0]),
            W=np.ones((1, 2, 2)),
            lengths=np.array([2, 3]),
        ),
        accepts={"betas": GRID, "lengths": GRID},
    ),
    Row(
        "lib.learning.bootstrap_band",
        dict(se=1.0, n_rows=4, fpp=0.01, two_sided=True),
    ),
    Row(
        "lib.learning.SizeSweep",
        dict(
            gap=np.zeros((2, 1, 1)),
            excess=np.zeros((2, 1, 1)),
            optimisation_error=0.0,
            excess_minus_twice_gap=0.0,
            violations=np.zeros((1, 1), dtype=int),
            n_datasets=np.ones(1, dtype=int),
        ),
        record=RECORD,
    ),
    Row(
        "lib.learning.ERMStudy",
        dict(
            losses=np.zeros((1, 2, 2)),
            r_pop=np.zeros((1, 2, 2)),
            r_lin=np.zeros((1, 2)),
        ),
        record=RECORD,
    ),
    Row(
        "lib.learning.AttentionDerivative",
        dict(autograd=_RISKS, covariance=_RISKS, sd_value=_RISKS, sd_score=_RISKS),
        record=RECORD,
    ),
    Row(
        "lib.learning.LengthSweep",
        dict(
            sup_derivative=_RISKS,
            score_variance=np.zeros((1, 2, 2)),
            sup_matrix_gradient=_RISKS,
            autograd_error=0.0,
            cauchy_schwarz_slack=0.0,
        ),
        record=RECORD,
    ),
]

# --- lib.pretraining
_VARS = dict(var_z=1.0, var_eps=0.25)
_RISK = dict(_VARS, var_y=0.1, ridge=0.01, degree=2, n_mask=1)
_HEADS2 = np.array([0.0, 2.0])
_BETAS = np.array([0.5, 1.0, 2.0])
_G9 = np.linspace(-1.0, 1.0, 9)
_LOCAL = dict(
    theta0=3.0,
    theta0_se=0.1,
    slope_down=0.2,
    slope_down_se=0.05,
    curv_pre=1.0,
    curv_pre_se=0.1,
    curv_down=0.5,
    third_pre=0.1,
    kappa_local=0.5,
    kappa_sqrt_local=0.28,
    kappa_sqrt_local_se=0.07,
    kappa_signed=0.28,
    kappa_signed_se=0.07,
)
_LOSSES = np.random.default_rng(1).normal(size=(8, 9)) + _G9**2  # (n, G) ERM losses
_NOT_A_NUMBER = "a lib record (an object, not a number)"
ROWS += [
    Row(
        "lib.pretraining.sample_key_angles",
        dict(size=2, L=3, rng=rng(), concentration=1.0, center=0.5),
        accepts={"size": _SIZE},
    ),
    Row(
        "lib.pretraining.sample_pretraining_sequences",
        dict(size=2, L=3, rng=rng(), concentration=1.0, center=0.5, degree=2, tau=1.0),
        accepts={"size": _SIZE},
    ),
    Row("lib.pretraining.mask_blocks", dict(L=4, n_mask=1)),
    Row(
        "lib.pretraining.masked_attention_weights",
        dict(t=T2, beta=_BETAS, n_mask=1),
        accepts={"t": BATCHED, "beta": GRID},
    ),
    Row(
        "lib.pretraining.masked_predictions",
        dict(t=T2, v=V2, beta=_BETAS, n_mask=1),
        accepts={"t": BATCHED, "v": BATCHED, "beta": GRID},
    ),
    Row(
        "lib.pretraining.masked_loss",
        dict(t=T2, v=V2, beta=_BETAS, n_mask=1, chunk=512),
        accepts={"beta": GRID},
    ),
    Row(
        "lib.pretraining.masked_risk_given_keys",
        dict(t=T2, beta=_BETAS, **_VARS, degree=2, n_mask=1, chunk=256),
        accepts={"t": BATCHED, "beta": GRID},
    ),
    Row(
        "lib.pretraining.masked_bayes_risk_given_keys",
        dict(t=T2, **_VARS, degree=2, n_mask=1),
        accepts={"t": BATCHED},
    ),
    Row(
        "lib.pretraining.representation",
        dict(t=T2, v=V2, beta=_BETAS, query_angles=_HEADS2, chunk=1024),
        accepts={
            "t": BATCHED,
            "v": BATCHED,
            "beta": GRID,
            "query_angles": {"rank-down": "a single head"},
        },
    ),
    Row(
        "lib.pretraining.sampled_downstream_loss",
        dict(
            t=T2,
            v=V2,
            y=np.array([0.5, -0.2]),
            beta=_BETAS,
            query_angles=_HEADS2,
            head=np.ones((3, 2)),
            ridge=0.1,
        ),
        accepts={"beta": GRID},
    ),
    Row(
        "lib.pretraining.downstream_moments_given_keys",
        dict(t=T2, beta=_BETAS, query_angles=_HEADS2, a=A_VEC, **_VARS, degree=2),
        accepts={
            "t": BATCHED,
            "beta": GRID,
            "query_angles": {"rank-down": "a single head"},
        },
    ),
    Row(
        "lib.pretraining.DownstreamFit",
        dict(risk=np.zeros(2), head=np.zeros((2, 2))),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.downstream_risk",
        dict(
            A=np.array([[[1.0, 0.2], [0.2, 1.0]]]),
            b=np.array([[0.5, 0.3]]),
            ey2=1.0,
            ridge=0.1,
        ),
        accepts={"A": BATCH, "b": BATCH},
    ),
    Row(
        "lib.pretraining.downstream_per_sequence",
        dict(
            A_seq=np.array([[[[1.0, 0.2], [0.2, 1.0]], [[0.9, 0.1], [0.1, 1.1]]]]),
            b_seq=np.array([[[0.5, 0.3], [0.4, 0.2]]]),
            head=np.array([[0.4, 0.2]]),
            ey2=1.0,
            ridge=0.1,
        ),
    ),
    Row(
        "lib.pretraining.RiskCurves",
        dict(
            r_pre=np.zeros(2),
            r_down=np.zeros(2),
            pre_seq=np.zeros((2, 3)),
            down_seq=np.zeros((2, 3)),
            head=np.zeros((2, 2)),
        ),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.risk_curves",
        dict(t=T2, beta=_BETAS, query_angles=_HEADS2, a=A_VEC, **_RISK, chunk=1000),
        accepts={"beta": GRID, "query_angles": {"rank-down": "a single head"}},
    ),
    Row(
        "lib.pretraining.extend_curves",
        dict(
            curves=Ref(
                "lib.pretraining.risk_curves",
                t=T2,
                beta=_BETAS,
                query_angles=_HEADS2,
                a=A_VEC,
                **_RISK,
            ),
            grid=_BETAS,
            new_grid=np.array([0.5, 1.5, 2.0]),
            t=T2,
            query_angles=_HEADS2,
            a=A_VEC,
            **_RISK,
        ),
        skip={"curves": _NOT_A_NUMBER},
        accepts={"query_angles": {"rank-down": "a single head"}},
    ),
    Row(
        "lib.pretraining.pretraining_optimum",
        dict(
            t=T_MANY,
            beta_init=3.5,
            **_VARS,
            degree=2,
            n_mask=1,
            h=0.001,
            tol=1e-4,
            max_steps=8,
        ),
    ),
    Row("lib.pretraining.LocalTransferMC", _LOCAL, record=RECORD),
    Row(
        "lib.pretraining.local_transfer_mc",
        dict(t=T_MANY, theta0=3.0, query_angles=_HEADS2, a=A_VEC, **_RISK, h=0.01),
        accepts={"query_angles": {"rank-down": "a single head"}},
    ),
    Row(
        "lib.pretraining.TransferConstants",
        dict(
            index0=np.zeros(1, dtype=int),
            kappa=np.ones(1),
            kappa_sqrt=np.ones(1),
            kappa_sqrt_plus=np.ones(1),
            misalignment=np.zeros(1),
            index_sqrt=np.zeros(1, dtype=int),
        ),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.transfer_constants",
        dict(r_pre=np.array([0.5, 0.3, 0.4]), r_down=np.array([0.6, 0.5, 0.7])),
        accepts={"r_pre": BATCH, "r_down": BATCH},
    ),
    Row(
        "lib.pretraining.TransferConstantsSE",
        dict(kappa_sqrt=0.1, kappa_sqrt_plus=0.1, misalignment=0.1),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.transfer_constants_se",
        dict(
            pre_seq=np.array(
                [[0.5, 0.6, 0.4, 0.5], [0.1, 0.2, 0.1, 0.3], [0.4, 0.3, 0.5, 0.4]]
            ),
            down_seq=np.array(
                [[0.6, 0.5, 0.7, 0.6], [0.5, 0.4, 0.6, 0.5], [0.7, 0.8, 0.6, 0.7]]
            ),
            n_batches=2,
        ),
    ),
    Row(
        "lib.pretraining.LocalTransfer",
        dict(
            theta0=1.0,
            slope_down=0.0,
            curv_pre=1.0,
            curv_down=1.0,
            kappa_local=1.0,
            kappa_sqrt_local=0.0,
        ),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.local_transfer_constants",
        dict(
            grid=np.array([0.0, 1.0, 2.0, 3.0, 4.0]),
            r_pre=np.array([4.1, 1.0, 0.1, 1.2, 3.9]),
            r_down=np.array([3.0, 1.5, 0.5, 0.8, 2.0]),
            window=2,
        ),
    ),
    Row(
        "lib.pretraining.TransferRatios",
        dict(
            h=np.ones(4),
            side=1.0,
            linear=np.ones(4),
            sqrt=np.ones(4),
            slope=-1.0,
            k=0.1,
            locality=0.1,
            slope_band=0.1,
            sqrt_limit=0.1,
            sqrt_limit_band=0.01,
        ),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.transfer_ratios",
        dict(
            t=T_MANY,
            local=Ref(
                "lib.pretraining.local_transfer_mc",
                t=T_MANY,
                theta0=Ref(
                    "lib.pretraining.pretraining_optimum",
                    t=T_MANY,
                    beta_init=3.5,
                    **_VARS,
                ),
                query_angles=_HEADS2,
                a=A_VEC,
                **_RISK,
            ),
            query_angles=_HEADS2,
            a=A_VEC,
            h0=0.01,
            n_steps=5,
            richardson=1,
            **_RISK,
        ),
        skip={"local": _NOT_A_NUMBER},
        accepts={"query_angles": {"rank-down": "a single head"}},
    ),
    Row("lib.pretraining.RefinedGrid", dict(grid=_G9, index0=4), record=RECORD),
    Row(
        "lib.pretraining.refine_grid",
        dict(grid=_G9, center=0.1, step=0.05, half_width=0.2),
    ),
    Row(
        "lib.pretraining.erm_sandwich",
        dict(losses=_LOSSES, grid=_G9, index0=4, curv_pre=2.0),
    ),
    Row(
        "lib.pretraining.rate_floor_bias",
        dict(sizes=np.array([2, 4, 8]), varsigma2=1.0, floor_var=0.1, weight=1.0),
    ),
    Row(
        "lib.pretraining.ErmRates",
        dict(
            sizes=np.array([2, 4]),
            pre=(),
            down=(),
            sup_gap=(),
            basic_slack=0.0,
            mean_pre=np.ones(2),
            mean_down=np.ones(2),
            slope_pre=-1.0,
            se_pre=0.1,
            slope_down=-0.5,
            se_down=0.1,
            varsigma2=1.0,
            floor_var=0.0,
            bias_pre=0.0,
            bias_down=0.0,
            band_pre=0.3,
            band_down=0.3,
        ),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.erm_rates",
        dict(
            losses=_LOSSES,
            sizes=np.array([2, 4]),
            grid=_G9,
            r_pre=_G9**2,
            r_down=_G9,
            index0=4,
            curv_pre=2.0,
            theta0_se=0.1,
            fpp=0.01,
            n_boot=20,
            rng=rng(),
        ),
    ),
    Row(
        "lib.pretraining.AsymptoticChanges",
        dict(pre=np.ones(2), down=np.ones(2)),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.asymptotic_changes",
        dict(
            sizes=np.array([8, 16]),
            varsigma2=1.0,
            local=Lazy(
                lambda: __import__("lib.pretraining").pretraining.LocalTransfer(
                    3.0, 0.2, 1.0, 0.5, 0.5, 0.28
                )
            ),
        ),
        skip={"local": _NOT_A_NUMBER},
        accepts={"sizes": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.pretraining.tracking_pairs",
        dict(
            rates=Ref(
                "lib.pretraining.erm_rates",
                losses=_LOSSES,
                sizes=np.array([2, 4]),
                grid=_G9,
                r_pre=_G9**2,
                r_down=_G9,
                index0=4,
                curv_pre=2.0,
                theta0_se=0.1,
                fpp=0.01,
                n_boot=20,
                rng=rng(),
            )
        ),
        skip={"rates": _NOT_A_NUMBER},
    ),
    Row(
        "lib.pretraining.Agreement",
        dict(z=np.zeros(2), z_max=0.0, z_crit=3.0),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.mc_agreement",
        dict(
            sampled=np.array([[0.1, 0.4, 0.3], [0.5, 0.2, 0.6]]),
            population=np.array([[0.2, 0.3], [0.4, 0.5]]),
            fpp=0.01,
        ),
    ),
    Row(
        "lib.pretraining.LengthTrend",
        dict(
            lengths=np.array([2, 4]),
            gaps=np.ones((2, 2)),
            mean_gap=np.ones(2),
            pop_se=np.ones(2),
            slope=0.0,
            se=0.1,
            se_pop=0.0,
            band=0.3,
            alt_slope=0.2,
            power=0.5,
        ),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.length_trend",
        dict(
            X=Ref(
                "lib.pretraining.sample_pretraining_sequences", size=8, L=4, rng=rng()
            ),
            keys=T2,
            lengths=np.array([2, 4]),
            N=4,
            beta=_BETAS,
            n_keys=np.array([2, 2]),
            **_VARS,
            degree=2,
            n_boot=20,
            rng=rng(),
            fpp=0.01,
        ),
        skip={"X": "a CircleSample (an object, not a number)"},
        accepts={"beta": GRID},
    ),
    Row(
        "lib.pretraining.SweepPoint",
        dict(kappa=0.1, kappa_se=0.01, misalignment=0.0, theta0=3.0, beta_down=2.0),
        record=RECORD,
    ),
    Row(
        "lib.pretraining.sweep_point",
        dict(
            t=T_MANY,
            grid=np.arange(0.0, 12.0, 1.0),
            query_angles=_HEADS2,
            a=A_VEC,
            **_RISK,
        ),
        accepts={"query_angles": {"rank-down": "a single head"}},
    ),
]

# --- lib.montecarlo
ROWS += [
    Row(
        "lib.montecarlo.mean_se",
        dict(samples=np.array([[1.0, 2.0, 4.0], [0.5, 0.1, 0.2]]), axis=-1),
        accepts={"samples": {**BATCH, "rank-down": "one sample"}},
    ),
    Row(
        "lib.montecarlo.loglog_slope",
        dict(
            x=np.array([1.0, 2.0, 4.0]),
            y=np.array([1.0, 0.52, 0.26]),
            se=np.array([0.01, 0.01, 0.01]),
            weighted=True,
        ),
        accepts={"se": OPTIONAL},
    ),
    Row(
        "lib.montecarlo.SlopeFit",
        dict(slope=-0.5, se=0.01, intercept=0.2),
        record=RECORD,
    ),
]

_NORMAL40 = np.random.default_rng(0).normal(1.0, 1.0, 40)
_NEST_L = np.array([100.0, 400.0, 1600.0])
_NEST_Y = np.random.default_rng(1).chisquare(3, (3, 40)) / 3 / _NEST_L[:, None]
_CONTROLS = np.random.default_rng(2).normal(0.0, 1.0, (40, 2))
ROWS += [
    Row(
        "lib.montecarlo.loglog_coefficients",
        dict(x=np.array([1.0, 2.0, 4.0])),
    ),
    Row(
        "lib.montecarlo.Band",
        dict(
            measured=1.0,
            se=0.1,
            expected=1.0,
            tol=0.3,
            z=3.0,
            allowance=0.0,
            fpp=1e-3,
            n=40,
        ),
        record=RECORD,
    ),
    Row(
        "lib.montecarlo.edgeworth_z",
        dict(fpp=1e-3, n=40, skew=0.5, exkurt=1.0),
    ),
    Row(
        "lib.montecarlo.edgeworth_tail",
        dict(z=3.0, n=40, skew=0.5, exkurt=1.0),
    ),
    Row(
        "lib.montecarlo.latent_controls",
        dict(z=np.array([[1.0, 2.0], [0.5, -0.3]]), tau=1.0),
    ),
    Row(
        "lib.montecarlo.mean_band",
        dict(
            samples=_NORMAL40,
            expected=1.0,
            fpp=1e-3,
            allowance=0.0,
            controls=_CONTROLS[:, :1],
        ),
        accepts={"controls": OPTIONAL},
    ),
    Row(
        "lib.montecarlo.sum_band",
        dict(
            groups=Lazy(lambda: [_NORMAL40, (_NORMAL40[::-1], _CONTROLS[:, :1])]),
            expected=2.0,
            fpp=1e-3,
            allowance=0.0,
        ),
        skip={"groups": "a list of arrays or (samples, controls) pairs"},
    ),
    Row(
        "lib.montecarlo.nested_slope_band",
        dict(
            lengths=_NEST_L, sq_errors=_NEST_Y, expected=-0.5, fpp=1e-3, allowance=0.0
        ),
    ),
]

# --- lib.validation
_NO_LOW = {**OPTIONAL, "-inf": "-inf is no lower bound"}
_NO_HIGH = {**OPTIONAL, "+inf": "+inf is no upper bound"}
_LABEL = {"name": "the caller's label for its own argument, used in messages only"}
ROWS += [
    Row("lib.validation.AccuracyWarning", dict(), record="a warning class"),
    Row("lib.validation.InputTypeError", dict(), record="an exception class"),
    Row(
        "lib.validation.check_real",
        dict(name="speed", value=1.5, low=0.0, high=2.0, allow_inf=False),
        skip=_LABEL,
        names={"value": ("speed",), "low": ("speed",), "high": ("speed",)},
        accepts={"low": _NO_LOW, "high": _NO_HIGH},
    ),
    Row(
        "lib.validation.check_positive",
        dict(name="speed", value=2.0, allow_zero=False, allow_inf=False),
        skip=_LABEL,
        names={"value": ("speed",)},
    ),
    Row(
        "lib.validation.check_probability",
        dict(name="p", value=0.3, open_interval=False),
        skip=_LABEL,
        names={"value": ("p",)},
        accepts={"value": SCALAR_OR_ARRAY},
    ),
    Row(
        "lib.validation.check_int",
        dict(name="n", value=3, minimum=0, maximum=10),
        skip=_LABEL,
        names={"value": ("n",), "minimum": ("n",), "maximum": ("n",)},
        accepts={"minimum": _NO_LOW, "maximum": _NO_HIGH},
    ),
    Row(
        "lib.validation.check_bool",
        dict(name="flag", value=True),
        skip=_LABEL,
        kinds={"value": "flag"},
        names={"value": ("flag",)},
    ),
    Row(
        "lib.validation.check_choice",
        dict(name="kind", value="a", options=("a", "b")),
        skip={**_LABEL, "options": "the caller's tuple of allowed values"},
        kinds={"value": "choice"},
        names={"value": ("kind",)},
    ),
    Row(
        "lib.validation.check_rng",
        dict(name="rng", rng=rng()),
        skip=_LABEL,
    ),
    Row(
        "lib.validation.check_array",
        dict(name="x", value=np.array([[0.0, 1.0]]), ndim=2, low=0.0, high=1.0),
        skip=_LABEL,
        names={"value": ("x",), "ndim": ("x",), "low": ("x",), "high": ("x",)},
        accepts={"ndim": OPTIONAL, "low": _NO_LOW, "high": _NO_HIGH},
    ),
    Row(
        "lib.validation.check_int_array",
        dict(name="k", value=np.array([1, 2]), ndim=1, minimum=0, maximum=5),
        skip=_LABEL,
        names={"value": ("k",), "ndim": ("k",), "minimum": ("k",), "maximum": ("k",)},
        accepts={"ndim": OPTIONAL, "minimum": _NO_LOW, "maximum": _NO_HIGH},
    ),
    Row(
        "lib.validation.check_binary",
        dict(name="x", value=np.array([0, 1, 1])),
        skip=_LABEL,
        names={"value": ("x",)},
        accepts={"value": ANY_SHAPE},
    ),
    Row(
        "lib.validation.check_broadcast",
        dict(what="the shapes", shapes={"n": (3, 1), "beta": (4,)}),
        skip={"shapes": "a dict of shapes, which the catalogue has no kind for"},
    ),
    Row(
        "lib.validation.check_tensor",
        dict(name="q", value=Q, ndim=2),
        skip=_LABEL,
        names={"value": ("q",), "ndim": ("q",)},
        accepts={"ndim": OPTIONAL},
    ),
    Row(
        "lib.validation.check_finite_result",
        dict(name="risk", value=np.array([0.5, 1.0])),
        skip=_LABEL,
        names={"value": ("risk",)},
        raises=(FloatingPointError,),
        accepts={
            "value": {
                **ANY_SHAPE,
                "bool": "any finite result passes, booleans too",
                "complex": "a finite complex result is finite",
            }
        },
    ),
]

# --- lib.checks
_VERDICT = dict(se=0.01, fpp=1e-3, digits=3)
_CLAIM = (AssertionError,)  # a claim that fails raises AssertionError: the purpose
ROWS += [
    Row(
        "lib.checks.Verdict",
        dict(claim="slope", measured=-0.51, reference=-0.5, kind="close", tol=0.05),
        record="a dataclass built and validated by close/at_most/at_least/exact",
    ),
    Row(
        "lib.checks.at_least",
        dict(claim="power", measured=0.9, bound=0.8, tol=0.0, **_VERDICT),
        raises=_CLAIM,
        accepts={"se": OPTIONAL, "fpp": OPTIONAL},
    ),
    Row(
        "lib.checks.at_most",
        dict(claim="sup-gap", measured=0.1, bound=0.2, tol=0.0, **_VERDICT),
        raises=_CLAIM,
        accepts={"se": OPTIONAL, "fpp": OPTIONAL},
    ),
    Row(
        "lib.checks.close",
        dict(claim="slope", measured=-0.51, expected=-0.5, tol=0.05, **_VERDICT),
        raises=_CLAIM,
        accepts={"se": OPTIONAL, "fpp": OPTIONAL},
    ),
    Row(
        "lib.checks.exact",
        dict(claim="sympy", measured=0.5, expected=0.5, tol=1e-12, digits=3),
        raises=_CLAIM,
    ),
    Row(
        "lib.checks.round_sig",
        dict(x=0.012345, digits=3),
        accepts={"x": {"+inf": "inf rounds to inf", "-inf": "-inf rounds to -inf"}},
    ),
]

# --- lib.seeding
ROWS += [
    Row("lib.seeding.seed_offset", dict()),
    Row("lib.seeding.book_seed", dict(base=7, offset=1), accepts={"offset": OPTIONAL}),
    Row("lib.seeding.rng", dict(base=7)),
    Row("lib.seeding.torch_generator", dict(base=7)),
]

# --- lib.figures
ROWS += [
    Row("lib.figures.use_book_style", dict()),
    Row("lib.figures.figures_dir", dict()),
    Row(
        "lib.figures.save_figure",
        dict(fig=Lazy(_figure), name="audit-figure"),
        skip={"fig": "a matplotlib Figure (an object, not a number)"},
    ),
]

# --- lib.progress
ROWS += [
    Row(
        "lib.progress.progress",
        dict(iterable=[1, 2, 3], desc="sweep"),
        skip={"iterable": "any iterable; its items are not inspected"},
    ),
]

# --- lib.transformer
_TINY = dict(d_model=4, n_layers=1)
_MODEL = Ref("lib.transformer.make_model", vocab_size=2, max_len=4, seed=0, **_TINY)
_TOKS = np.array([[0, 1, 1], [1, 0, 0]])
ROWS += [
    Row(
        "lib.transformer.CausalTransformer",
        dict(
            vocab_size=2,
            max_len=4,
            d_model=4,
            n_layers=1,
            n_heads=1,
            mlp=True,
            positional="learned",
        ),
        kinds={"positional": "choice"},
    ),
    Row(
        "lib.transformer.CausalTransformer.forward",
        dict(x=_TOKS),
        init=dict(vocab_size=2, max_len=4, **_TINY),
    ),
    Row(
        "lib.transformer.CausalTransformer.attention_maps",
        dict(x=_TOKS),
        init=dict(vocab_size=2, max_len=4, **_TINY),
    ),
    Row(
        "lib.transformer.TrainingLog",
        dict(steps=[1], train_loss=[0.5], evaluations=[None]),
        record=RECORD,
    ),
    Row(
        "lib.transformer.make_model",
        dict(vocab_size=2, max_len=4, seed=0, d_model=4, n_layers=1),
    ),
    Row(
        "lib.transformer.next_token_probs",
        dict(model=_MODEL, x=_TOKS),
        skip={"model": "a CausalTransformer (an object, not a number)"},
    ),
    Row(
        "lib.transformer.train_next_token",
        dict(
            model=_MODEL,
            sample=lambda g, n: g.integers(0, 2, (n, 4)),
            steps=1,
            batch_size=2,
            lr=0.01,
            seed=0,
            eval_every=1,
            evaluate=lambda m: 0.0,
            warmup=1,
        ),
        skip={
            "model": "a CausalTransformer (an object, not a number)",
            "sample": "a callable",
            "evaluate": "a callable",
        },
        accepts={"eval_every": OPTIONAL},
    ),
    Row(
        "lib.transformer.sinusoidal_positions",
        dict(length=3, d_model=4, dtype=torch.float64),
        skip={"dtype": "a torch dtype"},
    ),
]

# --- lib.autoregressive
_PRIOR2 = Ref("lib.autoregressive.DirichletPrior", alpha=(1.0, 2.0))
_ETA2 = np.array([[-1.0], [1.0]])
_A2 = np.log1p(np.exp(np.array([-1.0, 1.0])))
_LOGPRIOR2 = np.log(np.array([0.5, 0.5]))
_T3 = np.array([[1.0], [0.0], [1.0]])  # (L, p) sufficient statistics
_ATOMS = dict(eta=_ETA2, A=_A2, log_prior=_LOGPRIOR2)
_BITS3 = np.array([[0, 1, 1], [1, 0, 0]])
_PROBS3 = np.full((2, 3, 2), 0.5)
_GPT = dict(
    prior=_PRIOR2,
    L=3,
    steps=1,
    init_seed=0,
    data_seed=0,
    batch_size=2,
    lr=0.01,
    positional="none",
    d_model=4,
    n_layers=1,
    n_heads=1,
    warmup=0,
)
_TINY_GPT = Ref(
    "lib.transformer.make_model", vocab_size=2, max_len=3, seed=0, d_model=4
)
_PRIOR_ARG = "a DirichletPrior (an object, not a number)"
ROWS += [
    Row("lib.autoregressive.DirichletPrior", dict(alpha=(1.0, 2.0))),
    Row(
        "lib.autoregressive.DirichletPrior.beta",
        dict(a=1.0, b=2.0),
        init=dict(alpha=(1.0, 1.0)),
    ),
    Row(
        "lib.autoregressive.DirichletPrior.sample",
        dict(rng=rng(), n=2, L=3, return_latent=False),
        init=dict(alpha=(1.0, 2.0)),
    ),
    Row(
        "lib.autoregressive.DirichletPrior.predictive",
        dict(x=_BITS3),
        init=dict(alpha=(1.0, 2.0)),
        accepts={"x": _SEQ},
    ),
    Row(
        "lib.autoregressive.ExcessSummary",
        dict(mean=0.1, se=0.01, upper=0.12, n=10, alpha=0.05),
        record=RECORD,
    ),
    Row(
        "lib.autoregressive.atom_keys",
        dict(eta=_ETA2, A=_A2, log_prior=_LOGPRIOR2),
    ),
    Row(
        "lib.autoregressive.attention_profile",
        dict(weights=np.tril(np.ones((1, 3, 3))) / np.arange(1, 4)[:, None]),
    ),
    Row(
        "lib.autoregressive.beta_bernoulli_martingale_defect",
        dict(a=2.0, b=3.0, t_max=4),
    ),
    Row(
        "lib.autoregressive.beta_bernoulli_predictive",
        dict(x=_BITS3, a=2.0, b=3.0),
        accepts={"x": _SEQ},
    ),
    Row(
        "lib.autoregressive.beta_bernoulli_predictive_mse",
        dict(a=1.0, b=2.0, t=np.array([0, 3])),
        accepts={"t": ANY_SHAPE},
    ),
    Row(
        "lib.autoregressive.causal_atom_posteriors",
        dict(T=_T3, **_ATOMS),
        accepts={"T": BATCH},
    ),
    Row(
        "lib.autoregressive.causal_softmax_attention",
        dict(
            q=np.array([[0.5], [1.0], [0.0]]),
            K=np.array([[1.0], [0.0], [-1.0]]),
            V=np.array([[1.0], [3.0], [5.0]]),
            beta=1.0,
            return_weights=False,
        ),
        accepts={"q": BATCH, "K": BATCH, "V": BATCH},
    ),
    Row(
        "lib.autoregressive.dirichlet_categorical_predictive",
        dict(x=np.array([2, 0, 2]), alpha=np.array([1.0, 1.0, 2.0])),
        accepts={"x": {**BATCH, "empty": "L = 0 tokens: no prediction"}},
    ),
    Row(
        "lib.autoregressive.exact_prefix_posteriors",
        dict(T=_T3[:2], **_ATOMS, dps=30),
        accepts={"T": BATCH},
    ),
    Row(
        "lib.autoregressive.excess_log_loss",
        dict(model_probs=_PROBS3, x=_BITS3, prior=_PRIOR2),
        skip={"prior": _PRIOR_ARG},
    ),
    Row(
        "lib.autoregressive.excess_summary",
        dict(kl=np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]]), alpha=0.05),
    ),
    Row(
        "lib.autoregressive.expected_kl_by_position",
        dict(prior=_PRIOR2, L=3, predictor="plugin", delta=0.01),
        skip={"prior": _PRIOR_ARG},
        kinds={"predictor": "choice"},
    ),
    Row(
        "lib.autoregressive.first_layer_attention",
        dict(model=_TINY_GPT, x=_BITS3),
        skip={"model": "a CausalTransformer (an object, not a number)"},
    ),
    Row(
        "lib.autoregressive.kl_divergence",
        dict(p=np.array([0.5, 0.5]), q=np.array([0.25, 0.75])),
        accepts={"p": BATCH, "q": BATCH},
    ),
    Row(
        "lib.autoregressive.plugin_predictive",
        dict(x=np.array([1, 1, 0]), K=2, delta=0.01),
        accepts={"x": {**BATCH, "empty": "L = 0 tokens: no prediction"}},
    ),
    Row(
        "lib.autoregressive.posterior_rounding_bound",
        dict(T=_T3, **_ATOMS),
        accepts={"T": BATCH},
    ),
    Row(
        "lib.autoregressive.prefix_symmetry_defect",
        dict(
            predict=Lazy(
                lambda: (
                    __import__("lib.autoregressive")
                    .autoregressive.DirichletPrior((1.0, 2.0))
                    .predictive
                )
            ),
            x=np.array([[0, 1, 1, 0], [1, 1, 0, 0]]),
            rng=rng(),
            n_perm=2,
        ),
        skip={"predict": "a callable"},
    ),
    Row(
        "lib.autoregressive.tempered_atom_posteriors",
        dict(T=_T3, **_ATOMS, beta=1.5),
        accepts={"T": BATCH, "beta": {"array-for-scalar": "one β per position"}},
    ),
    Row(
        "lib.autoregressive.tempered_limit",
        dict(mean_T=np.array([0.5]), eta=_ETA2, A=_A2, beta=1.0),
    ),
    Row(
        "lib.autoregressive.train_bayes_gpt",
        _GPT,
        skip={"prior": _PRIOR_ARG},
        kinds={"positional": "choice"},
        accepts={"warmup": OPTIONAL},
    ),
]

# --- lib.markov
_MX = np.array([[0, 1, 0, 1], [1, 1, 0, 0]])


def _two_layers():
    from lib.markov import two_layer_markov_attention

    return two_layer_markov_attention(_MX, k=2, alpha=1.0, beta=5.0)


_TRAINING = dict(
    steps=np.array([0, 1, 2]),
    per_sequence=np.array(
        [
            [[0.0, 0.3, 0.5], [0.0, 0.2, 0.6], [0.1, 0.2, 0.4]],
            [[0.3, 0.0, 0.2], [0.2, 0.1, 0.3], [0.4, 0.0, 0.2]],
            [[0.5, 0.3, 0.0], [0.6, 0.2, 0.1], [0.4, 0.3, 0.0]],
        ]
    ),
    kl=np.array([[0.03, 0.23, 0.5], [0.3, 0.03, 0.23], [0.5, 0.27, 0.03]]),
    se=np.full((3, 3), 0.05),
    model=None,
)
_MARKOV_MODEL = Ref(
    "lib.transformer.make_model", vocab_size=2, max_len=4, seed=0, d_model=4
)
_A_MODEL = "a CausalTransformer (an object, not a number)"
ROWS += [
    Row("lib.markov.all_sequences", dict(length=2, k=2)),
    Row(
        "lib.markov.transition_counts",
        dict(x=_MX, k=2),
        accepts={"x": BATCHED},
    ),
    Row(
        "lib.markov.sample_dirichlet_markov",
        dict(size=2, L=4, k=2, alpha=1.0, rng=rng()),
    ),
    Row(
        "lib.markov.sequence_log_prob",
        dict(x=_MX, k=2, alpha=1.0),
        accepts={"x": BATCHED},
    ),
    Row(
        "lib.markov.dirichlet_markov_predictive",
        dict(x=_MX, k=2, alpha=0.5),
        accepts={"x": BATCHED},
    ),
    Row(
        "lib.markov.unigram_predictive",
        dict(x=_MX, k=2, alpha=1.0),
        accepts={"x": BATCHED},
    ),
    Row(
        "lib.markov.chi_square_sequence_law",
        dict(
            x=Ref(
                "lib.markov.sample_dirichlet_markov",
                size=200,
                L=2,
                k=2,
                alpha=1.0,
                rng=rng(),
            ),
            k=2,
            alpha=1.0,
        ),
    ),
    Row("lib.markov.order_blind_excess", dict(t=2, k=2, alpha=1.0)),
    Row(
        "lib.markov.TwoLayerAttention",
        dict(probs=np.zeros(1), layer1=np.zeros(1), layer2=np.zeros(1)),
        record=RECORD,
    ),
    Row(
        "lib.markov.two_layer_markov_attention",
        dict(x=_MX, k=2, alpha=1.0, beta=5.0),
        accepts={"x": BATCHED, "beta": {"+inf": "β = ∞ is the hard-attention limit"}},
    ),
    Row(
        "lib.markov.two_layer_tv",
        dict(x=_MX, k=2, alpha=1.0, beta=5.0),
        accepts={"x": BATCHED, "beta": {"+inf": "β = ∞ is the hard-attention limit"}},
    ),
    Row(
        "lib.markov.two_layer_error_bound",
        dict(t=np.array([1, 3]), k=2, alpha=0.5, beta=10.0),
        accepts={"t": ANY_SHAPE},
    ),
    Row(
        "lib.markov.attention_pattern_stats",
        dict(
            layer1=Lazy(lambda: _two_layers().layer1),
            layer2=Lazy(lambda: _two_layers().layer2),
            x=_MX,
        ),
    ),
    Row(
        "lib.markov.strategy_kl",
        dict(
            x=_MX,
            probs=np.full((2, 3, 2), 0.5),
            k=2,
            alpha=1.0,
            per_position=False,
        ),
    ),
    Row(
        "lib.markov.model_predictive",
        dict(model=_MARKOV_MODEL, x=_MX),
        skip={"model": _A_MODEL},
    ),
    Row(
        "lib.markov.trained_attention_maps",
        dict(
            model=Ref(
                "lib.transformer.make_model",
                vocab_size=2,
                max_len=4,
                seed=0,
                d_model=4,
                n_layers=2,
            ),
            x=_MX,
        ),
        skip={"model": _A_MODEL},
    ),
    Row(
        "lib.markov.MarkovTraining",
        _TRAINING,
        record="a dataclass of a run's results (built by train_markov_transformer)",
    ),
    Row(
        "lib.markov.MarkovTraining.nearest",
        dict(z=1.0),
        init=_TRAINING,
        accepts={"z": OPTIONAL},
    ),
    Row(
        "lib.markov.MarkovTraining.phases",
        dict(z=1.0),
        init=_TRAINING,
        accepts={"z": OPTIONAL},
    ),
    Row(
        "lib.markov.train_markov_transformer",
        dict(
            k=2,
            L=4,
            alpha=1.0,
            steps=1,
            model_seed=0,
            data_seed=0,
            eval_x=_MX,
            eval_every=1,
            batch_size=2,
            lr=0.01,
            d_model=4,
            n_layers=1,
            positional="learned",
        ),
        kinds={"positional": "choice"},
    ),
]

# Rows whose valid call fails for a reason outside the row (a bug in lib): the test is
# an expected failure while the bug lasts, and fails once the call works again, until
# the line is deleted (the row then falls under NOT_YET_COMPLIANT below, if listed).
VALID_CALL_BROKEN: dict[str, str] = {}

# Rows whose function does not yet handle its bad inputs as the rules say: their test
# is an expected failure (strict). Fix the function, then delete its line here.
NOT_YET_COMPLIANT: set[str] = set()
