"""Pipeline files: checked key by key, each step calls the library; running twice adds nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.coding.config import CodingConfig
from narratives.errors import PipelineError
from narratives.ingest.blogs import SPLIT_STRATEGIES
from narratives.ingest.readers import ReadOptions
from narratives.pipeline import load_pipeline_config, run_pipeline
from narratives.pipeline_config import CodeStep, IngestStep, SplitStrategy, check_pipeline_config
from narratives.schema import SegmentUnit, SourceKind
from narratives.store import init_project
from narratives.store.status import project_status

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"

PIPELINE = """
[[ingest]]
files = ["corpus/survey.csv"]
kind = "survey"
id_column = "respondent_id"
text_columns = ["comment"]

[[ingest]]
files = ["corpus/interviews"]
kind = "interview"
attributes = "corpus/people.csv"

[segment]
units = ["sentence", "turn"]
"""


def write_corpus(base: Path) -> Path:
    (base / "corpus" / "interviews").mkdir(parents=True)
    (base / "corpus" / "survey.csv").write_text(
        "respondent_id,council,comment\nR1,Eastmere,Waited a year. Then nothing.\nR2,Northbridge,My PA is great.\n",
        encoding="utf-8",
    )
    (base / "corpus" / "interviews" / "p01_w1.txt").write_text(
        "Interviewer: How is it?\nP01: Better since the review. Still tired.\n", encoding="utf-8"
    )
    (base / "corpus" / "people.csv").write_text(
        "file,participant,wave,age_band\np01_w1.txt,P01,1,65-79\n", encoding="utf-8"
    )
    pipeline = base / "pipeline.toml"
    pipeline.write_text(PIPELINE, encoding="utf-8")
    return pipeline


def test_pipeline_runs_its_steps_and_is_idempotent(tmp_path: Path) -> None:
    pipeline = write_corpus(tmp_path)
    project = init_project(tmp_path / "project")
    said: list[str] = []
    first = run_pipeline(project, load_pipeline_config(pipeline), base=tmp_path, user="t", say=said.append)
    again = run_pipeline(project, load_pipeline_config(pipeline), base=tmp_path, user="t")
    with project.connect() as connection:
        status = project_status(connection)
    project.close()
    assert [r.documents_added for r in first.ingest] == [2, 1]
    assert [r.documents_added for r in again.ingest] == [0, 0]
    assert [s.segments for s in again.segment] == [0, 0]
    assert status.documents_by_kind == {"survey": 2, "interview": 1}
    assert status.waves == {1: 1}
    assert status.segments_by_unit == {"sentence": 6, "turn": 4}  # turn: 2 survey responses + 2 speaker turns
    assert first.coding is None and first.discovery is None
    assert any("segmented into sentences" in line for line in said)


def test_bad_pipeline_file_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[segment\nunits = 1", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"broken\.toml"):
        load_pipeline_config(broken)
    with pytest.raises(PipelineError, match="not found"):
        load_pipeline_config(tmp_path / "missing.toml")


def pipeline_problem(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        load_pipeline_config(path)
    message = str(caught.value)
    assert "pipeline.toml" in message and "Fix:" in message
    return message


def test_missing_files_names_the_step_and_says_what_to_add(tmp_path: Path) -> None:
    message = pipeline_problem(tmp_path, '[[ingest]]\nkind = "blog"\n')
    assert "ingest[1]: 'files' is missing" in message
    assert 'files = ["' in message


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ('[[ingest]]\nfiels = ["a.txt"]\n', "ingest[1].fiels", "files"),
        (
            '[[ingest]]\nfiles = ["a"]\n\n[[ingest]]\nfiles = ["b"]\nmax_bm = 2\n',
            "ingest[2].max_bm",
            "max_mb",
        ),
        ('[segment]\nunit = ["sentence"]\n', "segment.unit", "units"),
        ('[code]\ncodebook = "c.yaml"\ntreshold = 0.4\n', "code.treshold", "threshold"),
        ("[discover]\nseeds = 4\n", "discover.seeds", "seed"),
        ('[segmnet]\nunits = ["sentence"]\n', "segmnet", "segment"),
    ],
    ids=["ingest", "second ingest", "segment", "code", "discover", "top level"],
)
def test_an_unknown_key_is_named_with_the_closest_known_key(
    tmp_path: Path, text: str, key: str, suggestion: str
) -> None:
    message = pipeline_problem(tmp_path, text)
    assert f"{key}: unknown key" in message
    assert f"did you mean '{suggestion}'?" in message


def test_an_unknown_key_with_no_close_match_lists_the_known_keys(tmp_path: Path) -> None:
    message = pipeline_problem(tmp_path, "[discover]\nbananas = 1\n")
    assert "remove 'bananas'" in message and "guided, min_topic_size, model, seed, unit, zeroshot" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[ingest]]\nfiles = ["a"]\nwave = "two"\n', ["ingest[1].wave", '(got "two")', "wave = 2"]),
        ('[[ingest]]\nfiles = "corpus"\n', ["ingest[1].files", "valid list"]),
        (
            '[[ingest]]\nfiles = ["a"]\nkind = "diary"\n',
            ["ingest[1].kind", "'survey', 'interview' or 'blog'"],
        ),
        ('[[ingest]]\nfiles = ["a"]\nencoding = "latin-99"\n', ["ingest[1].encoding", 'encoding = "cp1252"']),
        ('[[ingest]]\nfiles = ["a"]\nmax_mb = 0\n', ["ingest[1].max_mb", "greater than 0"]),
        ('[ingest]\nfiles = ["a"]\n', ["ingest: input should be a valid list", "[[ingest]] table"]),
        (
            '[segment]\nunits = ["word"]\n',
            ["segment.units[1]", "'sentence', 'paragraph', 'turn' or 'response'"],
        ),
        ('[code]\ncodebook = "c.yaml"\ntop_k = -1\n', ["code.top_k", "greater than or equal to 0"]),
    ],
    ids=["integer", "list", "enum", "encoding", "size", "table not list", "unit", "code range"],
)
def test_a_wrong_value_names_the_key_and_what_is_wrong(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    message = pipeline_problem(tmp_path, text)
    for part in expected:
        assert part in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    message = pipeline_problem(tmp_path, '[[ingest]]\nfiels = ["a"]\n\n[discover]\nseed = "x"\n')
    assert "3 problems" in message
    assert "(1) ingest[1]: 'files' is missing" in message
    assert "(2) ingest[1].fiels: unknown key" in message
    assert "(3) discover.seed" in message


def test_the_code_step_takes_exactly_the_coding_settings_and_a_codebook() -> None:
    assert set(CodeStep.model_fields) == set(CodingConfig.model_fields) | {"codebook"}
    step = check_pipeline_config({"code": {"codebook": "c.yaml", "top_k": 5, "unit": "turn"}}, "p.toml").code
    assert step is not None and step.top_k == 5 and step.unit is SegmentUnit.turn


def test_the_code_step_needs_a_codebook(tmp_path: Path) -> None:
    message = pipeline_problem(tmp_path, "[code]\ntop_k = 5\n")
    assert "code: 'codebook' is missing" in message and "codebook = " in message


def test_split_strategies_are_the_readers() -> None:
    assert get_args(SplitStrategy) == SPLIT_STRATEGIES


def test_the_demo_pipeline_is_valid() -> None:
    config = load_pipeline_config(REPO / "pipelines" / "demo.toml")
    assert [step.kind for step in config.ingest] == [SourceKind.blog, SourceKind.survey, SourceKind.interview]
    assert config.ingest[0].split == "headings"
    assert config.segment is not None and config.segment.units == [SegmentUnit.sentence, SegmentUnit.turn]
    assert config.code is not None and config.code.unit is SegmentUnit.sentence
    assert config.embedding_model == "all-MiniLM-L6-v2"
    assert config.discover is not None and (config.discover.seed, config.discover.guided) == (42, False)


def test_an_ingest_step_builds_its_options_as_the_cli_does(tmp_path: Path) -> None:
    from narratives.pipeline import read_options

    (tmp_path / "people.csv").write_text("file,participant,wave\np1.txt,P01,2\n", encoding="utf-8")
    settings: dict[str, Any] = {
        "kind": "survey",
        "id_column": "id",
        "text_columns": ["q1"],
        "attribute_columns": [],
        "sheet": "Wave 2",
        "date": "2024-03-01",
        "encoding": "cp1252",
        "max_mb": 2,
    }
    step = IngestStep.model_validate({"files": ["s.xlsx"], "attributes": "people.csv", **settings})
    options = read_options(step, tmp_path)
    expected = ReadOptions.from_settings(
        **{**settings, "kind": SourceKind.survey}, attributes=tmp_path / "people.csv"
    )
    assert options == expected and options.attributes is not None
    assert options.attributes.find("p1.txt") is not None
    assert (options.max_bytes, options.attribute_columns, options.sheet) == (2 * 1024 * 1024, [], "Wave 2")


def run_one_step(folder: Path, step: str, base: Path = FIXTURES) -> tuple[list[tuple[str, str]], list[str]]:
    """(text, date) of the documents a one-step pipeline stores, and why files failed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipeline.toml"
    path.write_text(step, encoding="utf-8")
    project = init_project(folder / "project")
    result = run_pipeline(project, load_pipeline_config(path), base=base, user="t")
    with project.connect() as connection:
        rows = connection.exec_driver_sql("SELECT text, date FROM documents ORDER BY id").all()
    project.close()
    return [(text, date) for text, date in rows], [r for file in result.ingest[0].files for r in file.reasons]


