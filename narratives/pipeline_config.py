"""Pipeline files (TOML in `pipelines/`), checked before anything runs.

Every table of the file is a pydantic model that refuses unknown keys, so a misspelt key is an error
that names the file, the key and the closest known key, never a setting silently ignored. An
``[[ingest]]`` step takes the options of `narratives ingest` (lists named in the plural), the
``[code]`` step exactly the settings of a coding run (:class:`~narratives.coding.config.CodingConfig`)
plus its codebook, and ``[discover]`` the options of `narratives discover`.
"""

from __future__ import annotations

import codecs
import difflib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from narratives.coding.config import CodingConfig
from narratives.errors import PipelineError
from narratives.schema import SegmentUnit, SourceKind

# The blog split strategies of narratives.ingest.blogs.SPLIT_STRATEGIES (a test keeps them equal).
SplitStrategy = Literal["auto", "headings", "markers", "heuristic", "none"]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestStep(Step):
    """One ``[[ingest]]`` table: files to read and how, as the options of `narratives ingest`."""

    files: list[str] = Field(min_length=1)  # files or folders, relative to the base folder
    kind: SourceKind | None = None
    attributes: str | None = None  # CSV of file/participant/wave/date plus attribute columns
    id_column: str | None = None
    text_columns: list[str] = Field(default_factory=list)
    attribute_columns: list[str] | None = None  # None: every other survey column
    sheet: str | None = None
    participant: str | None = None
    wave: int | None = None
    date: str | None = None
    split: SplitStrategy | None = None
    encoding: str | None = None
    max_mb: float | None = Field(default=None, gt=0)  # None: the reader's default limit

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"'{value}' is not an encoding Python knows") from None
        return value


class SegmentStep(Step):
    """The ``[segment]`` table: the units to split documents into, in order."""

    units: list[SegmentUnit] = Field(default_factory=list)
    kinds: list[SourceKind] | None = None  # only documents of these kinds (default: all)


class CodeStep(CodingConfig):
    """The ``[code]`` table: the codebook file, then any setting of a coding run."""

    codebook: str


class DiscoverStep(Step):
    """The ``[discover]`` table: the options of `narratives discover`."""

    unit: SegmentUnit | None = None
    seed: int = 42
    guided: bool = False
    zeroshot: bool = False
    min_topic_size: int | None = Field(default=None, ge=2)
    model: str | None = None  # embedding model when there is no [code] step


class SentimentStep(Step):
    """The ``[sentiment]`` table: the options of `narratives sentiment`."""

    unit: SegmentUnit | None = None
    seed: int = 0
    model: str | None = None  # embedding model when there is no [code] or [discover] step


class PipelineConfig(Step):
    """A whole pipeline file. Each step calls the same library function as its CLI command."""

    ingest: list[IngestStep] = Field(default_factory=list)
    segment: SegmentStep | None = None
    code: CodeStep | None = None
    sentiment: SentimentStep | None = None
    discover: DiscoverStep | None = None

    @model_validator(mode="after")
    def _one_model(self) -> PipelineConfig:
        from narratives.embed import DEFAULT_NAMES

        def same(first: str | None, second: str | None) -> bool:
            return first == second or (first in DEFAULT_NAMES and second in DEFAULT_NAMES)

        named = [
            (section, step.model)
            for section, step in (
                ("code", self.code),
                ("discover", self.discover),
                ("sentiment", self.sentiment),
            )
            if step is not None and step.model
        ]
        if any(not same(model, named[0][1]) for _, model in named[1:]):
            sections = " and ".join(f"[{section}]" for section, _ in named)
            raise ValueError(
                f"{sections} name different embedding models; the steps share one: "
                "give 'model' in one of them only"
            )
        return self

    @property
    def embedding_model(self) -> str | None:
        """The embedding model of the coding, sentiment and discovery steps (None: the default model)."""
        if self.code is not None:
            return self.code.model
        for step in (self.discover, self.sentiment):
            if step is not None and step.model:
                return step.model
        return None


SECTIONS: dict[str, type[BaseModel]] = {
    "ingest": IngestStep,
    "segment": SegmentStep,
    "code": CodeStep,
    "sentiment": SentimentStep,
    "discover": DiscoverStep,
}
HINTS = {
    "files": 'list the files or folders to read, e.g. files = ["corpus/blogs"]',
    "codebook": 'name the codebook file, e.g. codebook = "models/codebooks/nhs-fft.yaml"',
    "ingest": "write each ingest step as its own [[ingest]] table (two brackets)",
    "encoding": 'name a Python codec, e.g. encoding = "cp1252" or encoding = "utf-8"',
}


