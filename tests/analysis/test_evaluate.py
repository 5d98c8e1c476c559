"""`narratives evaluate` and the simulation behind it, on a tiny CSV with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import narratives.embed
from narratives.analysis.evaluate import read_gold, sample_reviewed
from narratives.cli import app
from narratives.codebook.files import save_codebook
from narratives.errors import EvaluationError
from narratives.schema import Code, Codebook
from tests.coding.test_learned import MONEY, WAITING

BOOK = Codebook(
    name="tiny",
    codes=[
        Code(id="waiting", name="Waiting & delays", definition="Delays before care.", examples=["we waited"]),
        Code(id="money", name="Money", definition="Costs and budgets.", examples=["the budget was cut"]),
    ],
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rows = ["comment,labels_v7,substantive"]
    rows += [f"{text},Waiting & delays,True" for text in WAITING]
    rows += [f"{text},money,True" for text in MONEY]
    rows += [
        "lovely staff,,True",
        "Did not answer,,False",
        "we waited and the budget was cut,Waiting & delays|Money,True",
    ]
    gold = tmp_path / "gold.csv"
    gold.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return save_codebook(BOOK, tmp_path / "book.yaml"), gold


def test_read_gold_maps_names_and_ids_and_filters(files) -> None:
    _book_path, gold = files
    gold_set = read_gold(gold, BOOK, "comment", "labels_v7", "|", "substantive=True")
    assert len(gold_set.texts) == 18  # the "Did not answer" row is filtered out
    assert gold_set.labels[0] == {"waiting"} and gold_set.labels[8] == {"money"}
    assert gold_set.labels[16] == set() and gold_set.labels[-1] == {"waiting", "money"}


def test_missing_column_names_the_file_and_the_columns(files) -> None:
    with pytest.raises(EvaluationError, match="comment, labels_v7, substantive") as error:
        read_gold(files[1], BOOK, "text", "labels_v7")
    assert "gold.csv" in str(error.value) and "text" in str(error.value)


def test_unknown_labels_are_reported(files, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,labels\nhello,Nonsense\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="Nonsense"):
        read_gold(bad, BOOK)


def test_sampling_takes_k_positives_per_code_reproducibly() -> None:
    labels = [{"a"}] * 10 + [{"b"}] * 10 + [{"a", "b"}] * 2
    rows = sample_reviewed(labels, ["a", "b"], 3, seed=1)
    assert rows == sample_reviewed(labels, ["a", "b"], 3, seed=1)
    assert len(rows) == 6 and len(set(rows)) == 6
    assert sum("a" in labels[i] for i in rows) >= 3 and sum("b" in labels[i] for i in rows) >= 3


def test_evaluate_command_writes_json(files, tmp_path, fake_embedder, monkeypatch) -> None:
    monkeypatch.setattr(narratives.embed, "load_embedder", lambda name=None: fake_embedder)
    book_path, gold = files
    out = tmp_path / "out.json"
    args = [
        "evaluate",
        "--codebook",
        str(book_path),
        "--gold",
        str(gold),
        "--text-column",
        "comment",
        "--labels-column",
        "labels_v7",
        "--where",
        "substantive=True",
        "--k",
        "0,3",
        "--seeds",
        "2",
        "--json",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Learning curve" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [row["k"] for row in report["summary"]] == [0, 3]
    assert report["summary"][1]["seeds"] == 2
    assert {"0"} <= set(report["per_code"])
    assert all(0 <= run["macro_f1"] <= 1 for run in report["runs"])


def test_evaluate_command_missing_column_is_one_clear_error(files, tmp_path) -> None:
    book_path, gold = files
    result = CliRunner().invoke(app, ["evaluate", "--codebook", str(book_path), "--gold", str(gold)])
    assert result.exit_code == 1
    assert "E700" in result.output and "comment, labels_v7, substantive" in result.output
    assert "Traceback" not in result.output


def test_evaluate_has_help_with_an_example() -> None:
    result = CliRunner().invoke(app, ["evaluate", "--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_evaluate_with_the_passage_coder_scores_long_stories(tmp_path, fake_embedder) -> None:
    """Stories reviewed whole (k per code), the rest scored: the passage coder is in the stacked
    ensemble, and the learning curve records that it was."""
    from narratives.analysis.evaluate import EvaluationSettings, GoldSet, evaluate
    from tests.builders.stories import stories
    from tests.builders.themes import make_codebook

    told = stories(60, seed=8)
    gold = GoldSet("stories", [s.text for s in told], [{s.theme} for s in told])
    settings = EvaluationSettings(ks=(8,), seeds=1, passages=True)
    report = evaluate(make_codebook(), gold, fake_embedder.encode, fake_embedder, settings)
    run = report.runs[0]
    assert report.settings["passages"] is True and run["mode"] == "stacked" and run["n_reviewed"] == 32
    assert run["micro_f1"] >= 0.6  # each story's one theme sentence among four unrelated ones


def test_code_refuses_an_unknown_passages_setting(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["code", str(tmp_path), "--codebook", "x.yaml", "--passages", "sometimes"]
    )
    assert result.exit_code == 2 and "auto, on, off" in result.output
