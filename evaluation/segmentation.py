"""Segmentation benchmark: are the clauses the articles a lawyer cites, with the right label,
heading, path and page?

Usage::

    python -m migralex.evaluation.segmentation [--corpus ../shared/corpus] [--gold FILE] [--json]

The gold set (``evaluation/data/segmentation_gold.json``) lists, for each document, its articles
(or sections of an act, annexes, numbered points) in order with ``label`` (as printed),
``heading``, ``path`` (the labels of the enclosing annex, parts, chapters and sections, then the
article's own label), ``page`` (1-based page of its first character; 1 for unpaged formats) and
``hash``. It stores no text of the documents.

Definitions (all comparisons are per document):

* **norm(s)** — NFKC, case-folded, only letters and digits kept (white space, punctuation and
  hyphens dropped): "ARTICLE 4 bis." → ``article4bis``.
* **label key** — the label with ``art.`` read as ``article``, white space collapsed, trailing
  dot dropped, case-folded and a roman article number read as arabic (``ARTICLE IV`` and
  ``Article 4`` share a key); the **path key** is the label key of every path element.
* **hash** — ``sha256(norm(body)[:60])``, first 12 hex digits, where *body* is the article text
  after its label and heading: ``norm`` of the text from the article's first character, with the
  normalised label (or only its number, "12" for "Section 12") removed from the front and then
  the normalised gold heading removed from the front (either order is tried, since acts print
  the marginal note before or after the number).
* **predicted articles** — the segmenter's clauses grouped into articles: a clause whose
  ``label`` is one of its ``path`` elements belongs to the article whose path ends at that
  element; consecutive clauses of the same article (numbered paragraphs of a long article) form
  one predicted article, which *starts* at its first clause. The preamble and texts of divisions
  (clauses whose label is not in their path) are not articles.
* **located** — a gold article is located by the first unused predicted article whose hash
  (computed from its first clause text with the predicted label and the gold heading) equals the
  gold hash: the segmenter put a boundary at the right place.
* **matched** (boundary) — located *and* the label keys and the path keys are equal.
  ``recall = matched / gold``, ``precision = matched / predicted articles``, F1 their harmonic
  mean.
* **label / heading / page accuracy** — over located articles: the exact printed label (white
  space collapsed), the exact heading (white space collapsed) and the first page are equal.
* **clauses per article** — clauses of matched articles / matched articles (1.0 when no article
  is split into paragraphs).

Exit status: 0, or 2 when the gold file or the corpus is missing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migralex.corpus.models import Clause
from migralex.ingest.segment import roman_to_int

GOLD_PATH = Path(__file__).resolve().parent / "data" / "segmentation_gold.json"
DEFAULT_CORPUS = Path("../shared/corpus")
HASH_CHARS = 60

_ROMAN = re.compile(r"^(?P<kw>\D*?)(?P<num>[ivxlc]+)(?P<rest>\b.*)$")


def norm(text: str) -> str:
    """NFKC, case-fold and keep only letters and digits."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def label_key(label: str) -> str:
    """The key under which two printings of a label are the same ("ARTICLE IV" ~ "Article 4")."""
    s = " ".join(label.split()).casefold().rstrip(".")
    s = re.sub(r"^art\.?\s*(?=\d)", "article ", s)
    s = re.sub(r"^art\.\s*", "article ", s)
    m = re.match(r"^(article|artículo|articulo|artikel|part|partie|title|titre|chapter|chapitre)"
                 r"\s+([ivxlc]+)\b(.*)$", s)  # fmt: skip
    if m:
        s = f"{m.group(1)} {roman_to_int(m.group(2))}{m.group(3)}"
    s = s.replace("1er", "1").replace("premier", "1")
    return norm(s)


def _strip(s: str, prefix: str) -> str | None:
    return s[len(prefix) :] if prefix and s.startswith(prefix) else None


def body_hash(text: str, label: str, heading: str) -> str:
    """The gold hash of an article whose text (from its first character) is ``text``.

    See the module docstring: label (or its number) and heading are removed from the front of
    the normalised text, in either order, and the next :data:`HASH_CHARS` characters hashed.
    """
    t = norm(text)
    labels = [norm(label)]
    number = re.search(r"[\dIVXLC][\w.]*$", label.strip())
    if number:
        labels.append(norm(number.group()))
    head = norm(heading)

    def after_label(s: str) -> str | None:
        for lab in labels:
            rest = _strip(s, lab)
            if rest is not None:
                return rest
        return None

    body = None
    rest = after_label(t)
    if rest is not None:
        body = _strip(rest, head) if head else rest
        if body is None:
            body = rest
    elif head:
        rest = _strip(t, head)
        if rest is not None:
            body = after_label(rest) or rest
    if body is None:
        body = t
    return hashlib.sha256(body[:HASH_CHARS].encode()).hexdigest()[:12]


