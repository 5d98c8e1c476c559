"""Hostile .docx/.xlsx/.pdf files are refused with our error, quickly and in little memory, and the
fuzzer (evals/fuzz_readers.py) finds no exception outside NarrativesError and no hang."""

from __future__ import annotations

import importlib.util
import io
import json
import random
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from narratives.errors import IngestError
from narratives.ingest.archives import ArchiveLimits, check_office_archive
from narratives.ingest.docx import read_docx
from narratives.ingest.readers import ReadOptions, read_file, read_files
from narratives.ingest.text import guess_title
from tests.builders.pdf import minimal_pdf

ROOT = Path(__file__).resolve().parents[2]
MEGABYTE = 1024 * 1024
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOC_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {W_NS}><w:body>'.encode()
DOC_TAIL = b"</w:body></w:document>"
SURVEY = ReadOptions(id_column="respondent", text_columns=["answer"])


def _load_fuzzer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_readers", ROOT / "evals" / "fuzz_readers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_readers"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


fuzz_readers = _load_fuzzer()
SEEDS = fuzz_readers.seed_files()


# ---------------------------------------------------------------- building bombs without the memory


class _RepeatingDeflate:
    """A raw-deflate compressor that compresses ``chunk`` once and repeats the result.

    Every write ends with a full flush (byte-aligned, no reference to earlier data), so the repeated
    blocks form a valid deflate stream: the member inflates to exactly the bytes written, with a
    correct CRC, while building a 2 GB member costs only the CRC of 2 GB (well under a second)."""

    def __init__(self, chunk: bytes) -> None:
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._chunk = chunk
        self._chunk_deflated: bytes | None = None

    def compress(self, data: bytes) -> bytes:
        if data == self._chunk and self._chunk_deflated is not None:
            return self._chunk_deflated
        out = self._deflate.compress(data) + self._deflate.flush(zlib.Z_FULL_FLUSH)
        if data == self._chunk:
            self._chunk_deflated = out
        return out

    def flush(self) -> bytes:
        return self._deflate.flush(zlib.Z_FINISH)


def write_repeating_member(
    archive: zipfile.ZipFile, name: str, head: bytes, chunk: bytes, repeats: int, tail: bytes
) -> None:
    """Write ``head + chunk * repeats + tail`` as one deflated member, in chunks (never in memory)."""
    with archive.open(name, "w", force_zip64=True) as member:
        member._compressor = _RepeatingDeflate(chunk)  # type: ignore[attr-defined]
        member.write(head)
        for _ in range(repeats):
            member.write(chunk)
        member.write(tail)


