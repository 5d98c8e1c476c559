"""Documents on four themes of social care, a codebook for them, and fakes for the slow models.

``theme_documents()`` gives eight documents whose sentences each carry one theme of
:data:`THEMES`; ``make_codebook()`` the codebook for those themes; ``add_documents`` stores
documents with one segment per sentence. :class:`FakeEmbedder` stands in for the embedding model,
``comments()`` makes survey answers on five themes and :func:`fake_fit` stands in for BERTopic.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence

import numpy as np

import narratives.discovery.topics as discover
from narratives.schema import Attribute, Code, Codebook, Document, Segment, SegmentUnit, SourceKind
from narratives.store.documents import save_document
from narratives.store.project import Project
from narratives.store.segments import save_segments

STOP = {"the", "a", "and", "i", "to", "of", "for", "my", "was", "it", "is", "me", "we", "in", "on"}  # fmt: skip


class FakeEmbedder:
    """Deterministic bag-of-word-stems vectors: texts sharing words are close. Counts what it encodes."""

    name = "fake-bag-of-stems"
    dim = 64

    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                if word in STOP:
                    continue
                seed = int(hashlib.md5(word[:5].encode()).hexdigest()[:8], 16)
                out[i] += np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else np.eye(self.dim, dtype=np.float32)[0]
        return out


THEMES = {
    "waiting": [
        "I waited six months for an assessment from the council.",
        "We are still on the waiting list for a care package.",
        "Nobody replied and the wait went on for weeks.",
        "The assessment was delayed again and again.",
    ],
    "staff": [
        "A different carer turned up every single day.",
        "The care workers kept changing so nobody knew her routine.",
        "New agency staff arrived each morning without notes.",
        "We never saw the same carer twice in a week.",
    ],
    "money": [
        "The charges for day care doubled this year.",
        "We had to pay the bills for care from our savings.",
        "The council financial assessment took most of his pension.",
        "Paying for respite care costs us too much money.",
    ],
    "isolation": [
        "Mum feels lonely and sees nobody all week.",
        "Since the day centre closed he is isolated at home.",
        "I felt so lonely after the visits stopped.",
        "Nobody visits and the loneliness is hard.",
    ],
}


def make_codebook(**changes: str) -> Codebook:
    codes = [
        Code(
            id="waiting",
            name="Waiting for care",
            definition="Waiting a long time for an assessment or care.",
            phrases=["waiting list"],
            examples=["We waited months for the assessment."],
        ),
        Code(
            id="staff",
            name="Changing carers",
            definition="Different care workers every day, no continuity.",
            phrases=["different carer"],
            examples=["A new carer came every day."],
        ),
        Code(
            id="money",
            name="Cost of care",
            definition="Charges, bills and paying for care.",
            phrases=["charges"],
            examples=["The charges for care went up."],
        ),
        Code(
            id="isolation",
            name="Loneliness",
            definition="Feeling lonely or isolated and seeing nobody.",
            phrases=["lonely"],
            examples=["She is lonely at home."],
        ),
    ]
    codes = [c.model_copy(update={"definition": changes[c.id]}) if c.id in changes else c for c in codes]
    return Codebook(name="test-book", version="1", codes=codes)


def add_documents(
    project: Project,
    docs: list[list[str]],
    kind: SourceKind = SourceKind.blog,
    prefix: str = "doc",
    attributes: Callable[[int], dict] | None = None,
) -> list[int]:
    """Store documents made of sentences, each sentence a segment with exact offsets.

    ``attributes(number)`` gives a document's participant attributes (participant f"{prefix}-{number}").
    """
    ids = []
    with project.begin() as connection:
        for number, sentences in enumerate(docs):
            text = " ".join(sentences)
            extra = {}
            if attributes is not None:
                extra = {
                    "participant": f"{prefix}-{number}",
                    "participant_attributes": [
                        Attribute.of(key, value) for key, value in attributes(number).items()
                    ],
                }
            saved = save_document(
                connection,
                Document(
                    kind=kind,
                    title=f"{prefix} {number}",
                    text=text,
                    path=f"{prefix}/{number}.txt",
                    wave=1 + number % 2,
                    **extra,
                ),
            )
            ids.append(saved.document_id)
            if saved.outcome == "unchanged":
                continue
            segs, start = [], 0
            for index, sentence in enumerate(sentences):
                begin = text.index(sentence, start)
                segs.append(
                    Segment(
                        document_id=saved.document_id,
                        unit=SegmentUnit.sentence,
                        index=index,
                        start=begin,
                        end=begin + len(sentence),
                        text=sentence,
                    )
                )
                start = begin + len(sentence)
            save_segments(connection, segs, pipeline="test")
    return ids


def theme_documents() -> list[list[str]]:
    """Eight documents of two theme sentences (each used once) and a neutral one."""
    interleaved = [sentences[i] for i in range(4) for sentences in THEMES.values()]
    return [[*interleaved[2 * d : 2 * d + 2], f"Document {d} ends here okay."] for d in range(8)]


# ------------------------------------------------------------------------- discovery

VOCAB = {
    "waiting": ["waited", "months", "assessment", "delay", "queue", "weeks", "reply", "list"],
    "staff": ["carer", "different", "agency", "rota", "workers", "continuity", "strangers", "visits"],
    "money": ["charges", "bills", "savings", "pension", "costs", "invoice", "fees", "afford"],
    "lonely": ["lonely", "isolated", "alone", "friends", "company", "silence", "nobody", "talk"],
    "respite": ["respite", "break", "exhausted", "sleep", "holiday", "rest", "tired", "relief"],
}
FILLER = ["N/A", "Nothing to add.", "no", "None", "ok fine", "-", "Nothing else to say"]


def comments(per_theme: int = 30, seed: int = 0) -> list[tuple[str, str]]:
    """(theme, comment) survey answers built from each theme's words, plus filler answers."""
    rng = random.Random(seed)
    found = []
    for theme, words in VOCAB.items():
        for _ in range(per_theme):
            a, b, c, d = rng.sample(words, 4)
            found.append((theme, f"Honestly the {a} and {b} made {c} worse, {d} again."))
    found += [("filler", text) for text in FILLER]
    rng.shuffle(found)
    return list(dict((text, (theme, text)) for theme, text in found).values())


def fake_fit(texts, vectors, params, seed, embedder, guidance, keybert):
    """Cluster by the theme words, standing in for BERTopic in the fast tests."""
    topics = np.array(
        [next((k for k, words in enumerate(VOCAB.values()) if any(w in t for w in words)), -1) for t in texts]
    )
    keywords = {k: words[:5] for k, words in enumerate(VOCAB.values())}
    labels = {k: " / ".join(words[:3]) for k, words in keywords.items()}
    return discover._Fit(topics=topics, keywords=keywords, labels=labels, stats={"fit_seconds": 0.0})
