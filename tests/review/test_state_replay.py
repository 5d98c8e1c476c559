"""Random sequences of reviews, undos, merges and re-codings: the stored state equals a plain replay.

A Hypothesis state machine acts on a real SQLite project through the library (``record_review``,
``undo_last``, ``merge_codes``, the store's coding-run writers) and, step by step, on a small model
written here from the rules the docs state (:mod:`narratives.review.state`, :mod:`narratives.review.audit`,
:mod:`narratives.codebook.merge_split`), with its own ids and no SQL. After every step the model's
answer to "what holds now" must equal what the state module, the coded-segments table, the
overview and the document view read from the database.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from narratives.analysis.coded import coded_segments
from narratives.analysis.overview import Scope, code_frequency
from narratives.codebook.merge_split import merge_codes
from narratives.errors import UndoError
from narratives.review.audit import undo_last
from narratives.review.marks import document_marks
from narratives.review.record import record_review
from narratives.review.state import coding_state, latest_reviews
from narratives.schema import (
    Code,
    Codebook,
    Decision,
    Document,
    Review,
    Segment,
    SegmentUnit,
    SourceKind,
    Suggestion,
)
from narratives.store.codebooks import store_codebook
from narratives.store.coding_runs import record_coding_run, supersede
from narratives.store.documents import save_document
from narratives.store.project import Project, init_project, open_project
from narratives.store.segments import load_segments, save_segments
from narratives.store.suggestions import best_current_suggestion, current_suggestions

BOOK = "replay"
CODES = ("a", "b", "c")
USERS = ("ana", "ben")
TEXT = "One thing. Two things. Three things. Four things."
POSITIVE = {"accept", "add"}
SCORES = st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9])
THRESHOLDS = st.fixed_dictionaries({code: st.sampled_from([0.3, 0.5, 0.7]) for code in CODES})


# ------------------------------------------------------------------------------------ the model


@dataclass
class MReview:
    id: int
    segment: int  # index 0..3
    code: str
    user: str
    decision: str
    source: str = "ui"


@dataclass
class MSuggestion:
    id: int
    segment: int
    code: str
    run: int
    score: float
    current: bool = True


@dataclass
class Action:
    kind: str  # review, merge
    review: int | None = None
    source: str | None = None
    deactivated: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    copied: list[int] = field(default_factory=list)
    undone: bool = False


@dataclass
class Model:
    reviews: list[MReview] = field(default_factory=list)
    withdrawn: set[int] = field(default_factory=set)
    suggestions: list[MSuggestion] = field(default_factory=list)
    runs: dict[int, dict[str, float]] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    actions: dict[str, list[Action]] = field(default_factory=lambda: {u: [] for u in USERS})

    def live(self) -> list[MReview]:
        return [r for r in self.reviews if r.id not in self.withdrawn]

    def add_review(self, segment: int, code: str, user: str, decision: str, source: str = "ui") -> int:
        review = MReview(len(self.reviews) + 1, segment, code, user, decision, source)
        self.reviews.append(review)
        return review.id

    def add_suggestion(self, segment: int, code: str, run: int, score: float) -> int:
        self.suggestions.append(MSuggestion(len(self.suggestions) + 1, segment, code, run, score))
        return len(self.suggestions)

    def current(self, segment: int, code: str) -> MSuggestion | None:
        found = [s for s in self.suggestions if s.current and s.segment == segment and s.code == code]
        return max(found, key=lambda s: (s.score, s.run)) if found else None

    def latest(self) -> dict[tuple[int, str], MReview]:
        return {(r.segment, r.code): r for r in self.live()}

    def recode(self, scores: list[float], thresholds: dict[str, float]) -> None:
        for s in self.suggestions:
            s.current = False
        run = len(self.runs) + 1
        self.runs[run] = thresholds
        active = [c for c in CODES if c not in self.retired]
        for index, (segment, code) in enumerate((s, c) for s in range(4) for c in CODES):
            if code in active:
                self.add_suggestion(segment, code, run, scores[index])

    def merge(self, source: str, target: str, user: str) -> None:
        action = Action("merge", source=source)
        targets = {s.segment: s for s in self.suggestions if s.current and s.code == target}
        for s in [s for s in self.suggestions if s.current and s.code == source]:
            action.deactivated.append(s.id)
            existing = targets.get(s.segment)
            if existing is not None and existing.score >= s.score:
                continue
            if existing is not None:
                action.deactivated.append(existing.id)
            action.created.append(self.add_suggestion(s.segment, target, s.run, s.score))
        for s in self.suggestions:
            if s.id in action.deactivated:
                s.current = False
        source_rows = [r for r in self.live() if r.code == source]
        target_latest = {(r.segment, r.user): r.decision for r in self.live() if r.code == target}
        source_latest = {(r.segment, r.user): r.decision for r in source_rows}
        for r in source_rows:
            key = (r.segment, r.user)
            if key in target_latest and (
                target_latest[key] in POSITIVE or source_latest[key] not in POSITIVE
            ):
                continue
            action.copied.append(self.add_review(r.segment, target, r.user, r.decision, source="merge"))
        self.retired.add(source)
        self.actions[user].append(action)

    def undo(self, user: str) -> bool:
        """Undo ``user``'s last action; False when there is none left."""
        open_actions = [a for a in self.actions[user] if not a.undone]
        if not open_actions:
            return False
        action = open_actions[-1]
        action.undone = True
        if action.kind == "review":
            undone = next(r for r in self.reviews if r.id == action.review)
            same = [
                r
                for r in self.live()
                if (r.segment, r.code, r.user) == (undone.segment, undone.code, undone.user)
            ]
            earlier = [r for r in same if r.id < undone.id]
            if earlier:
                self.add_review(undone.segment, undone.code, user, earlier[-1].decision, source="undo")
            else:
                self.withdrawn.update(r.id for r in same if r.id >= undone.id)
            return True
        for s in self.suggestions:
            if s.id in action.created:
                s.current = False
        back = [s for s in self.suggestions if s.id in action.deactivated]
        newer = {
            s.id
            for s in back
            if any(
                o.current and o.id != s.id and (o.segment, o.code) == (s.segment, s.code)
                for o in self.suggestions
            )
        }
        for s in back:
            s.current = s.current or s.id not in newer
        self.withdrawn.update(action.copied)
        self.retired.discard(action.source or "")
        return True

    def carried(self) -> set[tuple[int, str, str]]:
        """(segment, code, source) of every pair that applies now, retired codes left out."""
        latest = self.latest()
        found = set()
        for segment in range(4):
            for code in CODES:
                if code in self.retired:
                    continue
                review = latest.get((segment, code))
                if review is not None:
                    if review.decision in POSITIVE:
                        found.add((segment, code, "reviewed"))
                    continue
                suggestion = self.current(segment, code)
                if suggestion is not None and suggestion.score >= self.runs[suggestion.run].get(code, 0.5):
                    found.add((segment, code, "machine"))
        return found

    def marks(self) -> set[tuple[int, str, str]]:
        """What the document view marks: (segment, code, status)."""
        latest = self.latest()
        found = set()
        for segment in range(4):
            for code in CODES:
                if code in self.retired:
                    continue
                review, suggestion = latest.get((segment, code)), self.current(segment, code)
                if suggestion is not None:
                    if review is not None:
                        found.add((segment, code, "accepted" if review.decision in POSITIVE else "rejected"))
                    elif suggestion.score >= self.runs[suggestion.run].get(code, 0.5):
                        found.add((segment, code, "suggested"))
                elif review is not None and review.decision in POSITIVE:
                    found.add((segment, code, "hand"))
        return found


