"""The LLM coder: one more coder in the ensemble, asking the user's own OpenAI-compatible server.

``fit`` builds the prompt (the codebook's codes and, with reviews, up to ``max_examples`` reviewed
segments per code) and its hash; ``ask`` sends the texts not answered yet under that hash, in batches
of ``batch_size`` with ``workers`` requests in flight, storing each validated answer as it comes (so an
interrupted run keeps what it got, and a re-run sends nothing already answered); ``predict`` reads the
answers. A code applies to a text when the answer names it with a quote found in the text (see
:func:`~narratives.coding.llm.prompt.locate_quote`): its score is the stated confidence (0.8 when none
is given), kept within [0.5, 0.99], and its evidence is the quote's span, with the reason. Quotes found
nowhere are dropped and counted (``dropped_``), as are texts whose answer stayed malformed after
every try (``unanswered_``); both reach the run's warnings through ``problems_``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from narratives.coding.base import CoderOutput, Evidence, LabelledExamples
from narratives.coding.llm.client import ChatClient
from narratives.coding.llm.prompt import (
    PROMPT_VERSION,
    MalformedAnswer,
    answer_schema,
    locate_quote,
    parse_answer,
    prompt_hash,
    system_message,
    user_message,
)
from narratives.coding.llm.settings import LLMSettings, check_server
from narratives.coding.similarity import codes_to_score
from narratives.embed import Embedder
from narratives.errors import LLMError
from narratives.schema import Codebook, text_hash

logger = logging.getLogger(__name__)

DEFAULT_CONFIDENCE = 0.8
SCORE_RANGE = (0.5, 0.99)

Answer = list[dict[str, Any]]
Progress = Callable[[str, int, int], None]


class AnswerStore(Protocol):
    """Where answers are kept between runs (the project: :class:`ProjectAnswers`)."""

    def load(self, model: str, prompt: str, hashes: Sequence[str]) -> dict[str, Answer]: ...

    def save(self, model: str, prompt: str, server: str, answers: dict[str, Answer]) -> None: ...


class ProjectAnswers:
    """Answers stored in a project's database (:mod:`narratives.store.llm_answers`)."""

    def __init__(self, engine: Any):
        self.engine = engine

    def load(self, model: str, prompt: str, hashes: Sequence[str]) -> dict[str, Answer]:
        from narratives.store.llm_answers import load_answers

        with self.engine.connect() as connection:
            return load_answers(connection, model, prompt, hashes)

    def save(self, model: str, prompt: str, server: str, answers: dict[str, Answer]) -> None:
        from narratives.store.llm_answers import save_answers

        with self.engine.begin() as connection:
            save_answers(connection, model, prompt, server, answers)


