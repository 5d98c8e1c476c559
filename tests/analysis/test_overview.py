"""Overview figures on the demo project and on a large project, checked by hand."""

from __future__ import annotations

import math

from narratives.analysis import overview as ov
from narratives.review.record import record_review
from narratives.schema import Decision, Document, Review, Segment, SegmentUnit, SourceKind
from tests.builders.demo_project import CODEBOOK, build_demo_project
from tests.builders.project import Cell, ProjectBuilder

RUSHED = "The carers are always rushed."
CALLS = "Nobody returned my calls."
BUDGET = "My personal budget gives me choice."


def add_review(demo, text, code_id, decision, user):
    with demo.project.begin() as c:
        record_review(
            c,
            Review(
                segment_id=demo.segment_ids[text],
                code_id=code_id,
                codebook=CODEBOOK,
                decision=Decision(decision),
                user=user,
                suggestion_id=demo.suggestion_ids.get((text, code_id)),
            ),
        )


def test_corpus_counts_by_kind_and_wave(demo):
    with demo.project.connect() as c:
        rows = {
            (r.kind, r.wave): (r.documents, r.participants, r.segments)
            for r in ov.corpus_counts(c, "sentence")
        }
    assert rows == {
        ("blog", None): (1, 0, 3),
        ("interview", 1): (1, 1, 4),
        ("survey", 1): (1, 1, 2),
        ("survey", 2): (1, 1, 2),
    }


def test_coded_share_and_frequency_before_any_review(demo):
    with demo.project.connect() as c:
        figures = ov.overview(c, CODEBOOK)
    # 8 ensemble suggestions, 7 at or above 0.5 (not "Nobody returned my calls." at 0.4); 11 segments
    assert (figures.coded.segments, figures.coded.coded) == (11, 7)
    frequency = {f.code_id: (f.segments, f.participants) for f in figures.frequency}
    assert frequency["continuity"] == (3, 2)  # R01 twice, P01 once
    assert frequency["waiting"] == (1, 0)  # a blog: no participant
    # applied to nothing itself, "access" counts its sub-codes: R02's paperwork and the blog's waiting
    assert frequency["access"] == (2, 1)
    order = [(f.code_id, f.level, f.has_subcodes) for f in figures.frequency]
    assert order.index(("access", 0, True)) < order.index(("waiting", 1, False))
    assert figures.progress.suggestions == 8 and figures.progress.pending == 8
    assert figures.machine.items == 0 and math.isnan(figures.machine.kappa)


def test_reviews_change_applied_codes_progress_and_agreement(demo):
    add_review(demo, RUSHED, "continuity", "reject", "ana")  # machine yes, ana no
    add_review(demo, CALLS, "waiting", "accept", "ana")  # machine no (0.4), ana yes
    add_review(demo, BUDGET, "choice", "accept", "ana")  # both yes
    add_review(demo, BUDGET, "choice", "accept", "ben")
    add_review(demo, RUSHED, "continuity", "accept", "ben")  # latest overall: applies again
    add_review(demo, "When help came it was good.", "waiting", "add", "ben")  # hand-added, machine no
    with demo.project.connect() as c:
        figures = ov.overview(c, CODEBOOK)
    frequency = {f.code_id: f.segments for f in figures.frequency}
    assert frequency["waiting"] == 3 and frequency["continuity"] == 3
    assert figures.coded.coded == 9
    progress = figures.progress
    assert (progress.suggestions, progress.reviewed, progress.accepted, progress.rejected) == (8, 3, 3, 0)
    assert (progress.reviews, progress.reviewers, progress.pending) == (6, 2, 5)
    machine = (
        figures.machine
    )  # 4 reviewed pairs: (yes,yes) rushed, (no,yes) calls, (yes,yes) budget, (no,yes) help
    assert (machine.items, machine.both_yes, machine.second_only) == (4, 2, 2)
    assert machine.agreement == 0.5 and machine.kappa == 0.0
    pairs = {(r.first, r.second): r.agreement for r in figures.reviewers}
    agreement = pairs[("ana", "ben")]
    assert agreement.items == 2 and agreement.agreement == 0.5


def test_threshold_per_code_is_used(demo):
    with demo.project.connect() as c:
        scope = ov.Scope(codebook=CODEBOOK, unit="sentence", thresholds={"continuity": 0.6})
        frequency = {f.code_id: f.segments for f in ov.code_frequency(c, scope)}
    assert frequency["continuity"] == 2  # 0.55 no longer counts


def test_figures_on_20000_segments_count_every_suggested_pair(tmp_path):
    built = build_demo_project(tmp_path / "big", with_discovery=False)
    project = built.project
    with project.begin() as c:
        build = ProjectBuilder(c, codebook=CODEBOOK, user="t", model=None, config_hash="y")
        build.add_document(
            Document(kind=SourceKind.survey, title="big", text="x" * 10, wave=1),
            split=lambda document_id, _: [
                Segment(
                    document_id=document_id, unit=SegmentUnit.sentence, index=i, start=0, end=1, text=f"s{i}"
                )
                for i in range(20000)
            ],
        )
        first = min(built.segment_ids.values()) + 11
        codes = ["continuity", "waiting", "paperwork", "choice", "listening"]
        build.coding_run(
            [Cell(first + i // 5, codes[i % 5], (i % 100) / 100) for i in range(100000)], with_ids=False
        )
    for i in range(300):
        with project.begin() as c:
            record_review(
                c,
                Review(
                    segment_id=first + i,
                    code_id=codes[0],
                    codebook=CODEBOOK,
                    decision=Decision.accept if i % 3 else Decision.reject,
                    user=f"u{i % 2}",
                ),
            )
    with project.connect() as c:
        figures = ov.overview(c, CODEBOOK)
    project.close()
    assert figures.progress.suggestions == 100008
    assert figures.progress.reviewed == 300 and figures.progress.accepted == 200
