"""The machine coder against reviewers on out-of-fold predictions (fake embedder, real learned heads)."""

from __future__ import annotations

import json
import random

import pytest

from narratives.analysis.machine_agreement import machine_agreement
from narratives.errors import MachineAgreementError
from narratives.review.record import record_review
from narratives.schema import Decision, Review, SourceKind
from narratives.store.segments import load_segments
from tests.builders.project import ProjectBuilder
from tests.builders.themes import FakeEmbedder, add_documents, comments, make_codebook

BOOK = "test-book"
CODE_OF = {"waiting": "waiting", "staff": "staff", "money": "money", "lonely": "isolation"}
CODES = ["waiting", "staff", "money", "isolation"]


@pytest.fixture
def reviewed(tmp_project):
    """About 150 themed answers (duplicates dropped) reviewed by one person: each its theme's code accepted and the next code
    rejected; respite answers reject every code. Isolation is reviewed at random (a coin toss)."""
    answers = [(theme, text) for theme, text in comments() if theme != "filler"]
    add_documents(tmp_project, [[text] for _, text in answers], kind=SourceKind.survey)
    coin = random.Random(1)
    with tmp_project.begin() as connection:
        ProjectBuilder(connection, BOOK).store_codebook(make_codebook())
        ids = {s.text: int(s.id or 0) for s in load_segments(connection)}
        for theme, text in answers:
            own = CODE_OF.get(theme)
            decisions = {code: False for code in CODES} if own is None else {own: True}
            if own is not None:
                decisions[CODES[(CODES.index(own) + 1) % 4]] = False
            if "isolation" in decisions:
                decisions["isolation"] = coin.random() < 0.5
            for code, applies in decisions.items():
                record_review(
                    connection,
                    Review(
                        segment_id=ids[text],
                        code_id=code,
                        codebook=BOOK,
                        decision=Decision.accept if applies else Decision.reject,
                        user="ana",
                    ),
                )
    return tmp_project


def test_clear_codes_are_ready_and_a_coin_toss_code_is_unreliable(reviewed) -> None:
    embedder = FakeEmbedder()
    found = machine_agreement(reviewed, BOOK, folds=5, seed=0, embedder=embedder, n_boot=200)
    by_code = {code.code_id: code for code in found.per_code}
    themes = [theme for theme, _ in comments() if theme != "filler"]
    assert found.n_segments == len(themes) and found.folds == 5 and found.model == embedder.name
    # waiting: its own answers accepted, isolation's answers reject the next code (waiting), respite rejects all
    expected = themes.count("waiting") + themes.count("lonely") + themes.count("respite")
    assert by_code["waiting"].n_reviewed == expected and by_code["waiting"].n_positive == themes.count(
        "waiting"
    )
    for code in ("waiting", "staff", "money"):
        assert by_code[code].verdict == "ready", by_code[code]
        assert by_code[code].f1.low >= 0.75 and by_code[code].f1.low <= by_code[code].f1.value <= 1.0
    assert by_code["isolation"].verdict == "unreliable" and by_code["isolation"].f1.value < 0.75
    assert 0 < found.overall["f1"].value < 1 and found.overall["kappa"].low <= found.overall["kappa"].value
    assert json.loads(json.dumps(found.as_dict()))["per_code"][0]["verdict"]
    assert {row["code"] for row in found.rows()} == set(CODES)


def test_the_folds_are_fixed_by_the_seed_and_embeddings_come_from_the_cache(reviewed) -> None:
    first = machine_agreement(reviewed, BOOK, embedder=FakeEmbedder(), n_boot=50)
    again_embedder = FakeEmbedder()
    again = machine_agreement(reviewed, BOOK, embedder=again_embedder, n_boot=50)
    assert first.rows() == again.rows()
    assert again.embedded == 0  # every reviewed text was cached by the first run
    assert again_embedder.encoded < 100  # only the codebook's examples, never the reviewed texts


def test_too_few_reviews_for_the_verdict_and_for_the_folds(reviewed, tmp_path) -> None:
    found = machine_agreement(reviewed, BOOK, embedder=FakeEmbedder(), n_boot=20, min_reviews=1000)
    assert {code.verdict for code in found.per_code} == {"needs more reviews"}
    with pytest.raises(MachineAgreementError, match="too few for 500 folds") as raised:
        machine_agreement(reviewed, BOOK, folds=500, embedder=FakeEmbedder(), n_boot=0)
    assert raised.value.code == "E1105"
