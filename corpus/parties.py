"""Party names as one key per country: "Italy" and "Italian Republic" are one party.

A pure function over names, used by the store's party filter (registered as the SQLite
function ``party_key``). Countries are ISO 3166-1 (``pycountry``: English short, official and
common names and the alpha-2/alpha-3 codes, case-insensitive); a name it does not know
(historic states, provinces, organisations, names in other languages) keeps its own key, so it
still matches itself as a whole name and never a longer name that contains it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: Leading words that do not change which party is meant ("the Government of Canada").
_PREFIX = re.compile(r"^(?:the\s+)?(?:government\s+of\s+)?(?:the\s+)?", re.IGNORECASE)
#: "Republic of Korea" is listed by ISO as "Korea, Republic of".
_FORM = re.compile(
    r"^((?:\w+\s+)*?(?:republic|kingdom|state|states|federation))\s+of\s+(.+)$", re.I
)


#: Names ISO 3166 (English) does not list: French, Spanish and Dutch names of the countries
#: our agreements name, older English names, and official forms pycountry misses. Keys are
#: folded (:func:`_fold`); values are ISO 3166-1 alpha-2 codes. Source: the parties column of
#: ``../shared/corpus/manifest.csv`` and the titles of its documents.
ALIASES: dict[str, str] = {
    # English forms and older names
    "cape verde": "CV",
    "republic of macedonia": "MK",
    "macedonia": "MK",
    "people's republic of china": "CN",
    "federation of st. kitts and nevis": "KN",
    "st. kitts and nevis": "KN",
    "st kitts and nevis": "KN",
    "st. vincent and the grenadines": "VC",
    "st. lucia": "LC",
    "republic of the gambia": "GM",
    "the gambia": "GM",
    "great britain": "GB",
    "britain": "GB",
    "holland": "NL",
    "turkey": "TR",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "czechia": "CZ",
    "swaziland": "SZ",
    "ivory coast": "CI",
    # French
    "pays-bas": "NL",
    "royaume des pays-bas": "NL",
    "grece": "GR",
    "royaume de grece": "GR",
    "republique hellenique": "GR",
    "maroc": "MA",
    "royaume du maroc": "MA",
    "tunisie": "TN",
    "republique tunisienne": "TN",
    "espagne": "ES",
    "royaume d'espagne": "ES",
    "italie": "IT",
    "republique italienne": "IT",
    "portugal": "PT",
    "republique portugaise": "PT",
    "france": "FR",
    "republique francaise": "FR",
    "suisse": "CH",
    "confederation suisse": "CH",
    "luxembourg": "LU",
    "grand-duche de luxembourg": "LU",
    "belgique": "BE",
    "royaume de belgique": "BE",
    "allemagne": "DE",
    "republique federale d'allemagne": "DE",
    "cap-vert": "CV",
    "republique du cap-vert": "CV",
    "algerie": "DZ",
    "senegal": "SN",
    "etats-unis": "US",
    "etats-unis d'amerique": "US",
    "royaume-uni": "GB",
    "turquie": "TR",
    "yougoslavie": "yugoslavia",
    # Spanish
    "paises bajos": "NL",
    "reino de los paises bajos": "NL",
    "ecuador": "EC",
    "republica del ecuador": "EC",
    "espana": "ES",
    "reino de espana": "ES",
    "marruecos": "MA",
    "grecia": "GR",
    "italia": "IT",
    "francia": "FR",
    "suiza": "CH",
    "mexico": "MX",
    "estados unidos mexicanos": "MX",
    "estados unidos": "US",
    "estados unidos de america": "US",
    "republica oriental del uruguay": "UY",
    "peru": "PE",
    "republica del peru": "PE",
    "filipinas": "PH",
    # Dutch
    "nederland": "NL",
    "koninkrijk der nederlanden": "NL",
    "suriname": "SR",
    "republiek suriname": "SR",
    "marokko": "MA",
    "koninkrijk marokko": "MA",
    "spanje": "ES",
    "griekenland": "GR",
    "luxemburg": "LU",
    "groothertogdom luxemburg": "LU",
    "tunesie": "TN",
    "turkije": "TR",
    "joegoslavie": "yugoslavia",
}
#: The official-form words that precede a country's short name in French and Spanish
#: ("République de Croatie" is left to pycountry's fuzzy lookup on the rest).
_FOREIGN_FORM = re.compile(
    r"^(?:le |la |el |het |de )?(?:gouvernement (?:de la |du |de l'|des )?|gobierno de(?:l)? )?"
    r"(?:(?:royaume|republique|reino|republica|koninkrijk|republiek)"
    r"(?: federale| federal| islamique| islamica)?(?: de la| du| des| de l'| de| del| der)? )?",
)


def _fold(name: str) -> str:
    """Case-folded, accent-free, one space between words, typographic apostrophes plain."""
    text = unicodedata.normalize("NFKD", name.replace("’", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


@functools.lru_cache(maxsize=4096)
def country_code(name: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 code of a country named in any of the ways agreements
    name their parties, or None for a name that is not a current country.

    Lookup order: the name without "the Government of" (pycountry: English short, official
    and common names, alpha-2/alpha-3 codes); "Republic of X" as ISO's "X, Republic of"; the
    :data:`ALIASES` table (French, Spanish, Dutch and older names); the same without a
    French/Spanish/Dutch official form ("Royaume des", "República de"); last pycountry's fuzzy
    search, accepted only when the folded name is a whole name of the country it finds
    ("Cote d'Ivoire"), so a province such as "Quebec" or "Northern Ireland", which the fuzzy
    search maps to the country it lies in, stays a party of its own (whole names only).

    Args:
        name: a party as written ("Canadá", "Government of Canada", "Kingdom of the
            Netherlands", "Royaume des Pays-Bas", "CA").

    Returns:
        ``"CA"``, ``"NL"``, ...; None for historic states ("Yugoslavia"), provinces and
        organisations ("Council of Europe members").
    """
    folded = " ".join(name.replace("’", "'").split())
    bare = _PREFIX.sub("", folded)
    plain = _fold(bare)
    code = _exact_code(bare, plain)
    if code is not None:
        return code
    alias = _alias(folded, plain)
    if alias is not None:
        return alias if alias.isupper() else None
    return _fuzzy_code(plain)


