"""Speaker labels shared by plain transcripts and caption files: which labels name a speaker
(roles, participant codes, capitalised names) and the speaker each one stands for."""

from __future__ import annotations

import re

from narratives.schema import Turn

INTERVIEWER_LABELS = frozenset({"interviewer", "q", "i", "int", "iv", "question"})
PARTICIPANT_LABELS = frozenset({"a", "r", "respondent", "interviewee", "participant", "answer"})
OTHER_ROLE_LABELS = frozenset({"researcher", "facilitator", "moderator", "carer", "note taker"})
CODE_LABEL_RE = re.compile(
    r"^(?:P|R|Participant|Respondent|Interviewee|Speaker|Interviewer)\s*\d+$", re.IGNORECASE
)
_NOT_SPEAKERS = "note notes nb ps update edit source example date time location title subject re e.g i.e"
NOT_SPEAKERS = frozenset(_NOT_SPEAKERS.split())


def normalise_speaker(label: str, participant: str | None = None) -> str:
    """Q and I become ``Interviewer``; A and R become the participant key (or ``Participant``)."""
    label = " ".join(label.split()).strip("*")
    lower = label.lower().rstrip(".")
    if lower in INTERVIEWER_LABELS:
        return "Interviewer"
    if lower in PARTICIPANT_LABELS:
        return participant or "Participant"
    if re.fullmatch(r"p\s*\d+", lower):
        return label.replace(" ", "").upper()
    return label


def is_known_label(label: str) -> bool:
    """A role (``Interviewer``, ``Q``, ``Respondent``, ...) or a code (``P03``, ``Speaker 2``)."""
    lower = label.lower().rstrip(".")
    return (
        lower in INTERVIEWER_LABELS
        or lower in PARTICIPANT_LABELS
        or lower in OTHER_ROLE_LABELS
        or bool(CODE_LABEL_RE.match(label))
    )


def is_name_label(label: str) -> bool:
    """Up to four capitalised words that are not a word such as ``Note`` (``Jane Smith``)."""
    words = label.split()
    return (
        0 < len(words) <= 4
        and label.lower().rstrip(".") not in NOT_SPEAKERS
        and all(w[0].isupper() for w in words)
    )


def single_participant_code(turns: list[Turn]) -> str | None:
    """The participant code (``P03``) when exactly one speaks in ``turns``, else None."""
    codes = {t.speaker for t in turns if re.fullmatch(r"P\d+", t.speaker)}
    return codes.pop() if len(codes) == 1 else None
