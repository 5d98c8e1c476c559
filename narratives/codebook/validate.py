"""Validate a codebook and say where each problem is.

:func:`validate_codebook` collects every problem before raising one :class:`CodebookProblems`; each
problem has a code from :data:`MESSAGES`, names the file, the line and the code id, and says how to
fix it (spaCy's ``errors.py`` habit). A :class:`YamlLocator` walks the YAML nodes for line numbers;
plain data (from a CSV, say) takes another :class:`Locator`. What is valid but risky (patterns that
backtrack, names used twice, short colours) is :mod:`narratives.codebook.lint`'s warnings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from narratives.errors import CodebookError
from narratives.schema import Code, Codebook

CODEBOOK_FIELDS = tuple(Codebook.model_fields)
CODE_FIELDS = tuple(Code.model_fields)
LIST_FIELDS = ("inclusion", "exclusion", "examples", "near_misses", "phrases", "patterns")
TEXT_FIELDS = ("id", "name", "definition", "parent", "colour", "plain_name")
COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# code: (message, fix); ``{label}`` is "code 'gatekeeping'" or "code #3" or "the codebook".
MESSAGES: dict[str, tuple[str, str]] = {
    "E401": ("{label} has no definition.", "add a 'definition:' line."),
    "E402": (
        "the YAML cannot be read: {reason}.",
        "check indentation and quoting there; quote text containing ': ' or starting with ' \" # [ {{.",
    ),
    "E403": ("the codebook has no {key}.", "add a line '{example}'."),
    "E404": ("{label} {what}.", "{fix}"),
    "E405": ("{label} has no id.", "add an 'id:' line with a short machine name such as 'gatekeeping'."),
    "E406": ("code id '{code_id}' is used twice (first at {first}).", "give one of them another id."),
    "E407": ("{label} has no name.", "add a 'name:' line with a readable name."),
    "E408": ("{label} has parent '{parent}', which is not a code in this codebook.", "{fix}"),
    "E409": ("codes form a cycle of parents: {cycle}.", "give one of {ids} another parent, or none."),
    "E410": (
        "{label}: pattern {pattern!r} is not a valid regular expression ({reason}).",
        "correct it, or move plain words to 'phrases:'.",
    ),
    "E411": ("{label} has an unknown field '{key}'.", "{fix}"),
    "E412": ("{label}: {what}.", "{fix}"),
    "E413": (
        "{label}: colour {colour!r} is not a hex colour (an unquoted '#' starts a YAML comment).",
        'write it quoted as "#rrggbb", for example colour: "#1f77b4".',
    ),
    "E414": ("cannot read the codebook: {reason}.", "check the path, and save the file as UTF-8 text."),
    "E415": ("the field '{key}' is given twice in one mapping.", "keep one; YAML silently uses the last."),
    "E416": ("the CSV has no column {columns}.", "add a header row naming at least: {required}."),
    "W420": (
        "{label}: pattern {pattern!r} repeats a part that is itself repeated ({part}): on a backtracking "
        "engine such a pattern can take time exponential in the segment's length.",
        "simplify it: repeat the inner part once, e.g. (a+)+ -> a+, or use [a-z]+ for a run of letters.",
    ),
    "W421": (
        "{label}: pattern {pattern!r} repeats alternatives that can match the same text ({part}), which can "
        "take time exponential in the segment's length.",
        "make the alternatives start differently, e.g. (a|aa)+ -> a+, (\\d|\\w)+ -> \\w+.",
    ),
    "W422": (
        "{label} has the name {name!r}, as code '{other}' ({first}) has: names are compared without "
        "case and outer spaces, and other QDA programs (and narratives import) match codes by name.",
        "give one of them another name.",
    ),
    "W423": (
        "{label}: colour {colour!r} has three digits, which some QDA programs read wrongly or not at all.",
        'write it with six digits: colour: "{full}".',
    ),
    "E417": (
        "{label}: {key} entry {number} has a line break, which a CSV cell list cannot hold.",
        "export to YAML instead, or remove the line break.",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a codebook, in the shape of a :class:`NarrativesError` line."""

    code: str
    where: str
    message: str
    fix: str

    @classmethod
    def of(cls, code: str, where: str, **details: Any) -> Problem:
        message, fix = MESSAGES[code]
        return cls(code, where, message.format(**details), fix.format(**details))

    def __str__(self) -> str:
        return f"{self.code}: {self.where}: {self.message} Fix: {self.fix}"


