"""A synthetic but realistic corpus of a chosen size for `narratives bench --sizes`.

Sentences are taken from the bundled corpus (survey answers, interview turns, blog posts) and put
together again at random: survey answers of one to three sentences with respondent attributes, and
interview transcripts of 60 turns (interviewer and participant, three waves). Texts then read like the
real ones, are unique (so the embedding cache cannot hide the model's cost) and have the lengths of
the real ones. The same seed gives the same files.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "corpus"
SURVEY = CORPUS / "survey" / "synthetic_survey_2025.csv"
TURNS_PER_TRANSCRIPT = 60
TRANSCRIPT_SHARE = 0.2  # of the segments: the rest are survey answers
ATTRIBUTES = ("age_band", "need_group", "council", "role", "budget_holder", "support_type")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'‘“])")
_SPEAKER = re.compile(r"^\s*[A-Z][\w ]{0,20}:\s*")


@dataclass(frozen=True)
class BenchCorpus:
    survey: Path
    transcripts: list[Path]
    answers: int  # survey answers written (each one segment at the turn/response unit)
    turns: int  # transcript turns written (each one segment)

    @property
    def segments(self) -> int:
        return self.answers + self.turns


def corpus_sentences() -> list[str]:
    """Every sentence of the bundled survey answers, interview turns and blog posts, once each."""
    texts: list[str] = []
    with SURVEY.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts += [row["q1_experience"], row["q2_change"]]
    for path in sorted((CORPUS / "interviews").glob("*.txt")):
        texts += [_SPEAKER.sub("", line) for line in path.read_text(encoding="utf-8").splitlines()]
    for path in sorted((CORPUS / "blogs").glob("*.md")):
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    seen: dict[str, None] = {}
    for text in texts:
        for sentence in _SENTENCE_END.split(text.strip()):
            sentence = " ".join(sentence.split())
            if len(sentence) >= 20 and sentence[-1] in ".!?":
                seen.setdefault(sentence, None)
    return list(seen)


def survey_attributes() -> list[dict[str, str]]:
    with SURVEY.open(encoding="utf-8", newline="") as handle:
        return [{name: row[name] for name in ATTRIBUTES} for row in csv.DictReader(handle)]


def write_bench_corpus(folder: Path, segments: int, seed: int = 0) -> BenchCorpus:
    """Write a survey CSV and interview transcripts holding about ``segments`` segments in all."""
    rng = random.Random(seed)
    sentences = corpus_sentences()
    folder.mkdir(parents=True, exist_ok=True)
    transcripts = max(1, round(segments * TRANSCRIPT_SHARE / TURNS_PER_TRANSCRIPT)) if segments >= 200 else 0
    respondents = max(1, (segments - transcripts * TURNS_PER_TRANSCRIPT + 1) // 2)
    survey = _write_survey(folder / "survey.csv", respondents, sentences, rng)
    paths = [
        _write_transcript(folder / "interviews" / f"P{n // 3 + 1:04d}_wave{n % 3 + 1}.txt", sentences, rng)
        for n in range(transcripts)
    ]
    return BenchCorpus(survey, paths, respondents * 2, transcripts * TURNS_PER_TRANSCRIPT)


def _passage(sentences: list[str], rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(sentences) for _ in range(rng.randint(low, high)))


def _write_survey(path: Path, respondents: int, sentences: list[str], rng: random.Random) -> Path:
    people = survey_attributes()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["respondent_id", *ATTRIBUTES, "q1_experience", "q2_change"]
        )
        writer.writeheader()
        for number in range(respondents):
            writer.writerow(
                {
                    "respondent_id": f"B{number:07d}",
                    **rng.choice(people),
                    "q1_experience": _passage(sentences, rng, 1, 3),
                    "q2_change": _passage(sentences, rng, 1, 3),
                }
            )
    return path


def _write_transcript(path: Path, sentences: list[str], rng: random.Random) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for turn in range(TURNS_PER_TRANSCRIPT):
        speaker = "Interviewer" if turn % 2 == 0 else "Participant"
        lines.append(f"{speaker}: {_passage(sentences, rng, 1, 2 if turn % 2 == 0 else 5)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
