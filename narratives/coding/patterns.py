"""A codebook's regular expressions, matched in time that cannot blow up, all codes at once.

Patterns keep Python's meaning (``re`` with ``IGNORECASE``: Unicode ``\\w``, ``\\d``, ``\\s`` and
``\\b``) but do not run on ``re``. Each pattern is translated (:func:`translate`) into two RE2
patterns:

* an *exact* one with the same matches, where RE2 can say it (``\\w`` becomes ``[\\p{L}\\p{N}_]``
  and so on); RE2 runs in time linear in the text whatever the pattern. RE2's word boundary is
  ASCII-only, so a pattern with ``\\b`` runs on RE2 only over ASCII text. Look-arounds,
  back-references, atomic groups and possessive quantifiers have no RE2 form: those patterns (and
  ``\\b`` over other text) run on the ``regex`` module with a time limit per segment
  (``timeout``). A pattern that runs out of time is reported once (:class:`PatternProblem`) and
  skipped for the rest of the run.
* a *loose* one that matches wherever the exact one could (assertions dropped, ``\\w`` widened to
  any character, ...). The loose patterns of all codes are compiled into a few ``re2.Set``\\ s, so
  one pass over a segment says which patterns can match it; only those are run exactly. This keeps
  a 10,000-code codebook at a handful of RE2 passes per segment instead of 10,000 searches.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

TIMEOUT = 0.1  # seconds one pattern may take on one segment on the ``regex`` fallback
SET_SIZE = 1000  # loose patterns per re2.Set
SET_MEMORY = 64 << 20  # bytes RE2 may use for one set
ANY = "(?s:.)"
ANYTHING = "(?:(?s:.)*)"
# Python's Unicode classes (str.isalnum, str.isdecimal, str.isspace) in RE2's syntax.
UNICODE_CLASSES = {
    "w": r"\p{L}\p{N}_",
    "d": r"\p{Nd}",
    "s": r"\t\n\v\f\r\x{1c}-\x{1f}\x{85}\p{Z}",
}
QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")
FIX = "simplify it: avoid a quantifier inside a quantifier such as (a+)+, and alternatives that overlap such as (a|aa)+."


@dataclass(frozen=True)
class PatternProblem:
    """A pattern the coder could not use: it does not compile, or it ran out of time on a segment."""

    code_id: str
    pattern: str
    reason: str
    fix: str = FIX

    def __str__(self) -> str:
        return f"code '{self.code_id}': pattern {self.pattern!r} {self.reason}; skipped. Fix: {self.fix}"


@dataclass(frozen=True)
class Translation:
    """RE2 forms of one Python pattern; ``None`` where RE2 cannot say it."""

    exact: str | None
    loose: str | None
    newline_sensitive: bool  # ``$``: exact only on texts that do not end in a newline
    ascii_only: bool = False  # ``\b``, ``\B``: exact only on ASCII texts


def translate(pattern: str) -> Translation:
    """The exact and loose RE2 forms of a Python ``re`` pattern (see the module doc)."""
    state = _Translator(pattern)
    state.run()
    exact = "".join(state.exact) if state.exact_ok else None
    loose = "".join(state.loose) if state.loose_ok else None
    return Translation(exact, loose, state.newline_sensitive, state.ascii_only)


class _Translator:
    """Walks a pattern once, writing its exact and loose RE2 forms side by side."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.i = 0
        self.exact: list[str] = []
        self.loose: list[str] = []
        self.exact_ok = True
        self.loose_ok = True
        self.newline_sensitive = False
        self.ascii_only = False

    def emit(self, exact: str | None, loose: str | None) -> None:
        if exact is None:
            self.exact_ok = False
        else:
            self.exact.append(exact)
        if loose is None:
            self.loose_ok = False
        else:
            self.loose.append(loose)

    def run(self) -> None:
        p = self.pattern
        while self.i < len(p):
            char = p[self.i]
            if char == "\\":
                self.escape()
            elif char == "[":
                self.character_class()
            elif char == "(":
                self.group()
            elif char == "{":
                self.brace()
            elif char in "*+?":
                self.i += 1
                self.emit(char, char)
                self.possessive()
            elif char == "$":
                self.i += 1
                self.newline_sensitive = True
                self.emit("$", "")  # the loose form drops the assertion
            else:
                self.i += 1
                self.emit(char, char)

    def possessive(self) -> None:
        """After a quantifier: ``+`` makes it possessive (no RE2 form; loosely, a plain one)."""
        if self.i < len(self.pattern) and self.pattern[self.i] == "+":
            self.i += 1
            self.emit(None, "")
        elif self.i < len(self.pattern) and self.pattern[self.i] == "?":
            self.i += 1
            self.emit("?", "?")

    def escape(self) -> None:
        p, i = self.pattern, self.i
        char = p[i + 1] if i + 1 < len(p) else ""
        self.i += 2
        if char in UNICODE_CLASSES:
            self.emit(f"[{UNICODE_CLASSES[char]}]", ANY)
        elif char.lower() in UNICODE_CLASSES:
            self.emit(f"[^{UNICODE_CLASSES[char.lower()]}]", ANY)
        elif char in "bB":  # RE2's is ASCII-only: the same as Python's on ASCII text
            self.ascii_only = True
            self.emit("\\" + char, "")
        elif char == "Z":
            self.emit(r"\z", r"\z")
        elif char in "uU":
            width = 4 if char == "u" else 8
            digits = p[self.i : self.i + width]
            self.i += width
            self.emit(f"\\x{{{digits}}}", f"\\x{{{digits}}}")
        elif char == "N":
            self.i = p.find("}", self.i) + 1 if "}" in p[self.i :] else len(p)
            self.emit(None, ANY)
        elif char.isdigit():  # a back-reference or an octal escape
            while self.i < len(p) and p[self.i].isdigit():
                self.i += 1
            self.emit(None, ANYTHING)
        else:
            self.emit("\\" + char, "\\" + char)

    def character_class(self) -> None:
        p = self.pattern
        j = self.i + 1
        body = ["["]
        widened = False
        if j < len(p) and p[j] == "^":
            body.append("^")
            j += 1
        if j < len(p) and p[j] == "]":
            body.append(r"\]")
            j += 1
        exact_ok = True
        while j < len(p) and p[j] != "]":
            if p[j] == "\\" and j + 1 < len(p):
                char = p[j + 1]
                if char in UNICODE_CLASSES:
                    body.append(UNICODE_CLASSES[char])
                    widened = True
                elif char.lower() in UNICODE_CLASSES:
                    exact_ok, widened = False, True
                elif char == "b":
                    body.append(r"\x08")
                elif char in "uU":
                    width = 4 if char == "u" else 8
                    body.append(f"\\x{{{p[j + 2 : j + 2 + width]}}}")
                    j += width
                elif char.isdigit() or char == "N":
                    exact_ok, widened = False, True
                else:
                    body.append(p[j : j + 2])
                j += 2
                continue
            if p[j] == "[":
                body.append(r"\[")  # literal in Python; RE2 would read "[:alpha:]" as a class
            else:
                body.append(p[j])
            j += 1
        body.append("]")
        self.i = j + 1
        text = "".join(body)
        self.emit(text if exact_ok else None, ANY if widened else text)

    def group(self) -> None:
        p = self.pattern
        rest = p[self.i :]
        if rest.startswith(("(?=", "(?!", "(?<=", "(?<!")):
            self.i = _group_end(p, self.i)
            self.emit(None, "")  # a look-around only narrows: the loose form drops it
            return
        if rest.startswith("(?#"):
            self.i = p.find(")", self.i) + 1 if ")" in rest else len(p)
            return
        if rest.startswith("(?>"):
            self.i += 3
            self.emit(None, "(?:")
            return
        if rest.startswith("(?P="):
            self.i = p.find(")", self.i) + 1 if ")" in rest else len(p)
            self.emit(None, ANYTHING)
            return
        if rest.startswith("(?("):
            self.i += 3
            self.emit(None, None)
            return
        flags = re.match(r"\(\?([a-zA-Z-]*)([:)])", rest)
        if flags and not rest.startswith("(?P"):
            letters = flags.group(1).replace("-", "")
            ok = all(letter in "ims" for letter in letters)
            self.i += len(flags.group(0))
            self.emit(flags.group(0) if ok else None, flags.group(0) if ok else None)
            return
        self.i += 1
        self.emit("(", "(")

    def brace(self) -> None:
        found = QUANTIFIER.match(self.pattern, self.i)
        if found is None or (not found.group(1) and not found.group(2)):
            self.i += 1
            self.emit(r"\{", r"\{")
            return
        low, comma, high = found.group(1) or "0", found.group(2), found.group(3)
        self.i = found.end()
        text = f"{{{low}{comma}{high}}}"
        self.emit(text, text)
        self.possessive()