class CodebookProblems(CodebookError):
    """Every problem found in one codebook; a single problem reads exactly as its own line."""

    def __init__(self, problems: list[Problem], source: str | Path):
        self.problems = sorted(problems, key=_line_of)
        problems = self.problems
        if len(problems) == 1:
            self.code = problems[0].code
            super().__init__(problems[0].message, where=problems[0].where, fix=problems[0].fix)
        else:
            listing = "\n".join(f"  {problem}" for problem in problems)
            super().__init__(f"{len(problems)} problems in this codebook:\n{listing}", where=source)


def _line_of(problem: Problem) -> int:
    found = re.search(r" (?:line|row) (\d+)", problem.where)
    return int(found.group(1)) if found else 0


class Locator(Protocol):
    """Says where a field sits: ``file line 14`` for YAML, ``file row 5`` for a CSV."""

    def where(self, index: int | None = None, key: str | None = None, item: int | None = None) -> str: ...


class PlainLocator:
    """For data that came from no file: names the source and the code's position."""

    def __init__(self, source: str | Path):
        self.source = str(source)

    def where(self, index: int | None = None, key: str | None = None, item: int | None = None) -> str:
        return self.source if index is None else f"{self.source} code #{index + 1}"


class YamlLocator:
    """1-based line numbers of the top-level fields, each code, and each field and list item."""

    def __init__(self, source: str | Path, root: yaml.Node | None):
        self.source = str(source)
        self.root = root
        codes = _mapping_entry(root, "codes")[1]
        self.codes: list[yaml.Node] = list(codes.value) if isinstance(codes, yaml.SequenceNode) else []

    def where(self, index: int | None = None, key: str | None = None, item: int | None = None) -> str:
        node = self.root if index is None else self.codes[index] if index < len(self.codes) else None
        line = node.start_mark.line if node is not None else 0
        key_node, value = _mapping_entry(node, key) if key else (None, None)
        if key_node is not None:
            line = key_node.start_mark.line
        if item is not None and isinstance(value, yaml.SequenceNode) and item < len(value.value):
            line = value.value[item].start_mark.line
        return f"{self.source} line {line + 1}"


def _mapping_entry(node: yaml.Node | None, key: str) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return key_node, value_node
    return None, None


# ---------------------------------------------------------------------------------------- parsing


def validate_codebook(
    data: str | Mapping[str, Any], source: str | Path = "<codebook>", *, locator: Locator | None = None
) -> Codebook:
    """Check a codebook given as YAML text or as plain data; return it or raise every problem.

    YAML text gives each problem its line; plain data (from a CSV, say) takes a ``locator`` that
    names rows instead.
    """
    problems: list[Problem] = []
    parsed: Any = data
    if isinstance(data, str):
        try:
            root = yaml.compose(data, Loader=yaml.SafeLoader)
            parsed = yaml.SafeLoader("").construct_document(root) if root is not None else None
        except yaml.YAMLError as error:
            raise CodebookProblems([_syntax_problem(error, source)], source) from None
        yaml_locator = YamlLocator(source, root)
        locator = locator or yaml_locator
        problems += _duplicate_keys([root, *yaml_locator.codes], source)
    problems += _check_codebook(parsed, locator or PlainLocator(source))
    if problems:
        raise CodebookProblems(problems, source)
    return Codebook.model_validate(_without_nulls(parsed))