def _ws(s: str) -> str:
    return " ".join(s.split())


@dataclass(frozen=True, slots=True)
class PredictedArticle:
    """Consecutive clauses of one article: its label, heading, path (ending at the label),
    first page, text of its first clause and number of clauses."""

    label: str
    heading: str
    path: tuple[str, ...]
    page: int
    text: str
    clauses: int


def predicted_articles(clauses: Sequence[Clause]) -> list[PredictedArticle]:
    """Group the segmenter's clauses into articles (see the module docstring)."""
    out: list[PredictedArticle] = []
    last_key: tuple[str, ...] | None = None
    for c in clauses:
        if c.label == "Preamble" or c.label not in c.path:
            last_key = None
            continue
        idx = len(c.path) - 1 - c.path[::-1].index(c.label)
        key = tuple(c.path[: idx + 1])
        if key == last_key and out:
            prev = out[-1]
            out[-1] = PredictedArticle(
                prev.label, prev.heading, prev.path, prev.page, prev.text, prev.clauses + 1
            )
            continue
        out.append(PredictedArticle(c.label, c.heading, key, c.page_start, c.text, 1))
        last_key = key
    return out


@dataclass(slots=True)
class Score:
    """Counts of one document (or a group of them)."""

    gold: int = 0
    predicted: int = 0
    matched: int = 0
    located: int = 0
    label_ok: int = 0
    heading_ok: int = 0
    page_ok: int = 0
    clauses: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        """Add another score's counts into this one."""
        for name in ("gold", "predicted", "matched", "located", "label_ok", "heading_ok",
                     "page_ok", "clauses"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def metrics(self) -> dict[str, float]:
        """Recall, precision, F1, accuracies in [0, 1]; clauses per matched article."""
        r = self.matched / self.gold if self.gold else 1.0
        p = self.matched / self.predicted if self.predicted else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        loc = self.located or 1
        return {
            "recall": r,
            "precision": p,
            "f1": f1,
            "label_accuracy": self.label_ok / loc if self.located else 0.0,
            "heading_accuracy": self.heading_ok / loc if self.located else 0.0,
            "page_accuracy": self.page_ok / loc if self.located else 0.0,
            "clauses_per_article": self.clauses / self.matched if self.matched else 0.0,
        }

    def to_json(self) -> dict[str, Any]:
        """Counts, metrics (rounded to 4 places) and the error list."""
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "gold",
                "predicted",
                "matched",
                "located",
                "label_ok",
                "heading_ok",
                "page_ok",
                "clauses",
            )  # fmt: skip
        }
        out.update({k: round(v, 4) for k, v in self.metrics().items()})
        out["errors"] = list(self.errors)
        return out


def score_document(gold: Sequence[dict[str, Any]], pred: Sequence[PredictedArticle]) -> Score:
    """Compare one document's gold articles with its predicted articles."""
    s = Score(gold=len(gold), predicted=len(pred))
    used: set[int] = set()
    for g in gold:
        loc = _locate(g, pred, used)
        if loc is None:
            s.errors.append(f"missed {'/'.join(g['path'])} (p. {g['page']})")
            continue
        used.add(loc)
        _score_located(s, g, pred[loc])
    for k, a in enumerate(pred):
        if k not in used:
            s.errors.append(f"extra {'/'.join(a.path)} (p. {a.page})")
    return s


def _locate(g: dict[str, Any], pred: Sequence[PredictedArticle], used: set[int]) -> int | None:
    """Index of the first predicted article not yet used whose body hashes to gold article
    ``g``'s, or None."""
    for k, a in enumerate(pred):
        if k not in used and body_hash(a.text, a.label, g["heading"]) == g["hash"]:
            return k
    return None


def _score_located(s: Score, g: dict[str, Any], a: PredictedArticle) -> None:
    """Count gold article ``g``, found as ``a``, into ``s``: path, label, heading and page,
    each a match or an error line."""
    gpath = tuple(g["path"])
    s.located += 1
    same_label = label_key(a.label) == label_key(g["label"])
    same_path = [label_key(x) for x in a.path] == [label_key(x) for x in gpath]
    if same_label and same_path:
        s.matched += 1
        s.clauses += a.clauses
    else:
        s.errors.append(f"path {'/'.join(a.path)} != {'/'.join(gpath)}")
    if _ws(a.label) == _ws(g["label"]):
        s.label_ok += 1
    else:
        s.errors.append(f"label {a.label!r} != {g['label']!r}")
    if _ws(a.heading) == _ws(g["heading"]):
        s.heading_ok += 1
    else:
        s.errors.append(f"heading of {g['label']}: {a.heading!r} != {g['heading']!r}")
    if a.page == g["page"]:
        s.page_ok += 1
    else:
        s.errors.append(f"page of {g['label']}: {a.page} != {g['page']}")


