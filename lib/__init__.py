"""Shared code of the executable book *Attention through the lens of exchangeability*.

One module per idea:

- :mod:`lib.validation`     input checks that raise ``ValueError`` naming the argument
- :mod:`lib.figures`        the book's matplotlib style and the figure-saving helper
- :mod:`lib.montecarlo`     Monte Carlo means with standard errors, log–log slopes
- :mod:`lib.progress`       progress bars for long runs (stderr only)
- :mod:`lib.exchangeability` Pólya urn, de Finetti, Diaconis–Freedman (Chapter 1)
- :mod:`lib.latent`         Beta–Bernoulli and Normal–Normal posteriors, Bayes risks (Chapter 2)
- :mod:`lib.attention`      softmax attention, Nadaraya–Watson, CME attention (Chapter 3)
- :mod:`lib.posterior`      posteriors over latent atoms as attention, the linear-Gaussian posterior (Chapter 3)
- :mod:`lib.circle`         the circle model: keys on the unit circle, Fourier features, Bessel bias (Chapters 3–5)
- :mod:`lib.learning`       grid ERM, sup-gap, Rademacher estimates, uniform-convergence bound (Chapter 4)
- :mod:`lib.pretraining`    masked-token objective, downstream risk, transfer condition number (Chapter 5)
"""