def _syntax_problem(error: yaml.YAMLError, source: str | Path) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f"{source} line {mark.line + 1} column {mark.column + 1}" if mark else str(source)
    reason = getattr(error, "problem", None) or str(error).splitlines()[0]
    return Problem.of("E402", where, reason=reason)


def _duplicate_keys(mappings: list[yaml.Node | None], source: str | Path) -> list[Problem]:
    found: list[Problem] = []
    for node in mappings:
        keys = [key for key, _ in node.value] if isinstance(node, yaml.MappingNode) else []
        for position, key in enumerate(keys):
            if any(earlier.value == key.value for earlier in keys[:position]):
                found.append(Problem.of("E415", f"{source} line {key.start_mark.line + 1}", key=key.value))
    return found


def _without_nulls(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop nulls so the model's defaults apply; an integer version becomes text."""
    cleaned = {key: value for key, value in data.items() if value is not None}
    cleaned["version"] = str(data["version"])
    cleaned["codes"] = [{k: v for k, v in code.items() if v is not None} for code in data["codes"]]
    return cleaned


# ------------------------------------------------------------------------------------- validation


def _unknown_fields(data: Mapping[Any, Any], known: tuple[str, ...], label: str, where: Any) -> list[Problem]:
    found = []
    for key in (key for key in data if key not in known):
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        fix = f"did you mean '{close[0]}'? Rename it." if close else f"remove it; known: {', '.join(known)}."
        found.append(Problem.of("E411", where(str(key)), label=label, key=key, fix=fix))
    return found


def _wrong_type(where: str, label: str, what: str, fix: str) -> Problem:
    return Problem.of("E412", where, label=label, what=what, fix=fix)


def _bad_shape(where: str, label: str, what: str, fix: str) -> Problem:
    return Problem.of("E404", where, label=label, what=what, fix=fix)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_codebook(data: Any, loc: Locator) -> list[Problem]:
    if not isinstance(data, Mapping):
        what = "is not a mapping of fields (name, version, codes, ...)"
        return [_bad_shape(loc.where(), "the file", what, "copy models/codebooks/making-it-real.yaml.")]
    found = _unknown_fields(data, CODEBOOK_FIELDS, "the codebook", lambda key: loc.where(None, key))
    for key, example in (("name", "name: my-codebook"), ("version", 'version: "1.0"')):
        if _blank(data.get(key)):
            found.append(Problem.of("E403", loc.where(None, key), key=key, example=example))
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, str | int)):
        fix = f'quote it: version: "{version}".'
        found.append(
            _wrong_type(loc.where(None, "version"), "the codebook", f"version {version!r} is not text", fix)
        )
    for key in ("name", "title", "description", "licence"):
        if data.get(key) is not None and not isinstance(data[key], str):
            fix = f"quote the value after '{key}:'."
            found.append(_wrong_type(loc.where(None, key), "the codebook", f"'{key}' is not text", fix))
    codes = data.get("codes")
    if not isinstance(codes, list) or not codes:
        what = "has no codes" if not codes else "has 'codes' that is not a list"
        fix = "add 'codes:' followed by entries that start with '- id: ...'."
        return [*found, _bad_shape(loc.where(None, "codes"), "the codebook", what, fix)]
    return found + _check_codes(codes, loc)


def _check_codes(codes: list[Any], loc: Locator) -> list[Problem]:
    found: list[Problem] = []
    first_seen: dict[str, int] = {}
    for index, code in enumerate(codes):
        if not isinstance(code, Mapping):
            fix = "start each code with '- id: ...' and indent its fields under it."
            found.append(_bad_shape(loc.where(index), f"code #{index + 1}", "is not a mapping", fix))
            continue
        found += _check_code(code, index, loc)
        code_id = code.get("id")
        if isinstance(code_id, str) and code_id in first_seen:
            first = loc.where(first_seen[code_id], "id")
            found.append(Problem.of("E406", loc.where(index, "id"), code_id=code_id, first=first))
        elif isinstance(code_id, str) and code_id:
            first_seen[code_id] = index
    return found + _check_parents(codes, first_seen, loc)


