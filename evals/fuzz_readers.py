"""Fuzz every reader: mutate small valid files and check each failure is one of our errors.

For each reader (.docx, .xlsx, .pdf, .html, .txt, .csv, .vtt, .srt) the valid seed files built below
are mutated (bit flips, truncation, inserted/deleted/duplicated byte runs, damage to one zip member or
to XML tags, timestamps and PDF objects) and read with :func:`narratives.ingest.readers.read_file`.
A case is ``ok`` (documents read), ``ours`` (a NarrativesError), ``foreign`` (any other exception: a
bug to fix) or ``hang`` (still running after the per-case alarm). Everything is seeded, so a run is
repeatable: the same ``--seed`` and ``--cases`` give the same files and the same table.

    python evals/fuzz_readers.py --cases 3000 --seed 0
    python evals/fuzz_readers.py --cases 200 --readers docx,pdf --save-dir /tmp/fuzz-found

tests/ingest/test_bombs_and_fuzz.py runs :func:`fuzz` with a small count.
"""

from __future__ import annotations

import argparse
import faulthandler
import io
import logging
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from narratives.errors import NarrativesError
from narratives.ingest.readers import ReadOptions, read_file

READERS = ("docx", "xlsx", "pdf", "html", "txt", "csv", "vtt", "srt")
ZIP_READERS = frozenset({"docx", "xlsx"})
DEFAULT_TIMEOUT_S = 10.0
SURVEY_OPTIONS = ReadOptions(id_column="respondent", text_columns=["answer"])


class Hang(BaseException):
    """Raised by the per-case alarm; a BaseException so no reader's ``except Exception`` hides it."""


@dataclass
class Tally:
    """Outcomes for one reader; ``foreign_kinds`` counts each foreign exception type and place."""

    cases: int = 0
    ok: int = 0
    ours: int = 0
    foreign: int = 0
    hang: int = 0
    slowest_s: float = 0.0
    foreign_kinds: Counter[str] = field(default_factory=Counter)


# ---------------------------------------------------------------- seeds


def seed_files() -> dict[str, list[bytes]]:
    """Two small valid files per reader, built in code so nothing depends on files outside the repo."""
    return {
        "docx": [_docx_seed(BLOG_PARAGRAPHS, table=True), _docx_seed(TRANSCRIPT_LINES, table=False)],
        "xlsx": [_xlsx_seed(SURVEY_ROWS), _xlsx_seed([*SURVEY_ROWS, ["R9", "=A2", "1.5"]])],
        "pdf": [_pdf_seed(BLOG_PARAGRAPHS, "A day at the centre"), _pdf_seed(TRANSCRIPT_LINES, None)],
        "html": [HTML_PAGE.encode(), HTML_PAGE.replace("<article>", "<div>").encode("cp1252")],
        "txt": ["\n".join(BLOG_TEXT).encode(), "\n".join(TRANSCRIPT_LINES).encode("utf-8-sig")],
        "csv": [_csv_seed(SURVEY_ROWS, ","), _csv_seed(SURVEY_ROWS, ";").replace(b"\n", b"\r\n")],
        "vtt": [VTT.encode(), VTT.replace("<v ", "<v.loud ").encode()],
        "srt": [SRT.encode(), SRT.replace("\n", "\r\n").encode("utf-8-sig")],
    }


BLOG_PARAGRAPHS = [
    "A day at the centre",
    "The day centre closed last year and now I don't see anyone; the days are long.",
    "My carer, Zoë, comes at nine — fifteen minutes, never more — and the café is gone too.",
    "We asked the council for a direct payment (£240 a week) and waited six months.",
]
BLOG_TEXT = ["# A day at the centre", "", *BLOG_PARAGRAPHS[1:3], "", "# Waiting", "", BLOG_PARAGRAPHS[3]]
TRANSCRIPT_LINES = [
    "Interviewer: Can you tell me about the day centre?",
    "P01: It closed last year. Now I don't see anyone.",
    "Interviewer: And then?",
    "P01: The carer comes at nine, for fifteen minutes — never more.",
]
SURVEY_ROWS = [
    ["respondent", "answer", "carer"],
    ["R1", "Good support, “mostly”", "Yes"],
    ["R2", "The café closed;\nnobody visits now", "No"],
    ["R3", "-", "Yes"],
]
HTML_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>A day at the centre</title><meta name="author" content="Sam Writer"></head>
<body><header><nav><a href="/">Home</a> <a href="/about">About</a></nav></header>
<article><h1>A day at the centre</h1>
<p>The day centre closed last year and now I don't see anyone; the days are long and quiet.</p>
<p>My carer comes at nine for fifteen minutes, never more, and the café has gone too.</p>
<table><tr><td>Monday</td><td>carer</td></tr></table></article>
<footer><ul><li>Accessibility</li><li>Contact</li></ul></footer></body></html>"""
VTT = """WEBVTT
Kind: captions

