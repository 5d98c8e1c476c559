"""The reversible key: which numbered pseudonym stands for which original words, kept encrypted.

A :class:`PseudonymKey` lists every pseudonym given out (``[Person 3]``, ``[Place 1]``) with the
original words it replaced, and the project's salt. It is what makes the pseudonyms consistent from
one export to the next (numbers already given are kept, new people get the next number) and what
lets a researcher holding the passphrase re-identify a quote.

On disk it is JSON around a Fernet token (AES-128-CBC with HMAC-SHA256) whose key is derived from the
passphrase with scrypt; a check value derived from the same passphrase tells a wrong passphrase
from a damaged file. It is written owner-only (0600), and never inside the project folder: the key
must be kept apart from the data it re-identifies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narratives.errors import DeidentificationKeyError
from narratives.store.files import private_folder, write_private

FORMAT = "narratives-pseudonym-key"
VERSION = 1
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE = 8
# The kinds of detail that get a numbered pseudonym (others keep their label: "[phone]"), and the
# one kind each is kept under in the key, so that one number is never given to two people.
PREFIXES = {"name": "Person", "person": "Person", "place": "Place", "town": "Place", "city": "Place"}
PREFIXES |= {"organisation": "Organisation", "organization": "Organisation", "council": "Council"}
PREFIXES |= {"care_home": "Organisation", "hospital": "Organisation", "service": "Organisation"}
KEY_KIND = {"Person": "name", "Place": "place", "Council": "council", "Organisation": "organisation"}


@dataclass
class KeyEntry:
    """One pseudonym: its kind, its number, and the original words it stands for (first seen first)."""

    kind: str
    number: int
    originals: list[str] = field(default_factory=list)

    @property
    def pseudonym(self) -> str:
        return f"[{PREFIXES.get(self.kind, self.kind.title())} {self.number}]"

    def add(self, original: str) -> None:
        """Remember another way the same person or place was written (case-insensitively new)."""
        original = " ".join(original.split())
        if original and original.casefold() not in {o.casefold() for o in self.originals}:
            self.originals.append(original)


@dataclass
class PseudonymKey:
    """Every pseudonym given out in a project, with the project's salt."""

    salt: str = ""
    entries: list[KeyEntry] = field(default_factory=list)

    def next_number(self, kind: str) -> int:
        return 1 + max((e.number for e in self.entries if e.kind == kind), default=0)

    def find(self, pseudonym: str) -> KeyEntry | None:
        """The entry of ``[Person 3]`` (brackets and case optional), or None."""
        wanted = " ".join(pseudonym.strip().strip("[]").split()).casefold()
        return next((e for e in self.entries if e.pseudonym.strip("[]").casefold() == wanted), None)

    def reidentify(self, text: str) -> str:
        """``text`` with each pseudonym of this key replaced by the first original it stands for."""
        for entry in sorted(self.entries, key=lambda e: len(e.pseudonym), reverse=True):
            if entry.originals:
                text = text.replace(entry.pseudonym, entry.originals[0])
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "salt": self.salt,
            "entries": [{"kind": e.kind, "number": e.number, "originals": e.originals} for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PseudonymKey:
        entries = [
            KeyEntry(str(e["kind"]), int(e["number"]), [str(o) for o in e["originals"]])
            for e in data["entries"]
        ]
        return cls(str(data.get("salt", "")), entries)


def _derive(passphrase: str, salt: bytes) -> tuple[bytes, str]:
    """A Fernet key and a check value, both from the passphrase (scrypt, 64 bytes split in two)."""
    derived = hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=2**26, dklen=64
    )
    return base64.urlsafe_b64encode(derived[:32]), hashlib.sha256(derived[32:]).hexdigest()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def write_key(
    path: Path, key: PseudonymKey, passphrase: str, *, keep_apart_from: Sequence[Path] = ()
) -> Path:
    """Encrypt ``key`` with ``passphrase`` into ``path`` (0600).

    Refused inside any folder of ``keep_apart_from`` (the project, the de-identified export)."""
    from cryptography.fernet import Fernet

    path = Path(path)
    for folder in keep_apart_from:
        if _inside(path, folder):
            raise DeidentificationKeyError(
                f"the key re-identifies everyone in the data, so it is not kept inside {folder}.",
                where=path,
                fix="name a file outside the project and the export, somewhere only the research team can reach.",
            )
    if len(passphrase) < MIN_PASSPHRASE:
        raise DeidentificationKeyError(
            f"the passphrase is shorter than {MIN_PASSPHRASE} characters.",
            where=path,
            fix="choose a longer one.",
        )
    salt = os.urandom(16)
    secret, check = _derive(passphrase, salt)
    token = Fernet(secret).encrypt(json.dumps(key.to_json(), ensure_ascii=False).encode("utf-8"))
    envelope = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
        "salt": base64.b64encode(salt).decode("ascii"),
        "check": check,
        "token": token.decode("ascii"),
    }
    try:
        if not path.parent.exists():
            private_folder(path.parent)
        write_private(path, json.dumps(envelope, indent=1) + "\n")
    except OSError as error:
        raise DeidentificationKeyError(
            f"cannot write the key file ({error.strerror}).",
            where=path,
            fix="choose a folder you can write to.",
        ) from None
    return path


def key_for_project(key: PseudonymKey, salt: str, where: Path) -> PseudonymKey:
    """``key`` if it was made for the project whose salt is ``salt`` (or has none yet), else an error."""
    if key.salt and key.salt != salt:
        raise DeidentificationKeyError(
            "this key was made for another project: its numbers would not match this one's.",
            where=where,
            fix="use the key made for this project, or name a new key file.",
        )
    key.salt = salt
    return key


def _damaged(path: Path, what: str) -> DeidentificationKeyError:
    return DeidentificationKeyError(
        f"the key file is damaged ({what}).",
        where=path,
        fix="use an untouched copy of the key file (keep a backup of it apart from the project).",
    )


def read_key(path: Path, passphrase: str) -> PseudonymKey:
    """Decrypt the key at ``path``; a wrong passphrase or a damaged file is a DeidentificationKeyError."""
    from cryptography.fernet import Fernet, InvalidToken

    path = Path(path)
    try:
        envelope = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeidentificationKeyError(
            "there is no key file here.", where=path, fix="check the path."
        ) from None
    except OSError as error:
        raise DeidentificationKeyError(
            f"cannot read the key file ({error.strerror}).",
            where=path,
            fix="check the path and its permissions.",
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _damaged(path, "not a key file's JSON") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise _damaged(path, "not a narratives pseudonym key")
    try:
        kdf = envelope["kdf"]
        salt = base64.b64decode(envelope["salt"], validate=True)
        check, token = str(envelope["check"]), str(envelope["token"]).encode("ascii")
        if (kdf["n"], kdf["r"], kdf["p"]) != (SCRYPT_N, SCRYPT_R, SCRYPT_P):
            raise ValueError("unknown settings")
    except (KeyError, TypeError, ValueError, UnicodeEncodeError):
        raise _damaged(path, "a field is missing or changed") from None
    secret, expected = _derive(passphrase, salt)
    if check != expected:
        raise DeidentificationKeyError(
            "wrong passphrase for this key file.",
            where=path,
            fix="type the passphrase the key was made with.",
        )
    try:
        return PseudonymKey.from_json(json.loads(Fernet(secret).decrypt(token)))
    except (InvalidToken, json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise _damaged(path, "the encrypted part was changed") from None