def _group_end(pattern: str, start: int) -> int:
    """The index just after the group that opens at ``start`` (escapes and classes skipped)."""
    depth, i = 0, start
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)


# ------------------------------------------------------------------------------------ matching


def _re2_options() -> Any:
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


@dataclass
class _Pattern:
    code_id: str
    text: str
    translation: Translation
    exact: Any = None  # compiled RE2, on first use
    fallback: Any = None  # compiled ``regex``, on first use
    dead: bool = False


class PatternIndex:
    """Every pattern of a codebook, matched together; see the module doc.

    ``problems`` lists the patterns that were skipped (each once), in the order they failed.
    """

    def __init__(self, patterns: Sequence[tuple[str, str]], timeout: float = TIMEOUT):
        self.timeout = timeout
        self.problems: list[PatternProblem] = []
        self._patterns: list[_Pattern] = []
        for code_id, text in patterns:
            try:
                with warnings.catch_warnings():  # "possible nested set": the author's concern, not ours
                    warnings.simplefilter("ignore", FutureWarning)
                    re.compile(text, re.IGNORECASE)
            except re.error as error:
                self._report(code_id, text, f"is not a valid regular expression ({error})", "correct it.")
                continue
            self._patterns.append(_Pattern(code_id, text, translate(text)))
        self._sets: list[tuple[list[int], Any]] | None = None
        self._unfiltered: list[int] = []

    def __getstate__(self) -> dict[str, Any]:
        patterns = [_Pattern(p.code_id, p.text, p.translation, dead=p.dead) for p in self._patterns]
        return {**self.__dict__, "_patterns": patterns, "_sets": None, "_unfiltered": []}

    def __len__(self) -> int:
        return len(self._patterns)

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """(code id, start, end) of every non-empty match of every live pattern in ``text``."""
        found: list[tuple[str, int, int]] = []
        for index in self._candidates(text):
            pattern = self._patterns[index]
            if not pattern.dead:
                found.extend((pattern.code_id, start, end) for start, end in self._match(pattern, text))
        return found

    # ------------------------------------------------------------------------------ internals

    def _candidates(self, text: str) -> list[int]:
        """Indices of the patterns whose loose form matches ``text`` (and those without one)."""
        if self._sets is None:
            self._sets, self._unfiltered = self._build_sets()
        hits = list(self._unfiltered)
        for members, compiled in self._sets:
            hits.extend(members[k] for k in compiled.Match(text) or ())
        return sorted(hits)

    def _build_sets(self) -> tuple[list[tuple[list[int], Any]], list[int]]:
        import re2

        options = _re2_options()
        options.max_mem = SET_MEMORY
        sets: list[tuple[list[int], Any]] = []
        unfiltered: list[int] = []
        members: list[int] = []
        current = re2.Set.SearchSet(options)
        for index, pattern in enumerate(self._patterns):
            loose = pattern.translation.loose
            try:
                if loose is None:
                    raise re2.error("no loose form")
                current.Add(loose)
                members.append(index)
            except re2.error:
                unfiltered.append(index)
            if len(members) == SET_SIZE:
                sets += self._compiled_sets(members, current, options, unfiltered)
                members, current = [], re2.Set.SearchSet(options)
        if members:
            sets += self._compiled_sets(members, current, options, unfiltered)
        return sets, unfiltered

    def _compiled_sets(
        self, members: list[int], compiled: Any, options: Any, unfiltered: list[int]
    ) -> list[tuple[list[int], Any]]:
        """``compiled`` if RE2 can build it, else halves of it; a pattern alone that fails is unfiltered."""
        import re2

        try:
            compiled.Compile()
            return [(members, compiled)]
        except re2.error:
            if len(members) == 1:
                unfiltered.extend(members)
                return []
        halves = []
        for half in (members[: len(members) // 2], members[len(members) // 2 :]):
            part = re2.Set.SearchSet(options)
            for index in half:
                part.Add(self._patterns[index].translation.loose)
            halves += self._compiled_sets(half, part, options, unfiltered)
        return halves

    def _match(self, pattern: _Pattern, text: str) -> list[tuple[int, int]]:
        translation = pattern.translation
        if (
            translation.exact is not None
            and not (translation.newline_sensitive and text.endswith("\n"))
            and not (translation.ascii_only and not text.isascii())
        ):
            if pattern.exact is None:
                pattern.exact = self._compile_exact(translation.exact)
            if pattern.exact is not False:
                return [(m.start(), m.end()) for m in pattern.exact.finditer(text) if m.end() > m.start()]
        return self._match_with_limit(pattern, text)

    def _compile_exact(self, exact: str) -> Any:
        import re2

        try:
            return re2.compile(exact, _re2_options())
        except re2.error:
            return False  # RE2 cannot build it (too large, say): the regex module runs it

    def _match_with_limit(self, pattern: _Pattern, text: str) -> list[tuple[int, int]]:
        import regex

        if pattern.fallback is None:
            try:
                pattern.fallback = regex.compile(pattern.text, regex.IGNORECASE | regex.VERSION0)
            except regex.error as error:  # valid for re, but not for the regex module
                pattern.dead = True
                self._report(pattern.code_id, pattern.text, f"cannot be run ({error})", "rewrite it.")
                return []
        try:
            matches = pattern.fallback.finditer(text, timeout=self.timeout)
            return [(m.start(), m.end()) for m in matches if m.end() > m.start()]
        except TimeoutError:
            pattern.dead = True
            reason = f"took longer than {self.timeout:g} s on a segment of {len(text)} characters"
            self._report(pattern.code_id, pattern.text, reason, FIX)
            return []

    def _report(self, code_id: str, text: str, reason: str, fix: str) -> None:
        problem = PatternProblem(code_id, text, reason, fix)
        self.problems.append(problem)
        logger.info("%s", problem)  # returned to the caller, which shows it