NOTE recorded on Teams

intro-1
00:00:01.000 --> 00:00:04.000
<v Interviewer>Can you tell me about the day centre?</v>

00:00:04.500 --> 00:00:08.000 align:start
<v P04>It closed last year &amp; the days are long.</v>

00:00:08.000 --> 00:00:12.000
<v P04>Now I don't see anyone.</v>
"""
SRT = """1
00:00:02,000 --> 00:00:05,000
Interviewer: What support do you get at home?

2
00:00:05,500 --> 00:00:09,000
P05: Someone comes in the morning
to help me wash.

3
00:00:09,000 --> 00:00:12,000
<i>Only fifteen minutes though.</i>
"""


def _docx_seed(lines: list[str], table: bool) -> bytes:
    import docx

    word = docx.Document()
    word.core_properties.title = lines[0]
    word.core_properties.author = "Sam Writer"
    for line in lines:
        word.add_paragraph(line)
    if table:
        grid = word.add_table(rows=2, cols=2)
        for r, c, text in ((0, 0, "Monday"), (0, 1, "carer"), (1, 0, "Tuesday"), (1, 1, "nobody")):
            grid.cell(r, c).text = text
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _xlsx_seed(rows: list[list[str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.create_sheet("notes").append(["a second sheet"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pdf_seed(lines: list[str], title: str | None) -> bytes:
    from tests.builders.pdf import minimal_pdf

    ascii_lines = [line.encode("latin-1", "replace").decode("latin-1") for line in lines]
    return minimal_pdf(ascii_lines, title=title)


def _csv_seed(rows: list[list[str]], delimiter: str) -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


# ---------------------------------------------------------------- mutations

Mutation = Callable[[bytes, random.Random], bytes]


def _flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _insert_run(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    kind = rng.randrange(3)
    if kind == 0:
        run = rng.randbytes(rng.randint(1, 64))
    elif kind == 1:
        run = bytes([rng.randrange(256)]) * rng.randint(1, 5000)
    else:
        start = rng.randrange(len(data))
        run = data[start : start + rng.randint(1, 256)]
    return data[:at] + run + data[at:]


def _delete_run(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 256) :]


def _duplicate_run(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data))
    run = data[start : start + rng.randint(1, 512)]
    return data[:start] + run * rng.randint(2, 50) + data[start:]


def _magic_values(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    value = rng.choice(
        [b"\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x80", b"-1", b"99999999999"]
    )
    return data[:at] + value + data[at + len(value) :]


BYTE_MUTATIONS: list[Mutation] = [
    _flip_bits,
    _truncate,
    _insert_run,
    _delete_run,
    _duplicate_run,
    _magic_values,
]


def _replace_one(data: bytes, rng: random.Random, old: bytes, new: bytes) -> bytes:
    """Replace one random occurrence of ``old`` (the data unchanged when there is none)."""
    starts: list[int] = []
    at = data.find(old)
    while at != -1 and len(starts) < 500:
        starts.append(at)
        at = data.find(old, at + 1)
    if not starts:
        return data
    at = rng.choice(starts)
    return data[:at] + new + data[at + len(old) :]


def _damage_tag(data: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(8)
    if choice == 0:
        return _replace_one(data, rng, rng.choice([b"<", b">", b"/", b'"']), b"")
    if choice == 1:
        return _replace_one(data, rng, b"</", b"<")
    if choice == 2:
        return _replace_one(data, rng, b">", b"><w:p><a:b x=>")
    if choice == 3:
        dtd = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        return _replace_one(data, rng, b"?>", b"?>" + dtd) if b"?>" in data else dtd + data
    if choice == 4:
        return _replace_one(data, rng, b">", rng.choice([b">&b;", b">&#0;", b">&#xD800;", b">&nope;"]))
    if choice == 5:
        return _replace_one(data, rng, b">", b">" + b"<x>" * 300 + b"</x>" * 300)
    if choice == 6:
        return _replace_one(data, rng, b'="', b'="' + rng.randbytes(8).hex().encode() + b"\x00")
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 40) :]


def _damage_timestamp(data: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(6)
    if choice == 0:
        return _replace_one(data, rng, b"-->", rng.choice([b"", b"->", b"--> -->"]))
    if choice == 1:
        return _replace_one(data, rng, b"00:", rng.choice([b"99999999999:", b"-1:", b"ab:", b""]))
    if choice == 2:
        return _replace_one(data, rng, b"\n\n", b"\n")
    if choice == 3:
        return _replace_one(data, rng, b"\n", b"\n\n\n")
    if choice == 4:
        return _replace_one(data, rng, b"<v", b"<v" + b"<" * rng.randint(1, 3000))
    return _replace_one(data, rng, b",000", b".000") + rng.choice([b"", b"\r", b"\xef\xbb\xbf", b"\x00"])


def _damage_pdf(data: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(6)
    if choice == 0:
        word = rng.choice([b"endobj", b"endstream", b"xref", b"trailer", b"startxref", b"obj", b"stream"])
        return _replace_one(data, rng, word, b"")
    if choice == 1:
        return _replace_one(data, rng, b"2 0 R", rng.choice([b"1 0 R", b"3 0 R", b"99 0 R", b"2 0 R 2 0 R"]))
    if choice == 2:
        return _replace_one(
            data, rng, b"/Length ", b"/Length " + str(rng.choice([-5, 0, 10**12])).encode() + b" "
        )
    if choice == 3:
        return _replace_one(
            data, rng, b"/Count 1", rng.choice([b"/Count 99999999", b"/Count -1", b"/Count 0"])
        )
    if choice == 4:
        return _replace_one(data, rng, b"/Kids [3 0 R]", b"/Kids [2 0 R 3 0 R 3 0 R]")
    return _replace_one(data, rng, b"<<", b"<<" * rng.randint(1, 2000))


TEXT_MUTATIONS: dict[str, list[Mutation]] = {
    "html": [_damage_tag],
    "pdf": [_damage_pdf],
    "vtt": [_damage_timestamp],
    "srt": [_damage_timestamp],
    "txt": [_damage_timestamp],
    "csv": [lambda d, r: _replace_one(d, r, b'"', b""), lambda d, r: _replace_one(d, r, b",", b'","')],
}


def _reshape_xml(content: bytes, rng: random.Random) -> bytes:
    """A well-formed change to an XML part (drop, copy, move or rename an element, change or drop an
    attribute, change a text), so the damage passes the XML check and reaches the reader library."""
    from lxml import etree

    root = etree.fromstring(content)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    element = rng.choice(elements)
    other = rng.choice(elements)
    choice = rng.randrange(7)
    parent = element.getparent()
    if choice == 0 and parent is not None:
        parent.remove(element)
    elif choice == 1 and parent is not None:
        parent.insert(parent.index(element), etree.fromstring(etree.tostring(element)))
    elif choice == 2 and parent is not None and element not in other.iterancestors() and other is not element:
        other.append(element)
    elif choice == 3:
        element.tag = other.tag
    elif choice == 4 and element.attrib:
        key = rng.choice(list(element.attrib))
        element.attrib[key] = rng.choice(["", "-1", "99999999999", "rId999", "x" * 5000, "1e308", "NaN"])
    elif choice == 5 and element.attrib:
        del element.attrib[rng.choice(list(element.attrib))]
    else:
        element.text = rng.choice(["", "0", "-1", "\u202e\ufeff", "word " * 2000, "=SUM(A1:A9)"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _mutate_member(data: bytes, rng: random.Random) -> bytes:
    """Damage one member of a valid zip (its XML, or drop, rename or duplicate it) and zip it again."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    index = rng.randrange(len(members))
    name, content = members[index]
    choice = rng.randrange(7)
    if choice >= 5 and name.endswith((".xml", ".rels")):
        try:
            members[index] = (name, _reshape_xml(content, rng))
        except Exception:  # the part is already damaged: damage its bytes instead
            members[index] = (name, rng.choice(BYTE_MUTATIONS)(content, rng) if content else b"<")
    elif choice == 0:
        del members[index]
    elif choice == 1:
        members[index] = (name + rng.choice(["x", "/", ".bak"]), content)
    elif choice == 2:
        members.append((name, content))
    else:
        mutation = _damage_tag if choice == 3 else rng.choice(BYTE_MUTATIONS)
        members[index] = (name, mutation(content, rng) if content else b"<")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member_name, member_content in members:
            archive.writestr(member_name, member_content)
    return out.getvalue()


