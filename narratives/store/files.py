"""Files and folders for their owner only, whatever the umask says.

A project holds what people told the researchers: its folder, its database, its settings and
everything written from it later (exports, reports, backups, saved models) are made readable and
writable by the owner alone. A file is created owner-only *before* anything is written into it, so
there is no moment when another account could open it.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def private_folder(folder: Path) -> Path:
    """Make ``folder`` (and missing parents) and set it to owner-only; returns it."""
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    folder.chmod(PRIVATE_FOLDER)  # mkdir's mode is cut by the umask, and a folder may exist already
    return folder


def private_file(path: str | Path) -> Path:
    """Make ``path`` an empty-or-existing owner-only file, ready for any writer to open with "w"
    (opening an existing file keeps its mode); its parent folders are created if missing. Returns it.

    Call it just before writing an export: ``frame.to_csv(private_file(target))``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    path.chmod(PRIVATE_FILE)  # a file that existed keeps the mode it had unless told
    return path


def write_private(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) into an owner-only file, replacing what was there all at
    once: it goes to a private temporary file beside it first, so a crash leaves the old or the new."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(PRIVATE_FILE)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def make_private(*files: Path) -> None:
    """Set files that exist to owner-only (the -wal and -shm files SQLite made, say)."""
    for file in files:
        if file.exists():
            file.chmod(PRIVATE_FILE)