SURVEY_STEP = """
[[ingest]]
files = ["survey_cp1252.csv"]
kind = "survey"
id_column = "id"
text_columns = ["q1_experience"]
"""


def test_the_encoding_of_a_step_reaches_the_reader(tmp_path: Path) -> None:
    documents, _ = run_one_step(tmp_path / "right", SURVEY_STEP + 'encoding = "cp1252"\n')
    assert documents[0][0] == "The care cost £25 an hour – “far too much” for what we got"
    documents, reasons = run_one_step(tmp_path / "forced", SURVEY_STEP + 'encoding = "utf-8"\n')
    assert documents == [] and "cannot decode the file as utf-8" in " ".join(reasons)


def test_the_size_limit_and_date_of_a_step_reach_the_reader(tmp_path: Path) -> None:
    documents, reasons = run_one_step(tmp_path / "small", SURVEY_STEP + "max_mb = 0.0001\n")
    assert documents == [] and "limit" in " ".join(reasons)
    documents, _ = run_one_step(tmp_path / "dated", SURVEY_STEP + 'date = "2024-03-01"\n')
    assert {date for _, date in documents} == {"2024-03-01"}


def test_the_sheet_of_a_step_reaches_the_reader(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Wave 1"
    first.append(["id", "answer"])
    first.append(["R1", "The first wave answer."])
    second = book.create_sheet("Wave 2")
    second.append(["id", "answer"])
    second.append(["R1", "The second wave answer."])
    book.save(tmp_path / "waves.xlsx")
    step = (
        '[[ingest]]\nfiles = ["waves.xlsx"]\nkind = "survey"\nid_column = "id"\ntext_columns = ["answer"]\n'
    )
    documents, _ = run_one_step(tmp_path / "run", step + 'sheet = "Wave 2"\n', base=tmp_path)
    assert [text for text, _ in documents] == ["The second wave answer."]


def test_a_bad_pipeline_file_stops_the_run_before_the_project_is_made(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text('[[ingest]]\nfiels = ["a"]\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--project", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert "E120" in result.output and "ingest[1].fiels" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "p").exists()


def test_a_sentiment_step_labels_every_segment_with_the_pipelines_model(
    tmp_path: Path, tiny_model: Path, shared_cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narratives.store.segments import load_segments
    from narratives.store.sentiments import current_sentiments

    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache_home))
    pipeline = write_corpus(tmp_path)
    pipeline.write_text(
        PIPELINE + f'\n[sentiment]\nunit = "sentence"\nmodel = "{tiny_model}"\n', encoding="utf-8"
    )
    project = init_project(tmp_path / "project")
    said: list[str] = []
    result = run_pipeline(project, load_pipeline_config(pipeline), base=tmp_path, user="t", say=said.append)
    with project.connect() as connection:
        sentences = [s.id for s in load_segments(connection, unit=SegmentUnit.sentence)]
        labels = current_sentiments(connection, sentences)
    project.close()
    assert result.sentiment is not None and result.sentiment.model == "tiny-bert"
    assert result.sentiment.segments == len(labels) == len(sentences) - 1  # not the interviewer's question
    assert result.sentiment.unit == "sentence" and "sentiment" in result.timings
    assert any(line.startswith(f"sentiment of {len(labels)} sentence segments: ") for line in said)


def test_steps_naming_different_models_are_refused(tmp_path: Path) -> None:
    raw = {
        "code": {"codebook": "b.yaml", "model": "all-MiniLM-L6-v2"},
        "sentiment": {"model": "minilm-static"},
    }
    with pytest.raises(PipelineError, match=r"\[code\] and \[sentiment\] name different embedding models"):
        check_pipeline_config(raw, tmp_path / "p.toml")
    same = check_pipeline_config({"sentiment": {"model": "minilm-static"}}, tmp_path / "p.toml")
    assert same.embedding_model == "minilm-static"
