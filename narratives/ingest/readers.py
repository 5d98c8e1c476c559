"""The dispatcher: choose a reader by file extension and source kind.

:func:`iter_files` reads one file at a time (a :class:`FileRead` each, whose documents arrive as
the file is read), so a caller can store a file before the next is opened. :func:`read_files`
reads a whole batch into memory. Neither stops at the first bad file: a file or survey row that
cannot be used is a :class:`ReadFailure`, and any error, ours or a reader library's, is one line
naming the file; notes worth showing the user (encoding guesses, how a blog file was split,
repeated columns) come with them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from narratives.errors import IngestError, NarrativesError
from narratives.ingest.attributes_file import AttributesLookup, read_attributes_file
from narratives.ingest.blogs import blog_documents
from narratives.ingest.captions import captions_document
from narratives.ingest.checks import DEFAULT_MAX_BYTES, DecodedText, read_text_checked
from narratives.ingest.docx import read_docx
from narratives.ingest.html import html_document
from narratives.ingest.pdf import read_pdf
from narratives.ingest.survey import survey_reader
from narratives.ingest.text import source_format, text_document
from narratives.ingest.transcript import looks_like_transcript, transcript_document
from narratives.schema import Document, SourceKind

logger = logging.getLogger(__name__)

TEXT_FILES = frozenset({".txt", ".md", ".markdown"})
TABLE_FILES = frozenset({".csv", ".tsv", ".xlsx"})
CAPTION_FILES = frozenset({".vtt", ".srt"})
RICH_FILES = frozenset({".docx", ".pdf", ".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_FILES | TABLE_FILES | CAPTION_FILES | RICH_FILES
MEGABYTE = 1024 * 1024
STREAMED_TABLES = frozenset({".csv", ".tsv"})
DEFAULT_MAX_STREAMED_BYTES = 4096 * MEGABYTE  # streamed: the size costs time, not memory


@dataclass
class ReadOptions:
    """How to read files; every field has a default that suits a folder of narratives."""

    kind: SourceKind | None = None  # None: survey for tables, interview for captions, else guessed
    split: str | None = None  # blog split strategy; None: "auto" when kind is blog, else no split
    id_column: str | None = None  # survey respondent id column
    text_columns: list[str] = field(default_factory=list)  # survey free-text columns
    attribute_columns: list[str] | None = None  # None: every other survey column
    sheet: str | None = None  # .xlsx sheet; None: the first
    participant: str | None = None
    wave: int | None = None
    date: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    encoding: str | None = None  # force a text encoding instead of detecting it
    attributes: AttributesLookup | None = None

    def limit_for(self, path: Path) -> int:
        """The size limit for ``path``: ``max_bytes``, except that a .csv/.tsv, which is streamed and
        never held in memory, may reach :data:`DEFAULT_MAX_STREAMED_BYTES` unless a limit was set."""
        if self.max_bytes == DEFAULT_MAX_BYTES and path.suffix.lower() in STREAMED_TABLES:
            return DEFAULT_MAX_STREAMED_BYTES
        return self.max_bytes

    @classmethod
    def from_settings(
        cls,
        *,
        kind: SourceKind | None = None,
        split: str | None = None,
        id_column: str | None = None,
        text_columns: Sequence[str] = (),
        attribute_columns: Sequence[str] | None = None,
        sheet: str | None = None,
        participant: str | None = None,
        wave: int | None = None,
        date: str | None = None,
        encoding: str | None = None,
        max_mb: float | None = None,
        attributes: str | Path | None = None,
    ) -> ReadOptions:
        """Options as a user gives them, named as `narratives ingest`'s options and a pipeline file's
        ``[[ingest]]`` keys: a size limit in megabytes (None: the default limit) and the path of an
        attributes table, which is read here with the same size limit."""
        if max_mb is not None and max_mb <= 0:
            raise IngestError(
                f"the size limit must be more than 0 megabytes, not {max_mb}.",
                fix="give --max-mb (max_mb in a pipeline file) as a positive number, e.g. 50.",
            )
        max_bytes = DEFAULT_MAX_BYTES if max_mb is None else int(max_mb * MEGABYTE)
        return cls(
            kind=kind,
            split=split,
            id_column=id_column,
            text_columns=list(text_columns),
            attribute_columns=list(attribute_columns) if attribute_columns is not None else None,
            sheet=sheet,
            participant=participant,
            wave=wave,
            date=date,
            max_bytes=max_bytes,
            encoding=encoding,
            attributes=read_attributes_file(attributes, max_bytes) if attributes else None,
        )


@dataclass(frozen=True)
class ReadFailure:
    """A file, or one row of a survey table, that could not be read, and why."""

    path: str
    row: int | None
    message: str


@dataclass
class ReadBatch:
    """What a batch read produced and what it could not."""

    documents: list[Document] = field(default_factory=list)
    failures: list[ReadFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)

    def extend(self, other: ReadBatch) -> None:
        self.documents.extend(other.documents)
        self.failures.extend(other.failures)
        self.notes.extend(other.notes)
        self.files_read.extend(other.files_read)


@dataclass
class FileRead:
    """One file being read. ``documents`` yields as the file is read; ``failures`` and ``notes`` are
    complete once it is exhausted. A failure with no row means the whole file failed: keep none of
    the documents it yielded."""

    path: str  # the file as given, exactly (the documents' paths may add a #row or #post fragment)
    documents: Iterator[Document]
    failures: list[ReadFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.row is None for f in self.failures)


FileProgress = Callable[[str, int, int], None]  # (file, bytes read, bytes in all), for big tables


def read_file(
    path: str | Path, kind: SourceKind | None = None, options: ReadOptions | None = None
) -> list[Document]:
    """Read one file; raises :class:`IngestError`. Survey row failures are logged as warnings
    (use :func:`read_files` to get them, with the notes, as data)."""
    options = options or ReadOptions()
    if kind is not None:
        options = _replace_kind(options, kind)
    failures: list[ReadFailure] = []
    try:
        documents = list(_path_documents(Path(path), options, failures, [], None))
    except NarrativesError:
        raise
    except Exception as exc:  # a reader library choking on a damaged file
        raise unexpected_error(path, exc) from exc
    for failure in failures:
        logger.warning("%s", failure.message)
    return documents


def read_files(paths: Iterable[str | Path], options: ReadOptions | None = None) -> ReadBatch:
    """Read files and folders (searched recursively); a bad file is recorded and skipped."""
    batch = ReadBatch()
    for file in iter_files(paths, options, notes=batch.notes):
        documents = list(file.documents)
        batch.failures.extend(file.failures)
        batch.notes.extend(file.notes)
        if not file.failed:
            batch.documents.extend(documents)
            batch.files_read.append(file.path)
    logger.info(
        "read %d document(s) from %d file(s), %d failure(s)",
        len(batch.documents),
        len(batch.files_read),
        len(batch.failures),
    )
    return batch


def iter_files(
    paths: Iterable[str | Path],
    options: ReadOptions | None = None,
    *,
    notes: list[str] | None = None,
    progress: FileProgress | None = None,
) -> Iterator[FileRead]:
    """Each file of ``paths`` (folders searched recursively) as a :class:`FileRead`, one at a time,
    so a caller can store one file before the next is read; notes about folders go to ``notes``."""
    options = options or ReadOptions()
    for path in expand_paths(paths, options, notes if notes is not None else []):
        yield read_path(path, options, progress)


def read_path(path: Path, options: ReadOptions, progress: FileProgress | None = None) -> FileRead:
    """One file as a :class:`FileRead`: nothing is read until its documents are; any error, ours
    or a reader library's, becomes a whole-file failure naming the file."""
    read = FileRead(str(path), iter(()))
    read.documents = _guarded(path, options, read, progress)
    return read