def _check_code(code: Mapping[str, Any], index: int, loc: Locator) -> list[Problem]:
    code_id = code.get("id")
    label = f"code '{code_id}'" if isinstance(code_id, str) and code_id else f"code #{index + 1}"
    found = _unknown_fields(code, CODE_FIELDS, label, lambda key: loc.where(index, key))
    if _blank(code_id):
        found.append(Problem.of("E405", loc.where(index), label=label))
    for key, problem_code in (("name", "E407"), ("definition", "E401")):
        if _blank(code.get(key)):
            found.append(
                Problem.of(problem_code, loc.where(index, key if key in code else None), label=label)
            )
    for key in (key for key in TEXT_FIELDS if code.get(key) is not None):
        if not isinstance(code[key], str):
            what, fix = f"'{key}' is {type(code[key]).__name__}, not text", f"quote the value after '{key}:'."
            found.append(_wrong_type(loc.where(index, key), label, what, fix))
    if "retired" in code and not isinstance(code["retired"], bool):
        what, fix = "'retired' is not true or false", "write 'retired: true' or remove the line."
        found.append(_wrong_type(loc.where(index, "retired"), label, what, fix))
    colour = code.get("colour", "#000")
    if colour is None or (isinstance(colour, str) and not COLOUR_RE.match(colour)):
        found.append(Problem.of("E413", loc.where(index, "colour"), label=label, colour=colour))
    return found + _check_lists(code, index, label, loc)


def _check_lists(code: Mapping[str, Any], index: int, label: str, loc: Locator) -> list[Problem]:
    found: list[Problem] = []
    for key in (key for key in LIST_FIELDS if code.get(key) is not None):
        if not isinstance(code[key], list):
            fix = f"put each entry of '{key}:' on its own line after '- '."
            found.append(_wrong_type(loc.where(index, key), label, f"'{key}' is not a list of text", fix))
            continue
        for number, item in enumerate(code[key]):
            where = loc.where(index, key, number)
            if not isinstance(item, str):
                what = f"{key} entry {number + 1} is {type(item).__name__}, not text"
                fix = "quote it, or remove an empty '- ' line."
                if isinstance(item, dict):
                    fix = "it holds ': ', which YAML reads as a field; put the whole entry in quotes."
                found.append(_wrong_type(where, label, what, fix))
            elif key == "patterns":
                try:
                    re.compile(item)
                except re.error as error:
                    found.append(Problem.of("E410", where, label=label, pattern=item, reason=error))
    return found


def _check_parents(codes: list[Any], first_seen: dict[str, int], loc: Locator) -> list[Problem]:
    found: list[Problem] = []
    parents: dict[str, str] = {}
    for index, code in enumerate(codes):
        if not isinstance(code, Mapping) or not isinstance(code.get("parent"), str):
            continue
        parent, code_id = code["parent"], code.get("id")
        if parent not in first_seen:
            close = difflib.get_close_matches(parent, list(first_seen), n=1)
            fix = f"did you mean '{close[0]}'?" if close else "use the id of a code in this codebook."
            found.append(
                Problem.of(
                    "E408", loc.where(index, "parent"), label=f"code '{code_id}'", parent=parent, fix=fix
                )
            )
        elif isinstance(code_id, str) and first_seen.get(code_id) == index:
            parents[code_id] = parent
    for cycle in _parent_cycles(parents):
        ids = ", ".join(repr(code_id) for code_id in cycle)
        found.append(
            Problem.of(
                "E409",
                loc.where(first_seen[cycle[0]], "parent"),
                cycle=" -> ".join([*cycle, cycle[0]]),
                ids=ids,
            )
        )
    return found


def _parent_cycles(parents: dict[str, str]) -> list[list[str]]:
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done and node not in path:
            path.append(node)
            node = parents.get(node)
        if node is not None and node in path:
            cycles.append(path[path.index(node) :])
        done.update(path)
    return cycles
