"""Shared code of the executable book *Attention through the lens of exchangeability*.

One module per idea:

- :mod:`lib.validation`      input checks: named errors, never a silent NaN
- :mod:`lib.checks`          one-line verdicts that raise when a claim fails
- :mod:`lib.seeding`         seeds, and ``BOOK_SEED`` for the seed sweep
- :mod:`lib.figures`         the book's matplotlib style and citable figure files
- :mod:`lib.montecarlo`      Monte Carlo means with standard errors, log–log slopes
- :mod:`lib.progress`        progress bars for long runs (stderr only)
- :mod:`lib.exchangeability` Pólya urn, de Finetti, Diaconis–Freedman (Chapter 1)
- :mod:`lib.latent`          Beta–Bernoulli and Normal–Normal posteriors (Chapter 2)
- :mod:`lib.attention`       softmax, Nadaraya–Watson and CME attention (Chapter 3)
- :mod:`lib.posterior`       posteriors over latent atoms as attention (Chapter 3)
- :mod:`lib.circle`          the circle model, Fourier features, Bessel bias (Ch. 3–5)
- :mod:`lib.learning`        grid ERM, sup-gaps, Rademacher estimates (Chapter 4)
- :mod:`lib.pretraining`     masked-token objective and transfer (Chapter 5)
- :mod:`lib.autoregressive`  prefix posteriors, next-token Bayes (Chapter 6)
- :mod:`lib.transformer`     a small decoder-only transformer (Chapters 6–7)
- :mod:`lib.markov`          Markov chains, induction heads (Chapter 7)
"""
