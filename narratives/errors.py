"""One home for user-facing errors.

Every error a researcher can act on is a :class:`NarrativesError` (a ``ValueError``) with a short
code, a message naming the file, row or line, and a fix. The CLI prints ``str(error)`` without a
traceback and exits non-zero.
"""

from __future__ import annotations

from pathlib import Path


class NarrativesError(ValueError):
    """Base class for errors that a user can fix.

    ``code`` is stable (``E101``) so it can be searched for in the docs; ``where`` names the file,
    row or line; ``fix`` says what to do.
    """

    code = "E000"

    def __init__(self, message: str, *, where: str | Path | None = None, fix: str | None = None):
        self.message = message
        self.where = str(where) if where is not None else None
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        prefix = f"{self.code}: "
        if self.where:
            prefix += f"{self.where}: "
        text = prefix + self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class ProjectError(NarrativesError):
    """The project workspace is missing, unreadable or of an unknown schema."""

    code = "E100"


class PipelineError(ProjectError):
    """A pipeline file (``pipelines/*.toml``) is missing, not TOML, or has a wrong or unknown key."""

    code = "E120"


class StoreError(NarrativesError):
    """The database refused a write or read."""

    code = "E110"


class IngestError(NarrativesError):
    """An input file cannot be read: unreadable, empty, binary, wrong encoding, too large."""

    code = "E200"


class SurveyColumnError(IngestError):
    """A survey table lacks a column the user asked for."""

    code = "E210"


class SegmentError(NarrativesError):
    """Segmentation could not be done as asked."""

    code = "E300"


class CodebookError(NarrativesError):
    """A codebook file is malformed: duplicate id, missing definition, unknown parent, cycle, ..."""

    code = "E400"


class CodingError(NarrativesError):
    """Automatic coding could not run (no segments, no codebook, no model)."""

    code = "E500"


class ModelNotAvailable(NarrativesError):
    """A model or optional extra is not installed; the fix gives the install command."""

    code = "E510"


class UnknownCodebook(NarrativesError):
    """The project holds no codebook of that name, or several where one was expected."""

    code = "E420"


class ReviewError(NarrativesError):
    """A review cannot be recorded: no reviewer, or a segment, code or suggestion that does not exist."""

    code = "E600"


class CodebookEditError(NarrativesError):
    """A change to a codebook in the project is refused: unknown or retired code, empty name, cycle."""

    code = "E610"


class UndoError(NarrativesError):
    """There is nothing to undo, or the action can no longer be undone."""

    code = "E620"


class PanelError(NarrativesError):
    """A panel quote or response refers to something that does not exist, or lacks an answer."""

    code = "E630"


class CandidateError(NarrativesError):
    """A discovered theme cannot be promoted, merged or dismissed as asked."""

    code = "E640"


class EvaluationError(NarrativesError):
    """An evaluation file lacks the columns or labels asked for."""

    code = "E700"


class AnalysisError(NarrativesError):
    """An analysis was asked for something the project does not hold (an attribute, a code)."""

    code = "E800"


class NotInstalled(ModelNotAvailable):
    """An optional heavy extra is missing; raised only when the feature is used."""

    code = "E520"

    def __init__(self, package: str, feature: str):
        super().__init__(
            f"{feature} needs the package '{package}', which is not installed.",
            fix=f"pip install '{package}'",
        )


class LocalModelError(NarrativesError):
    """A distilled model cannot be made or saved under that name (`narratives models distill`)."""

    code = "E530"


class AuthError(NarrativesError):
    """A login, a user account, a password or an invitation was refused."""

    code = "E700"


class DeidentificationKeyError(NarrativesError):
    """A pseudonym key file cannot be written or opened: wrong passphrase, damaged, in the project."""

    code = "E900"


# --- REFI-QDA exchange (issue 11, E1160-E1179) ---------------------------------------------------


class RefiImportError(IngestError):
    """A REFI-QDA file (.qdpx, .qde, .qdc) cannot be read: not a zip or not XML, hostile, no project."""

    code = "E1160"


class RefiNotIngestable(IngestError):
    """``narratives ingest`` was given a REFI-QDA project, which ``narratives import`` reads."""

    code = "E1161"


class RefiExportError(NarrativesError):
    """A REFI-QDA export cannot be written as asked: no active codes, or the output breaks the schema."""

    code = "E1162"


# ----------------------------------------------------------------- agreement between coders (E11xx)


class AgreementError(NarrativesError):
    """Agreement cannot be computed as asked: an unknown coder or code, fewer than two coders, or no
    segment every compared coder saw."""

    code = "E1100"


class MachineAgreementError(AgreementError):
    """The machine coder cannot be checked against reviewers: too few reviewed segments or codes."""

    code = "E1105"


class AdjudicationError(NarrativesError):
    """An adjudication is refused: no such segment or code, no name, or nothing to undo."""

    code = "E1110"


# --------------------------------------------------------------------------------- search (E112x)


class SearchError(NarrativesError):
    """A search cannot run as asked: an empty or only-negative query, an unknown code or unit, no
    vectors to compare, or a SQLite without FTS5."""

    code = "E1120"


# --------------------------------------------------------------------------------- engines (E113x)


class EngineError(NarrativesError):
    """An engine cannot run as asked: an unknown engine, a bad number of workers, a Ray cluster that
    cannot be reached, or a Ray task that failed for good."""

    code = "E1130"


# ------------------------------------------------------------------------------- LLM coder (E114x)


class LLMError(NarrativesError):
    """The LLM coder cannot run: no server configured, a host that is not this machine without
    ``--allow-remote-llm``, a server that is down, refuses or answers nothing usable."""

    code = "E1140"