# ------------------------------------------------------------------------------ the real project

_TEMPLATE: dict[str, Path] = {}


def template_project() -> Path:
    """One document of four sentences and a codebook of three codes, made once and copied."""
    if "path" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="narratives-replay-")) / "template"
        project = init_project(folder)
        with project.begin() as connection:
            saved = save_document(
                connection, Document(kind=SourceKind.blog, title="t", text=TEXT, path="t.md")
            )
            pieces, start = [], 0
            for index, sentence in enumerate(TEXT.split(". ")):
                body = sentence if sentence.endswith(".") else sentence + "."
                start = TEXT.index(body, start)
                pieces.append(
                    Segment(
                        document_id=saved.document_id,
                        unit=SegmentUnit.sentence,
                        index=index,
                        start=start,
                        end=start + len(body),
                        text=body,
                    )
                )
            save_segments(connection, pieces, pipeline="test")
            codes = [Code(id=c, name=f"Code {c}", definition=f"About {c}.") for c in CODES]
            store_codebook(connection, Codebook(name=BOOK, version="1", codes=codes), "setup")
        project.close()
        _TEMPLATE["path"] = folder
    return _TEMPLATE["path"]


class ReplayMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="narratives-replay-run-"))
        shutil.copytree(template_project(), self.folder / "p")
        self.project: Project = open_project(self.folder / "p")
        with self.project.connect() as connection:
            found = load_segments(connection)
        self.segments = [int(s.id or 0) for s in found]
        self.document_id = found[0].document_id
        self.model = Model()

    def _recode(self, scores: list[float], thresholds: dict[str, float]) -> None:
        active = [c for c in CODES if c not in self.model.retired]
        cells = [(s, c) for s in range(4) for c in CODES]
        items = [
            Suggestion(
                segment_id=self.segments[s],
                code_id=c,
                score=scores[i],
                coder="ensemble",
                codebook=BOOK,
                codebook_version="1",
                config_hash="replay",
            )
            for i, (s, c) in enumerate(cells)
            if c in active
        ]
        with self.project.begin() as connection:
            supersede(connection, BOOK, "sentence", list(CODES), full=True)
            record_coding_run(
                connection,
                codebook=BOOK,
                codebook_version="1",
                items=items,
                user="coder",
                unit="sentence",
                model="fake",
                stats={"thresholds": thresholds},
            )
        self.model.recode(scores, thresholds)

    @initialize(scores=st.lists(SCORES, min_size=12, max_size=12), thresholds=THRESHOLDS)
    def first_coding_run(self, scores: list[float], thresholds: dict[str, float]) -> None:
        self._recode(scores, thresholds)

    @rule(
        segment=st.integers(0, 3),
        code=st.sampled_from(CODES),
        decision=st.sampled_from([d.value for d in Decision]),
        user=st.sampled_from(USERS),
    )
    def review(self, segment: int, code: str, decision: str, user: str) -> None:
        with self.project.begin() as connection:
            suggestion = best_current_suggestion(connection, self.segments[segment], BOOK, code)
            record_review(
                connection,
                Review(
                    segment_id=self.segments[segment],
                    code_id=code,
                    codebook=BOOK,
                    decision=Decision(decision),
                    user=user,
                    suggestion_id=suggestion if decision in ("accept", "reject") else None,
                ),
            )
        review_id = self.model.add_review(segment, code, user, decision)
        self.model.actions[user].append(Action("review", review=review_id))

    @rule(user=st.sampled_from(USERS))
    def undo(self, user: str) -> None:
        expected = self.model.undo(user)
        if expected:
            undo_last(self.project, user)
        else:
            with pytest.raises(UndoError):
                undo_last(self.project, user)

    @precondition(lambda self: len(set(CODES) - self.model.retired) >= 2)
    @rule(data=st.data(), user=st.sampled_from(USERS))
    def merge(self, data: st.DataObject, user: str) -> None:
        active = [c for c in CODES if c not in self.model.retired]
        source = data.draw(st.sampled_from(active), label="source")
        target = data.draw(st.sampled_from([c for c in active if c != source]), label="target")
        with self.project.begin() as connection:
            merge_codes(connection, BOOK, source, target, user)
        self.model.merge(source, target, user)

    @rule(scores=st.lists(SCORES, min_size=12, max_size=12), thresholds=THRESHOLDS)
    def recode(self, scores: list[float], thresholds: dict[str, float]) -> None:
        self._recode(scores, thresholds)

    @invariant()
    def stored_state_equals_the_replay(self) -> None:
        if not self.model.runs:
            return
        index = {segment_id: i for i, segment_id in enumerate(self.segments)}
        expected = self.model.carried()
        with self.project.connect() as connection:
            latest = {
                (index[s], code): (review.user, review.decision)
                for (s, code), review in latest_reviews(connection, BOOK).items()
            }
            state = coding_state(connection, BOOK)
            carried = {
                (index[p.segment_id], p.code_id, "machine" if p.review is None else "reviewed")
                for p in state.carried()
            }
            table = coded_segments(connection, BOOK)
            rows = {(index[int(r.segment_id)], r.code_id, r.source) for r in table.itertuples()}
            frequency = {
                f.code_id: f.segments for f in code_frequency(connection, Scope(BOOK, unit="sentence"))
            }
            marks = {
                (index[m.segment_id], m.code_id, m.status)
                for m in document_marks(connection, BOOK, self.document_id)
            }
            current = [
                (s.segment_id, s.code_id) for c in CODES for s in current_suggestions(connection, BOOK, c)
            ]
            duplicates = len(current) - len(set(current))
        assert latest == {key: (r.user, r.decision) for key, r in self.model.latest().items()}
        assert carried == expected
        assert rows == expected and len(table) == len(expected)
        counts = {
            c: sum(1 for _, code, _ in expected if code == c) for c in CODES if c not in self.model.retired
        }
        assert {c: n for c, n in frequency.items() if n or c in counts} == counts
        assert marks == self.model.marks()
        assert duplicates == 0  # at most one current suggestion per (segment, code, coder)

    def teardown(self) -> None:
        self.project.close()
        shutil.rmtree(self.folder, ignore_errors=True)


ReplayMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_stored_state_equals_a_replay_of_the_events = ReplayMachine.TestCase