class FileAnswers:
    """Answers in owner-only JSON files under ``folder``, one per (model, prompt): for
    ``narratives evaluate``, which has no project. Quotes are the data's own words, hence 0600."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _path(self, model: str, prompt: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model)
        return self.folder / f"llm-{safe}-{prompt[:16]}.json"

    def _read(self, model: str, prompt: str) -> dict[str, Answer]:
        path = self._path(model, prompt)
        if not path.exists():
            return {}
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            logger.warning("ignoring an unreadable LLM answer cache: %s", path)
            return {}

    def load(self, model: str, prompt: str, hashes: Sequence[str]) -> dict[str, Answer]:
        stored = self._read(model, prompt)
        return {h: stored[h] for h in hashes if h in stored}

    def save(self, model: str, prompt: str, server: str, answers: dict[str, Answer]) -> None:
        from narratives.store.files import private_folder, write_private

        private_folder(self.folder)
        write_private(self._path(model, prompt), json.dumps({**answers, **self._read(model, prompt)}))


class LLMCoder:
    """Codes texts by asking an OpenAI-compatible server; see the module doc."""

    name = "llm"
    version = "1"

    def __init__(self, settings: LLMSettings, store: AnswerStore | None = None, seed: int = 0):
        self.settings = settings
        self.store = store
        self.seed = seed
        check_server(settings)  # raises for another machine unless allowed (the caller shows the warning)

    def get_config(self) -> dict:
        config: dict[str, Any] = {
            "coder": self.name,
            "version": self.version,
            "prompt_version": PROMPT_VERSION,
            "server": self.settings.url,
            "llm_model": self.settings.model,
            "temperature": self.settings.temperature,
            "batch_size": self.settings.batch_size,
            "max_examples": self.settings.max_examples,
            "seed": self.seed,
        }
        if hasattr(self, "prompt_hash_"):
            config["prompt_hash"] = self.prompt_hash_
        return config

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "store": None}  # answers travel in answers_, not the database link

    # ----------------------------------------------------------------------------------- fitting

    def fit(
        self, codebook: Codebook, embedder: Embedder, examples: LabelledExamples | None = None
    ) -> LLMCoder:
        codes = codes_to_score(codebook)
        self.code_ids_ = [code.id for code in codes]
        self.system_ = system_message(codes, self._reviewed(examples))
        self.schema_ = answer_schema(self.code_ids_)
        self.prompt_hash_ = prompt_hash(
            self.system_, self.schema_, self.settings.model, self.settings.temperature
        )
        self.answers_: dict[str, Answer] = {}
        self.dropped_: set[tuple[str, str, str]] = set()  # (text hash, code, quote) found nowhere
        self.unanswered_: set[str] = set()
        self.asked_ = 0
        self.cached_ = 0
        self.problems_: list[str] = []
        return self

    def _reviewed(self, examples: LabelledExamples | None) -> dict[str, list[str]]:
        """Up to ``max_examples`` accepted texts per code, shortest first (stable: ties keep order)."""
        if examples is None or not self.settings.max_examples:
            return {}
        chosen: dict[str, list[str]] = {}
        order = sorted(range(len(examples)), key=lambda i: len(examples.texts[i]))
        for i in order:
            for code_id in sorted(examples.labels[i]):
                picked = chosen.setdefault(code_id, [])
                if len(picked) < self.settings.max_examples:
                    picked.append(examples.texts[i])
        return chosen

    # ----------------------------------------------------------------------------------- asking

    def ask(self, texts: Sequence[str], progress: Progress | None = None) -> None:
        """Make sure every text has an answer: from memory, the store, or the server."""
        report = progress or (lambda stage, done, total: None)
        hashes = list(dict.fromkeys(text_hash(t) for t in texts))
        by_hash = {text_hash(t): t for t in texts}
        missing = [h for h in hashes if h not in self.answers_]
        if missing and self.store is not None:
            stored = self.store.load(self.settings.model, self.prompt_hash_, missing)
            self.answers_.update(stored)
            self.cached_ += len(stored)
            missing = [h for h in missing if h not in stored]
        if missing:
            self._ask_server(missing, by_hash, report)
        self._check_quotes(texts)

    def _ask_server(self, missing: list[str], by_hash: dict[str, str], report: Progress) -> None:
        batches = [
            missing[k : k + self.settings.batch_size]
            for k in range(0, len(missing), self.settings.batch_size)
        ]
        client = ChatClient(self.settings)
        done = 0
        report("asking the LLM", 0, len(missing))
        with ThreadPoolExecutor(max_workers=self.settings.workers) as pool:
            futures = {
                pool.submit(self._ask_batch, client, [by_hash[h] for h in batch]): batch for batch in batches
            }
            try:
                for future in as_completed(futures):
                    batch = futures[future]
                    answered = future.result()
                    found = {h: answered[k] for k, h in enumerate(batch) if k in answered}
                    self.unanswered_.update(h for k, h in enumerate(batch) if k not in answered)
                    self.answers_.update(found)
                    if found and self.store is not None:
                        self.store.save(self.settings.model, self.prompt_hash_, self.settings.url, found)
                    done += len(batch)
                    report("asking the LLM", done, len(missing))
            except LLMError:
                for future in futures:
                    future.cancel()
                raise
        self.asked_ += len(missing)
        self._note_unanswered(len(missing))

    def _ask_batch(self, client: ChatClient, texts: list[str]) -> dict[int, Answer]:
        """Position in ``texts`` -> answer; a malformed answer is asked for again (``retries`` times),
        then the positions it left out stay unanswered."""
        messages = [
            {"role": "system", "content": self.system_},
            {"role": "user", "content": user_message(texts)},
        ]
        answered: dict[int, Answer] = {}
        for _attempt in range(self.settings.retries + 1):
            content = client.complete(messages, self.schema_, seed=self.seed)
            try:
                parsed = parse_answer(content, len(texts), self.code_ids_)
            except MalformedAnswer as error:
                logger.info("LLM answer malformed (%s): %.200s", error, content)
                continue
            answered.update(parsed)
            if len(answered) == len(texts):
                break
        return answered

    def _check_quotes(self, texts: Sequence[str]) -> None:
        """Count the answers' quotes that occur nowhere in their text (see :attr:`problems_`)."""
        for text in texts:
            key = text_hash(text)
            for entry in self.answers_.get(key, []):
                if locate_quote(text, entry["quote"]) is None:
                    self.dropped_.add((key, entry["code"], entry["quote"]))
        self._note(
            "llm: quotes not found in their segment, dropped with their code (invented evidence): ",
            len(self.dropped_),
        )

    def _note(self, prefix: str, count: int, rest: str = "") -> None:
        self.problems_ = [p for p in self.problems_ if not p.startswith(prefix)]
        if count:
            self.problems_.append(f"{prefix}{count}{rest}")

    def _note_unanswered(self, asked: int) -> None:
        if self.unanswered_:
            if len(self.unanswered_) >= asked:
                raise LLMError(
                    f"the LLM server at {self.settings.url} answered none of the {asked} segments with the "
                    f"JSON asked for ({self.settings.retries + 1} tries each).",
                    fix=f"check that '{self.settings.model}' follows instructions and supports JSON output "
                    "(a larger instruction-tuned model), or try --llm-batch 1.",
                )
            self._note(
                "llm: segments with no valid answer, not coded by the LLM: ",
                len(self.unanswered_),
                f" (malformed after {self.settings.retries + 1} tries; run again to ask again)",
            )

    # --------------------------------------------------------------------------------- scoring

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> CoderOutput:
        if not self._all_asked(texts):  # scored without ask() first (a direct call, not a run)
            self.ask(texts)
        column = {code_id: j for j, code_id in enumerate(self.code_ids_)}
        scores = np.zeros((len(texts), len(self.code_ids_)), dtype=np.float32)
        evidence: dict[tuple[int, int], Evidence] = {}
        for i, text in enumerate(texts):
            for entry in self.answers_.get(text_hash(text), []):
                j = column.get(entry["code"])
                if j is None:
                    continue
                where = locate_quote(text, entry["quote"])
                if where is None:  # invented evidence: counted by ask()
                    continue
                confidence = entry.get("confidence")
                score = DEFAULT_CONFIDENCE if confidence is None else float(confidence)
                score = min(max(score, SCORE_RANGE[0]), SCORE_RANGE[1])
                if score > scores[i, j]:
                    scores[i, j] = score
                    evidence[(i, j)] = Evidence(
                        text=text[where.start : where.end],
                        kind="llm",
                        start=where.start,
                        end=where.end,
                        score=score,
                        reason=entry.get("reason") or None,
                    )
        return CoderOutput(self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config())

    def _all_asked(self, texts: Sequence[str]) -> bool:
        """Whether every text has an answer, or was asked and got none usable."""
        return all(text_hash(t) in self.answers_ or text_hash(t) in self.unanswered_ for t in texts)
