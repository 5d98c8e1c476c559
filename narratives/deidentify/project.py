"""De-identification in a project: its settings (attributes, ``deidentify.toml``, salt), the redactor
that reports, panels and exports call, and a scan of what would be replaced.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from sqlalchemy import Connection

from narratives.deidentify.rules import (
    DeidentifiedText,
    Replacement,
    Span,
    Style,
    deidentify_texts,
    find_identifiers,
)
from narratives.errors import ProjectError
from narratives.store.documents import (
    attribute_rows,
    author_names,
    document_texts,
    first_content_hash,
    participant_keys,
)
from narratives.store.project import Project
from narratives.store.settings import get_setting

SETTINGS_FILE = "deidentify.toml"
SALT_KEY = "deidentify.salt"
NAME_KEYS = {"name", "full_name", "first_name", "last_name", "surname", "participant_name", "pa", "pa_name"}
NAME_KEYS |= {"carer_name", "worker_name", "social_worker", "key_worker", "keyworker"}
PLACE_KEYS = {"council", "council_name", "local_authority", "authority", "la", "borough", "district"}
PLACE_KEYS |= {"county", "town", "city", "village", "place", "location", "locality"}
NOT_PROPER = {"yes", "no", "true", "false", "none", "n/a", "na", "unknown", "other", "missing", "-"}


@dataclass(frozen=True)
class DeidentificationSettings:
    """What a project de-identifies beyond the built-in rules, and how (see the module docstring)."""

    names: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    style: Style = "brackets"
    salt: str = ""

    def apply(self, text: str) -> DeidentifiedText:
        (done,) = self.apply_all([text])
        return done

    def apply_all(self, texts: Sequence[str]) -> list[DeidentifiedText]:
        """:meth:`apply` for each of ``texts``, with the NER run once over them all."""
        return deidentify_texts(
            texts,
            known_names=self.names,
            known_places=self.places,
            keep=self.keep,
            style=self.style,
            salt=self.salt,
        )

    def find(self, text: str) -> list[Span]:
        return find_identifiers(text, known_names=self.names, known_places=self.places, keep=self.keep)


def _proper_noun(value: object) -> TypeGuard[str]:
    """A value that reads like a name or a place: letters, each main word capitalised."""
    if (
        not isinstance(value, str)
        or not 1 < len(value.strip()) <= 80
        or value.strip().casefold() in NOT_PROPER
    ):
        return False
    words = value.split()
    return all(not any(c.isdigit() for c in w) for w in words) and all(
        w[0].isupper() or w in {"upon", "on", "under", "le", "de", "and", "of", "in", "the"} for w in words
    )


def project_folder(connection: Connection) -> Path | None:
    """The project folder of a SQLite project database (where ``deidentify.toml`` lives), if known."""
    url = connection.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    folder = Path(url.database).parent
    return folder if (folder / "narratives.toml").exists() else None


def _settings_file(folder: Path | None) -> dict[str, Any]:
    path = folder / SETTINGS_FILE if folder is not None else None
    if path is None or not path.exists():
        return {}
    try:
        found = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProjectError(f"cannot read the de-identification settings ({error}).", where=path) from None
    for key in ("names", "places", "keep"):
        if not isinstance(found.get(key, []), list) or not all(
            isinstance(v, str) for v in found.get(key, [])
        ):
            raise ProjectError(f"'{key}' must be a list of quoted words.", where=path, fix=f'{key} = ["..."]')
    if found.get("style", "brackets") not in ("brackets", "consistent"):
        raise ProjectError('\'style\' must be "brackets" or "consistent".', where=path)
    return found


def _salt(connection: Connection) -> str:
    """The stored salt, else one derived from the project's first document (stable, not guessable)."""
    stored = get_setting(connection, SALT_KEY)
    if stored:
        return str(stored)
    first = first_content_hash(connection)
    return hashlib.sha256(f"narratives.deidentify\x1f{first or ''}".encode()).hexdigest()


def settings_from_connection(connection: Connection, folder: Path | None = None) -> DeidentificationSettings:
    """Known names and places from the project's attributes, participants and authors, plus its file.

    Participant keys such as ``P03`` are pseudonyms already and left alone; a key that reads like a
    personal name ("Daniel Smith") is treated as one. ``folder`` defaults to the SQLite project's.
    """
    names: set[str] = set()
    places: set[str] = set()
    for key, value in {(row.key, row.value) for row in attribute_rows(connection)}:
        normal = str(key).strip().casefold().replace(" ", "_")
        if _proper_noun(value) and normal in PLACE_KEYS:
            places.add(value)
        elif _proper_noun(value) and (normal in NAME_KEYS or normal.endswith("_name")):
            names.add(value)
    people = [*participant_keys(connection), *author_names(connection)]
    names.update(v for v in people if _proper_noun(v) and v.replace(" ", "").isalpha())
    found = _settings_file(folder if folder is not None else project_folder(connection))
    return DeidentificationSettings(
        names=tuple(sorted(names | set(found.get("names", [])))),
        places=tuple(sorted(places | set(found.get("places", [])))),
        keep=tuple(found.get("keep", [])),
        style=found.get("style", "brackets"),
        salt=str(found.get("salt") or _salt(connection)),
    )


def deidentification_settings(project: Project) -> DeidentificationSettings:
    """The project's settings: :func:`settings_from_connection` with ``PROJECT/deidentify.toml``."""
    with project.connect() as connection:
        return settings_from_connection(connection, folder=project.path)


def text_redactor(
    connection: Connection, deidentify: bool | DeidentificationSettings
) -> Callable[[str], str]:
    """What output code calls on each piece of text: de-identifies it, or returns it as it is."""
    redact_all = texts_redactor(connection, deidentify)
    return lambda text: redact_all([text])[0]


def texts_redactor(
    connection: Connection, deidentify: bool | DeidentificationSettings
) -> Callable[[Sequence[Any]], list[Any]]:
    """:func:`text_redactor` for many values at once (a column of an export): the texts among them
    are de-identified together, with the NER run once over them all; other values stay as they are."""
    if deidentify is False:
        return list
    found = (
        deidentify
        if isinstance(deidentify, DeidentificationSettings)
        else settings_from_connection(connection)
    )

    def redact_all(values: Sequence[Any]) -> list[Any]:
        done = list(values)
        at = [i for i, value in enumerate(done) if isinstance(value, str)]
        for i, result in zip(at, found.apply_all([done[i] for i in at]), strict=True):
            done[i] = result.text
        return done

    return redact_all


# ------------------------------------------------------------------------------------------ previews


@dataclass
class Finding:
    document_id: int
    replacement: Replacement
    context: str  # the original text around it


@dataclass
class DeidentificationScan:
    """What de-identifying a project's documents would replace (nothing is changed)."""

    documents: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    examples: list[Finding] = field(default_factory=list)


def scan_documents(
    connection: Connection,
    found: DeidentificationSettings,
    *,
    document_ids: Sequence[int] | None = None,
    examples: int = 10,
    context: int = 30,
) -> DeidentificationScan:
    """Counts by kind over the current documents (or ``document_ids``), and the first ``examples``."""
    scan = DeidentificationScan()
    for document_id, _, text, _, _ in document_texts(connection, ids=document_ids):
        scan.documents += 1
        for replaced in found.apply(text).replacements:
            scan.counts[replaced.kind] += 1
            if len(scan.examples) < examples:
                around = text[max(0, replaced.start - context) : replaced.end + context]
                scan.examples.append(Finding(int(document_id), replaced, " ".join(around.split())))
    return scan
