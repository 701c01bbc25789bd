"""Tests for the clause tagger (nlp/tagger.py and the pattern files under nlp/patterns/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS, corpus_missing

from migralex.corpus.errors import ValidationError
from migralex.corpus.models import Clause
from migralex.nlp import tagger
from migralex.nlp.tagger import SUPPORTED_LANGUAGES, TAG_NAMES, tag_clauses, tag_text

REQUIRED = (
    "equality_of_treatment",
    "export_of_benefits",
    "totalisation",
    "applicable_legislation",
    "administrative_assistance",
    "nationality_requirement",
    "residence_requirement",
)


def names(text: str, language: str) -> set[str]:
    return {t.name for t in tag_text(text, language)}


POSITIVES = [
    # --- English
    (
        "en",
        "equality_of_treatment",
        "Nationals of either Party shall receive equal treatment in the application of the legislation.",
    ),
    (
        "en",
        "equality_of_treatment",
        "A person who resides in Canada shall have the same obligations and benefits as nationals of Canada.",
    ),
    (
        "en",
        "equality_of_treatment",
        "Refugees shall be equated with citizens of that Party for the purposes of this Agreement.",
    ),
    (
        "en",
        "export_of_benefits",
        "Benefits shall not be subject to any reduction, modification, suspension, cancellation or confiscation by reason only of the fact that the beneficiary resides in the territory of the other Party.",
    ),
    (
        "en",
        "export_of_benefits",
        "A pension payable under this Agreement shall also be paid when the person is in the territory of a third State.",
    ),
    (
        "en",
        "export_of_benefits",
        "The pension shall not be reduced because the pensioner lives abroad.",
    ),
    (
        "en",
        "totalisation",
        "Creditable periods completed under the legislation of both Parties shall be totalized for the purpose of entitlement.",
    ),
    (
        "en",
        "totalisation",
        "The insurance periods shall be added together, provided that they do not overlap.",
    ),
    (
        "en",
        "totalisation",
        "Eligibility shall be determined by totalising the periods completed in both States.",
    ),
    (
        "en",
        "applicable_legislation",
        "An employed person who works in the territory of a Party shall be subject only to the legislation of that Party.",
    ),
    (
        "en",
        "applicable_legislation",
        "A worker who is sent by his employer to work in the territory of the other Party shall remain subject to the legislation of the first Party for 60 months.",
    ),
    (
        "en",
        "applicable_legislation",
        "Detached workers keep their coverage in the sending country.",
    ),
    (
        "en",
        "administrative_assistance",
        "The competent authorities and institutions shall assist each other in the application of this Agreement.",
    ),
    (
        "en",
        "administrative_assistance",
        "The competent authorities shall conclude an administrative arrangement and designate liaison agencies.",
    ),
    (
        "en",
        "administrative_assistance",
        "The institutions shall lend their good offices as if they were applying their own legislation.",
    ),
    (
        "en",
        "nationality_requirement",
        "A pension may be paid to a person only if that person is a Canadian citizen.",
    ),
    (
        "en",
        "nationality_requirement",
        "The allowance is granted to nationals of the Contracting Parties only.",
    ),
    (
        "en",
        "residence_requirement",
        "A pension is payable to a person who has resided in Canada for at least ten years after the age of eighteen.",
    ),
    (
        "en",
        "residence_requirement",
        "Payment of the pension shall be suspended when the pensioner ceases to reside in Canada.",
    ),
    # --- French
    (
        "fr",
        "equality_of_treatment",
        "Les ressortissants de l'une des Parties sont admis au bénéfice de la législation de l'autre Partie dans les mêmes conditions que les ressortissants de cette Partie.",
    ),
    (
        "fr",
        "equality_of_treatment",
        "Le principe de l'égalité de traitement s'applique à tous les travailleurs.",
    ),
    (
        "fr",
        "export_of_benefits",
        "Les pensions ne peuvent subir aucune réduction, ni suspension, ni suppression du fait que le bénéficiaire réside sur le territoire de l'autre Partie.",
    ),
    (
        "fr",
        "export_of_benefits",
        "Les prestations sont payées aux bénéficiaires qui résident sur le territoire de l'autre Partie.",
    ),
    (
        "fr",
        "totalisation",
        "Les périodes d'assurance accomplies sous la législation des deux Parties sont totalisées.",
    ),
    (
        "fr",
        "totalisation",
        "En vue de l'acquisition, du maintien ou du recouvrement du droit aux prestations, il est tenu compte des périodes d'assurance.",
    ),
    (
        "fr",
        "applicable_legislation",
        "Les travailleurs détachés par leur employeur demeurent soumis à la législation de la première Partie.",
    ),
    (
        "fr",
        "applicable_legislation",
        "Les travailleurs sont soumis à la législation de la Partie sur le territoire de laquelle ils exercent leur activité.",
    ),
    (
        "fr",
        "administrative_assistance",
        "Les autorités compétentes se prêtent mutuellement leurs bons offices.",
    ),
    (
        "fr",
        "administrative_assistance",
        "Les autorités compétentes arrêtent les arrangements administratifs et se communiquent toutes informations utiles.",
    ),
    (
        "fr",
        "nationality_requirement",
        "La pension n'est accordée qu'à condition que le demandeur soit ressortissant français.",
    ),
    (
        "fr",
        "nationality_requirement",
        "Seuls les ressortissants néerlandais peuvent bénéficier de cette allocation.",
    ),
    (
        "fr",
        "residence_requirement",
        "L'allocation est due si le demandeur a résidé en France pendant au moins dix ans.",
    ),
    (
        "fr",
        "residence_requirement",
        "Le droit est soumis à une condition de résidence de cinq ans.",
    ),
    # --- Spanish (best effort)
    (
        "es",
        "equality_of_treatment",
        "Los nacionales de una Parte tendrán los mismos derechos y obligaciones que los nacionales de la otra Parte.",
    ),
    (
        "es",
        "totalisation",
        "Los períodos de seguro cumplidos en ambas Partes se totalizarán para la adquisición del derecho.",
    ),
    # --- Dutch
    (
        "nl",
        "equality_of_treatment",
        "De onderdanen van de ene Partij hebben dezelfde rechten en verplichtingen als de onderdanen van de andere Partij.",
    ),
    (
        "nl",
        "equality_of_treatment",
        "De Turkse werknemers worden tewerkgesteld onder dezelfde arbeidsvoorwaarden als de Belgische werknemers.",
    ),
    (
        "nl",
        "export_of_benefits",
        "De uitkeringen mogen niet worden verminderd of geschorst op grond van het feit dat de gerechtigde in het andere land woont.",
    ),
    (
        "nl",
        "totalisation",
        "Voor het ontstaan van het recht op uitkering worden de verzekeringstijdvakken van beide Partijen samengeteld.",
    ),
    (
        "nl",
        "applicable_legislation",
        "Een werknemer die op het grondgebied van een der Partijen werkzaam is, is onderworpen aan de wetgeving van die Partij.",
    ),
    (
        "nl",
        "administrative_assistance",
        "De bevoegde autoriteiten stellen elkaar in kennis van alle wijzigingen in hun wetgeving.",
    ),
    (
        "nl",
        "residence_requirement",
        "Het pensioen wordt slechts betaald zolang de gerechtigde in Nederland woont.",
    ),
    (
        "nl",
        "nationality_requirement",
        "De toeslag wordt alleen toegekend mits de aanvrager onderdaan van een der Partijen is.",
    ),
    ("nl", "recruitment", "De werving van de arbeiders geschiedt door het openbare arbeidsbureau."),
    (
        "nl",
        "recruitment_costs",
        "De reiskosten van de werknemer komen ten laste van de werkgever.",
    ),
    ("nl", "employment_contract", "Iedere arbeider ontvangt een arbeidsovereenkomst in zijn taal."),
    ("nl", "remittances", "De werknemers kunnen hun spaargelden naar hun land overmaken."),
    ("nl", "family_reunification", "De Partijen bevorderen de gezinshereniging van de werknemers."),
    ("nl", "joint_committee", "Er wordt een gemengde commissie ingesteld."),
    (
        "nl",
        "return_and_reintegration",
        "Na afloop van het contract kan de arbeider terugkeren naar zijn land.",
    ),
    (
        "nl",
        "branch_unemployment",
        "De werkloosheidsuitkering wordt berekend op basis van het laatste loon.",
    ),
]

NEGATIVES = [
    (
        "nl",
        "applicable_legislation",
        "Deze Overeenkomst is van toepassing op personen die onderworpen zijn of zijn geweest aan de wetgeving van een der Partijen.",
    ),
    (
        "nl",
        "export_of_benefits",
        "De pensioenen worden verminderd op grond van het feit dat de gerechtigde in het buitenland woont.",
    ),
    (
        "nl",
        "employment_contract",
        "De lonen worden vastgesteld bij collectieve arbeidsovereenkomst.",
    ),
    (
        "nl",
        "recruitment_costs",
        "De kosten van de verstrekkingen worden door het bevoegde orgaan vergoed.",
    ),
    (
        "nl",
        "administrative_assistance",
        "Iedere Partij stelt de andere Partij schriftelijk in kennis van de voltooiing van de vereiste procedures.",
    ),
    (
        "nl",
        "return_and_reintegration",
        "De uitvoeringsinstelling bevordert de reïntegratie van de arbeidsongeschikte werknemer in het arbeidsproces.",
    ),
    (
        "en",
        "export_of_benefits",
        "Article 5 of the Convention applies to the persons referred to in Article 3.",
    ),
    (
        "en",
        "export_of_benefits",
        "Payment of the pension shall be suspended six months after the pensioner ceased to reside in Canada.",
    ),
    (
        "en",
        "equality_of_treatment",
        "Certificates issued under this Agreement shall be exempt from taxes, stamp duties and fees.",
    ),
    (
        "en",
        "totalisation",
        "The competent institution shall calculate the amount of the pension on the basis of its own legislation.",
    ),
    (
        "en",
        "applicable_legislation",
        "This Agreement applies to persons who are or have been subject to the legislation of either Party.",
    ),
    (
        "en",
        "administrative_assistance",
        "The claimant shall submit a medical report to the competent institution.",
    ),
    (
        "en",
        "nationality_requirement",
        "All persons shall receive equal treatment regardless of whether they are citizens or residents.",
    ),
    (
        "en",
        "residence_requirement",
        "Benefits shall not be reduced by reason only of the fact that the beneficiary resides abroad.",
    ),
    (
        "fr",
        "export_of_benefits",
        "Les clauses de réduction prévues par la législation d'une Partie sont opposables au bénéficiaire.",
    ),
    (
        "fr",
        "equality_of_treatment",
        "Les certificats sont exemptés des droits de timbre et de greffe.",
    ),
    (
        "fr",
        "totalisation",
        "L'institution compétente calcule le montant de la prestation selon sa propre législation.",
    ),
    (
        "fr",
        "applicable_legislation",
        "La présente Convention s'applique aux travailleurs qui sont ou ont été soumis à la législation de l'une des Parties.",
    ),
    ("fr", "administrative_assistance", "Le demandeur joint un certificat médical à sa demande."),
    # fee exemptions for documents: "made ... application" far apart is not a claim being made
    (
        "en",
        "claims_and_appeals",
        "Any reduction of consular fees for which provision is made in the law of a Party for "
        "papers produced for the application of that law extends to papers for this Agreement.",
    ),
    (
        "fr",
        "nationality_requirement",
        "Les ressortissants des deux Parties bénéficient de l'égalité de traitement.",
    ),
    (
        "fr",
        "residence_requirement",
        "Les prestations ne peuvent subir aucune réduction du fait que le bénéficiaire réside à l'étranger.",
    ),
]


@pytest.mark.parametrize(("language", "name", "text"), POSITIVES)
def test_positive_sentences_get_the_tag(language: str, name: str, text: str) -> None:
    assert name in names(text, language)


@pytest.mark.parametrize(("language", "name", "text"), NEGATIVES)
def test_counter_examples_do_not_get_the_tag(language: str, name: str, text: str) -> None:
    assert name not in names(text, language)


@pytest.mark.parametrize(
    ("language", "name", "text"),
    [
        ("en", "branch_old_age", "The old age pension is payable from age 65."),
        (
            "en",
            "branch_employment_injury",
            "Benefits in respect of work accidents and occupational diseases.",
        ),
        (
            "en",
            "data_protection",
            "Personal information transmitted under this Agreement is confidential.",
        ),
        (
            "en",
            "dispute_settlement",
            "Any dispute concerning the interpretation of this Agreement shall be resolved by negotiation.",
        ),
        (
            "en",
            "joint_committee",
            "A Joint Committee shall monitor the implementation of this Agreement.",
        ),
        (
            "en",
            "employment_contract",
            "Each worker shall receive a written contract of employment before departure.",
        ),
        ("en", "recruitment_costs", "No recruitment fees shall be charged to the workers."),
        ("fr", "branch_family", "Les allocations familiales sont dues pour les enfants."),
        ("fr", "joint_committee", "Il est institué une commission mixte."),
        (
            "fr",
            "remittances",
            "Les travailleurs peuvent transférer leurs économies dans leur pays.",
        ),
    ],
)
def test_other_tags(language: str, name: str, text: str) -> None:
    assert name in names(text, language)


def test_tag_names_and_languages() -> None:
    assert SUPPORTED_LANGUAGES == ("en", "fr", "es", "nl")
    assert len(TAG_NAMES) == len(set(TAG_NAMES)) == 31
    assert set(REQUIRED) <= set(TAG_NAMES)
    assert {n for n in TAG_NAMES if n.startswith("branch_")} == {
        "branch_medical_care", "branch_sickness", "branch_unemployment", "branch_old_age",
        "branch_employment_injury", "branch_family", "branch_maternity", "branch_invalidity",
        "branch_survivors",
    }  # fmt: skip


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_tag_has_a_pattern_file(language: str) -> None:
    folder = Path(tagger.__file__).parent / "patterns" / language
    assert {p.stem for p in folder.glob("*.json")} == set(TAG_NAMES)


def _clause(text: str, heading: str = "", cid: str = "doc:article-4", ordinal: int = 0) -> Clause:
    return Clause(
        cid, "doc", ordinal, "Article 4", heading, ("Article 4",), text, 0, len(text), 1, 1, "en"
    )


def test_offsets_rule_ids_and_order() -> None:
    clauses = [
        _clause(
            "Article 4 Equality of Treatment\nSubject to Article 7, nationals shall receive equal treatment.",
            "Equality of Treatment",
            "d:a4",
            0,
        ),
        _clause(
            "Article 5 Export of Benefits\nBenefits shall not be subject to any reduction by reason only of residence in the territory of the other Party.",
            "Export of Benefits",
            "d:a5",
            1,
        ),
    ]
    tags = tag_clauses(clauses, "en")
    assert tags
    by_id = {c.clause_id: c for c in clauses}
    for t in tags:
        assert by_id[t.clause_id].text[t.start : t.end] == t.text
        assert t.rule.startswith(f"en.{t.name}.")
        assert t.name in TAG_NAMES
    order = [(c.ordinal for c in clauses if c.clause_id == t.clause_id).__next__() for t in tags]
    assert order == sorted(order)
    first = [(t.start, t.name) for t in tags if t.clause_id == "d:a4"]
    assert first == sorted(first)


def test_no_overlapping_tags_of_the_same_name() -> None:
    tags = tag_text(
        "Equality of treatment: nationals shall receive equal treatment and the same conditions as nationals.",
        "en",
    )
    spans: dict[str, list[tuple[int, int]]] = {}
    for t in tags:
        for s, e in spans.get(t.name, []):
            assert t.end <= s or e <= t.start
        spans.setdefault(t.name, []).append((t.start, t.end))


def test_exception_and_negation_attributes() -> None:
    text = "Subject to Article 7, benefits shall not be subject to any reduction, suspension or confiscation by reason only of the fact that the beneficiary resides in the territory of the other Party."
    (tag,) = [t for t in tag_text(text, "en") if t.name == "export_of_benefits"]
    assert tag.exception == "Subject to Article 7"
    assert tag.negated is True
    plain = [t for t in tag_text("Nationals shall receive equal treatment.", "en")]
    assert plain and all(t.exception == "" and not t.negated for t in plain)
    (fr,) = [
        t
        for t in tag_text(
            "Sous réserve des dispositions de l'article 8, les ressortissants sont traités dans les mêmes conditions que les ressortissants de l'autre Partie.",
            "fr",
        )
        if t.name == "equality_of_treatment"
    ]
    assert fr.exception.startswith("Sous réserve des dispositions")


@pytest.mark.parametrize(
    ("text", "name", "exception", "negated"),
    [
        pytest.param(
            "Behoudens het bepaalde in artikel 7 zijn de arbeiders onderworpen aan de Nederlandse wetgeving.",
            "applicable_legislation",
            "Behoudens het bepaalde in artikel 7 zijn de arbeiders onderworpen aan de",
            False,
            id="behoudens",
        ),
        pytest.param(
            "Onverminderd artikel 5 hebben de werknemers recht op kinderbijslag.",
            "branch_family",
            "Onverminderd artikel 5 hebben de werknemers recht op kinderbijslag",
            False,
            id="onverminderd",
        ),
        pytest.param(
            "De werkgever mag geen kosten van de werving op de arbeider verhalen.",
            "recruitment_costs",
            "",
            True,
            id="geen",
        ),
    ],
)
def test_dutch_exception_and_negation(text: str, name: str, exception: str, negated: bool) -> None:
    (tag,) = [t for t in tag_text(text, "nl") if t.name == name]
    assert (tag.exception, tag.negated) == (exception, negated)


@pytest.mark.parametrize(
    ("text", "present"),
    [
        pytest.param(
            "The residence condition of the Act applies to the supplement.", True, id="kept"
        ),
        pytest.param(
            "The residence condition of the Act does not apply to the supplement.",
            False,
            id="denied-after",
        ),
        pytest.param(
            "The residence condition applies. The supplement is not paid abroad.",
            True,
            id="other-sentence",
        ),
    ],
)
def test_negation_after_the_match(text: str, present: bool) -> None:
    rules = {t.rule for t in tag_text(text, "en")}
    assert ("en.residence_requirement.named" in rules) is present


def test_heading_only_match_points_into_the_text() -> None:
    text = "ARTICLE 13 Minimum Period to be\nTotalized\nIf the creditable periods total less than one year, no benefit is due."
    clause = _clause(text, "Minimum Period to be Totalized")
    tags = [t for t in tag_clauses([clause], "en") if t.name == "totalisation"]
    assert tags and all(text[t.start : t.end] == t.text for t in tags)
    # a heading that does not occur in the text is skipped
    other = _clause("Paragraph 2 applies.", "Minimum Period to be Totalized")
    assert not [t for t in tag_clauses([other], "en") if t.rule.endswith(".heading")]


def test_unsupported_language_and_empty_input() -> None:
    assert tag_text("Gleichbehandlung der Staatsangehörigen.", "de") == []
    assert tag_clauses([_clause("equal treatment")], "de") == []
    assert tag_clauses([], "en") == []
    assert tag_text("", "en") == []


def test_deterministic() -> None:
    text = "Subject to this Agreement, benefits shall be paid when the person is in the territory of the other Party, and periods shall be totalized."
    assert tag_text(text, "en", "c") == tag_text(text, "en", "c")
    assert all(t.clause_id == "c" for t in tag_text(text, "en", "c"))


def test_requirement_tags_dropped_in_clauses_that_lift_them() -> None:
    text = "Persons who are citizens of a Party shall receive equal treatment with nationals of the other Party."
    got = names(text, "en")
    assert "equality_of_treatment" in got and "nationality_requirement" not in got


def _write(folder: Path, data: object, name: str = "gender.json") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"id": "en.gender.a", "phrases": ["women"], "colour": "red"}], "unknown keys"),
        (
            [
                {"id": "en.gender.a", "phrases": ["women"]},
                {"id": "en.gender.a", "phrases": ["men"]},
            ],
            "duplicate rule id",
        ),
        ([{"id": "en.gender.a"}], "exactly one of"),
        ([{"id": "fr.gender.a", "phrases": ["women"]}], "must be a string starting with"),
        ([{"id": "en.gender.a", "patterns": [[{"LOWER": {"BAD": 1}}]]}], "bad token pattern"),
        ([{"id": "en.gender.a", "phrases": ["women"], "example": 3}], "'example' must be"),
        (
            [{"id": "en.gender.a", "phrases": ["women"], "counter_example": " "}],
            "'counter_example' must be",
        ),
        (
            [{"id": "en.gender.a", "phrases": ["women"], "corpus_example": "ca-si-96-32"}],
            "'corpus_example' must be",
        ),
        (
            [
                {
                    "id": "en.gender.a",
                    "phrases": ["women"],
                    "corpus_example": {"doc": "ca-si-96-32", "article": "Article 4"},
                }
            ],
            "'corpus_example' must be",
        ),
        (
            [{"id": "en.gender.a", "phrases": ["women"], "negation_after": -1}],
            "'negation_after' must be",
        ),
    ],
)
def test_pattern_validation_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: list, message: str
) -> None:
    _write(tmp_path / "en", {"tag": "gender", "language": "en", "rules": rules})
    monkeypatch.setattr(tagger, "_patterns_dir", lambda: tmp_path)
    tagger._pipeline.cache_clear()
    try:
        with pytest.raises(ValidationError, match=message) as err:
            tagger._pipeline("en")
        assert "en/gender.json" in str(err.value)
    finally:
        monkeypatch.undo()
        tagger._pipeline.cache_clear()


# --- real sentences, read from the shared corpus at test time


def _segment(rel: str, doc_id: str, language: str, kind: str) -> list[Clause]:
    path = CORPUS / rel
    if not path.is_file():
        corpus_missing(f"corpus file {path} not available (the shared corpus is not mounted)")
    from migralex.ingest.base import read_file
    from migralex.ingest.segment import segment

    return list(segment(read_file(path), doc_id, language, kind).clauses)


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Equality of Treatment", "equality_of_treatment"),
        ("Export of a Benefit", "export_of_benefits"),
        ("Detachments", "applicable_legislation"),
        ("Government Employment", "applicable_legislation"),
        ("Minimum Period to be Totalized", "totalisation"),
        ("Periods completed under the Program of a Third State", "totalisation"),
        ("Exchange of Information and Mutual Assistance", "administrative_assistance"),
    ],
)
def test_real_canadian_agreement_articles(heading: str, expected: str) -> None:
    clauses = _segment("ssa/ca-si-2022-34.html", "ca-si-2022-34", "en", "ssa")
    found = [c for c in clauses if c.heading == heading]
    assert found, f"no article headed {heading!r}"
    tags = tag_clauses(found[:1], "en")
    assert expected in {t.name for t in tags}
    for t in tags:
        assert found[0].text[t.start : t.end] == t.text


@pytest.mark.parametrize(
    ("label", "expected", "absent"),
    [
        ("Article 4", "equality_of_treatment", "export_of_benefits"),
        ("Article 5", "export_of_benefits", "totalisation"),
        ("Article 6", None, "export_of_benefits"),  # anti-cumulation clauses, not export
        ("Article 7", "applicable_legislation", "equality_of_treatment"),
        ("Article 11", "totalisation", "export_of_benefits"),
    ],
)
def test_real_french_agreement_articles(label: str, expected: str | None, absent: str) -> None:
    clauses = _segment("ssa/nl-bwbv0003682.md", "nl-bwbv0003682", "fr", "ssa")
    found = [c for c in clauses if c.label == label]
    assert found, f"no {label}"
    got = {t.name for t in tag_clauses(found[:1], "fr")}
    if expected:
        assert expected in got
    assert absent not in got


@pytest.mark.parametrize(
    ("rel", "label", "expected", "absent"),
    [
        ("bla/nl-bwbv0004184.pdf", "Artikel 16", "equality_of_treatment", "recruitment"),
        ("bla/nl-bwbv0004184.pdf", "Artikel 17", "remittances", "equality_of_treatment"),
        ("bla/nl-bwbv0004184.pdf", "Artikel 21", "joint_committee", "recruitment_costs"),
        ("bla/nl-bwbv0004184.pdf", "Artikel 23", None, "employment_contract"),  # final clause
        ("bla/nl-bwbv0004487.pdf", "Artikel 8", "employment_contract", "equality_of_treatment"),
        ("bla/nl-bwbv0004487.pdf", "Artikel 13", "recruitment_costs", "remittances"),
        ("bla/nl-bwbv0004487.pdf", "Artikel 16", "branch_family", "recruitment"),
        (
            "bla/nl-bwbv0004487.pdf",
            "Artikel 17",
            "family_reunification",
            "return_and_reintegration",
        ),
        ("bla/nl-bwbv0004487.pdf", "Artikel 20", "return_and_reintegration", "joint_committee"),
        ("bla/nl-bwbv0002242.pdf", "Artikel 1", "joint_committee", "recruitment"),
    ],
)
def test_real_dutch_agreement_articles(
    rel: str, label: str, expected: str | None, absent: str
) -> None:
    doc_id = Path(rel).stem
    clauses = _segment(rel, doc_id, "nl", "bla")
    found = [c for c in clauses if c.label == label]
    assert found, f"no {label}"
    got = {t.name for t in tag_clauses(found[:1], "nl")}
    if expected:
        assert expected in got
    assert absent not in got


def test_real_national_law_requirements() -> None:
    clauses = _segment("law/ca-old-age-security-act.pdf", "ca-oas", "en", "law")
    tags = tag_clauses(clauses, "en")
    got = {t.name for t in tags}
    assert {"nationality_requirement", "residence_requirement"} <= got
    assert any("citizen" in t.text for t in tags if t.name == "nationality_requirement")


# --- rules added for issue #4: written positives and counter-examples, one row per rule

RULE_CASES = [
    # (language, tag, text, expected present?)
    (
        "en",
        "residence_requirement",
        "No supplement may be paid for any month throughout which the pensioner is absent from Canada.",
        True,
    ),
    (
        "en",
        "residence_requirement",
        "A claimant is not entitled to receive benefits for any period during which the claimant is not in Canada.",
        True,
    ),
    (
        "en",
        "residence_requirement",
        "A claimant is eligible for the benefit if they (i) reside in Canada, (ii) are at least 15 years of age.",
        True,
    ),
    (
        "en",
        "residence_requirement",
        "For the purposes of the Act, a person resides in Canada if he makes his home and ordinarily lives in any part of Canada.",
        True,
    ),
    (
        "en",
        "residence_requirement",
        "The Governor in Council may make regulations respecting the meaning of legal residence.",
        True,
    ),
    (
        "en",
        "residence_requirement",
        "The claim shall be made at the office that serves the area in which the claimant resides.",
        False,
    ),
    (
        "en",
        "residence_requirement",
        "An individual convicted by a court outside Canada of murder is not entitled to the benefit.",
        False,
    ),
    (
        "en",
        "administrative_assistance",
        "The claim shall be sent to the liaison agency or competent institution of the other Party, which shall be deemed to have received it.",
        False,
    ),
    (
        "en",
        "administrative_assistance",
        "The Parties shall notify each other in writing of the accomplishment of their statutory requirements.",
        False,
    ),
    (
        "en",
        "administrative_assistance",
        "The competent authorities shall communicate to each other information about the measures taken.",
        True,
    ),
    (
        "fr",
        "recruitment",
        "La Direction transmet les offres d'emploi des employeurs néerlandais.",
        True,
    ),
    ("fr", "recruitment", "Les prestations familiales sont payées mensuellement.", False),
    (
        "fr",
        "information_exchange",
        "La Direction Générale fournit à l'Office des renseignements au sujet des besoins en travailleurs.",
        True,
    ),
    (
        "fr",
        "information_exchange",
        "Le travailleur doit être en possession d'un passeport valable.",
        False,
    ),
    (
        "fr",
        "applicable_legislation",
        "Les travailleurs occupés par une entreprise demeurent soumis aux législations en vigueur dans le pays de leur lieu de travail habituel.",
        True,
    ),
    (
        "fr",
        "applicable_legislation",
        "Les dispositions sont applicables aux travailleurs occupés dans les postes diplomatiques.",
        True,
    ),
    (
        "fr",
        "applicable_legislation",
        "Les prestations sont liquidées conformément à la législation qui était applicable à l'intéressé.",
        False,
    ),
    (
        "fr",
        "equality_of_treatment",
        "Les rémunérations ne doivent en aucun cas être moins favorables que celles appliquées aux travailleurs néerlandais.",
        True,
    ),
    (
        "fr",
        "equality_of_treatment",
        "Leur admission s'effectue dans les mêmes conditions que pour les Néerlandais.",
        True,
    ),
    (
        "fr",
        "complaint_mechanism",
        "En cas de différends de travail, les travailleurs ont accès aux autorités administratives ou judiciaires compétentes.",
        True,
    ),
    ("fr", "recruitment_costs", "Les frais de voyage seront remboursés par la Direction.", True),
    (
        "fr",
        "employment_contract",
        "L'ouvrier a le droit de résilier le contrat avant le terme.",
        True,
    ),
    (
        "fr",
        "remittances",
        "Le Gouvernement assure le transfert régulier des épargnes des ouvriers.",
        True,
    ),
    (
        "fr",
        "return_and_reintegration",
        "Les autorités aideront les travailleurs à trouver un emploi après leur retour en Tunisie.",
        True,
    ),
    (
        "fr",
        "irregular_status",
        "Les travailleurs à qui il n'est plus permis de séjourner aux Pays-Bas seront réadmis.",
        True,
    ),
    (
        "fr",
        "irregular_status",
        "Les travailleurs ont obtenu le permis de séjourner aux Pays-Bas.",
        False,
    ),
    (
        "fr",
        "export_of_benefits",
        "Le travailleur conserve ce bénéfice lorsqu'il transfère sa résidence sur le territoire de l'autre Partie.",
        True,
    ),
    (
        "fr",
        "export_of_benefits",
        "Les allocations familiales dues à un travailleur dont les enfants résident au Maroc sont payées directement à la personne qui en a la charge.",
        True,
    ),
    (
        "fr",
        "totalisation",
        "L'institution tient compte à cet effet des périodes d'assurance accomplies sous la législation de l'autre Partie.",
        True,
    ),
    (
        "fr",
        "administrative_assistance",
        "Les autorités compétentes prennent tout arrangement administratif nécessaire.",
        True,
    ),
]


@pytest.mark.parametrize(("language", "name", "text", "present"), RULE_CASES)
def test_issue4_rules(language: str, name: str, text: str, present: bool) -> None:
    assert (name in names(text, language)) is present


@pytest.mark.parametrize(
    ("context", "language", "expected"),
    [
        (("Medical Care",), "en", {"branch_medical_care"}),
        (
            ("Provisions concerning Benefits", "Sickness and Maternity"),
            "en",
            {"branch_sickness", "branch_maternity"},
        ),
        (("Dispositions particulières", "Invalidité"), "fr", {"branch_invalidity"}),
        (("Prestaciones familiares",), "es", {"branch_family"}),
        (("Ziekte en moederschap",), "nl", {"branch_sickness", "branch_maternity"}),
        (("Provisions concerning the Applicable Legislation",), "en", set()),
    ],
)
def test_division_heading_gives_branch(
    context: tuple[str, ...], language: str, expected: set[str]
) -> None:
    text = "Article 9 The persons protected shall comprise prescribed classes of employees."
    clause = Clause(
        "d:a9",
        "d",
        0,
        "Article 9",
        "",
        ("Article 9",),
        text,
        0,
        len(text),
        1,
        1,
        language,
        context,
    )
    tags = tag_clauses([clause], language)
    assert {t.name for t in tags if t.name.startswith("branch_")} == expected
    for t in tags:
        assert clause.text[t.start : t.end] == t.text


def test_context_only_rules_do_not_fire_on_text() -> None:
    for text, language in (
        ("Unemployment", "en"),
        ("Invalidité", "fr"),
        ("Vejez", "es"),
        ("Nabestaanden", "nl"),
    ):
        assert all(not t.rule.endswith(".division_heading") for t in tag_text(text, language))


@pytest.mark.parametrize(
    ("rel", "doc_id", "language", "kind", "label", "expected"),
    [
        (
            "law/ca-employment-insurance-act.html",
            "ca-ei",
            "en",
            "law",
            "Section 37",
            "residence_requirement",
        ),
        (
            "regulation/ca-old-age-security-regulations.pdf",
            "ca-oasr",
            "en",
            "regulation",
            "Section 21",
            "residence_requirement",
        ),
        ("bla/nl-bwbv0004588.md", "nl-bwbv0004588", "fr", "bla", "Article 16", "remittances"),
        ("bla/nl-bwbv0004588.md", "nl-bwbv0004588", "fr", "bla", "Article 21", "joint_committee"),
        (
            "bla/nl-bwbv0004909.docx",
            "nl-bwbv0004909",
            "fr",
            "bla",
            "Article 11",
            "equality_of_treatment",
        ),
        (
            "ssa/nl-bwbv0001011.pdf",
            "nl-bwbv0001011",
            "fr",
            "ssa",
            "Article 26",
            "export_of_benefits",
        ),
    ],
)
def test_real_issue4_articles(
    rel: str, doc_id: str, language: str, kind: str, label: str, expected: str
) -> None:
    clauses = _segment(rel, doc_id, language, kind)
    found = [c for c in clauses if c.label == label]
    assert found, f"{label} not segmented in {rel}"
    assert expected in {t.name for t in tag_clauses(found, language)}


@pytest.mark.parametrize(
    ("heading", "context", "present", "absent"),
    [
        ("Equality of Treatment", (), {"equality_of_treatment"}, {"totalisation"}),
        ("Payment of Benefits Abroad", (), {"export_of_benefits"}, {"equality_of_treatment"}),
        (
            "Minimum Period to be Totalized",
            ("Totalizing",),
            {"totalisation"},
            {"export_of_benefits"},
        ),
        (
            "Exceptions",
            ("Provisions concerning the Applicable Legislation",),
            {"applicable_legislation"},
            {"totalisation"},
        ),
        ("Definitions", ("Totalizing",), set(), {"totalisation"}),
        ("Confidentiality of Information", (), {"data_protection"}, {"totalisation"}),
    ],
)
def test_heading_derived_gold(
    heading: str, context: tuple[str, ...], present: set[str], absent: set[str]
) -> None:
    from migralex.evaluation.tagging import heading_judgement

    got = heading_judgement(heading, context)
    assert got is not None
    assert got[0] == present and absent <= got[1]


def test_unmapped_heading_is_not_judged() -> None:
    from migralex.evaluation.tagging import heading_judgement

    assert heading_judgement("Benefits under the Old Age Security Act", ()) is None
    assert heading_judgement("Exceptions", ("Miscellaneous Provisions",)) is None


def test_hand_gold_is_well_formed() -> None:
    from migralex.evaluation.tagging import load_hand_gold

    gold = load_hand_gold()
    assert len(gold) >= 200
    assert len({(j.doc_id, j.label) for j in gold}) == len(gold)
    for j in gold:
        assert (j.present | j.absent) <= set(TAG_NAMES)
        assert not j.present & j.absent


def test_clause_longer_than_spacy_max_length_is_tagged_in_pieces() -> None:
    from migralex.nlp.tagger import PIECE_CHARS

    filler = "The committee met and discussed the annual report of the fund. " * 17_000
    rule = (
        "Persons who are or have been subject to the legislation of a Party shall receive "
        "equal treatment with nationals of the other Party in the application of its legislation."
    )
    text = filler + rule + " " + filler
    assert len(text) > 2_000_000 > PIECE_CHARS
    tags = tag_text(text, "en", "long")
    equality = [t for t in tags if t.name == "equality_of_treatment"]
    assert equality, "the rule deep inside the long text is tagged"
    for t in tags:
        assert text[t.start : t.end] == t.text
    assert tag_text(rule, "en", "short")[0].name in {t.name for t in tags}


@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
def test_text_pieces_cover_the_text_without_overlap(limit: int) -> None:
    from migralex.nlp.tagger import text_pieces

    text = "One line.\nA sentence. Another one follows here.\n" * 40 + "x" * 3000
    pieces = text_pieces(text, limit)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    assert all(0 < hi - lo <= limit for lo, hi in pieces)


def test_the_rule_matcher_is_a_registered_spacy_component() -> None:
    """``migralex_rule_matcher_v1`` works in any blank pipeline after the lemma component:
    the raw matches land in ``doc.spans["migralex_rules"]`` labelled with their rule ids."""
    from migralex.nlp.spacy_components import LOOKUP_LEMMAS, spacy

    tagger._register_rule_matcher()
    nlp = spacy.blank("en")
    nlp.add_pipe(LOOKUP_LEMMAS)
    nlp.add_pipe(tagger.RULE_MATCHER, config={"language": "en"})
    doc = nlp(
        "Periods of insurance completed under the legislation of both Parties shall be totalised."
    )
    labels = {span.label_ for span in doc.spans[tagger.MATCHES_KEY]}
    assert any(label.startswith("en.totalisation.") for label in labels), labels
    assert labels <= set(nlp.get_pipe(tagger.RULE_MATCHER).rules)