def unexpected_error(path: str | Path, exc: Exception) -> IngestError:
    """Our error for an exception a reader did not expect; the traceback goes to the debug log."""
    logger.debug("%s: unexpected error while reading", path, exc_info=exc)
    detail = " ".join(str(exc).split())[:200]
    return IngestError(
        f"the file could not be read ({type(exc).__name__}{': ' + detail if detail else ''}); "
        "nothing from it was stored.",
        where=path,
        fix="check the file opens in its usual program and export or save it again; if it does, "
        "report this file with the message above.",
    )


def _guarded(
    path: Path, options: ReadOptions, read: FileRead, progress: FileProgress | None
) -> Iterator[Document]:
    try:
        yield from _path_documents(path, options, read.failures, read.notes, progress)
    except NarrativesError as exc:
        read.failures.append(ReadFailure(str(path), None, str(exc)))
    except Exception as exc:  # a reader library choking on a damaged file
        read.failures.append(ReadFailure(str(path), None, str(unexpected_error(path, exc))))


def expand_paths(paths: Iterable[str | Path], options: ReadOptions, notes: list[str]) -> list[Path]:
    """Files as given, and supported files inside folders; each path once."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(_folder_files(path, options, notes))
        else:
            found.append(path)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _folder_files(folder: Path, options: ReadOptions, notes: list[str]) -> list[Path]:
    source = options.attributes.source.resolve() if options.attributes and options.attributes.source else None
    files: list[Path] = []
    skipped: list[Path] = []
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith((".", "~$")) for part in path.relative_to(folder).parts)
        if not path.is_file() or hidden or path.resolve() == source:
            continue
        (files if path.suffix.lower() in SUPPORTED_SUFFIXES else skipped).append(path)
    if skipped:
        names = ", ".join(p.name for p in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        notes.append(f"{folder}: skipped {len(skipped)} file(s) of unsupported types: {names}")
    return files


def _replace_kind(options: ReadOptions, kind: SourceKind) -> ReadOptions:
    return replace(options, kind=kind)


def _path_documents(
    path: Path,
    options: ReadOptions,
    failures: list[ReadFailure],
    notes: list[str],
    progress: FileProgress | None,
) -> Iterator[Document]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(
            f"unsupported file type '{suffix or '(none)'}'.",
            where=path,
            fix="convert it to one of: " + ", ".join(sorted(SUPPORTED_SUFFIXES)) + ".",
        )
    if suffix in TABLE_FILES:
        documents: Iterable[Document] = _table_documents(path, options, failures, notes, progress)
    else:
        documents = _read_document_file(path, options, notes)
    for document in documents:
        yield _apply_options(document, path, options)


def _table_documents(
    path: Path,
    options: ReadOptions,
    failures: list[ReadFailure],
    notes: list[str],
    progress: FileProgress | None,
) -> Iterator[Document]:
    reader = survey_reader(
        path,
        options.id_column,
        options.text_columns,
        options.attribute_columns,
        max_bytes=options.limit_for(path),
        encoding=options.encoding,
        sheet=options.sheet,
    )
    result = reader.result
    if result.encoding and result.encoding not in ("utf-8", "utf-8-sig", "ascii") and not options.encoding:
        notes.append(_encoding_note(path, result.encoding, result.encoding_confidence))
    bytes_progress = (lambda done, total: progress(str(path), done, total)) if progress else None
    try:
        yield from reader.documents(bytes_progress)
    finally:  # the reader adds notes while it reads (columns with no name but with values)
        notes.extend(result.notes)
    failures.extend(ReadFailure(str(path), f.row, f.message) for f in result.failures)
    if result.skipped_blank:
        notes.append(f"{path}: {result.skipped_blank} empty answer(s) skipped")


def _read_document_file(path: Path, options: ReadOptions, notes: list[str]) -> list[Document]:
    participant = _participant_for(path, options)
    suffix = path.suffix.lower()
    if suffix in (".docx", ".pdf"):
        reader = read_docx if suffix == ".docx" else read_pdf
        document = reader(path, options.kind or SourceKind.blog, options.max_bytes)
        return [_maybe_transcript(document, path, options, participant, notes)]
    decoded = _decoded(path, options, notes)
    if suffix in CAPTION_FILES:
        return [captions_document(decoded.text, path, participant, options.wave, notes)]
    if suffix in (".html", ".htm"):
        document = html_document(decoded.text, path, options.kind or SourceKind.blog)
        return [_maybe_transcript(document, path, options, participant, notes)]
    return _read_plain_text(decoded.text, path, options, participant, notes)


def _read_plain_text(
    text: str, path: Path, options: ReadOptions, participant: str | None, notes: list[str]
) -> list[Document]:
    kind = options.kind
    if kind == SourceKind.interview or (kind is None and looks_like_transcript(text)):
        return [_transcript(text, path, options, participant, notes)]
    if kind == SourceKind.blog or options.split not in (None, "none"):
        split = options.split or "auto"
        return blog_documents(text, path, split, notes)
    return [text_document(text, path, kind or SourceKind.blog)]


def _maybe_transcript(
    document: Document, path: Path, options: ReadOptions, participant: str | None, notes: list[str]
) -> Document:
    """Find speaker turns in a Word/PDF/web document read as (or looking like) an interview."""
    kind = options.kind
    if kind != SourceKind.interview and (kind is not None or not looks_like_transcript(document.text)):
        return document
    transcript = _transcript(document.text, path, options, participant, notes)
    return transcript.model_copy(
        update={
            "title": document.title,
            "author": document.author,
            "date": document.date,
            "source_format": document.source_format,
        }
    )


def _transcript(
    text: str, path: Path, options: ReadOptions, participant: str | None, notes: list[str]
) -> Document:
    document = transcript_document(text, path, participant, options.wave, notes=notes)
    if not document.turns:
        notes.append(f"{path}: no speaker labels found; read as one undivided transcript")
    return document


def _decoded(path: Path, options: ReadOptions, notes: list[str]) -> DecodedText:
    decoded = read_text_checked(path, options.max_bytes, options.encoding)
    if decoded.guessed and not options.encoding:
        notes.append(_encoding_note(path, decoded.encoding, decoded.confidence))
    return decoded


def _encoding_note(path: Path, encoding: str, confidence: float) -> str:
    return (
        f"{path}: not UTF-8, read as {encoding} (confidence {confidence:.2f}); if characters "
        "look wrong, re-save the file as UTF-8 or give the encoding"
    )


def _participant_for(path: Path, options: ReadOptions) -> str | None:
    if options.participant:
        return options.participant
    row = options.attributes.find(path) if options.attributes else None
    return row.participant if row else None


def _apply_options(document: Document, path: Path, options: ReadOptions) -> Document:
    """Explicit options first, then the attributes table, then what the reader found."""
    updates: dict[str, object] = {}
    if options.participant and document.kind != SourceKind.survey:
        updates["participant"] = options.participant
    if options.wave is not None:
        updates["wave"] = options.wave
    if options.date:
        updates["date"] = options.date
    if document.source_format is None:
        updates["source_format"] = source_format(path)
    if updates:
        document = document.model_copy(update=updates)
    return options.attributes.apply(document) if options.attributes else document