def mutate(data: bytes, reader: str, rng: random.Random) -> bytes:
    """One to three stacked mutations of ``data``; for zip files often one member damaged."""
    for _ in range(rng.randint(1, 3)):
        if not data:
            return data
        if reader in ZIP_READERS and rng.random() < 0.75:
            try:
                data = _mutate_member(data, rng)
                continue
            except Exception:  # an earlier mutation broke the zip: damage its bytes instead
                pass
        pool = BYTE_MUTATIONS + TEXT_MUTATIONS.get(reader, []) * 2
        data = rng.choice(pool)(data, rng)
    return data


# ---------------------------------------------------------------- running cases


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def ring(_signum: int, _frame: FrameType | None) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_case(path: Path, reader: str, timeout_s: float) -> tuple[str, str]:
    """Read one file; the outcome (ok, ours, foreign, hang) and, for foreign, where it was raised."""
    options = SURVEY_OPTIONS if reader in ("csv", "xlsx") else ReadOptions()
    # A hang inside C code that never returns to Python: dump the stacks and stop the run.
    faulthandler.dump_traceback_later(timeout_s * 3 + 5, exit=True)
    try:
        with _alarm(timeout_s):
            documents = read_file(path, options=options)
        if not all(isinstance(doc.text, str) and doc.text for doc in documents):
            return "foreign", "a Document with no text"
        return "ok", ""
    except Hang:
        return "hang", ""
    except NarrativesError:
        return "ours", ""
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return "foreign", f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
    finally:
        faulthandler.cancel_dump_traceback_later()


