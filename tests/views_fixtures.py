"""Small agreements written for the view tests (our own wording, not corpus text), with a
manifest giving their kinds, languages and parties (spelled in several ways on purpose)."""

from __future__ import annotations

import csv
from pathlib import Path

SSA_CANADA_PORTUGAL = """# Agreement on Social Security between Canada and Portugal

## Article 1 — Definitions

For the purposes of this Agreement, "competent authority" means the minister responsible for
social security in each Party, and "benefit" means any pension or allowance under the
legislation of a Party.

## Article 2 — Persons covered

This Agreement shall apply to any person who is or has been subject to the legislation of
either Party, and to the dependants and survivors of such a person.

## Article 3 — Equality of treatment

Any person to whom this Agreement applies shall receive equal treatment with nationals of the
other Party in the application of its legislation.

## Article 4 — Export of benefits

Benefits payable under the legislation of a Party shall not be subject to any reduction,
modification, suspension or cancellation by reason only of the fact that the beneficiary
resides in the territory of the other Party, and they shall be paid there.

## Article 5 — Totalizing

Where a person is not entitled to an old age benefit on the basis of creditable periods under
the legislation of one Party alone, the periods completed under the legislation of the other
Party shall be added together, in so far as they do not overlap.
"""

SSA_NETHERLANDS_MOROCCO = """# Agreement on social security between the Kingdom of the Netherlands and Morocco

## Article 1 — Definitions

In this Agreement "legislation" means the laws on old age pensions, survivors' pensions and
child benefits of each Party.

## Article 2 — Equality of treatment

Nationals of one Party shall have the same rights and obligations as nationals of the other
Party under its legislation, subject to Article 4.

## Article 3 — Export of benefits

Old age pensions shall be paid to beneficiaries who reside in the territory of the other Party,
provided that the beneficiary is a national of one of the Parties, unless otherwise provided in
the administrative arrangement.

## Article 4 — Totalisation

For the acquisition of the right to a benefit, insurance periods completed under the
legislation of both Parties shall be added together, in so far as they do not overlap.
"""

BLA_NETHERLANDS_MOROCCO = """# Agreement on the recruitment of Moroccan workers in the Netherlands

## Article 1 — Recruitment

The recruitment of workers shall be carried out by the employment services of the two Parties.
No recruitment fees shall be charged to the workers.

## Article 2 — Employment contract

Each worker shall receive a written employment contract in a language he understands before he
leaves his country.

## Article 3 — Equality of treatment

Moroccan workers shall enjoy the same wages and working conditions as Dutch workers.
"""

BLA_NETHERLANDS_SURINAME = """# Agreement on the admission of workers from Suriname

## Article 1 — Employment contract

Workers shall be employed under a written contract of employment stating their wages and
working hours.

## Article 2 — Joint committee

A joint committee of representatives of both Parties shall meet once a year to review the
application of this Agreement.
"""

DOCS: dict[str, tuple[str, str, str, str]] = {
    # id: (kind, language, parties, text)
    "ssa-ca-pt": ("ssa", "en", "Government of Canada; Portugal", SSA_CANADA_PORTUGAL),
    "ssa-nl-ma": (
        "ssa",
        "en",
        "Kingdom of the Netherlands; Royaume du Maroc",
        SSA_NETHERLANDS_MOROCCO,
    ),
    "bla-nl-ma": ("bla", "en", "Netherlands; Morocco", BLA_NETHERLANDS_MOROCCO),
    "bla-nl-sr": ("bla", "en", "Nederland; Suriname", BLA_NETHERLANDS_SURINAME),
}


def write_corpus(folder: Path) -> Path:
    """Write the documents and their manifest into ``folder``; return the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["id", "kind", "language", "title", "parties", "source", "licence", "path", "sha256"]
        )
        for doc_id, (kind, lang, parties, text) in DOCS.items():
            path = folder / f"{doc_id}.md"
            path.write_text(text, encoding="utf-8")
            title = text.splitlines()[0].lstrip("# ").strip()
            w.writerow(
                [doc_id, kind, lang, title, parties, "written for the tests", "CC0", path.name, ""]
            )
    return manifest
