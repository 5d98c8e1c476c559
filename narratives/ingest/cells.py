"""Survey cells: typing an attribute column (bool, int, float or text) and spotting answers with
nothing in them to code ('N/A', '-', 'nothing to add')."""

from __future__ import annotations

import re

from narratives.schema import Attribute

BOOL_VALUES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
INT_RE = re.compile(r"^[+-]?(?:0|[1-9]\d*)$")
_BLANKISH = (
    "n/a|na|n.a.|none|nothing|nothing to add|nothing further|nothing else|no comment|no comments|"
    "not applicable|nil|no answer|don't know|dont know|no idea|not sure|idk|see above|as above"
)
BLANKISH_ANSWERS = frozenset(_BLANKISH.split("|"))


def infer_column_type(values: list[str]) -> str:
    """bool for yes/no columns, int for whole numbers, float for numbers, else str."""
    guess = ColumnType()
    for value in values:
        guess.add(value)
    return guess.name


class ColumnType:
    """:func:`infer_column_type` one value at a time, so a column is typed without keeping it."""

    def __init__(self) -> None:
        self.present = False
        self.all_bool = self.all_int = self.all_float = True
        self.leading_zero = False  # codes with leading zeros stay text

    def add(self, raw: str) -> None:
        value = raw.strip()
        if not value:
            return
        self.present = True
        self.all_bool = self.all_bool and value.lower() in BOOL_VALUES
        self.all_int = self.all_int and INT_RE.match(value) is not None
        self.leading_zero = self.leading_zero or re.match(r"^[+-]?0\d", value) is not None
        if self.all_float:
            try:
                float(value.replace(",", ""))
            except ValueError:
                self.all_float = False

    @property
    def name(self) -> str:
        if not self.present:
            return "str"
        if self.all_bool:
            return "bool"
        if self.all_int:
            return "int"
        if self.leading_zero or not self.all_float:
            return "str"
        return "float"


def typed_attribute(key: str, raw: str, value_type: str) -> Attribute:
    value = raw.strip()
    if not value:
        return Attribute(key=key, value=None, value_type=value_type)
    if value_type == "bool":
        return Attribute.of(key, BOOL_VALUES[value.lower()])
    if value_type == "int":
        return Attribute.of(key, int(value))
    if value_type == "float":
        return Attribute.of(key, float(value.replace(",", "")))
    return Attribute.of(key, value)


def is_blankish(answer: str) -> bool:
    """An answer with no content to code: 'N/A', '-', 'nothing to add', only punctuation, ..."""
    if len(answer) > 200:  # longer than any blank-ish phrase: only punctuation could make it one
        return not any(ch.isalnum() for ch in answer)
    text = " ".join(answer.lower().split()).strip(" .!")
    return text in BLANKISH_ANSWERS or not any(ch.isalnum() for ch in text)
