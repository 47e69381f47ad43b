"""What the built HTML says: chapter titles, theorem and figure numbers, links.

Shared by the checks of this folder, which run after ``make pdf`` (``make test-pdf``)
on ``_build/html`` (or ``BOOK_HTML_DIR``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
CHAPTER_PAGES = sorted((HTML / "book").glob("[0-9][0-9]-*.html"))
THEOREM_KINDS = ("Theorem", "Lemma", "Proposition", "Corollary", "Definition")
NUMBERED = re.compile(rf"\b({'|'.join(THEOREM_KINDS)}|Figure) (\d+\.\d+)\b")


@dataclass(frozen=True)
class Numbered:
    """A numbered element of a page: ``Figure 3.2`` or ``Theorem 3.1`` and the
    start of its caption or title (the words before any formula)."""

    label: str
    number: str
    lead: str


def soup(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf8"), "html.parser")


def squash(text: str) -> str:
    return " ".join(text.split())


def _lead(node: Tag, skip: Tag | None = None, words: int = 8) -> str:
    """The text of ``node`` up to its first formula (``span.math``), at most
    ``words`` words, ``skip`` left out."""
    parts: list[str] = []
    for item in node.descendants:
        if isinstance(item, Tag) and "math" in (item.get("class") or []):
            break
        if isinstance(item, NavigableString) and not any(
            p is skip or (isinstance(p, Tag) and "headerlink" in (p.get("class") or []))
            for p in item.parents
        ):
            parts.append(str(item))
    return " ".join(squash("".join(parts)).split()[:words])


def chapter_title(page: Path) -> str:
    """``3. Attention infers the latent posterior`` (number and title)."""
    h1 = soup(page).select_one("section > h1")
    for link in h1.find_all("a", class_="headerlink"):
        link.decompose()
    return squash(h1.get_text(" "))


def numbered(page: Path) -> list[Numbered]:
    """Every figure and theorem-like element of ``page``, with its number."""
    out = []
    doc = soup(page)
    for fig in doc.select("figure[id]"):
        num = fig.select_one("figcaption .caption-number")
        text = fig.select_one("figcaption .caption-text")
        if num and text:
            out.append(Numbered(fig["id"], squash(num.get_text()), _lead(text)))
    for box in doc.select("div.proof[id]"):
        title = box.select_one(".admonition-title")
        num = title.select_one(".caption-number") if title else None
        if num:
            lead = _lead(title, skip=num).strip("() ")
            out.append(Numbered(box["id"], squash(num.get_text()), lead))
    return out
