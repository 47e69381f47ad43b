"""Shared code of the executable book *Attention through the lens of exchangeability*.

One module per idea:

- :mod:`lib.validation`     input checks that raise ``ValueError`` naming the argument
- :mod:`lib.figures`        the book's matplotlib style and the figure-saving helper
- :mod:`lib.exchangeability` Pólya urn, de Finetti, Diaconis–Freedman (Chapter 1)
- :mod:`lib.attention`      softmax attention, Nadaraya–Watson, CME attention (Chapter 3)
"""
