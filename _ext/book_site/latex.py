"""Unicode text and math as LaTeX that pdflatex + BibTeX compile.

Captions and titles are written in Unicode (``τ``, ``σ²``, ``Φ⁺``, ``N^(-1/2)``,
``Pólya``); a BibTeX entry that carries them verbatim breaks pdflatex ("Unicode
character τ not set up for use with LaTeX"). :func:`text_to_latex` converts running
text: Greek letters and mathematical symbols become inline math (adjacent ones
share one ``$...$``), accented letters become accent commands (``{\\'o}``), TeX's
special characters are escaped, and ``x^(...)`` / ``x^y`` become ``$x^{...}$``.
:func:`math_to_latex` converts the inside of a formula (``$...$`` of a caption):
the same symbols as commands, ``−`` as ``-``, superscripts as ``^{...}``.
Every formula is wrapped in braces, ``{$...$}``, so that BibTeX styles that change
a title's case leave it alone.

A character with no known LaTeX form raises :class:`UnsupportedCharacter` (the
extension turns it into a build warning, fatal under ``-W``): add it to the tables.
"""

from __future__ import annotations

import re
import unicodedata

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon",
    "ϵ": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "vartheta",
    "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "varsigma", "τ": "tau",
    "υ": "upsilon", "φ": "varphi", "ϕ": "phi", "χ": "chi", "ψ": "psi",
    "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda",
    "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi",
    "Ω": "Omega",
}  # fmt: skip
# symbols that are mathematics: as a command (inside math)
MATH_SYMBOLS = {
    **{k: "\\" + v for k, v in GREEK.items()},
    "−": "-", "≤": "\\le", "≥": "\\ge", "≠": "\\ne", "≈": "\\approx",
    "∼": "\\sim", "≃": "\\simeq", "∝": "\\propto", "≡": "\\equiv", "×": "\\times",
    "·": "\\cdot", "⋅": "\\cdot", "±": "\\pm", "∓": "\\mp", "∞": "\\infty",
    "∑": "\\sum", "∏": "\\prod", "∫": "\\int", "∂": "\\partial", "∇": "\\nabla",
    "→": "\\to", "←": "\\leftarrow", "↦": "\\mapsto", "⇒": "\\Rightarrow",
    "∈": "\\in", "∉": "\\notin", "⊂": "\\subset", "⊆": "\\subseteq", "∪": "\\cup",
    "∩": "\\cap", "∣": "\\mid", "‖": "\\|", "⟨": "\\langle", "⟩": "\\rangle",
    "√": "\\surd", "∘": "\\circ", "∗": "\\ast", "†": "\\dagger", "ℓ": "\\ell",
    "ℝ": "\\mathbb{R}", "ℕ": "\\mathbb{N}", "ℤ": "\\mathbb{Z}", "𝔼": "\\mathbb{E}",
    "ℙ": "\\mathbb{P}", "…": "\\ldots", "⋯": "\\cdots", "′": "'", "″": "''",
    "°": "^{\\circ}", "ᵀ": "^{\\top}", "⊤": "\\top", "∀": "\\forall",
    "∃": "\\exists", "⌊": "\\lfloor", "⌋": "\\rfloor", "⌈": "\\lceil",
    "⌉": "\\rceil", "≪": "\\ll", "≫": "\\gg", "∖": "\\setminus", "∅": "\\emptyset",
}  # fmt: skip
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", "0123456789+-=()ni", strict=True))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎", "0123456789+-=()", strict=True))
# text punctuation that LaTeX writes with ASCII
TEXT_SYMBOLS = {
    "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''",
    "\u00a0": "~", "\u2009": "\\,", "\u202f": "\\,", "…": "\\ldots{}",
    "§": "\\S{}", "©": "\\copyright{}",
}  # fmt: skip
TEXT_SPECIALS = {
    "\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&",
    "%": "\\%", "#": "\\#", "_": "\\_", "^": "\\textasciicircum{}",
    "~": "\\textasciitilde{}",
}  # fmt: skip
# combining accents: (text command, math command)
ACCENTS = {
    "\u0301": ("'", "acute"), "\u0300": ("`", "grave"), "\u0302": ("^", "hat"),
    "\u0308": ('"', "ddot"), "\u0303": ("~", "tilde"), "\u0304": ("=", "bar"),
    "\u0307": (".", "dot"), "\u030c": ("v", "check"), "\u0306": ("u", "breve"),
    "\u0327": ("c", None), "\u030a": ("r", "mathring"), "\u030b": ("H", None),
}  # fmt: skip
SPECIAL_LETTERS = {
    "ß": "{\\ss}", "æ": "{\\ae}", "Æ": "{\\AE}", "ø": "{\\o}", "Ø": "{\\O}",
    "å": "{\\aa}", "Å": "{\\AA}", "œ": "{\\oe}", "Œ": "{\\OE}", "ł": "{\\l}",
    "Ł": "{\\L}", "ı": "{\\i}",
}  # fmt: skip


class UnsupportedCharacter(ValueError):
    """A character with no known LaTeX form (add it to the tables)."""


def _accented(char: str, math: bool) -> str | None:
    """``ó`` → ``{\\'o}`` (text) or ``\\acute{o}`` (math); None if not accented."""
    parts = unicodedata.normalize("NFD", char)
    if len(parts) < 2 or not all(c in ACCENTS for c in parts[1:]):
        return None
    out = parts[0]
    if not math and out in "ij":
        out = "\\" + out  # dotless i/j under an accent
    for mark in parts[1:]:
        text_cmd, math_cmd = ACCENTS[mark]
        if math:
            if math_cmd is None:
                return None
            out = f"\\{math_cmd}{{{out}}}"
        else:
            sep = " " if text_cmd.isalpha() else ""
            out = f"{{\\{text_cmd}{sep}{out}}}"
    return out


