"""The spaCy pipelines that `narratives` segments and lemmatises with.

The default pipeline needs no trained model: ``spacy.blank("en")`` with the rule-based
``sentencizer`` and a lookup ``lemmatizer`` (tables from ``spacy-lookups-data``). A larger, installed
pipeline can be named instead; nothing is ever downloaded. :func:`pipeline_description` gives the
string that is stored with segments so a result can be traced to the pipeline that made it.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import spacy
from spacy import about
from spacy.language import Language

from narratives.errors import SegmentError

logger = logging.getLogger(__name__)

DEFAULT_PIPELINE = "blank_en_sentencizer"

# The sentencizer and a lookup lemmatizer need little memory per character, so the blank pipeline
# takes long texts whole; segment.py still cuts anything longer than ``nlp.max_length``.
BLANK_MAX_LENGTH = 10_000_000

# Key in ``nlp.meta`` recording why the lemmatizer is missing from the default pipeline.
LEMMATIZER_NOTE = "narratives_lemmatizer_unavailable"

# Components that give a Doc its sentence boundaries.
SENTENCE_COMPONENTS = ("sentencizer", "senter", "parser")


@functools.lru_cache(maxsize=4)
def load_pipeline(name: str = DEFAULT_PIPELINE) -> Language:
    """The spaCy pipeline called ``name``, built or loaded once per process.

    ``"blank_en_sentencizer"`` (the default) needs no model. Any other name is an installed spaCy
    pipeline package (``en_core_web_sm``) or a pipeline folder; a missing one raises
    :class:`SegmentError` with the install command.
    """
    if name == DEFAULT_PIPELINE:
        return _blank_pipeline()
    return _installed_pipeline(name)


def pipeline_description(nlp: Language) -> str:
    """Which pipeline made a result: ``"spacy-3.8.18 blank:en [sentencizer, lemmatizer(lookup)]"``."""
    meta = nlp.meta
    if meta.get("name") == "pipeline" and meta.get("version") == "0.0.0":
        source = f"blank:{nlp.lang}"
    else:
        source = f"{meta.get('lang', nlp.lang)}_{meta.get('name')}-{meta.get('version')}"
    components = ", ".join(_component_description(name, pipe) for name, pipe in nlp.pipeline)
    description = f"spacy-{about.__version__} {source} [{components}]"
    if meta.get(LEMMATIZER_NOTE):
        description += f" (no lemmatizer: {meta[LEMMATIZER_NOTE]})"
    return description


def _component_description(name: str, pipe: object) -> str:
    mode = getattr(pipe, "mode", None)
    if name == "lemmatizer" and isinstance(mode, str):
        return f"{name}({mode})"
    return name


def _blank_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.max_length = BLANK_MAX_LENGTH
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    try:
        nlp.initialize()
    except (ValueError, ImportError, OSError) as error:  # lookup tables missing
        nlp.remove_pipe("lemmatizer")
        nlp.initialize()
        nlp.meta[LEMMATIZER_NOTE] = "spacy-lookups-data is not installed"
        logger.warning(
            "No lemmatizer: spaCy's lookup tables could not be loaded (%s). "
            "Install them with: pip install spacy-lookups-data",
            error,
        )
    return nlp


def _installed_pipeline(name: str) -> Language:
    if not (spacy.util.is_package(name) or Path(name).is_dir()):
        raise SegmentError(
            f"the spaCy pipeline '{name}' is not installed, and narratives never downloads models.",
            fix=(
                f"install it into this environment with `pip install {name}` "
                f"(for spaCy's own models: `python -m spacy download {name}`), "
                f"or use the default pipeline '{DEFAULT_PIPELINE}'."
            ),
        )
    nlp = spacy.load(name)
    if not any(component in nlp.pipe_names for component in SENTENCE_COMPONENTS):
        nlp.add_pipe("sentencizer", first=True)
    return nlp
