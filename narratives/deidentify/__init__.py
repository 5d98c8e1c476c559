"""De-identifying quotes before they leave the research team (reports, panels, exports).

:func:`find_identifiers` finds personal details with exact offsets (``text[start:end] == span.text``):
email addresses, UK phone numbers, UK postcodes, NHS numbers (check digit validated), National
Insurance numbers, full dates, street addresses, links and @handles, people's names (a title and a
capitalised word, a common first name with or without a surname, names the project knows) and places
the project knows (its councils). :func:`pseudonymise` replaces them with ``[name]``, ``[phone]``, ...
or with consistent pseudonyms (``Person KQXB``) stable within a project through a salted hash.

It is rule-based, not a trained model: it finds what matches its patterns and lists, and misses
what does not (an unusual first name on its own, a town the project never named, "my neighbour at
number 12"). Read a sample before sharing; add names and places to ``PROJECT/deidentify.toml``::

    names = ["Kev", "Lorna"]        # always redacted as names
    places = ["Peterborough"]       # always redacted as places
    keep = ["Hope"]                 # never redacted
    style = "consistent"            # or "brackets" (the default)

For data that leaves the team as a whole, :mod:`narratives.interop.deidentified_export` writes documents,
segments and codings with numbered pseudonyms (``[Person 3]``, :mod:`.pseudonyms`) kept in an
encrypted key apart from the project (:mod:`.key`), with offsets carried onto the new text;
:mod:`narratives.analysis.small_groups` warns when a quote's speaker is one of fewer than 5 people in a group.
"""

from narratives.deidentify.key import KeyEntry, PseudonymKey, read_key, write_key
from narratives.deidentify.project import (
    SALT_KEY,
    SETTINGS_FILE,
    DeidentificationScan,
    DeidentificationSettings,
    Finding,
    deidentification_settings,
    project_folder,
    scan_documents,
    settings_from_connection,
    text_redactor,
    texts_redactor,
)
from narratives.deidentify.pseudonyms import (
    MappedText,
    OffsetMap,
    PseudonymBook,
    deidentify_document,
)
from narratives.deidentify.rules import (
    LABELS,
    DeidentifiedText,
    Replacement,
    Span,
    Style,
    deidentify_text,
    deidentify_texts,
    find_identifiers,
    first_names,
    nhs_number_valid,
    pseudonym,
    pseudonymise,
)

__all__ = [
    "LABELS",
    "SALT_KEY",
    "SETTINGS_FILE",
    "DeidentificationScan",
    "DeidentificationSettings",
    "DeidentifiedText",
    "Finding",
    "KeyEntry",
    "MappedText",
    "OffsetMap",
    "PseudonymBook",
    "PseudonymKey",
    "Replacement",
    "Span",
    "Style",
    "deidentification_settings",
    "deidentify_document",
    "deidentify_text",
    "deidentify_texts",
    "find_identifiers",
    "first_names",
    "nhs_number_valid",
    "project_folder",
    "pseudonym",
    "pseudonymise",
    "read_key",
    "scan_documents",
    "settings_from_connection",
    "text_redactor",
    "texts_redactor",
    "write_key",
]