def load_gold(path: Path = GOLD_PATH) -> dict[str, Any]:
    """Read the gold file.

    Raises:
        FileNotFoundError: the gold file is missing.
    """
    with path.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _manifest(corpus: Path) -> dict[str, dict[str, str]]:
    path = corpus / "manifest.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f)}


def evaluate(corpus: Path, gold: dict[str, Any]) -> dict[str, Any]:
    """Segment every gold document of ``corpus`` and score it.

    Returns:
        ``{"documents": [{"doc_id", "path", "format", "family", **Score.to_json()}],
        "overall": {...}, "by_format": {fmt: {...}}, "by_family": {family: {...}}}``; a document
        whose file is missing is reported with ``"error"`` and left out of the totals.
    """
    from migralex.ingest.base import read_file
    from migralex.ingest.segment import segment

    manifest = _manifest(corpus)
    docs: list[dict[str, Any]] = []
    overall = Score()
    by_format: dict[str, Score] = {}
    by_family: dict[str, Score] = {}
    for entry in gold["documents"]:
        rel = entry["path"]
        row = manifest.get(rel, {})
        info = {"doc_id": entry["doc_id"], "path": rel, "format": entry["format"],
                "family": entry["family"]}  # fmt: skip
        file = corpus / rel
        if not file.is_file():
            docs.append({**info, "error": "file not found"})
            continue
        parsed = read_file(file)
        seg = segment(
            parsed,
            entry["doc_id"],
            row.get("language") or entry.get("language", "en"),
            row.get("kind") or entry.get("kind", "other"),
        )
        score = score_document(entry["articles"], predicted_articles(seg.clauses))
        docs.append({**info, **score.to_json()})
        overall.add(score)
        by_format.setdefault(entry["format"], Score()).add(score)
        by_family.setdefault(entry["family"], Score()).add(score)
    return {
        "corpus": str(corpus),
        "documents": docs,
        "overall": overall.to_json(),
        "by_format": {k: v.to_json() for k, v in sorted(by_format.items())},
        "by_family": {k: v.to_json() for k, v in sorted(by_family.items())},
    }


_COLUMNS = ("gold", "f1", "recall", "precision", "label_accuracy", "heading_accuracy",
            "page_accuracy", "clauses_per_article")  # fmt: skip
_HEADS = ("gold", "F1", "recall", "prec", "label", "heading", "page", "cl/art")


def _row(name: str, m: dict[str, Any]) -> str:
    cells = [f"{m['gold']:>5}"] + [f"{m[c]:>7.3f}" for c in _COLUMNS[1:]]
    return f"{name:<34}" + " ".join(cells)


def format_report(result: dict[str, Any], errors: bool = True) -> str:
    """Render :func:`evaluate`'s result as a plain-text table."""
    head = f"{'':<34}" + f"{_HEADS[0]:>5} " + " ".join(f"{h:>7}" for h in _HEADS[1:])
    lines = [head]
    for d in result["documents"]:
        if "error" in d:
            lines.append(f"{d['doc_id']:<34}{d['error']}")
            continue
        lines.append(_row(f"{d['doc_id']} ({d['format']})", d))
    for title, key in (("by format", "by_format"), ("by family", "by_family")):
        lines += ["", title]
        lines += [_row(name, m) for name, m in result[key].items()]
    lines += ["", _row("overall", result["overall"])]
    if errors:
        errs = [(d["doc_id"], e) for d in result["documents"] for e in d.get("errors", [])]
        if errs:
            lines += ["", "errors:"] + [f"  {doc}: {e}" for doc, e in errs]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(
        prog="python -m migralex.evaluation.segmentation",
        description="Score clause segmentation against the gold set.",
    )
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder")
    ap.add_argument("--gold", type=Path, default=GOLD_PATH, help="gold file (JSON)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--quiet", action="store_true", help="no error list in the table")
    args = ap.parse_args(argv)
    if not args.gold.is_file():
        print(f"segmentation: error: {args.gold}: gold file not found", file=sys.stderr)
        return 2
    if not args.corpus.is_dir():
        print(f"segmentation: error: {args.corpus}: corpus folder not found", file=sys.stderr)
        return 2
    result = evaluate(args.corpus, load_gold(args.gold))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_report(result, errors=not args.quiet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