def load_pipeline_config(path: str | Path) -> PipelineConfig:
    """Read and check a pipeline file; any problem is a :class:`PipelineError` naming the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(
            "pipeline file not found.", where=path, fix="give a TOML file from pipelines/."
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise PipelineError(f"not valid TOML ({error}).", where=path) from None
    return check_pipeline_config(raw, path)


def check_pipeline_config(raw: dict[str, Any], where: str | Path) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as error:
        raise pipeline_error(error, where) from None


def pipeline_error(error: ValidationError, where: str | Path) -> PipelineError:
    """One message for every problem pydantic found, each naming its key and how to fix it."""
    problems = [_problem(detail) for detail in error.errors()]
    if len(problems) == 1:
        message, fix = problems[0]
        return PipelineError(f"{message}.", where=where, fix=f"{fix}.")
    listed = " ".join(f"({n}) {message}: {fix}." for n, (message, fix) in enumerate(problems, start=1))
    return PipelineError(
        f"{len(problems)} problems in the pipeline file. {listed}",
        where=where,
        fix="correct each key named above; pipelines/demo.toml is a working example.",
    )


def _problem(detail: ErrorDetails) -> tuple[str, str]:
    """What is wrong, naming the key, and how to fix it."""
    location = list(detail["loc"])
    name = str(location[-1]) if location else ""
    note = _ordinal_note(location)
    if detail["type"] == "extra_forbidden":
        return f"{key_path(location)}: unknown key{note}", _unknown_key_fix(location)
    if detail["type"] == "missing":
        where = key_path(location[:-1])
        fix = HINTS.get(name, f"add {name} = ...")
        return f"{where + ': ' if where else ''}'{name}' is missing{note}", fix
    message = detail["msg"].removeprefix("Value error, ")
    message = message[0].lower() + message[1:]
    if detail["type"] != "value_error":
        message += f" (got {json.dumps(detail['input'], default=str)})"
    key = key_path(location)
    return f"{key + ': ' if key else ''}{message}{note}", _value_fix(detail["type"], name, detail["input"])


def _value_fix(error_type: str, name: str, value: object) -> str:
    if name in HINTS:
        return HINTS[name]
    examples = {
        "list_type": f"write a list, e.g. {name} = [{json.dumps(value, default=str)}]",
        "int_parsing": f"write a whole number without quotes, e.g. {name} = 2",
        "int_type": f"write a whole number without quotes, e.g. {name} = 2",
        "float_parsing": f"write a number without quotes, e.g. {name} = 0.5",
        "float_type": f"write a number without quotes, e.g. {name} = 0.5",
        "bool_parsing": f"write true or false without quotes, e.g. {name} = true",
        "bool_type": f"write true or false without quotes, e.g. {name} = true",
        "string_type": f'write text in quotes, e.g. {name} = "..."',
        "dict_type": f"write a table: [{name}] on a line of its own, then its keys",
        "model_type": f"write a table: [{name}] on a line of its own, then its keys",
        "greater_than": f"give {name} a larger number",
        "greater_than_equal": f"give {name} a larger number",
        "less_than": f"give {name} a smaller number",
        "less_than_equal": f"give {name} a smaller number",
        "enum": "use one of the values listed",
        "literal_error": "use one of the values listed",
    }
    return examples.get(error_type, f"change {name or 'the file'} as the message says")


def key_path(location: list[int | str]) -> str:
    """``ingest[1].fiels`` for pydantic's ``("ingest", 0, "fiels")``: tables counted from 1."""
    text = ""
    for part in location:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _ordinal_note(location: list[int | str]) -> str:
    if len(location) > 1 and isinstance(location[1], int):
        number = location[1] + 1
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
        return f" (in the {number}{suffix} [[{location[0]}]] table)"
    return ""


def _unknown_key_fix(location: list[int | str]) -> str:
    name = str(location[-1])
    model = SECTIONS.get(str(location[0]), PipelineConfig) if len(location) > 1 else PipelineConfig
    if len(location) == 1:
        where = "a pipeline file"
    else:
        where = f"[[{location[0]}]]" if isinstance(location[1], int) else f"[{location[0]}]"
    known = sorted(model.model_fields)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    guess = f"did you mean '{close[0]}'? " if close else f"remove '{name}'; "
    return f"{guess}{where} takes: {', '.join(known)}"