def office_with(
    path: Path,
    seed: bytes,
    replace: dict[str, bytes | None] | None = None,
    repeating: tuple[str, bytes, bytes, int, bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A copy of the ``seed`` .docx/.xlsx with members replaced (None: removed), one repeating member
    (name, head, chunk, repeats, tail) in place of the member of that name, and extra members."""
    replace = dict(replace or {})
    skip = set(replace) | ({repeating[0]} if repeating else set())
    with zipfile.ZipFile(io.BytesIO(seed)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename not in skip:
                out.writestr(info.filename, source.read(info))
        for name, content in replace.items():
            if content is not None:
                out.writestr(name, content)
        for name, content in (extra or {}).items():
            out.writestr(name, content)
        if repeating:
            write_repeating_member(out, *repeating)
    return path


def paragraph_chunk() -> bytes:
    paragraph = b"<w:p><w:r><w:t>The day centre closed last year.</w:t></w:r></w:p>"
    return paragraph * (MEGABYTE // len(paragraph))


def two_gb_of_paragraphs(tmp_path: Path) -> Path:
    return office_with(
        tmp_path / "paragraphs-bomb.docx",
        SEEDS["docx"][0],
        repeating=("word/document.xml", DOC_HEAD, paragraph_chunk(), 2048, DOC_TAIL),
    )


def two_gb_text_node(tmp_path: Path) -> Path:
    return office_with(
        tmp_path / "text-node-bomb.docx",
        SEEDS["docx"][0],
        repeating=(
            "word/document.xml",
            DOC_HEAD + b"<w:p><w:r><w:t>",
            b"a" * MEGABYTE,
            2048,
            b"</w:t></w:r></w:p>" + DOC_TAIL,
        ),
    )


def text_node_of_150_mb_within_the_ratio(tmp_path: Path) -> Path:
    """Each KB: 40 random letters, then the letter a; deflate squeezes it about 25:1, under 200:1."""
    rng = random.Random(0)
    chunk = b"".join(
        bytes(rng.choice(b"bcdefghijklmnopqrstuvwxyz") for _ in range(40)) + b"a" * 984 for _ in range(1024)
    )
    return office_with(
        tmp_path / "long-run.docx",
        SEEDS["docx"][0],
        repeating=(
            "word/document.xml",
            DOC_HEAD + b"<w:p><w:r><w:t>",
            chunk,
            150,
            b"</w:t></w:r></w:p>" + DOC_TAIL,
        ),
    )


# ---------------------------------------------------------------- zip bombs


def test_bomb_builder_writes_a_zip_that_inflates_to_what_was_written(tmp_path: Path) -> None:
    chunk = paragraph_chunk()
    path = office_with(
        tmp_path / "small.docx",
        SEEDS["docx"][0],
        repeating=("word/document.xml", DOC_HEAD, chunk, 3, DOC_TAIL),
    )
    with zipfile.ZipFile(path) as archive:
        assert archive.read("word/document.xml") == DOC_HEAD + chunk * 3 + DOC_TAIL  # CRC checked too
    assert "The day centre closed last year." in read_docx(path).text


def test_bombs_are_refused_naming_the_part_in_little_memory(tmp_path: Path) -> None:
    bombs = {
        "paragraphs": two_gb_of_paragraphs(tmp_path),
        "text node": two_gb_text_node(tmp_path),
        "150 MB run": text_node_of_150_mb_within_the_ratio(tmp_path),
    }
    for path in bombs.values():
        assert path.stat().st_size < 50 * MEGABYTE  # within the file size limit: the archive check refuses
    # A fresh process, so its peak memory is the refusals' own (the import of the readers included).
    script = textwrap.dedent(
        """
        import json, resource, sys, time
        from narratives.errors import IngestError
        from narratives.ingest.docx import read_docx
        report = {}
        for path in sys.argv[1:]:
            started = time.perf_counter()
            try:
                read_docx(path)
                report[path] = ["read", 0.0]
            except IngestError as exc:
                report[path] = [str(exc), time.perf_counter() - started]
        try:  # this process's own peak: Linux's ru_maxrss keeps the forking parent's (pytest's)
            status = open("/proc/self/status").read()
            report["peak_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
        except (OSError, IndexError):
            report["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(report))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, bombs.values())], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout)
    assert report["peak_mb"] < 200, report
    paragraphs, text_node, long_run = (report[str(path)][0] for path in bombs.values())
    for message in (paragraphs, text_node):
        assert "word/document.xml" in message and "expands" in message and "Fix:" in message
    assert str(bombs["paragraphs"]) in paragraphs
    assert "word/document.xml" in long_run and "run of text longer than 10 million" in long_run, long_run


def test_too_much_uncompressed_data_in_all_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "many-parts.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(21):  # 21 x 10 MB: each part under the ratio check, 210 MB in all
            write_repeating_member(archive, f"word/media/part{n}.bin", b"", b"\0" * MEGABYTE, 10, b"")
    with pytest.raises(IngestError, match=r"expands to 210 MB, more than the limit of 200 MB"):
        read_docx(path)


def test_xlsx_bomb_in_shared_strings_is_refused(tmp_path: Path) -> None:
    head = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    )
    path = office_with(
        tmp_path / "bomb.xlsx",
        SEEDS["xlsx"][0],
        repeating=("xl/sharedStrings.xml", head, b"b" * MEGABYTE, 1024, b"</t></si></sst>"),
    )
    with pytest.raises(IngestError, match=r"xl/sharedStrings.xml.*expands") as caught:
        read_file(path, options=SURVEY)
    assert str(path) in str(caught.value)


# ---------------------------------------------------------------- structure and entities

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "lol">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    + f"<w:document {W_NS}><w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body></w:document>".encode()
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&x;</t></si></sst>'
)


@pytest.mark.parametrize(
    ("seed", "replace", "extra", "expected"),
    [
        (
            "docx",
            {"word/document.xml": BILLION_LAUGHS},
            {},
            r"'word/document.xml' declares a DTD or entities",
        ),
        ("xlsx", {"xl/sharedStrings.xml": EXTERNAL_ENTITY}, {}, r"'xl/sharedStrings.xml' declares a DTD"),
        ("docx", {}, {"word/inner.zip": b"PK\x03\x04rest"}, r"'word/inner.zip' is an archive inside"),
        ("docx", {}, {"word/blob.bin": b"PK\x03\x04rest"}, r"'word/blob.bin' is an archive inside"),
        ("docx", {}, {"../evil.xml": b"<a/>"}, r"'../evil.xml' points outside the archive"),
        ("docx", {}, {"/etc/cron.xml": b"<a/>"}, r"'/etc/cron.xml' points outside the archive"),
        (
            "docx",
            {"word/document.xml": b"<w:document><w:body>"},
            {},
            r"'word/document.xml' is not readable XML",
        ),
        (
            "docx",
            {
                "word/document.xml": f"<w:document {W_NS}>".encode()
                + b"<x>" * 300
                + b"</x>" * 300
                + b"</w:document>"
            },
            {},
            r"nested more than 256 deep",
        ),
    ],
)
def test_hostile_structure_is_refused_naming_the_part(
    tmp_path: Path, seed: str, replace: dict[str, bytes | None], extra: dict[str, bytes], expected: str
) -> None:
    path = office_with(tmp_path / f"hostile.{seed}", SEEDS[seed][0], replace=replace, extra=extra)
    with pytest.raises(IngestError, match=expected) as caught:
        read_file(path, options=SURVEY if seed == "xlsx" else None)
    assert str(path) in str(caught.value) and "Fix:" in str(caught.value)


def test_an_embedded_workbook_in_a_word_document_is_allowed(tmp_path: Path) -> None:
    path = office_with(
        tmp_path / "chart.docx",
        SEEDS["docx"][0],
        extra={"word/embeddings/Microsoft_Excel_Sheet1.xlsx": SEEDS["xlsx"][0]},
    )
    assert "the days are long" in read_docx(path).text


def test_member_and_element_limits(tmp_path: Path) -> None:
    data = SEEDS["docx"][0]
    members = len(zipfile.ZipFile(io.BytesIO(data)).infolist())
    check = dict(what="Word (.docx) file", resave_fix="save it again.")
    with pytest.raises(IngestError, match=rf"holds {members} parts, more than the limit of 5"):
        check_office_archive(data, "a.docx", limits=ArchiveLimits(max_members=5), **check)
    with pytest.raises(IngestError, match=r"more than 50 XML elements \(limit reached in part"):
        check_office_archive(data, "a.docx", limits=ArchiveLimits(max_elements=50), **check)
    check_office_archive(data, "a.docx", limits=ArchiveLimits(), **check)  # the seed itself passes


# ---------------------------------------------------------------- library errors become ours


@pytest.mark.parametrize(
    ("suffix", "damage"),
    [
        ("docx", lambda: office_with_bytes(SEEDS["docx"][0], {"word/document.xml": None})),
        ("docx", lambda: office_with_bytes(SEEDS["docx"][0], {"[Content_Types].xml": SPREADSHEET_TYPES})),
        ("docx", lambda: SEEDS["docx"][0][: len(SEEDS["docx"][0]) // 2]),
        ("xlsx", lambda: office_with_bytes(SEEDS["xlsx"][0], {"xl/workbook.xml": None})),
        ("xlsx", lambda: office_with_bytes(SEEDS["xlsx"][0], {"xl/worksheets/sheet1.xml": b"<worksheet/>"})),
        ("pdf", lambda: minimal_pdf(["Some text here"])[:300]),
        ("pdf", lambda: minimal_pdf(["Some text here"]).replace(b"/Kids [3 0 R]", b"/Kids [2 0 R]")),
        (
            "pdf",
            lambda: (
                minimal_pdf(["Some text here"])
                .replace(b"/Root 1 0 R", b"/Root 9 0 R")
                .replace(b"/Catalog", b"/Catalo")
            ),
        ),
        (
            "pdf",
            lambda: minimal_pdf(["Some text here"]).replace(
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"(a string)"
            ),
        ),
    ],
)
def test_reader_library_errors_become_ingest_errors_naming_the_file(
    tmp_path: Path, suffix: str, damage: Callable[[], bytes]
) -> None:
    path = tmp_path / f"damaged.{suffix}"
    path.write_bytes(damage())
    batch = read_files([path], SURVEY)
    assert not batch.documents and len(batch.failures) == 1
    message = batch.failures[0].message
    assert message.startswith("E2") and str(path) in message and "Fix:" in message
    assert "unexpected error" not in message, message


SPREADSHEET_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)


def office_with_bytes(seed: bytes, replace: dict[str, bytes | None]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(seed)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename not in replace:
                target.writestr(info.filename, source.read(info))
        for name, content in replace.items():
            if content is not None:
                target.writestr(name, content)
    return out.getvalue()


# ---------------------------------------------------------------- text that made a pattern backtrack


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("# A day at the centre ##\nbody", "A day at the centre"),
        ("## C#  \nbody", "C"),
        ("#   \nA short first line\n", "A short first line"),  # an empty heading is no title
        ("# a" + " " * 200_000 + "b\n", "a" + " " * 200_000 + "b"),  # quadratic before: minutes
        ("# " + "# " * 100_000 + "x", "# " * 100_000 + "x"),
    ],
)
def test_heading_titles_on_long_lines(text: str, title: str) -> None:
    assert guess_title(text, "post.txt") == title


@pytest.mark.parametrize("data", [b"\xef\xbb\xbf", b"\xef\xbb\xbf \n\t"])
def test_a_text_file_of_only_a_byte_order_mark_is_our_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bom.txt"  # found by the fuzzer: it was read as a Document with no text
    path.write_bytes(data)
    with pytest.raises(IngestError, match="has no text"):
        read_file(path)


# ---------------------------------------------------------------- the fuzzer


@pytest.mark.parametrize("reader", fuzz_readers.READERS)
def test_every_fuzz_seed_is_a_valid_file(tmp_path: Path, reader: str) -> None:
    for number, data in enumerate(SEEDS[reader]):
        path = tmp_path / f"seed{number}.{reader}"
        path.write_bytes(data)
        documents = read_file(path, options=SURVEY if reader in ("csv", "xlsx") else None)
        assert documents and all(doc.text.strip() for doc in documents)


def test_mutations_are_repeatable() -> None:
    first = [fuzz_readers.mutate(SEEDS["docx"][0], "docx", fuzz_readers.random.Random(7)) for _ in range(3)]
    again = [fuzz_readers.mutate(SEEDS["docx"][0], "docx", fuzz_readers.random.Random(7)) for _ in range(3)]
    assert first == again and first[0] != SEEDS["docx"][0]


@pytest.mark.slow
def test_fuzzed_files_raise_only_our_errors_and_never_hang() -> None:
    tallies = fuzz_readers.fuzz(cases=60, seed=0)
    table = fuzz_readers.format_table(tallies)
    for reader, tally in tallies.items():
        assert tally.cases == 60
        assert tally.foreign == 0 and tally.hang == 0, f"{reader}: {dict(tally.foreign_kinds)}\n{table}"
        assert tally.ours > 0, (
            f"{reader}: no mutation was refused, the fuzzer is not reaching the reader\n{table}"
        )
    assert sum(t.ok for t in tallies.values()) > 0, table
