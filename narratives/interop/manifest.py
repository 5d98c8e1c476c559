"""Reproducibility manifests: what made an export or a report, written beside it as JSON.

``write_manifest(project, path, command=...)`` writes ``<path>.manifest.json`` (owner-only, like the
file it describes) holding the file's size and SHA-256, the time, the command line, the project's
id and schema revision, the versions of the packages that shape the figures (read with
:mod:`importlib.metadata`, so nothing heavy is imported), the embedding and learned models with
their hashes, every codebook with its version and content hash, the latest coding run per codebook
and unit with its coders' settings, config hash and seeds. ``manifest_json`` gives the same text for
a download that writes no file (the explorer's download buttons).
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from narratives.errors import NarrativesError
from narratives.store.codebooks import codebook_content_hash, codebook_names, current_codebook
from narratives.store.coding_runs import CodingRun, coding_runs_of, config_hash
from narratives.store.files import private_file
from narratives.store.learned_models import TRAINING_CODE, learned_model_rows
from narratives.store.project import Project, redact_url, stored_revisions
from narratives.store.settings import get_setting, set_setting

MANIFEST_VERSION = 1
SUFFIX = ".manifest.json"
PACKAGES = (
    "narratives",
    "torch",
    "sentence-transformers",
    "transformers",
    "spacy",
    "bertopic",
    "scikit-learn",
    "numpy",
    "pandas",
    "scipy",
    "krippendorff",
    "altair",
    "vl-convert-python",
)
SEED_KEYS = {"seed", "random_state", "random_seed"}
PROJECT_ID_SETTING = "project_id"


def manifest_path(output_path: str | Path) -> Path:
    """Where the manifest of ``output_path`` goes: ``<output_path>.manifest.json`` beside it."""
    path = Path(output_path)
    return path.with_name(path.name + SUFFIX)


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that is running, as one shell-quoted line (``narratives report demo ...``)."""
    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = Path(args[0]).name
    return " ".join(shlex.quote(a) for a in args)


def write_manifest(
    project: Project,
    output_path: str | Path,
    *,
    command: str,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``<output_path>.manifest.json`` describing ``output_path`` and how it was made."""
    output = Path(output_path)
    data = build_manifest(project, output.name, command=command, extra=extra)
    data["file"].update(_file_facts(output))
    target = manifest_path(output)
    private_file(target).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return target


def manifest_json(
    project: Project,
    filename: str,
    *,
    command: str,
    content: bytes | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The manifest of a download called ``filename`` (its bytes in ``content``) as JSON text."""
    data = build_manifest(project, filename, command=command, extra=extra)
    if content is not None:
        data["file"].update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest())
    return json.dumps(data, indent=2, default=str) + "\n"


def build_manifest(
    project: Project, filename: str, *, command: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every field of the manifest but the file's size and hash (see the module docstring)."""
    identity = project_id(project)
    with project.connect() as connection:
        books = codebook_facts(connection)
        runs = [run for book in books for run in latest_runs(connection, book["name"])]
        data: dict[str, Any] = {
            "manifest_version": MANIFEST_VERSION,
            "file": {"name": filename},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": command,
            "project": {
                "id": identity,
                "folder": project.path.name,
                "database": redact_url(project.db_url).split(":", 1)[0],
                "schema_revisions": stored_revisions(connection),
            },
            "python": platform.python_version(),
            "packages": package_versions(),
            "models": model_facts(connection, runs),
            "codebooks": books,
            "coding_runs": [run_facts(run) for run in runs],
            "seeds": sorted({seed for run in runs for seed in find_seeds(run.config)}),
        }
    data["extra"] = dict(extra or {})
    return data


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None where not installed), without importing them."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def project_id(project: Project) -> str:
    """The project's stable id: a UUID kept in its settings, made the first time it is asked for."""
    with project.connect() as connection:
        known = get_setting(connection, PROJECT_ID_SETTING)
    if known:
        return str(known)
    made = str(uuid.uuid4())
    try:
        with project.begin("the project id") as connection:
            if not get_setting(connection, PROJECT_ID_SETTING):
                set_setting(connection, PROJECT_ID_SETTING, made)
            return str(get_setting(connection, PROJECT_ID_SETTING))
    except NarrativesError:  # a database this user may only read: an id for this manifest only
        return f"unsaved-{made}"


