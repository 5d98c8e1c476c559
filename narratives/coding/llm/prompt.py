"""The LLM coder's prompt, the JSON schema its answer must follow, and the check of each answer.

The system message carries each code's definition, inclusion and exclusion criteria and examples (and a
few reviewed segments per code, once there are reviews); the user message is a JSON list of segments,
``{"id": k, "text": ...}``. The answer must be ``{"segments": [{"id": k, "codes": [{"code", "quote",
"reason", "confidence"}]}]}``. :func:`parse_answer` keeps, per segment asked about, the entries whose
code is in the codebook; :func:`locate_quote` then finds each quote in its segment (exactly, else
ignoring case, white space and typographic quotes): a quote found nowhere is invented evidence and its
code is dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from narratives.schema import Code

PROMPT_VERSION = "1"
MAX_EXAMPLES_PER_CODE = 3
MAX_EXAMPLE_CHARS = 400
MIN_QUOTE_CHARS = 3

SYSTEM = """You are a careful qualitative researcher. You code segments of text in which people describe \
their experience of adult social care and health services, using the codebook below.

For every segment, list each code that applies. For each code give:
- "code": the code's id, exactly as written in the codebook;
- "quote": the shortest passage of the segment that shows the code applies, copied character for \
character from the segment (never paraphrased, never shortened with "...");
- "reason": one sentence saying why the passage fits the code's definition;
- "confidence": how sure you are that the code applies, from 0 to 1.

Apply a code only when the segment itself shows it; follow the inclusion and exclusion criteria. \
A segment may carry several codes or none: then give an empty list. Answer with JSON only, in the form \
{"segments": [{"id": <segment id>, "codes": [...]}]}, one entry for every segment you are given.

Codebook:
"""


def answer_schema(code_ids: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of an answer; the code must be one of ``code_ids``."""
    entry = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "enum": list(code_ids)},
            "quote": {"type": "string"},
            "reason": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["code", "quote", "reason", "confidence"],
        "additionalProperties": False,
    }
    segment = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "codes": {"type": "array", "items": entry}},
        "required": ["id", "codes"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"segments": {"type": "array", "items": segment}},
        "required": ["segments"],
        "additionalProperties": False,
    }


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXAMPLE_CHARS else text[: MAX_EXAMPLE_CHARS - 1] + "…"


def codebook_block(codes: Sequence[Code], reviewed: Mapping[str, Sequence[str]] | None = None) -> str:
    """The codebook as the system message shows it: per code its id, name, definition, criteria and
    examples, then up to a few reviewed segments that carry it."""
    reviewed = reviewed or {}
    lines: list[str] = []
    for code in codes:
        lines.append(f"- id: {code.id}\n  name: {code.name}")
        if code.definition:
            lines.append(f"  definition: {_clip(code.definition)}")
        for label, items in (("include when", code.inclusion), ("exclude when", code.exclusion)):
            for item in items:
                lines.append(f"  {label}: {_clip(item)}")
        for example in code.examples[:MAX_EXAMPLES_PER_CODE]:
            lines.append(f"  example: {_clip(example)}")
        for example in reviewed.get(code.id, ()):
            lines.append(f"  reviewed example: {_clip(example)}")
    return "\n".join(lines)


def system_message(codes: Sequence[Code], reviewed: Mapping[str, Sequence[str]] | None = None) -> str:
    return SYSTEM + codebook_block(codes, reviewed)


def user_message(texts: Sequence[str]) -> str:
    return json.dumps(
        {"segments": [{"id": k, "text": text} for k, text in enumerate(texts)]}, ensure_ascii=False
    )


def prompt_hash(system: str, schema: Mapping[str, Any], model: str, temperature: float) -> str:
    """The identity of a prompt: what an answer cached under it was asked with."""
    document = {
        "version": PROMPT_VERSION,
        "system": system,
        "schema": schema,
        "model": model,
        "temperature": temperature,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()


class MalformedAnswer(ValueError):
    """The model's message is not the JSON the schema asks for."""


def parse_answer(content: str, asked: int, code_ids: Sequence[str]) -> dict[int, list[dict[str, Any]]]:
    """Segment position -> its entries, for the positions ``0 .. asked-1`` the answer covers.

    Entries name a known code and carry a quote (strings; the reason may be empty; a confidence
    outside 0-1 or missing becomes None). Raises :class:`MalformedAnswer` when the content is not
    JSON of the expected shape at all.
    """
    try:
        document = json.loads(_strip_fence(content))
    except json.JSONDecodeError as error:
        raise MalformedAnswer(f"not JSON ({error.msg} at character {error.pos})") from None
    segments = document.get("segments") if isinstance(document, dict) else None
    if not isinstance(segments, list):
        raise MalformedAnswer('no "segments" list')
    known = set(code_ids)
    found: dict[int, list[dict[str, Any]]] = {}
    for item in segments:
        if not isinstance(item, dict) or not isinstance(item.get("codes"), list):
            continue
        position = item.get("id")
        if isinstance(position, str) and position.isdigit():
            position = int(position)
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < asked:
            continue
        entries = found.setdefault(position, [])
        for entry in item["codes"]:
            kept = _entry(entry, known)
            if kept is not None:
                entries.append(kept)
    return found


def _entry(entry: Any, known: set[str]) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        return None
    code, quote, reason = entry.get("code"), entry.get("quote"), entry.get("reason", "")
    if code not in known or not isinstance(quote, str):
        return None
    confidence = entry.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        confidence = None
    return {
        "code": code,
        "quote": quote,
        "reason": reason.strip() if isinstance(reason, str) else "",
        "confidence": None if confidence is None else float(confidence),
    }


def _strip_fence(content: str) -> str:
    """The JSON inside a Markdown code fence, which some models add despite being asked not to."""
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.DOTALL)
    return fenced.group(1) if fenced else text


QUOTE_MARKS = "\"'“”‘’«»`"
_VARIANTS = {
    "'": "['‘’`]",
    "‘": "['‘’`]",
    "’": "['‘’`]",
    '"': '["“”]',
    "“": '["“”]',
    "”": '["“”]',
    "-": "[-–—]",
    "–": "[-–—]",
    "—": "[-–—]",
}


@dataclass(frozen=True)
class Located:
    start: int
    end: int


def locate_quote(text: str, quote: str) -> Located | None:
    """Where ``quote`` occurs in ``text``: exactly, else ignoring case, runs of white space and the
    kind of quotation marks and dashes; None when it does not occur (invented evidence)."""
    quote = quote.strip().strip(QUOTE_MARKS).strip()
    if len(quote) < MIN_QUOTE_CHARS:
        return None
    start = text.find(quote)
    if start >= 0:
        return Located(start, start + len(quote))
    words = quote.split()
    pattern = r"\s+".join("".join(_VARIANTS.get(ch, re.escape(ch)) for ch in word) for word in words)
    found = re.search(pattern, text, flags=re.IGNORECASE)
    return Located(found.start(), found.end()) if found else None