def _scripts(s: str) -> str:
    """Runs of Unicode super/subscripts as ``^{...}`` / ``_{...}`` (math)."""
    s = re.sub(
        "[" + "".join(SUPERSCRIPTS) + "]+",
        lambda m: "^{" + "".join(SUPERSCRIPTS[c] for c in m[0]) + "}",
        s,
    )
    return re.sub(
        "[" + "".join(SUBSCRIPTS) + "]+",
        lambda m: "_{" + "".join(SUBSCRIPTS[c] for c in m[0]) + "}",
        s,
    )


def _clusters(s: str) -> list[tuple[int, str, str]]:
    """``(index, base, combining marks)`` for each character of ``s``."""
    out: list[tuple[int, str, str]] = []
    for i, char in enumerate(s):
        if unicodedata.combining(char) and out:
            j, base, marks = out[-1]
            out[-1] = (j, base, marks + char)
        else:
            out.append((i, char, ""))
    return out


def _math_accents(body: str, marks: str, where: str) -> str:
    for mark in marks:
        cmd = ACCENTS.get(mark, (None, None))[1]
        if cmd is None:
            raise UnsupportedCharacter(
                f"no LaTeX form for the accent U+{ord(mark):04X} in {where!r}"
            )
        body = f"\\{cmd}{{{body}}}"
    return body


def math_to_latex(tex: str) -> str:
    """The inside of a formula, with its Unicode symbols as LaTeX commands."""
    s = _scripts(unicodedata.normalize("NFC", tex))
    out = []
    for i, char, marks in _clusters(s):
        if ord(char) < 128:
            body = char
        elif char in MATH_SYMBOLS:
            body = MATH_SYMBOLS[char]
            following = s[i + 1 + len(marks) : i + 2 + len(marks)]
            if body[-1].isalpha() and following.isalpha() and not marks:
                body += " "
        elif (accented := _accented(char, math=True)) is not None:
            body = accented
        else:
            raise UnsupportedCharacter(
                f"no LaTeX form for {char!r} (U+{ord(char):04X}) in math {tex!r}"
            )
        out.append(_math_accents(body, marks, tex) if marks else body)
    return "".join(out)


# ``x^(...)`` and ``x^y`` in running text: exponents written as plain text
_TEXT_POWER = re.compile(r"([A-Za-z0-9\u0370-\u03ff)]+)\^(\([^()]*\)|[-−]?[\w.]+)")


def text_to_latex(text: str) -> str:
    """Running text as LaTeX: symbols as inline math, specials escaped."""
    text = unicodedata.normalize("NFC", text)
    pieces: list[tuple[bool, str]] = []  # (is_math, latex)

    def add(is_math: bool, s: str) -> None:
        if pieces and pieces[-1][0] == is_math:
            pieces[-1] = (is_math, pieces[-1][1] + s)
        else:
            pieces.append((is_math, s))

    pos = 0
    for m in _TEXT_POWER.finditer(text):
        _text_run(text[pos : m.start()], add)
        base, exp = m[1], m[2]
        if exp.startswith("(") and exp.endswith(")"):
            exp = exp[1:-1]
        add(True, math_to_latex(base) + "^{" + math_to_latex(exp) + "}")
        pos = m.end()
    _text_run(text[pos:], add)
    return "".join(f"{{${s}$}}" if is_math else s for is_math, s in pieces)


def _text_run(text: str, add) -> None:
    clusters = _clusters(text)
    k = 0
    while k < len(clusters):
        i, char, marks = clusters[k]
        k += 1
        if (char in SUPERSCRIPTS or char in SUBSCRIPTS) and not marks:
            run = char
            while k < len(clusters) and clusters[k][1] in {
                **SUPERSCRIPTS,
                **SUBSCRIPTS,
            }:
                run += clusters[k][1]
                k += 1
            add(True, _scripts(run))
        elif char in MATH_SYMBOLS or (marks and char.isalpha() and ord(char) >= 128):
            body = math_to_latex(char)
            add(True, _math_accents(body, marks, text) if marks else body)
        elif marks:  # an ASCII letter with accents not composed by NFC
            accented = _accented(unicodedata.normalize("NFC", char + marks), False)
            if accented is None:
                raise UnsupportedCharacter(
                    f"no LaTeX form for {char + marks!r} in {text!r}"
                )
            add(False, accented)
        elif char in TEXT_SPECIALS:
            add(False, TEXT_SPECIALS[char])
        elif ord(char) < 128:
            add(False, char)
        elif char in TEXT_SYMBOLS:
            add(False, TEXT_SYMBOLS[char])
        elif char in SPECIAL_LETTERS:
            add(False, SPECIAL_LETTERS[char])
        elif (accented := _accented(char, math=False)) is not None:
            add(False, accented)
        else:
            raise UnsupportedCharacter(
                f"no LaTeX form for {char!r} (U+{ord(char):04X}) in {text!r}"
            )


def formula(tex: str) -> str:
    """A caption's formula (the LaTeX between its dollars) for BibTeX."""
    return "{$" + math_to_latex(tex.strip()) + "$}"
