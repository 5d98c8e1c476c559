"""What ``codebook validate`` warns about: a codebook that is valid but risky.

:func:`codebook_warnings` gives every warning as a :class:`~narratives.codebook.validate.Problem`
with a ``W4xx`` code, where (file and line when the YAML is at hand) and a fix:

- ``W420``/``W421``: patterns that can backtrack catastrophically (:func:`pattern_warnings`);
- ``W422``: two active codes with one name, compared without case and outer spaces;
- ``W423``: a three-digit colour (``#abc``), which other programs mishandle.

Warnings never stop a codebook loading; :func:`file_warnings` reads a YAML file again for lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import yaml

from narratives.codebook.validate import Locator, PlainLocator, Problem, YamlLocator
from narratives.schema import Codebook

SHORT_COLOUR = re.compile(r"^#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])$")


def file_warnings(path: str | Path, codebook: Codebook) -> list[Problem]:
    """The warnings of a codebook loaded from the YAML file ``path``, each naming its line."""
    text = Path(path).read_text(encoding="utf-8")
    return codebook_warnings(codebook, path, YamlLocator(path, yaml.compose(text, Loader=yaml.SafeLoader)))


def codebook_warnings(
    codebook: Codebook, source: str | Path = "<codebook>", locator: Locator | None = None
) -> list[Problem]:
    """Every warning, in the order of the codes; ``locator`` says where code number ``i`` is (its
    YAML line, its CSV row), else the code's position is named."""
    where = locator or PlainLocator(source)
    return [
        *pattern_warnings(codebook, source),
        *name_warnings(codebook, where),
        *colour_warnings(codebook, where),
    ]


def name_warnings(codebook: Codebook, locator: Locator) -> list[Problem]:
    """W422 for each active code whose name an earlier active code has (ignoring case, outer spaces)."""
    found: list[Problem] = []
    first: dict[str, int] = {}
    for index, code in enumerate(codebook.codes):
        if code.retired:
            continue
        key = code.name.strip().casefold()
        if key not in first:
            first[key] = index
            continue
        earlier = codebook.codes[first[key]]
        found.append(
            Problem.of(
                "W422",
                locator.where(index, "name"),
                label=f"code '{code.id}'",
                name=code.name,
                other=earlier.id,
                first=locator.where(first[key], "name"),
            )
        )
    return found


def colour_warnings(codebook: Codebook, locator: Locator) -> list[Problem]:
    """W423 for each three-digit colour, with the six-digit spelling to write instead."""
    found: list[Problem] = []
    for index, code in enumerate(codebook.codes):
        short = SHORT_COLOUR.match(code.colour or "")
        if short:
            full = "#" + "".join(digit * 2 for digit in short.groups()).lower()
            where = locator.where(index, "colour")
            found.append(Problem.of("W423", where, label=f"code '{code.id}'", colour=code.colour, full=full))
    return found


REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)


def pattern_warnings(codebook: Codebook, source: str | Path = "<codebook>") -> list[Problem]:
    """Patterns that compile but can backtrack catastrophically: a repeated part that is itself
    repeated (``(a+)+``, ``(a*)*``, ``(.*a){3}``) or repeated alternatives that can start alike
    (``(a|aa)+``). The coder runs patterns safely anyway; these warn the author to simplify."""
    found: list[Problem] = []
    for code in codebook.codes:
        for number, pattern in enumerate(code.patterns):
            try:
                tree = sre_parse.parse(pattern, re.IGNORECASE)
            except re.error:
                continue  # an error (E410) for validate_codebook
            where = f"{source} code '{code.id}' pattern {number + 1}"
            for kind, part in _risks(list(tree), repeated=False):
                found.append(Problem.of(kind, where, label=f"code '{code.id}'", pattern=pattern, part=part))
                break
    return found


def _risks(items: list[Any], repeated: bool) -> list[tuple[str, str]]:
    """(warning code, what) for each risky construct in a parsed pattern; ``repeated``: inside a repeat."""
    found: list[tuple[str, str]] = []
    for op, av in items:
        if op in REPEATS:
            _low, high, body = av
            many = high == sre.MAXREPEAT or high > 1
            if many and repeated:
                found.append(("W420", "a quantifier inside a quantifier"))
            found += _risks(list(body), repeated or many)
        elif op is sre.SUBPATTERN:
            found += _risks(list(av[-1]), repeated)
        elif op is sre.BRANCH:
            branches = [list(branch) for branch in av[1]]
            if repeated and _may_start_alike(branches):
                found.append(("W421", "alternatives under a quantifier"))
            for branch in branches:
                found += _risks(branch, repeated)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found += _risks(list(av[1]), repeated)
    return found


def _may_start_alike(branches: list[list[Any]]) -> bool:
    """True unless every alternative starts with a different literal character."""
    firsts = [_first_literal(branch) for branch in branches]
    literals = [first for first in firsts if first is not None]
    return len(literals) < len(firsts) or len(set(literals)) < len(literals)


def _first_literal(items: list[Any]) -> int | None:
    """The character code every match of ``items`` starts with, when it is one literal."""
    for op, av in items:
        if op is sre.AT:
            continue
        if op is sre.LITERAL:
            return ord(chr(av).lower()[0])
        if op is sre.SUBPATTERN:
            return _first_literal(list(av[-1]))
        if op in REPEATS and av[0] >= 1:
            return _first_literal(list(av[2]))
        return None
    return None
