"""Alt text of every figure from its caption, never a file path.

myst-nb and docutils leave a figure's image without alt text, and the HTML writer
then writes the image's path (``../_images/<hash>.svg``), which a screen reader
reads out. After the doctree is resolved, each image of a figure gets the short
form of the figure's caption (:func:`short_caption`: its first sentence, math as
readable text, e.g. ``L^{-1/2}`` as "L^(−1/2)"), unless the source gave one.
"""

from __future__ import annotations

import re
import unicodedata

from docutils import nodes
from sphinx.application import Sphinx

_SYMBOLS = {
    # Greek
    **{
        name: chr(code)
        for name, code in [
            ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4),
            ("epsilon", 0x3B5), ("varepsilon", 0x3B5), ("zeta", 0x3B6),
            ("eta", 0x3B7), ("theta", 0x3B8), ("vartheta", 0x3D1), ("iota", 0x3B9),
            ("kappa", 0x3BA), ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD),
            ("xi", 0x3BE), ("pi", 0x3C0), ("rho", 0x3C1), ("sigma", 0x3C3),
            ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3D5), ("varphi", 0x3C6),
            ("chi", 0x3C7), ("psi", 0x3C8), ("omega", 0x3C9), ("Gamma", 0x393),
            ("Delta", 0x394), ("Theta", 0x398), ("Lambda", 0x39B), ("Xi", 0x39E),
            ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Phi", 0x3A6), ("Psi", 0x3A8),
            ("Omega", 0x3A9),
        ]  # fmt: skip
    },
    # relations, operators, arrows, dots
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "approx": "≈", "sim": "~", "simeq": "≃", "propto": "∝", "equiv": "≡",
    "cdot": "·", "times": "×", "pm": "±", "mp": "∓", "infty": "∞",
    "sum": "Σ", "prod": "Π", "int": "∫", "partial": "∂", "nabla": "∇",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "mapsto": "↦",
    "in": "∈", "notin": "∉", "subset": "⊂", "cup": "∪", "cap": "∩",
    "mid": "|", "vert": "|", "lvert": "|", "rvert": "|", "|": "‖",
    "lVert": "‖", "rVert": "‖", "Vert": "‖", "langle": "⟨", "rangle": "⟩",
    "ldots": "…", "cdots": "⋯", "dots": "…", "top": "ᵀ", "dagger": "†",
    "prime": "′", "star": "*", "ast": "*", "circ": "∘", "log": "log", "exp": "exp",
    "sin": "sin", "cos": "cos", "min": "min", "max": "max", "sup": "sup",
    "inf": "inf", "lim": "lim", "det": "det", "tr": "tr", "arg": "arg",
    "{": "{", "}": "}", "%": "%", "$": "$", "&": "&", "#": "#", "_": "_",
}  # fmt: skip
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "dot": "\u0307"}
_DROP = re.compile(
    r"\\(left|right|big|Big|bigg|Bigg|displaystyle|textstyle|limits|nolimits)\b"
)
_SPACES = re.compile(r"\\[,;:! ]|\\q?quad\b|~")
_GROUP = r"\{((?:[^{}]|\{[^{}]*\})*)\}"  # one brace group, one level of nesting


def latex_to_text(tex: str) -> str:
    """LaTeX math as readable plain text: ``\\beta_L \\propto L^{2/5}`` →
    "β_L ∝ L^(2/5)"."""
    s = _DROP.sub("", tex)
    s = _SPACES.sub(" ", s)
    for _ in range(4):  # nested constructs, innermost first
        s = re.sub(
            r"\\frac" + _GROUP + _GROUP, lambda m: f"{_paren(m[1])}/{_paren(m[2])}", s
        )
        s = re.sub(r"\\sqrt" + _GROUP, lambda m: "√" + _paren(m[1]), s)
        s = re.sub(r"\\mathbb" + _GROUP, lambda m: _BLACKBOARD.get(m[1], m[1]), s)
        s = re.sub(
            r"\\(hat|tilde|bar|dot|widehat|widetilde|overline)" + _GROUP,
            lambda m: m[2] + _ACCENTS.get(m[1].removeprefix("wide"), "\u0304"),
            s,
        )
        s = re.sub(
            r"\\(hat|tilde|bar|dot)\s*([A-Za-z])",
            lambda m: m[2] + _ACCENTS[m[1]],
            s,
        )
        s = re.sub(
            r"\\(?:mathrm|mathbf|mathit|mathcal|mathsf|operatorname|text|textrm"
            r"|boldsymbol|mbox)" + _GROUP,
            r"\1",
            s,
        )
        s = re.sub(r"([_^])\{([^{}]*)\}", _script, s)
    s = re.sub(r"\\([A-Za-z]+|[{}%$&#_|])", lambda m: _SYMBOLS.get(m[1], m[1]), s)
    s = s.replace("{", "").replace("}", "").replace("-", "−")
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", s).strip())


def _paren(body: str) -> str:
    """``x`` stays ``x``; a longer expression gets parentheses."""
    return body if re.fullmatch(r"\\?\w+", body.strip()) else f"({body})"


def _script(match: re.Match) -> str:
    body = match[2]
    return match[1] + (body if len(body) <= 1 else f"({body})")


def caption_text(caption: nodes.Element) -> str:
    """The caption's text with its math as readable text."""
    parts = []
    for node in caption.findall(lambda n: isinstance(n, (nodes.Text, nodes.math))):
        if isinstance(node, nodes.math):
            parts.append(latex_to_text(node.astext()))
        elif not any(isinstance(p, nodes.math) for p in _ancestors(node)):
            parts.append(str(node))
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def short_caption(caption: nodes.Element, limit: int = 250) -> str:
    """The first sentence of the caption (math as text), at most ``limit`` chars."""
    text = caption_text(caption)
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    short = match.group(1) if match else text
    if len(short) > limit:
        short = short[: limit - 1].rsplit(" ", 1)[0] + "…"
    return short


_FILE_NAME = re.compile(r"(^|/)[^\s/]+\.(svg|png|jpe?g|gif|webp|pdf)$|_images/", re.I)


def needs_alt(image: nodes.image) -> bool:
    alt = (image.get("alt") or "").strip()
    return not alt or bool(_FILE_NAME.search(alt)) or alt == image.get("uri")


def _alt_from_captions(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for figure in doctree.findall(nodes.figure):
        captions = [c for c in figure.children if isinstance(c, nodes.caption)]
        if not captions or not captions[0].astext().strip():
            continue
        alt = short_caption(captions[0])
        for image in figure.findall(nodes.image):
            if needs_alt(image):
                image["alt"] = alt


def setup(app: Sphinx) -> None:
    app.connect("doctree-resolved", _alt_from_captions)
