"""``narratives deidentify-export`` and ``reidentify``: the key apart, the passphrase never an argument."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.schema import Document, Segment, SegmentUnit, SourceKind
from narratives.store.documents import save_document
from narratives.store.project import Project, init_project
from narratives.store.segments import save_segments

PASSPHRASE = "correct horse battery"
TEXTS = {"P1": "Tamsin Reed rang me on 07700 900123.", "P2": "Tamsin came to Fenbury with me."}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    made = init_project(tmp_path / "study")
    (made.path / "deidentify.toml").write_text(
        'names = ["Tamsin Reed"]\nplaces = ["Fenbury"]\n', encoding="utf-8"
    )
    with made.begin() as connection:
        for participant, text in TEXTS.items():
            saved = save_document(
                connection,
                Document(
                    kind=SourceKind.interview,
                    title=participant,
                    text=text,
                    participant=participant,
                    path=f"{participant}.txt",
                ),
            )
            segment = Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.sentence,
                index=0,
                start=0,
                end=len(text),
                text=text,
            )
            save_segments(connection, [segment], pipeline="test")
    yield made
    made.close()


def _run(*args: str, passphrase: str = PASSPHRASE) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=passphrase + "\n")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_export_then_reveal_with_the_key(project: Project, tmp_path: Path) -> None:
    key, out = tmp_path / "keys" / "study.key", tmp_path / "shared"
    code, output = _run(
        "deidentify-export", str(project.path), str(out), "--key", str(key), "--passphrase-stdin"
    )
    assert code == 0, output
    assert "Wrote 2 documents with 2 segments" in output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = json.loads((out / "document-1.json").read_text(encoding="utf-8"))
    second = json.loads((out / "document-2.json").read_text(encoding="utf-8"))
    assert first["text"] == "[Person 1] rang me on [phone]."
    assert second["text"] == "[Person 1] came to [Place 1] with me."
    assert first["segments"][0]["text"] == first["text"]
    code, output = _run("reidentify", str(key), "--reveal", "[Person 1]", "--passphrase-stdin")
    assert code == 0 and "Tamsin Reed; Tamsin" in output
    code, output = _run(
        "reidentify", str(key), "--text", "[Person 1] went to [Place 1].", "--passphrase-stdin"
    )
    assert code == 0 and "Tamsin Reed went to Fenbury." in output


def test_a_second_export_keeps_the_numbers(project: Project, tmp_path: Path) -> None:
    key = tmp_path / "study.key"
    for out in ("one", "two"):
        code, output = _run(
            "deidentify-export",
            str(project.path),
            str(tmp_path / out),
            "--key",
            str(key),
            "--passphrase-stdin",
        )
        assert code == 0, output
    assert "(0 new)" in output
    assert (tmp_path / "one" / "document-2.json").read_text() == (
        tmp_path / "two" / "document-2.json"
    ).read_text()


def test_the_passphrase_is_asked_for_hidden_when_not_on_stdin(project: Project, tmp_path: Path) -> None:
    key = tmp_path / "study.key"
    result = CliRunner().invoke(
        app,
        ["deidentify-export", str(project.path), str(tmp_path / "out"), "--key", str(key)],
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output and "Passphrase for the new key" in result.output
    code, output = _run("reidentify", str(key), "--reveal", "[Place 1]", passphrase=PASSPHRASE)
    assert code == 0 and "Fenbury" in output


def test_wrong_passphrase_is_one_line_and_exit_1(project: Project, tmp_path: Path) -> None:
    key = tmp_path / "study.key"
    _run(
        "deidentify-export", str(project.path), str(tmp_path / "out"), "--key", str(key), "--passphrase-stdin"
    )
    code, output = _run("reidentify", str(key), "--passphrase-stdin", passphrase="not the passphrase")
    assert code == 1 and "wrong passphrase" in output


def test_a_key_inside_the_project_or_the_export_is_refused_before_anything_is_written(
    project: Project, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    for key in (project.path / "study.key", out / "study.key"):
        code, output = _run(
            "deidentify-export", str(project.path), str(out), "--key", str(key), "--passphrase-stdin"
        )
        assert code == 1 and "not kept inside" in output
        assert not key.exists()
    assert not out.exists()


def test_reveal_of_an_unknown_pseudonym_says_so(project: Project, tmp_path: Path) -> None:
    key = tmp_path / "study.key"
    _run(
        "deidentify-export", str(project.path), str(tmp_path / "out"), "--key", str(key), "--passphrase-stdin"
    )
    code, output = _run("reidentify", str(key), "--reveal", "[Person 7]", "--passphrase-stdin")
    assert code == 1 and "no pseudonym [Person 7]" in output


def test_the_key_of_another_project_is_refused(project: Project, tmp_path: Path) -> None:
    key = tmp_path / "study.key"
    _run(
        "deidentify-export", str(project.path), str(tmp_path / "out"), "--key", str(key), "--passphrase-stdin"
    )
    other = init_project(tmp_path / "other")
    with other.begin() as connection:
        save_document(
            connection, Document(kind=SourceKind.blog, title="Post", text="A different study.", path="a.txt")
        )
    other.close()
    code, output = _run(
        "deidentify-export", str(other.path), str(tmp_path / "out2"), "--key", str(key), "--passphrase-stdin"
    )
    assert code == 1 and "another project" in output and not (tmp_path / "out2").exists()
