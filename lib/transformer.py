"""A small decoder-only transformer, trained by next-token prediction (Chapters 6–7).

The model reads a token sequence ``x`` of shape ``(B, L)`` with values in
``0..vocab_size-1`` and returns, at every position ``t``, logits for ``x[:, t]`` given
``x[:, :t]``: a start token (index ``vocab_size``) is prepended and the last token
dropped, so position 0 predicts the first token from nothing (the prior predictive).
Causal masking makes the prediction at ``t`` a function of the prefix only.

Layers are pre-norm blocks ``x + attn(LN x)`` then (optionally) ``x + mlp(LN x)``; every
head's attention weights can be read back (:meth:`CausalTransformer.attention_maps`).
Positions are ``"learned"`` (an embedding per position up to ``max_len``),
``"sinusoidal"`` (fixed, defined at every length) or ``"none"`` (the causal mask alone).

Returns: the model and the training loop work in torch; :func:`next_token_probs`
returns NumPy float64 arrays for comparison with the exact predictives of
:mod:`lib.autoregressive` and :mod:`lib.markov`.

Examples
--------
>>> model = make_model(vocab_size=2, max_len=8, seed=0)
>>> next_token_probs(model, [[0, 1, 1]]).shape
(1, 3, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib.progress import progress
from lib.validation import (
    InputTypeError,
    check_choice,
    check_int,
    check_int_array,
    check_positive,
)

__all__ = [
    "CausalTransformer",
    "TrainingLog",
    "make_model",
    "next_token_probs",
    "sinusoidal_positions",
    "train_next_token",
]

POSITIONAL = ("learned", "sinusoidal", "none")


def sinusoidal_positions(
    length: int, d_model: int, *, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The sinusoidal positional encoding of Vaswani et al. (2017).

    Row ``t`` is ``(sin(t ω_0), cos(t ω_0), sin(t ω_1), cos(t ω_1), …)`` with
    frequencies ``ω_i = 10000^(-2i/d_model)``: defined at every position, so a model
    that uses it can be run beyond its training length.

    Parameters
    ----------
    length : int
        Number of positions ``>= 0``.
    d_model : int
        Width, even and ``>= 2``.
    dtype : torch.dtype, default torch.float32
        ``torch.float32`` or ``torch.float64``.

    Returns
    -------
    torch.Tensor
        Shape ``(length, d_model)``, entries in ``[-1, 1]``.

    Raises
    ------
    ValueError
        For a negative ``length`` or an odd or too small ``d_model``.
    lib.validation.InputTypeError
        For non-integer sizes or a ``dtype`` that is not a torch float type.

    Examples
    --------
    >>> sinusoidal_positions(2, 4)
    tensor([[0.0000, 1.0000, 0.0000, 1.0000],
            [0.8415, 0.5403, 0.0100, 0.9999]])
    """
    length = check_int("length", length, minimum=0)
    d_model = check_int("d_model", d_model, minimum=2)
    if d_model % 2:
        raise ValueError(f"d_model must be even, got {d_model}")
    if dtype not in (torch.float32, torch.float64):
        raise InputTypeError(
            f"dtype must be torch.float32 or torch.float64, got {dtype!r}"
        )
    pos = torch.arange(length, dtype=dtype)[:, None]
    i = torch.arange(0, d_model, 2, dtype=dtype)
    freq = torch.exp(-math.log(10_000.0) * i / d_model)
    table = torch.zeros(length, d_model, dtype=dtype)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with readable weights."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, h: torch.Tensor):
        B, L, D = h.shape
        q, k, v = self.qkv(h).split(D, dim=-1)
        shape = (B, L, self.n_heads, D // self.n_heads)
        return (t.view(shape).transpose(1, 2) for t in (q, k, v))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        q, k, v = self._heads(h)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(h.shape))

    def weights(self, h: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(B, n_heads, L, L)``; row ``t`` is over ``≤ t``."""
        q, k, _ = self._heads(h)
        L = h.shape[1]
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        mask = torch.ones(L, L, dtype=torch.bool).triu(1)
        return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, mlp: bool):
        super().__init__()
        self.ln_attn = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.mlp = None
        if mlp:
            self.ln_mlp = nn.LayerNorm(d_model)
            self.mlp = nn.Sequential(
                nn.Linear(d_model, 4 * d_model),
                nn.GELU(),
                nn.Linear(4 * d_model, d_model),
            )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h + self.attn(self.ln_attn(h))
        if self.mlp is not None:
            h = h + self.mlp(self.ln_mlp(h))
        return h


class CausalTransformer(nn.Module):
    """Decoder-only transformer: ``forward(x)`` is next-token logits ``(B, L, V)``."""

    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        *,
        d_model: int = 32,
        n_layers: int = 2,
        n_heads: int = 1,
        mlp: bool = True,
        positional: str = "learned",
    ):
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.max_len = check_int("max_len", max_len, minimum=1)
        d_model = check_int("d_model", d_model, minimum=2)
        n_layers = check_int("n_layers", n_layers, minimum=1)
        n_heads = check_int("n_heads", n_heads, minimum=1)
        if d_model % n_heads or d_model % 2:
            raise ValueError(
                "d_model must be even and divisible by n_heads,"
                f" got d_model={d_model}, n_heads={n_heads}"
            )
        if not isinstance(mlp, bool):
            raise InputTypeError(f"mlp must be True or False, got {mlp!r}")
        self.positional = check_choice("positional", positional, POSITIONAL)
        self.embed = nn.Embedding(self.vocab_size + 1, d_model)  # last row: start token
        if positional == "learned":
            self.pos = nn.Embedding(self.max_len, d_model)
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, mlp) for _ in range(n_layers)
        )
        self.ln_out = nn.LayerNorm(d_model)
        self.unembed = nn.Linear(d_model, self.vocab_size)

    def _check_tokens(self, x) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.dtype == torch.long:
            tokens = x
            if tokens.ndim != 2 or tokens.numel() == 0:
                raise ValueError(f"x must have shape (B, L), got {tuple(tokens.shape)}")
            if bool(((tokens < 0) | (tokens >= self.vocab_size)).any()):
                raise ValueError(f"x must take values in 0..{self.vocab_size - 1}")
        else:
            arr = check_int_array(
                "x", x, ndim=2, minimum=0, maximum=self.vocab_size - 1
            )
            tokens = torch.from_numpy(arr)
        if self.positional == "learned" and tokens.shape[1] > self.max_len:
            raise ValueError(
                f"x has length {tokens.shape[1]} > max_len = {self.max_len}"
                " (learned positions exist only up to max_len)"
            )
        return tokens

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        start = torch.full_like(tokens[:, :1], self.vocab_size)
        inputs = torch.cat([start, tokens[:, :-1]], dim=1)
        h = self.embed(inputs)
        L = tokens.shape[1]
        if self.positional == "learned":
            h = h + self.pos(torch.arange(L))
        elif self.positional == "sinusoidal":
            h = h + sinusoidal_positions(L, h.shape[-1])
        return h

    def forward(self, x) -> torch.Tensor:
        h = self._embed(self._check_tokens(x))
        for block in self.blocks:
            h = block(h)
        return self.unembed(self.ln_out(h))

    @torch.no_grad()
    def attention_maps(self, x) -> list[torch.Tensor]:
        """Per layer, weights ``(B, n_heads, L, L)``; key 0 is the start token."""
        h = self._embed(self._check_tokens(x))
        maps = []
        for block in self.blocks:
            maps.append(block.attn.weights(block.ln_attn(h)))
            h = block(h)
        return maps


def make_model(
    vocab_size: int, max_len: int, *, seed: int, **options
) -> CausalTransformer:
    """A :class:`CausalTransformer` whose initial weights depend on ``seed`` only."""
    seed = check_int("seed", seed, minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CausalTransformer(vocab_size, max_len, **options)


def _check_model(model) -> None:
    if not isinstance(model, CausalTransformer):
        raise InputTypeError(
            f"model must be a CausalTransformer, got {type(model).__name__}"
        )


@torch.no_grad()
def next_token_probs(model: CausalTransformer, x) -> np.ndarray:
    """Predictive probabilities ``(B, L, V)``: entry ``t`` is the law of ``x[:, t]``
    given ``x[:, :t]`` (float64, rows sum to 1)."""
    _check_model(model)
    was_training = model.training
    model.eval()
    probs = torch.softmax(model(x).double(), dim=-1)
    model.train(was_training)
    return probs.numpy()


@dataclass
class TrainingLog:
    """Steps at which the model was evaluated, the mean training loss (nats per token)
    since the previous evaluation, and what ``evaluate`` returned at each."""

    steps: list[int]
    train_loss: list[float]
    evaluations: list


def train_next_token(
    model: CausalTransformer,
    sample: Callable[[np.random.Generator, int], np.ndarray],
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    eval_every: int | None = None,
    evaluate: Callable[[CausalTransformer], object] | None = None,
    warmup: int = 0,
) -> TrainingLog:
    """Adam on the mean next-token cross-entropy, with fresh sequences at every step.

    ``sample(rng, batch_size)`` returns a ``(batch_size, L)`` integer batch; ``rng`` is
    ``np.random.default_rng(seed)``, so a run is determined by ``seed`` and the model's
    initial weights. The learning rate rises linearly over ``warmup`` steps, then
    decays as a cosine to 0 at ``steps``. Every ``eval_every`` steps (and at the end)
    ``evaluate(model)`` is called in eval mode and its result logged.
    """
    _check_model(model)
    if not callable(sample):
        raise InputTypeError(f"sample must be callable, got {type(sample).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise InputTypeError(
            f"evaluate must be callable or None, got {type(evaluate).__name__}"
        )
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive("lr", lr)
    dtype = next(model.parameters()).dtype
    if lr > torch.finfo(dtype).max:
        raise ValueError(f"lr must be representable in {dtype}, got {lr!r}")
    seed = check_int("seed", seed, minimum=0)
    warmup = check_int("warmup", warmup, minimum=0, maximum=steps)
    every = (
        steps if eval_every is None else check_int("eval_every", eval_every, minimum=1)
    )
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    log = TrainingLog([], [], [])
    running, count = 0.0, 0
    model.train()
    for step in progress(range(1, steps + 1), desc="training"):
        x = model._check_tokens(sample(rng, batch_size))
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, model.vocab_size), x.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(
                f"training diverged at step {step}: the loss is {value}"
                f" (lr = {lr!r}); use a smaller lr"
            )
        running, count = running + value, count + 1
        if step % every == 0 or step == steps:
            log.steps.append(step)
            log.train_loss.append(running / count)
            running, count = 0.0, 0
            if evaluate is not None:
                model.eval()
                log.evaluations.append(evaluate(model))
                model.train()
    model.eval()
    return log
