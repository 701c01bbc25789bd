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

#: Leading words that do not change which party is meant ("the Government of Canada").
_PREFIX = re.compile(r"^(?:the\s+)?(?:government\s+of\s+)?(?:the\s+)?", re.IGNORECASE)
#: "Republic of Korea" is listed by ISO as "Korea, Republic of".
_FORM = re.compile(
    r"^((?:\w+\s+)*?(?:republic|kingdom|state|states|federation))\s+of\s+(.+)$", re.I
)


@functools.lru_cache(maxsize=4096)
def party_key(name: str) -> str:
    """Return the key that identifies a party for matching.

    Args:
        name: a party as written in a manifest, a document or a filter ("Republic of Latvia",
            "LV", " italy ").

    Returns:
        The ISO 3166-1 alpha-2 code (upper case, e.g. ``"LV"``) when the name is a country
        ISO knows, else the name case-folded with white space collapsed (``"quebec"``). Two
        names match when their keys are equal: "Ireland" (``IE``) is not "United Kingdom of
        Great Britain and Northern Ireland" (``GB``).
    """
    import pycountry  # 65 ms to import: only commands that filter by party pay it

    folded = " ".join(name.replace("’", "'").split())
    bare = _PREFIX.sub("", folded)
    candidates = [bare]
    form = _FORM.match(bare)
    if form:
        candidates.append(f"{form.group(2)}, {form.group(1)} of")
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2)
        except LookupError:
            continue
    return bare.casefold()