def codebook_facts(connection: Connection) -> list[dict[str, Any]]:
    """Name, title, version, content hash and code counts of every codebook in the project."""
    facts = []
    for name in codebook_names(connection):
        book = current_codebook(connection, name)
        facts.append(
            {
                "name": book.name,
                "title": book.title,
                "version": book.version,
                "hash": codebook_content_hash(book),
                "codes": len(book.active_codes),
                "retired_codes": len(book.codes) - len(book.active_codes),
            }
        )
    return facts


def latest_runs(connection: Connection, codebook: str) -> list[CodingRun]:
    """The newest finished coding run of ``codebook`` per segment unit."""
    newest: dict[str | None, CodingRun] = {}
    for run in coding_runs_of(connection, codebook):
        if run.finished is not None:
            newest[run.unit] = run
    return list(newest.values())


def run_facts(run: CodingRun) -> dict[str, Any]:
    """A coding run's provenance: codebook version, unit, model, coders' settings, config hash."""
    config = run.config
    coders = [c for c in config.get("coders", []) if isinstance(c, dict)]
    if isinstance(config.get("ensemble"), dict):
        coders.append(config["ensemble"])
    return {
        "id": run.id,
        "codebook": run.codebook,
        "codebook_version": run.codebook_version,
        "unit": run.unit,
        "model": run.model,
        "config_hash": run.config_hash,
        "coders": [
            {"coder": c.get("coder"), "version": c.get("version"), "config_hash": config_hash(c), "config": c}
            for c in coders
        ],
        "settings": config.get("settings", {}),
        "training_digest": config.get("training_digest"),
        "by": run.user,
        "started": run.started,
        "finished": run.finished,
    }


def find_seeds(value: Any) -> Iterator[int]:
    """Every integer under a seed-like key (seed, random_state) anywhere in a config."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in SEED_KEYS and isinstance(item, int) and not isinstance(item, bool):
                yield item
            else:
                yield from find_seeds(item)
    elif isinstance(value, list):
        for item in value:
            yield from find_seeds(item)


def model_facts(connection: Connection, runs: Sequence[CodingRun]) -> list[dict[str, Any]]:
    """The embedding models the coding runs used, with a hash of their weights, and the learned
    models' training digests."""
    names = sorted({run.model for run in runs if run.model})
    facts: list[dict[str, Any]] = [{"kind": "embedding", "name": n, **embedding_model_hash(n)} for n in names]
    for row in learned_model_rows(connection):
        if row.code_id == TRAINING_CODE:  # one row per training; its codes' estimators follow it
            facts.append(
                {
                    "kind": "learned",
                    "codebook": row.codebook,
                    "embedding_model": row.model,
                    "digest": row.card.get("digest"),
                    "codes": len(row.card.get("fitted_codes", [])),
                    "trained": row.created,
                }
            )
    return facts


def embedding_model_hash(name: str) -> dict[str, Any]:
    """Where ``name``'s weights come from and their SHA-256, read from the installed package's
    RECORD (the bundled default) or hashed from a local folder; ``sha256`` is None when unknown."""
    from narratives.embed import DEFAULT_NAMES, DEFAULT_PACKAGE

    if name in DEFAULT_NAMES:
        package = DEFAULT_PACKAGE.split("==")[0]
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            return {"source": package, "sha256": None}
        weights = [f for f in dist.files or [] if f.name in {"model.safetensors", "pytorch_model.bin"}]
        digest = _record_hex(weights[0].hash.value) if weights and weights[0].hash else None
        return {"source": f"{package}=={dist.version}", "sha256": digest}
    from narratives.embed_static import static_model_folder

    folder = static_model_folder(name) or Path(name)  # a distilled model is named, not a path
    for weights_name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / weights_name).is_file():
            return {"source": str(folder), "sha256": _sha256_file(folder / weights_name)}
    return {"source": name, "sha256": None}


def _record_hex(value: str) -> str:
    """A wheel RECORD hash (urlsafe base64, no padding) as hex."""
    import base64

    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_facts(path: Path) -> dict[str, Any]:
    if path.is_dir():  # a folder of files (deidentify-export): what it holds, each with its hash
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.endswith(SUFFIX))
        return {
            "folder": True,
            "files": [{"name": str(p.relative_to(path)), "sha256": _sha256_file(p)} for p in files],
        }
    if not path.is_file():
        return {"bytes": None, "sha256": None}
    return {"bytes": path.stat().st_size, "sha256": _sha256_file(path)}
