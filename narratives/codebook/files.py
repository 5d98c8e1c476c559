"""Load, dump and walk codebooks.

A codebook is a YAML file (see ``models/codebooks/``). :func:`load_codebook` reads one and checks it
with :func:`~narratives.codebook.validate.validate_codebook`, which lists every problem
with its line and how to fix it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from narratives.codebook.validate import LIST_FIELDS, CodebookProblems, Problem, validate_codebook
from narratives.schema import Code, Codebook

CODE_FIELD_ORDER = ("id", "name", "plain_name", "parent", "definition", *LIST_FIELDS, "colour", "retired")
ODD_BREAKS = re.compile("[\r\x85\u2028\u2029]")


# ---------------------------------------------------------------------------------------- loading


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a YAML codebook; raises :class:`CodebookProblems` listing every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise CodebookProblems([Problem.of("E414", str(path), reason=reason)], path) from None
    return validate_codebook(text, path)


# ---------------------------------------------------------------------------------------- dumping


class _BlockDumper(yaml.SafeDumper):
    """Block style, ``|`` for text with line breaks, list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # YAML folds the rarer line breaks in plain and single-quoted text; double quotes escape them.
    style = '"' if ODD_BREAKS.search(text) else "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _represent_str)


def codebook_to_data(codebook: Codebook) -> dict[str, Any]:
    """Plain data in reading order, leaving out fields that hold their defaults."""
    data = {"name": codebook.name, "version": codebook.version}
    data |= codebook.model_dump(exclude={"codes", "name", "version"}, exclude_defaults=True)
    return {**data, "codes": [_code_to_data(code) for code in codebook.codes]}


def _code_to_data(code: Code) -> dict[str, Any]:
    raw = code.model_dump(exclude_defaults=True) | {"definition": code.definition}
    order = [key for key in CODE_FIELD_ORDER if key in raw]
    return {key: raw[key] for key in order + [key for key in raw if key not in order]}


def dump_codebook_yaml(codebook: Codebook) -> str:
    """The codebook as block-style YAML, unicode kept, that loads back to an equal codebook."""
    return yaml.dump(
        codebook_to_data(codebook),
        Dumper=_BlockDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def save_codebook(codebook: Codebook, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_codebook_yaml(codebook), encoding="utf-8")
    return path


def codebook_version_hash(codebook: Codebook) -> str:
    """Short, stable hash of the whole codebook's content: it changes when any code changes."""
    return hashlib.sha256(codebook.model_dump_json().encode("utf-8")).hexdigest()[:12]


# -------------------------------------------------------------------------------------- hierarchy


@dataclass
class CodeNode:
    """One code with its sub-codes, for display."""

    code: Code
    children: list[CodeNode] = field(default_factory=list)


def children(codebook: Codebook, code_id: str | None) -> list[Code]:
    """Direct sub-codes of ``code_id`` in file order; ``None`` gives the top-level codes."""
    if code_id is not None:
        codebook.code(code_id)  # KeyError for an unknown id
        return [code for code in codebook.codes if code.parent == code_id]
    known = {code.id for code in codebook.codes}
    return [code for code in codebook.codes if code.parent is None or code.parent not in known]


def ancestors(codebook: Codebook, code_id: str) -> list[Code]:
    """Parent, grandparent, ... of ``code_id``, nearest first."""
    found: list[Code] = []
    seen = {code_id}
    parent = codebook.code(code_id).parent
    while parent is not None and parent not in seen:
        try:
            found.append(codebook.code(parent))
        except KeyError:
            break
        seen.add(parent)
        parent = found[-1].parent
    return found


def descendants(codebook: Codebook, code_id: str) -> list[Code]:
    """Every code below ``code_id``, depth first."""
    return [node.code for node in _walk(_grow(codebook, codebook.code(code_id), frozenset()).children)]


def code_tree(codebook: Codebook) -> list[CodeNode]:
    """The hierarchy as nested :class:`CodeNode`, top-level codes first, file order kept."""
    return [_grow(codebook, code, frozenset()) for code in children(codebook, None)]


def _grow(codebook: Codebook, code: Code, seen: frozenset[str]) -> CodeNode:
    below = [child for child in children(codebook, code.id) if child.id not in seen | {code.id}]
    return CodeNode(code, [_grow(codebook, child, seen | {code.id}) for child in below])


def _walk(nodes: list[CodeNode]) -> list[CodeNode]:
    return [each for node in nodes for each in (node, *_walk(node.children))]


def leaf_codes(codebook: Codebook) -> list[Code]:
    """Codes with no sub-codes: the ones a coder applies to segments."""
    parents = {code.parent for code in codebook.codes}
    return [code for code in codebook.codes if code.id not in parents]
