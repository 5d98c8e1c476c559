from __future__ import annotations

from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from narratives.errors import IngestError
from narratives.ingest.docx import read_docx
from narratives.ingest.html import read_html
from narratives.ingest.pdf import read_pdf
from narratives.schema import SourceKind
from tests.builders.pdf import minimal_pdf


def write_docx(path: Path, paragraphs: list[str], title: str = "", author: str = "") -> Path:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Service", "Home care"
    document.core_properties.title = title
    document.core_properties.author = author
    document.save(str(path))
    return path


def test_docx_paragraphs_are_joined_with_blank_lines(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "story.docx",
        ["My care story", "", "The carers changed every week – it was “chaos”."],
        title="A story of home care",
        author="Anon Writer",
    )
    document = read_docx(path)
    assert document.text == (
        "My care story\n\nThe carers changed every week – it was “chaos”.\n\nService | Home care"
    )
    assert (document.title, document.author) == ("A story of home care", "Anon Writer")
    assert (document.kind, document.source_format) == (SourceKind.blog, "docx")


def test_docx_title_from_first_paragraph_and_placeholder_author_dropped(tmp_path: Path) -> None:
    document = read_docx(write_docx(tmp_path / "s.docx", ["Short title", "Body text here."]))
    assert document.title == "Short title"
    assert document.author is None


def test_damaged_docx_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(IngestError, match="not a readable Word"):
        read_docx(path)


def test_pdf_text_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(
        minimal_pdf(["Living with a personal budget", "It gave me (some) control."], title="Budget story")
    )
    document = read_pdf(path, kind=SourceKind.interview)
    assert "Living with a personal budget" in document.text
    assert "It gave me (some) control." in document.text
    assert (document.title, document.author) == ("Budget story", "A. Writer")
    assert document.kind == SourceKind.interview


def test_encrypted_pdf_is_an_error_saying_so(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(IngestError, match="encrypted") as info:
        read_pdf(path)
    assert "locked.pdf" in str(info.value)


def test_pdf_without_text_suggests_ocr(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    path = tmp_path / "scan.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(IngestError, match="no text layer") as info:
        read_pdf(path)
    assert "OCR" in str(info.value)


def test_not_a_pdf_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"%PDF-1.4 truncated nonsense")
    with pytest.raises(IngestError):
        read_pdf(path)


ARTICLE = " ".join(
    [
        "When my father came home from hospital, nobody told us who would visit or when.",
        "The reablement team arrived on the third day and were wonderful, but they left after six",
        "weeks and the agency that followed sent someone different every morning. He stopped",
        "eating breakfast because he did not want strangers in the kitchen. We complained to the",
        "council twice and were told the contract was under review.",
    ]
)
PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Coming home from hospital</title>
<meta name="author" content="Sam Carer"></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/archive">Archive menu link</a></li>
<li><a href="/about">About this blog</a></li></ul></nav>
<article><h1>Coming home from hospital</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></article>
<footer><p>Copyright footer text 2023. Cookie settings.</p></footer></body></html>"""


def test_html_main_text_without_navigation(tmp_path: Path) -> None:
    path = tmp_path / "post.html"
    path.write_text(PAGE, encoding="utf-8")
    document = read_html(path)
    assert "nobody told us who would visit" in document.text
    assert "Archive menu link" not in document.text
    assert "Copyright footer" not in document.text
    assert document.title == "Coming home from hospital"
    assert document.source_format == "html"


def test_html_without_main_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "menu.htm"
    path.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    with pytest.raises(IngestError, match="no main text"):
        read_html(path)
