"""The clause segmenter: articles, sections, annexes and numbered paragraphs, with their path.

A pure function of :class:`~migralex.ingest.base.ParsedText`: no I/O, deterministic.

What is a boundary:

* **Articles** — ``ARTICLE IV``, ``Article 4``, ``Art. 4``, ``Article premier``/``1er``,
  ``Artículo 3``, ``Artikel 3``, ``Article 4 bis``, at the start of a block. A block that only
  *cites* an article ("Article 2 of the Convention applies", "Article 2;") is not a boundary:
  what follows the number must be empty or a heading (capitalised), and a line of a PDF must
  not continue an unfinished sentence.
* **Divisions** — ``PART``/``TITLE``/``CHAPTER``/``SECTION``/``DIVISION`` and their French,
  Spanish and Dutch names; they form the ``path`` (Part → Chapter → Section) of the articles under
  them and are not clauses themselves unless they carry text of their own. ``Paragraphe 1er``
  (``Paragraph``, ``Párrafo``, ``Lid``) inside an article is one of its paragraphs, never a
  division.
* **Annexes** — ``ANNEX``, ``SCHEDULE``, ``APPENDIX``, ``PROTOCOL``, ``ADMINISTRATIVE
  ARRANGEMENT`` (and translations): a new top-level container; article numbers restart in it.
* **Sections of laws** — ``12 (1) ...``, ``7.1`` at the start of a block, numbered in sequence,
  used when a document has no articles (acts and regulations).
* **Preamble** — the text before the first boundary.
* **After the signatures** — once a block opens with a signature formula ("IN WITNESS WHEREOF",
  "Done at", "EN FOI DE QUOI", "Fait à", "Hecho en", "TEN BLIJKE WAARVAN"), a block that opens
  a letter, note or protocol ("Exchange of letters", "Protocole Final, relatif ...", "Nr. II",
  and salutations "Sir,", "Monsieur le Ministre,", "Excellency," labelled ``Letter``) starts a
  new container even where the PDF line before it does not end a sentence.

Articles longer than ``max_chars`` are split at their numbered paragraphs (``1``, ``1.``, ``(1)``,
``Paragraphe 1er.``, ``Paragraph 2``, ``Párrafo 2``, ``Lid 2``, numbered in sequence from 1), each piece keeping the article's label, heading and path, with the
paragraph number appended to the path.

Clause spans run from one boundary to the next with trailing white space trimmed; structural
headings that carry no text of their own (``PART I General Provisions``) lie between clauses and are
returned as :attr:`Segmentation.headings`. Together, clauses and headings cover every non-blank
character of the text exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from migralex.corpus.models import Clause, page_of, slugify
from migralex.ingest.base import Block, ParsedText

#: Default article length (characters) above which an article is split into its numbered
#: paragraphs: about 512 word pieces of legal English (the multilingual-e5-small window;
#: all-MiniLM-L6-v2 reads the first 256 of them, heading first).
MAX_CHARS = 2400

_NUM = r"(?:premier|1er|1st|first|único|unique|\d+(?:\.\d+)*(?:[A-Za-z](?![A-Za-z]))?|[IVXLC]+\b)"
_SUFFIX = r"(?:\s*[-‑]?\s*(?:bis|ter|quater|quinquies|sexies)\b)?"
_ARTICLE = re.compile(
    rf"^(?P<kw>(?i:article|artículo|articulo|artikel|art\.|art(?=\s*\d)))\s*(?P<num>{_NUM}){_SUFFIX}"
    r"(?P<rest>.*)$",
    re.DOTALL,
)
_DIVISIONS: dict[str, int] = {
    "part": 1, "partie": 1, "parte": 1, "deel": 1, "book": 1, "livre": 1,
    "title": 1, "titre": 1, "título": 1, "titulo": 1, "titel": 1,
    "chapter": 2, "chapitre": 2, "capítulo": 2, "capitulo": 2, "hoofdstuk": 2,
    "section": 3, "sección": 3, "seccion": 3, "afdeling": 3, "division": 3,
    "subdivision": 4, "sub-division": 4, "sub-part": 2,
}  # fmt: skip
# "Paragraphe 1er." / "Paragraph 2" / "Párrafo 3" / "Lid 4" number the paragraphs of an
# article: never a division (a division would take the article's text and sit above the
# articles after it in their path).
_PARA_WORD = re.compile(
    r"^(?i:paragraphe|paragraph|párrafo|parrafo|lid)\s+(?P<num>\d{1,3}|1er|premier)(?:\.|\s*$|\s+(?=[A-ZÀ-Þ]))"
)
_DIVISION = re.compile(
    rf"^(?P<kw>(?i:{'|'.join(sorted(map(re.escape, _DIVISIONS), key=len, reverse=True))}))"
    r"\s+(?P<num>\d+[A-Za-z]?|(?:[IVXLC]+|1)(?:er|re)|[IVXLC]+|[A-Z]|premier|première|preliminary|préliminaire|"
    r"one|two|three|four|five|six|seven|eight|nine|ten)\b(?P<rest>.*)$",
    re.DOTALL,
)
_ANNEX = re.compile(
    r"^(?P<kw>(?i:(?:final\s+|additional\s+|optional\s+)?(?:annex|annexe|anexo|appendix|appendice|"
    r"schedule|bijlage|protocol|protocole|protocolo|"
    r"administrative\s+(?:arrangement|agreement)|arrangement\s+administratif|"
    r"acuerdo\s+administrativo|accord\s+administratif|accord\s+compl[ée]mentaire|"
    r"supplementary\s+agreement)(?:\s+(?:final|additionnel|adicional))?)\b)"
    r"(?P<num>\s+(?:\d+|[IVXLC]+|[A-Z])\b)?(?P<rest>.*)$",
    re.DOTALL,
)
#: The signature formula that closes an instrument, at the start of a block and capitalised.
_SIGNATURE = re.compile(
    r"^(?:IN WITNESS WHEREOF|In witness whereof|EN FOI DE QUOI|En foi de quoi|EN FE DE LO CUAL|"
    r"En fe de lo cual|TEN BLIJKE WAARVAN|Ten blijke waarvan|(?:DONE|Done|FAIT|Fait)\s+(?:at|in|à|en)\b|"
    r"(?:HECHO|Hecho)\s+en\b|(?:GEDAAN|Gedaan)\s+te\b)"
)
#: What starts a letter, note or protocol printed after the signatures: (label, pattern).
_OPENERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("", re.compile(
        r"^(?P<kw>(?i:exchange\s+of\s+(?:letters|notes)|[ée]change\s+de\s+(?:lettres|notes)|"
        r"canje\s+de\s+(?:notas|cartas)|(?:brief|nota)wisseling|"
        r"(?:final\s+|additional\s+)?protocol[eo]?(?:\s+(?:final|additionnel|adicional))?|"
        r"(?:administrative|implementing)\s+(?:arrangement|agreement)|arrangement\s+administratif|"
        r"accord\s+administratif|acuerdo\s+administrativo|note\s+verbale|note|nota)\b)"
        r"(?P<rest>[^\n]{0,200})$"
    )),
    ("", re.compile(r"^(?P<kw>(?:Nr|No|N°)\.?\s*(?:[IVX]+|\d+))(?P<rest>)\s*$")),
    ("Letter", re.compile(
        r"^(?P<kw>(?:Sir|Madam|Monsieur|Madame|Excellency|Your Excellency|Excellence|"
        r"Votre Excellence|Señor|Señora|Excelentísimo|Excelencia|Mijnheer|Excellentie)\b)"
        r"(?P<rest>)"
    )),
)  # fmt: skip
_TITLE_WORDS = (
    r"(?:on|to|for|between|concerning|relating|regarding|of|sur|relatif|relative|relatifs|"
    r"concernant|entre|à|au|aux|de|du|relativo|relativa|sobre|para|del|betreffende|inzake|tot|van)$"
)
_ITEM = re.compile(r"^\((?:[a-z]|[ivx]+)\)")
_SECTION = re.compile(r"^(?P<num>\d{1,4}(?:\.\d{1,3})?)(?=\s|$|\()\s*(?P<rest>.*)$", re.DOTALL)
_PARA = re.compile(r"^(?:\((?P<a>\d{1,3})\)|(?P<b>\d{1,3})(?:\.(?!\d)|\)|(?=\s)))\s*\S")
_CONNECTORS = frozenset(
    "of with and the to under for on in by or their its a an from between at as "
    "de du des la le les et en à au aux pour sur par del y el los las con".split()
)
_SENTENCE_END = re.compile(r"[.;:!?»”\")\]]$")
_HEADING_SEPARATORS = " .:-–—\u00a0"


@dataclass(frozen=True, slots=True)
class Heading:
    """A structural heading that is not a clause (``PART I General Provisions``).

    Attributes:
        label: the division label as printed ("PART I"), or "" for an unnumbered heading.
        heading: its title text ("General Provisions").
        start: 0-based start offset in the document text.
        end: end offset (exclusive).
    """

    label: str
    heading: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Segmentation:
    """What :func:`segment` returns: the clauses and the headings between them."""

    clauses: tuple[Clause, ...]
    headings: tuple[Heading, ...]


@dataclass(slots=True)
class _Unit:
    kind: str  # "preamble" | "article" | "section" | "division" | "annex" | "group"
    label: str
    heading: str
    path: tuple[str, ...]
    start: int  # offset of the first block
    body_start: int  # offset after the label/heading blocks
    level: int = 0
    context: tuple[str, ...] = ()  # headings of the enclosing annex, divisions and group


@dataclass(slots=True)
class _State:
    """Where the segmenter stands: the open annex, division stack and numbering."""

    divisions: list[tuple[int, str, str]] = field(default_factory=list)  # (level, label, heading)
    group: str = ""  # unnumbered heading over the next articles
    container: str = ""  # annex label
    container_heading: str = ""
    before_container: int | None = None  # last article number before the annex
    last_article: int | None = None
    last_section: tuple[int, int] | None = None
    last_point: int = 0
    heading_level: int = 0  # hint level of article labels, once seen
    signed: bool = False  # a signature formula closed the current instrument

    def path(self) -> tuple[str, ...]:
        return (*((self.container,) if self.container else ()), *(d[1] for d in self.divisions))

    def context(self) -> tuple[str, ...]:
        heads = (self.container_heading, *(d[2] for d in self.divisions), self.group)
        return tuple(h for h in heads if h)

    def enter_container(self, label: str, heading: str) -> None:
        self.before_container = self.last_article
        self.container, self.container_heading = label, heading
        self.divisions, self.group, self.last_article = [], "", None

    def leave_container(self) -> None:
        # divisions seen since the annex began ("PART XII" after "SCHEDULE TO PART XI") belong
        # to the main text that resumes
        self.container = self.container_heading = ""
        self.last_article = self.before_container

    def before_article(self, number: int | None) -> None:
        """Make way for an article numbered ``number``: leave the container the main text
        resumes after, or drop the divisions of an instrument whose numbering restarts."""
        if (
            self.container
            and self.last_article is None
            and number is not None
            and self.before_container is not None
            and number == self.before_container + 1
        ):
            # The main text goes on after a schedule ("SCHEDULE TO PART XI", then
            # "PART XII ... Article 68"): leave the container.
            self.leave_container()
        elif number == 1 and (self.last_article or 0) > 1 and not self.container:
            # numbering restarts without an annex heading: a new instrument begins
            self.divisions, self.group = [], ""


@dataclass(frozen=True, slots=True)
class _Numbering:
    """Which numbered blocks are clauses in a text: law sections, or numbered points."""

    sections: bool  # "12 (1) ...", "7.1" of an act without articles
    points: bool  # "1.", "2." of a text with neither articles nor sections


def _norm_num(num: str) -> int | None:
    n = num.strip().lower()
    if n in {"premier", "1er", "1st", "first", "único", "unique", "one", "première"}:
        return 1
    if re.fullmatch(r"\d+", n):
        return int(n)
    if re.fullmatch(r"\d+(?:\.\d+)*[a-z]?", n):
        return int(re.match(r"\d+", n).group())  # type: ignore[union-attr]
    if re.fullmatch(r"[ivxlc]+", n):
        return roman_to_int(n)
    return None


def roman_to_int(s: str) -> int | None:
    """The value of a roman numeral of the letters I, V, X, L, C (any case): "iv" -> 4,
    "XLII" -> 42; None when ``s`` has another character or sums to 0."""
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total, prev = 0, 0
    for ch in reversed(s.lower()):
        v = values.get(ch)
        if v is None:
            return None
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total if total > 0 else None


def _heading_from_rest(rest: str) -> str | None:
    """Return the heading carried on a label line, "" if none, None if the line is a citation."""
    stripped = rest.strip()
    if not stripped:
        return ""
    if stripped[0] in ",;)(" and not stripped.startswith("("):
        return None
    body = stripped.lstrip(_HEADING_SEPARATORS).strip()
    if not body:
        return ""
    first = body[0]
    if first.islower() or first.isdigit() and not rest[:1].isspace():
        return None
    if first in ",;":
        return None
    return body


_VERBS = re.compile(
    r"\b(?:shall|may|must|will|is|are|has|have|doit|doivent|peut|peuvent|sont|est|sera|seront|"
    r"será|serán|debe|deben|puede|es|son|zal|zullen|wordt|worden|kan|kunnen|geldt|treedt)\b",
    re.IGNORECASE,
)


def _title_like(text: str, max_len: int = 90, max_words: int = 14) -> bool:
    t = text.strip()
    if not t or len(t) > max_len or len(t.split()) > max_words:
        return False
    if _VERBS.search(t) or re.search(r"[a-zà-ÿ]{2}[.;]\s+[A-ZÀ-Þ]", t):  # holds a sentence end
        return False
    if not (t[0].isupper() or t[0] in "«\"'“‘["):
        return False
    if _PARA.match(t) or re.match(r"^\(?[a-z]\)\s", t):
        return False
    return not re.search(r"[.;,:]$", t)


def _opener_heading(rest: str) -> str | None:
    """The title after an opener word ("Protocole Final, relatif ..."), None when the words
    make a sentence or a citation instead."""
    if rest and (rest[:1].isalnum() or rest[:1] in ".;"):
        return None  # "Notes on ...", "... have signed this / Administrative Agreement."
    heading = rest.strip().lstrip(" ,.:-–—").strip()
    first = heading.split()[0] if heading else ""
    if first[:1].islower() and not re.match(_TITLE_WORDS, first):
        return None  # "Note that the text ..." is a sentence
    if re.search(r"\b(?:shall|is|are|may|doit|sont|est)\b", heading):
        return None
    return heading


def _capitalised(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-zÀ-ÿ][\w'’-]*", text) if w.lower() not in _CONNECTORS]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= 0.75


class _Segmenter:
    def __init__(self, parsed: ParsedText, kind: str) -> None:
        self.p = parsed
        self.blocks = parsed.blocks
        self.texts = [parsed.block_text(b) for b in parsed.blocks]
        self.kind = kind
        hinted = [b.level for b in parsed.blocks if b.level]
        self.has_hints = bool(hinted)

    # -- classification ------------------------------------------------------------------
    def _continues_sentence(self, i: int) -> bool:
        """True when block i-1 is an unfinished body line (a PDF line wrap) and i continues it."""
        if i == 0 or self.blocks[i].level:
            return False
        prev = self.texts[i - 1]
        if self.blocks[i - 1].level:
            return False
        if self.has_hints:
            return False  # paragraphs are whole blocks in hinted formats
        if " | " in prev or prev.endswith("|"):
            return False  # a table row ends where it ends
        return not _SENTENCE_END.search(prev) and not _title_like(prev)

    def article_at(self, i: int) -> tuple[str, str, int | None] | None:
        """(label, heading-on-line, number) if block i starts an article."""
        text = self.texts[i]
        m = _ARTICLE.match(text)
        if not m:
            return None
        heading = _heading_from_rest(m.group("rest"))
        if heading is None:
            return None
        if self._continues_sentence(i) and heading == "":
            return None
        if self._continues_sentence(i) and not _capitalised(heading[:60]):
            return None
        return text[: m.start("rest")].strip(), heading, _norm_num(m.group("num"))

    def division_at(self, i: int) -> tuple[str, str, int] | None:
        text = self.texts[i]
        m = _DIVISION.match(text)
        if not m:
            return None
        heading = _heading_from_rest(m.group("rest"))
        if heading is None or self._continues_sentence(i):
            return None
        if len(text) > 160:
            return None
        if heading and not self.blocks[i].level and not _title_like(heading, 120, 20):
            return None  # a numbered paragraph or sentence, not a division title
        level = _DIVISIONS[m.group("kw").lower()]
        return text[: m.start("rest")].strip(), heading, level

    def annex_at(self, i: int) -> tuple[str, str] | None:
        text = self.texts[i]
        m = _ANNEX.match(text)
        if not m:
            return None
        rest = m.group("rest")
        too_long = len(text) > (400 if self.blocks[i].level else 220)
        if too_long or re.search(r"[;,]$", text) or self._continues_sentence(i):
            return None
        heading = _heading_from_rest(rest)
        if heading is None:
            # "Administrative Arrangement for the application of ..." is a title, not a citation.
            if not re.match(
                r"^\s+(?:for|to|on|concerning|relating|pour|relatif|relative|relativo|para|concernant|"
                r"entre|between|à|pursuant)\b",
                rest,
            ):
                return None
            heading = rest.strip()
        if heading and not (self.blocks[i].level or heading[:1].isupper() or rest[:1] == " "):
            return None
        if not self.blocks[i].level and re.search(r"\b(?:shall|is|are|may|doit|sont|est)\b", text):
            return None
        label = (m.group("kw") + (m.group("num") or "")).strip()
        return label, heading

    def opener_at(self, i: int) -> tuple[str, str] | None:
        """(label, heading) if block i, after a signature, starts a letter, note or protocol
        ("Exchange of letters", "Protocole Final, relatif ...", "Nr. II", "Sir,", "Monsieur le
        Ministre,"). A salutation is labelled "Letter"; the others by their own words."""
        text = self.texts[i]
        if not text[:1].isupper():
            return None
        for label, pattern in _OPENERS:
            m = pattern.match(text)
            if not m:
                continue
            if label:
                return label, ""
            heading = _opener_heading(m.group("rest"))
            return None if heading is None else (m.group("kw").strip(), heading)
        return None

    def section_at(self, i: int, expected: tuple[int, int] | None) -> tuple[str, str] | None:
        """Law sections ("12 (1) ...", "7.1"), accepted only in numbering sequence."""
        text = self.texts[i]
        m = _SECTION.match(text)
        if not m or self.blocks[i].level:
            return None
        num = m.group("num")
        rest = m.group("rest")
        if rest and not (rest[0].isupper() or rest[0] in '([“"«'):
            return None
        if self._continues_sentence(i):
            return None
        major, _, minor = num.partition(".")
        key = (int(major), int(minor) if minor else 0)
        if expected is not None:
            last_major, last_minor = expected
            # In sequence, tolerating a few missing numbers (repealed or lost in conversion).
            if not (expected < key and key[0] <= last_major + 3 and key[1] <= 20):
                return None
        elif key != (1, 0):
            return None
        return num, rest

    # -- headings on the following lines -------------------------------------------------
    def heading_after(self, i: int, own_level: int, inline: str) -> tuple[str, int]:
        """Return (full heading, index of the first body block) for a label at block i."""
        j = i + 1
        heading = inline
        n = len(self.blocks)
        if heading:
            # A heading wrapped onto the next line (PDF): continue while it reads as a title.
            while (
                j < n
                and not self.blocks[j].level
                and not self.has_hints
                and self._is_heading_continuation(heading, j)
            ):
                heading = f"{heading} {self.texts[j]}"
                j += 1
            return heading, j
        if j < n and self.blocks[j].level and (own_level == 0 or self.blocks[j].level >= own_level):
            # A deeper heading right under an article label is its heading even when it reads
            # like an annex ("Article 37" / "Administrative arrangement").
            deeper = own_level and self.blocks[j].level > own_level
            if not self._is_structural(j) or (deeper and not self.article_at(j)):
                return self.texts[j], j + 1
        if j < n and not self.blocks[j].level and self._annex_word_heading(j):
            return self.texts[j], j + 1
        if (
            j < n
            and not self.blocks[j].level
            and (not self.has_hints or own_level == 0)
            and self._is_structural(j) is False
        ):
            t = self.texts[j]
            nxt = self.texts[j + 1] if j + 1 < n else ""
            # a heading is followed by body text, not by the items "(a)", "(i)" of a sentence
            if _title_like(t) and (not nxt or not nxt[0].islower()) and not _ITEM.match(nxt):
                heading = t
                j += 1
                while j < n and self._is_heading_continuation(heading, j):
                    heading = f"{heading} {self.texts[j]}"
                    j += 1
                return heading, j
        return "", j

    def _annex_word_heading(self, j: int) -> bool:
        """Line ``j``, right under an article label, is the article's heading although it reads
        like an annex ("Article 37" / "Administrative arrangement" / "The competent
        authorities shall ..."): a bare annex word without number or title, followed by body
        text rather than by a label. An annex does not start before its article has a body."""
        m = _ANNEX.match(self.texts[j])
        if not m or m.group("num") or m.group("rest").strip() or self.annex_at(j) is None:
            return False
        if j + 1 >= len(self.blocks) or self.blocks[j + 1].level or self._is_structural(j + 1):
            return False
        return not _title_like(self.texts[j + 1])

    def _is_heading_continuation(self, heading: str, j: int) -> bool:
        t = self.texts[j]
        if self._is_structural(j) or not _title_like(t, max_len=70, max_words=10):
            return False
        last_word = heading.split()[-1].lower() if heading.split() else ""
        if last_word in _CONNECTORS or heading.endswith((",", "-", "–")):
            return True
        nxt = self.texts[j + 1] if j + 1 < len(self.texts) else ""
        return _capitalised(t) and _capitalised(heading) and (not nxt or bool(_PARA.match(nxt)))

    def _is_structural(self, j: int) -> bool:
        return bool(self.article_at(j) or self.division_at(j) or self.annex_at(j))

    # -- the pass ------------------------------------------------------------------------
    def units(self) -> list[_Unit]:
        """The units of the text in document order, starting with the preamble."""
        n = len(self.blocks)
        mode = self._numbering()
        st = _State()
        units: list[_Unit] = [_Unit("preamble", "Preamble", "", ("Preamble",), 0, 0)] if n else []
        i = 0
        while i < n:
            nxt = self._opener_unit(i, st, units)
            if nxt is None:
                if st.last_article is not None and _SIGNATURE.match(self.texts[i]):
                    st.signed = True
                nxt = self._body_unit(i, st, units, mode)
            i = nxt
        return units

    def _numbering(self) -> _Numbering:
        """Which numbered blocks are the clauses when the text has no articles."""
        n = len(self.blocks)
        has_articles = any(self.article_at(i) for i in range(n))
        use_sections = self.kind in {"law", "regulation"} and not has_articles
        # Exchanges of notes and recommendations number their points "1.", "2.": when a text
        # has neither articles nor sections, its numbered points are the clauses.
        use_points = not has_articles and not (
            use_sections and any(self.section_at(i, None) for i in range(n))
        )
        if use_points:
            use_sections = False
        return _Numbering(sections=use_sections, points=use_points)

    def _unit(
        self, st: _State, kind: str, label: str, heading: str, i: int, j: int, level: int = 0
    ) -> _Unit:
        """The unit of ``kind`` labelled at block i whose body starts at block j, placed by ``st``."""
        own = (label,) if kind in {"article", "section"} else ()
        path = (label,) if kind == "annex" else (*st.path(), *own)
        context = st.context() if kind in {"article", "section"} else ()
        body_start = self.blocks[j].start if j < len(self.blocks) else len(self.p.text)
        return _Unit(kind, label, heading, path, self.blocks[i].start, body_start, level, context)

    def _opener_unit(self, i: int, st: _State, units: list[_Unit]) -> int | None:
        """Add the letter, note or protocol that block i opens after a signature; return the
        index of the next block to read, or None when block i opens none."""
        opener = self.opener_at(i) if st.signed else None
        if opener is None:
            return None
        # A letter, note or protocol after the signatures is its own container, even
        # where a PDF line without a full stop ("(s.) C. VREEDE") precedes it.
        label, inline = opener
        if label == "Letter":
            heading, j = "", i  # the salutation is the letter's first line
        else:
            heading, j = self.heading_after(i, self.blocks[i].level, inline)
        st.enter_container(label, heading)
        # one letter of an exchange follows another without a new signature
        st.signed = label == "Letter" or bool(re.match(r"N", label))
        units.append(self._unit(st, "annex", label, heading, i, j))
        return max(j, i + 1)

    def _body_unit(self, i: int, st: _State, units: list[_Unit], mode: _Numbering) -> int:
        """Add the unit block i starts, if any; return the index of the next block to read."""
        steps = (
            self._article_unit,
            self._annex_unit,
            self._division_unit,
            self._point_unit,
            self._section_unit,
        )
        for step in steps:
            nxt = step(i, st, units, mode)
            if nxt is not None:
                return nxt
        self._add_group(i, st, units, mode)
        return i + 1

    def _article_unit(self, i: int, st: _State, units: list[_Unit], mode: _Numbering) -> int | None:
        """Add the article labelled at block i; return the index of its first body block, or
        None when block i starts no article (or one out of sequence)."""
        art = self.article_at(i) if not mode.sections else None
        if art is None or self._out_of_sequence(i, art[2], st):
            return None
        label, inline, number = art
        st.before_article(number)
        b = self.blocks[i]
        st.heading_level = st.heading_level or b.level
        heading, j = self.heading_after(i, b.level, inline)
        units.append(self._unit(st, "article", label, heading, i, j))
        st.last_article = number if number is not None else st.last_article
        return j

    def _out_of_sequence(self, i: int, number: int | None, st: _State) -> bool:
        """True when the unhinted article label at block i jumps back, or far ahead on a line
        that reads as a citation: a reference, not a new article."""
        if self.blocks[i].level or number is None or st.last_article is None:
            return False
        backwards = number < st.last_article and number != 1
        # A far jump (lapsed Parts) is fine on a clean label line, not on "Article 67."
        far = number > st.last_article + 12 and bool(re.search(r"[.;,]$", self.texts[i]))
        return backwards or far

    def _annex_unit(self, i: int, st: _State, units: list[_Unit], mode: _Numbering) -> int | None:
        """Add the annex labelled at block i once a body text has begun; return the index of
        its first body block, or None."""
        annex = self.annex_at(i)
        if annex is None or not (
            st.last_article is not None or mode.sections or st.last_section or st.container
        ):
            return None
        label, inline = annex
        heading, j = self.heading_after(i, self.blocks[i].level, inline)
        st.enter_container(label, heading)
        units.append(self._unit(st, "annex", label, heading, i, j))
        return j

    def _division_unit(
        self, i: int, st: _State, units: list[_Unit], mode: _Numbering
    ) -> int | None:
        """Add the division (Part, Chapter, ...) labelled at block i; return the index of its
        first body block, or None."""
        div = self.division_at(i)
        if div is None:
            return None
        label, inline, level = div
        heading, j = self.heading_after(i, self.blocks[i].level, inline)
        st.divisions = [d for d in st.divisions if d[0] < level] + [(level, label, heading)]
        st.group = ""
        units.append(self._unit(st, "division", label, heading, i, j, level))
        return j

    def _point_unit(self, i: int, st: _State, units: list[_Unit], mode: _Numbering) -> int | None:
        """Add the numbered point ("1.", "(2)") that block i starts, in sequence; return i + 1,
        or None."""
        if not mode.points or self.blocks[i].level:
            return None
        m = _PARA.match(self.texts[i])
        if m is None:
            return None
        point = int(m.group("a") or m.group("b"))
        in_sequence = point == st.last_point + 1 or (point == 1 and st.last_point >= 3)
        # One point missing ("2." first, "9." after "7."), as in a draft whose point was
        # deleted: a point still when the next numbered block continues from it.
        skipped = point == st.last_point + 2 and self._next_point(i) == point + 1
        if not (in_sequence or skipped):
            return None
        st.last_point = point
        units.append(self._unit(st, "article", f"Paragraph {point}", "", i, i))
        return i + 1

    def _next_point(self, i: int) -> int | None:
        """The number of the first numbered point ("1.", "(2)") after block i, or None."""
        for k in range(i + 1, len(self.blocks)):
            m = None if self.blocks[k].level else _PARA.match(self.texts[k])
            if m is not None:
                return int(m.group("a") or m.group("b"))
        return None

    def _section_unit(self, i: int, st: _State, units: list[_Unit], mode: _Numbering) -> int | None:
        """Add the law section that block i starts, in sequence; return i + 1, or None."""
        if not mode.sections:
            return None
        sec = self.section_at(i, st.last_section)
        if sec is None:
            return None
        num, rest = sec
        major, _, minor = num.partition(".")
        st.last_section = (int(major), int(minor) if minor else 0)
        heading, _j = self._section_heading(i, rest)
        units.append(self._unit(st, "section", f"Section {num}", heading, i, i + 1))
        return i + 1

    def _add_group(self, i: int, st: _State, units: list[_Unit], mode: _Numbering) -> None:
        """Add block i as an unnumbered heading over the next articles ("Dispositions
        générales") when it reads as one."""
        b = self.blocks[i]
        if (
            b.level
            and i > 0
            and (not st.heading_level or b.level < st.heading_level + 2)
            and self._next_is_unit(i, mode.sections)
        ) or (not b.level and self._is_group_heading(i, mode.sections)):
            st.group = self.texts[i]
            units.append(self._unit(st, "group", "", self.texts[i], i, i + 1))

    def _is_group_heading(self, i: int, use_sections: bool) -> bool:
        """An unmarked title line right before an article or section label ("Pension Payable",
        "Dispositions générales") in a format without heading hints."""
        if self.has_hints or i == 0 or i + 1 >= len(self.blocks):
            return False
        text = self.texts[i]
        if not _title_like(text, max_len=80, max_words=10) or self._is_structural(i):
            return False
        if self._continues_sentence(i):
            return False
        if use_sections:
            # Acts print group headings in Title Case; marginal notes are in sentence case.
            return _capitalised(text) and bool(_SECTION.match(self.texts[i + 1]))
        return self.article_at(i + 1) is not None

    def _next_is_unit(self, i: int, use_sections: bool) -> bool:
        """True when an article (or, in an act, a section) label follows block i, past at
        most one more heading."""
        for j in range(i + 1, min(i + 3, len(self.blocks))):
            if self.article_at(j) or (use_sections and _SECTION.match(self.texts[j])):
                return True
            if not self.blocks[j].level:
                return False
        return False

    def _section_heading(self, i: int, rest: str) -> tuple[str, int]:
        """Marginal note of a law section: a hinted or title-like line just after its label."""
        for j in range(i + 1, min(i + 3, len(self.blocks))):
            t = self.texts[j]
            if self._is_structural(j):
                break
            if self.blocks[j].level >= 4 or (
                not self.has_hints
                and _title_like(t, max_len=80, max_words=12)
                and not _SECTION.match(t)
            ):
                return t, j + 1
            if not rest and j == i + 1:
                continue
            break
        return "", i + 1


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _split_paragraphs(
    text: str, start: int, end: int, blocks: Sequence[Block]
) -> list[tuple[str, int]]:
    """Return [(paragraph number, start offset)] of sequentially numbered paragraphs in a span."""
    found: list[tuple[str, int]] = []
    expected = 1
    for b in blocks:
        if b.start < start or b.start >= end:
            continue
        block = text[b.start : b.end]
        m = _PARA.match(block)
        w = None if m else _PARA_WORD.match(block)
        if not m and not w:
            continue
        num = int(m.group("a") or m.group("b")) if m else _norm_num(w.group("num")) or 0  # type: ignore[union-attr]
        if num == expected:
            found.append((str(num), b.start))
            expected += 1
    return found if len(found) >= 2 else []


def _structural_parts(
    text: str, u: _Unit, end: int
) -> tuple[list[Heading], tuple[int, int, tuple[str, ...]] | None]:
    """The headings of a division, group or annex unit ending at offset ``end``, and the span
    ``(start, end, path)`` of its clause: only when text of its own follows the heading."""
    head_end = _trim_end(text, u.start, min(u.body_start, end))
    body_start = u.body_start
    while body_start < end and text[body_start].isspace():
        body_start += 1
    body_end = _trim_end(text, body_start, end)
    has_body = body_start < body_end
    if u.kind == "annex" and has_body:
        return [], (u.start, end, u.path)  # an annex's text is cited as the annex
    headings = [Heading(u.label, u.heading, u.start, head_end)] if head_end > u.start else []
    body = text[body_start:body_end]
    if has_body and "\n" not in body and _title_like(body, max_len=120, max_words=16):
        # only a sub-heading below the division heading: structure, not a clause
        headings.append(Heading("", body, body_start, body_start + len(body)))
        return headings, None
    if not has_body:
        return headings, None
    own = "text" if u.kind == "division" else slugify(u.heading)[:40]
    return headings, (body_start, end, (*u.path, own))


def _clause_spans(
    text: str, u: _Unit, end: int, blocks: Sequence[Block], max_chars: int
) -> list[tuple[int, int, tuple[str, ...]]]:
    """The spans ``(start, end, path)`` of an article, section or preamble unit ending at
    offset ``end``: the whole unit, or its numbered paragraphs when it is over ``max_chars``."""
    span_end = _trim_end(text, u.start, end)
    paras = (
        _split_paragraphs(text, u.body_start, span_end, blocks)
        if u.kind != "preamble" and span_end - u.start > max_chars
        else []
    )
    if not paras:
        return [(u.start, span_end, u.path)]
    bounds = [u.start] + [s for _, s in paras[1:]] + [span_end]
    return [
        (s, e, (*u.path, num)) for (num, _), s, e in zip(paras, bounds, bounds[1:], strict=False)
    ]


def segment(
    parsed: ParsedText,
    doc_id: str,
    language: str,
    kind: str = "other",
    max_chars: int = MAX_CHARS,
) -> Segmentation:
    """Split a document text into clauses.

    Args:
        parsed: the reader's output.
        doc_id: the document id the clause ids are built from.
        language: ISO 639-1 code set on every clause.
        kind: the document kind; ``law`` and ``regulation`` without articles are split into
            numbered sections.
        max_chars: articles longer than this (characters) are split into numbered paragraphs.

    Returns:
        Clauses in document order (``ordinal`` 0..n-1, unique ``clause_id``) and the structural
        headings between them.
    """
    seg = _Segmenter(parsed, kind)
    units = seg.units()
    text = parsed.text
    clauses: list[Clause] = []
    headings: list[Heading] = []
    used: dict[str, int] = {}

    def emit(u: _Unit, start: int, end: int, path: tuple[str, ...]) -> None:
        end = _trim_end(text, start, end)
        if end <= start:
            return
        slug = "/".join(slugify(p) for p in path)
        n = used.get(slug, 0) + 1
        used[slug] = n
        cid = f"{doc_id}:{slug}" + (f"~{n}" if n > 1 else "")
        clauses.append(
            Clause(
                clause_id=cid,
                doc_id=doc_id,
                ordinal=len(clauses),
                label=u.label or u.heading,
                heading=u.heading,
                path=path,
                text=text[start:end],
                start=start,
                end=end,
                page_start=page_of(parsed.page_starts, start),
                page_end=page_of(parsed.page_starts, end - 1),
                language=language,
                context=u.context,
            )
        )

    for k, u in enumerate(units):
        end = units[k + 1].start if k + 1 < len(units) else len(text)
        if u.kind in {"division", "group", "annex"}:
            found, span = _structural_parts(text, u, end)
            headings.extend(found)
            spans = [span] if span is not None else []
        else:
            spans = _clause_spans(text, u, end, parsed.blocks, max_chars)
        for start, stop, path in spans:
            emit(u, start, stop, path)
    return Segmentation(tuple(clauses), tuple(headings))