def fuzz(
    cases: int,
    seed: int = 0,
    readers: tuple[str, ...] = READERS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    save_dir: Path | None = None,
) -> dict[str, Tally]:
    """Run ``cases`` mutated files per reader; a Tally per reader. Foreign and hanging inputs are
    written to ``save_dir`` when given, named by reader, case number and outcome."""
    seeds = seed_files()
    tallies: dict[str, Tally] = {}
    logging.disable(logging.CRITICAL)  # readers log warnings for damaged pages and rows
    try:
        with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="fuzz-readers-") as work:
            warnings.simplefilter("ignore")  # zipfile warns of the duplicated members we write
            for reader in readers:
                tallies[reader] = _fuzz_reader(
                    reader, seeds[reader], cases, seed, timeout_s, Path(work), save_dir
                )
    finally:
        logging.disable(logging.NOTSET)
    return tallies


def _fuzz_reader(
    reader: str,
    seeds: list[bytes],
    cases: int,
    seed: int,
    timeout_s: float,
    work: Path,
    save_dir: Path | None,
) -> Tally:
    rng = random.Random(f"{seed}-{reader}")
    tally = Tally()
    for number in range(cases):
        data = mutate(rng.choice(seeds), reader, rng)
        path = work / f"case-{number}.{reader}"
        path.write_bytes(data)
        started = time.perf_counter()
        outcome, where = read_case(path, reader, timeout_s)
        tally.slowest_s = max(tally.slowest_s, time.perf_counter() - started)
        tally.cases += 1
        setattr(tally, outcome, getattr(tally, outcome) + 1)
        if outcome == "foreign":
            tally.foreign_kinds[where] += 1
        if outcome in ("foreign", "hang") and save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
            (save_dir / f"{reader}-{number}-{outcome}.{reader}").write_bytes(data)
    return tally


def format_table(tallies: dict[str, Tally]) -> str:
    """A Markdown table: one row per reader and a total."""
    lines = [
        "| reader | cases | ok | our error | foreign error | hang | slowest case (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total = Tally()
    for reader, tally in tallies.items():
        lines.append(
            f"| {reader} | {tally.cases} | {tally.ok} | {tally.ours} | {tally.foreign} | {tally.hang} "
            f"| {tally.slowest_s:.2f} |"
        )
        for name in ("cases", "ok", "ours", "foreign", "hang"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        total.slowest_s = max(total.slowest_s, tally.slowest_s)
    lines.append(
        f"| **all** | {total.cases} | {total.ok} | {total.ours} | {total.foreign} | {total.hang} "
        f"| {total.slowest_s:.2f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="mutated files per reader")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readers", default=",".join(READERS), help="comma-separated, e.g. docx,pdf")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per case")
    parser.add_argument("--save-dir", type=Path, help="write foreign-error and hanging inputs here")
    args = parser.parse_args(argv)
    readers = tuple(name.strip() for name in args.readers.split(",") if name.strip())
    unknown = set(readers) - set(READERS)
    if unknown:
        parser.error(f"unknown reader(s): {', '.join(sorted(unknown))}; choose from {', '.join(READERS)}")
    started = time.perf_counter()
    tallies = fuzz(args.cases, args.seed, readers, args.timeout, args.save_dir)
    print(format_table(tallies))
    for reader, tally in tallies.items():
        for where, count in tally.foreign_kinds.most_common():
            print(f"foreign in {reader}: {count} x {where}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{time.perf_counter() - started:.0f} s, peak memory {peak_mb:.0f} MB")
    return 1 if any(t.foreign or t.hang for t in tallies.values()) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.builders.pdf
    sys.exit(main())
