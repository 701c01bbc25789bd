"""Similarity thresholds of the checklist engine, calibrated per embedding model.

Cosines are in [-1, 1] (dot products of L2-normalised vectors); characters are counted in the
clause text. :func:`thresholds_for` picks the calibrated set for a model name.
"""

from __future__ import annotations

from dataclasses import dataclass

from migralex.corpus.errors import ValidationError

__all__ = [
    "LEAD_CHARS",
    "SEMANTIC_MARGIN",
    "SEMANTIC_PARTIAL",
    "SEMANTIC_PRESENT",
    "SEMANTIC_UNTAGGED",
    "TAG_FLOOR",
    "TAG_SUPPORT",
    "THRESHOLDS_BY_MODEL",
    "Thresholds",
    "thresholds_for",
]

# Calibration of the thresholds below (SEMANTIC_PRESENT ... LEAD_CHARS): grid search of
# ``python -m migralex.evaluation.checklist --calibrate --limit 12`` on the *dev* split (objective:
# accuracy + absent F1 + evidence P@1, summed over SSA languages), model all-MiniLM-L6-v2, SSA
# drafts of the first 12 SSAs per language (12 en, 12 fr, 1 es) and 12 BLAs; 265 drafts; the
# last run (after the opening formulas and the French gold fixes) chose the same values.
# SEMANTIC_UNTAGGED was chosen on dev afterwards. Measured with these values (dev / test):
#
#   SSA en: accuracy .987 / 1.00, absent precision .93 / 1.00, recall 1.00 / 1.00, P@1 1.00 / 1.00
#   SSA fr: accuracy .994 / .987, absent precision 1.00 / 1.00, recall .97 / .93, P@1 1.00 / 1.00
#   BLA fr: accuracy .79 / .89; BLA nl: accuracy .69 / .83 (not calibration targets)

#: Cosine similarity at or above which a clause without heading, context or tag evidence makes
#: an item ``present`` (only when on topic, see :data:`SEMANTIC_MARGIN`). Calibrated (above).
SEMANTIC_PRESENT = 0.70
#: Cosine similarity at or above which a clause counts as (weak) evidence; with nothing
#: stronger the item is ``partial``. Calibrated equal to :data:`SEMANTIC_PRESENT`: with
#: MiniLM, unrelated clauses reach 0.55-0.65, so a similarity band below "present" only
#: turned removed topics into ``partial``; weak evidence now comes from tags.
SEMANTIC_PARTIAL = 0.70
#: Cosine similarity a tagged clause (not found by heading, context or a lead tag) needs for the
#: tag to count as strong evidence: such a tag is often a passing mention ("periods totalized
#: under Article 6" in a calculation article). From :data:`TAG_FLOOR` to it, the tag is weak
#: evidence. Calibrated (above).
TAG_SUPPORT = 0.55
#: Cosine similarity below which a tagged clause without heading, context or lead tag is ignored.
#: Calibrated (above; grid value).
TAG_FLOOR = 0.45
#: How far a clause's similarity to an item may fall below its similarity to the best *other*
#: item of the checklist and still count as semantic evidence for it (negative: it must beat
#: every other item by that much). Generic treaty wording ("the competent institution of a
#: Party ...") is about as close to every item's cues; only a clause at least as close to this
#: item as to any other is about it. Calibrated (above).
SEMANTIC_MARGIN = 0.0
#: A tag of the item that starts within this many characters of the body of a clause without
#: heading (after the label line and an opening reservation) is *lead* evidence: strong
#: without cue similarity. The opening words of an article state its subject ("Les périodes
#: d'assurance ... sont totalisées"), which matters for agreements without article headings
#: (many French ones) and for an English model's similarities on other languages. 0 turns lead
#: tags off. Calibrated (above; top of the grid 200/300).
LEAD_CHARS = 300
#: For an item that has tags, in a document the tagger read (it has at least one tag): the cue
#: similarity a clause *without* the item's tag, heading or opening formula needs to count at
#: all. The rules are precise (tag macro-F1 .95, ``evaluation/tagging.py``), so untagged wording
#: that is merely similar is usually a neighbouring subject (pro-rata calculation next to
#: totalisation). Chosen on the dev split among .70 (off), .75, .80 and 1.0: French SSA absent
#: recall dev .85 -> .97 (test .78 -> .89), English unchanged.
SEMANTIC_UNTAGGED = 0.80


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The similarity thresholds of the engine (cosines in [-1, 1]); see the constants.

    Attributes:
        semantic_present: :data:`SEMANTIC_PRESENT`.
        semantic_partial: :data:`SEMANTIC_PARTIAL` (must not exceed ``semantic_present``).
        tag_support: :data:`TAG_SUPPORT`.
        tag_floor: :data:`TAG_FLOOR` (must not exceed ``tag_support``).
        semantic_margin: :data:`SEMANTIC_MARGIN`.
        lead_chars: :data:`LEAD_CHARS` (0 turns lead tags off).
        semantic_untagged: :data:`SEMANTIC_UNTAGGED`.
    """

    semantic_present: float = SEMANTIC_PRESENT
    semantic_partial: float = SEMANTIC_PARTIAL
    tag_support: float = TAG_SUPPORT
    tag_floor: float = TAG_FLOOR
    semantic_margin: float = SEMANTIC_MARGIN
    lead_chars: int = LEAD_CHARS
    semantic_untagged: float = SEMANTIC_UNTAGGED

    def __post_init__(self) -> None:
        if not (
            -1.0 <= self.semantic_partial <= self.semantic_present <= 1.0
            and -1.0 <= self.tag_floor <= self.tag_support <= 1.0
            and -2.0 <= self.semantic_margin <= 2.0
            and self.lead_chars >= 0
            and -1.0 <= self.semantic_untagged <= 2.0
        ):
            raise ValidationError(
                f"bad thresholds {self}: need -1 <= semantic_partial <= semantic_present <= 1 "
                "and -1 <= tag_floor <= tag_support <= 1"
            )


#: Calibrated thresholds per embedding model (``--calibrate`` of ``evaluation/checklist.py`` on the
#: dev split of that model's drafts); models not listed use :class:`Thresholds` defaults, which
#: were calibrated on all-MiniLM-L6-v2. Cosines are not comparable across models: e5-small puts
#: unrelated treaty clauses at .75-.85, where MiniLM puts them at .55-.65.
#:
#: e5-small: ``--model e5-small --limit 3 --calibrate`` (99 drafts; small, as e5 embeds about 7
#: clauses/s): the margin does the work (a clause must beat every other item's cues by .03),
#: dev / test: SSA en accuracy 1.00 / 1.00, absent recall 1.00 / 1.00; SSA fr accuracy .97 / .96,
#: absent precision 1.00 / .95, recall .83 / .83, P@1 1.00 / 1.00. Without it (MiniLM values)
#: absent recall fell to .43 (en) and .08 (fr) on the same drafts.
THRESHOLDS_BY_MODEL: dict[str, Thresholds] = {
    "e5-small": Thresholds(
        semantic_present=0.7,
        semantic_partial=0.7,
        tag_support=0.55,
        tag_floor=0.45,
        semantic_margin=-0.03,
        lead_chars=200,
        semantic_untagged=0.8,
    ),
}


def thresholds_for(model: str) -> Thresholds:
    """The calibrated thresholds for an embedding model name ("minilm", "e5-small", ...)."""
    return THRESHOLDS_BY_MODEL.get(model, Thresholds())