def _exact_code(bare: str, plain: str) -> str | None:
    """pycountry's exact lookup of a name without "the Government of" (``bare``), of "Republic
    of X" as "X, Republic of", then of the folded name (``plain``)."""
    import pycountry  # 65 ms to import: only commands that filter by party pay it

    candidates = [bare]
    form = _FORM.match(bare)
    if form:
        candidates.append(f"{form.group(2)}, {form.group(1)} of")
    if plain and plain != bare.casefold():
        candidates.append(plain)
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2)
        except LookupError:
            continue
    return None


def _alias(folded: str, plain: str) -> str | None:
    """The :data:`ALIASES` entry of the name, of its folded form or of it without a foreign
    official form; None when none is listed."""
    for key in (_fold(folded), plain, _FOREIGN_FORM.sub("", plain)):
        code = ALIASES.get(key)
        if code is not None:
            return code
    return None


def _fuzzy_code(plain: str) -> str | None:
    """pycountry's fuzzy search, accepted only when the folded name (with or without a foreign
    official form) is a whole name of the country found."""
    import pycountry

    rest = _FOREIGN_FORM.sub("", plain)
    for candidate in dict.fromkeys((rest, plain)):
        if len(candidate) < 4:
            continue
        try:
            found = pycountry.countries.search_fuzzy(candidate)
        except LookupError:
            continue
        country = found[0]
        names = [
            _fold(str(getattr(country, attr, "")))
            for attr in ("name", "official_name", "common_name")
        ]
        if candidate in names:
            return str(country.alpha_2)
    return None


@functools.lru_cache(maxsize=4096)
def party_key(name: str) -> str:
    """Return the key that identifies a party for matching.

    Args:
        name: a party as written in a manifest, a document or a filter ("Republic of Latvia",
            "LV", " italy ", "Canadá").

    Returns:
        The ISO 3166-1 alpha-2 code (upper case, e.g. ``"LV"``) when the name is a country
        (:func:`country_code`), else the name case-folded with white space collapsed
        (``"quebec"``). Two names match when their keys are equal: "Ireland" (``IE``) is not
        "United Kingdom of Great Britain and Northern Ireland" (``GB``).
    """
    code = country_code(name)
    if code is not None:
        return code
    folded = " ".join(name.replace("’", "'").split())
    return _PREFIX.sub("", folded).casefold()
