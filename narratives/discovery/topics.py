"""Theme discovery: BERTopic over the project's cached embeddings proposes candidate codes.

Texts too short to carry a theme ("N/A", "nothing to add") are left out and counted. Clustering
parameters adapt to the size of the collection, so a few hundred survey comments and twenty thousand
sentences both give usable candidates. Each candidate carries keywords, a suggested label, a few
representative quotes, its size by source kind and attribute group, and its overlap with the codes
of a codebook; all are stored in ``discovery_runs``/``candidates`` for review and promotion.
Nothing is downloaded: embeddings come from :class:`~narratives.embed.EmbeddingCache` and BERTopic
gets a thin backend over our own :class:`~narratives.coding.base.Embedder`.
"""

from __future__ import annotations

import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from narratives.coding.runner import choose_unit
from narratives.discovery.candidates import describe_candidates
from narratives.discovery.compiled import cache_compiled_code
from narratives.discovery.neighbours import exact_cosine_knn
from narratives.discovery.quality import RECUR_JACCARD, redundant, stability
from narratives.embed import CachedEmbedder, Embedder, EmbeddingCache
from narratives.errors import CodingError, NotInstalled
from narratives.hf_compat import hide_kernels_transformers_cannot_use
from narratives.schema import Codebook, SegmentUnit
from narratives.store.codebooks import current_codebook
from narratives.store.discovery import Candidate, store_candidates
from narratives.store.project import Project
from narratives.store.segments import load_segments

logger = logging.getLogger(__name__)

MIN_TEXTS = 20
PCA_START_FROM = 4096  # texts; UMAP also switches to approximate neighbours here
MIN_WORDS = 3
# What the default tokenizer leaves of "don't", "wasn't", "I've": not keywords.
CONTRACTION_PARTS = {
    "don",
    "didn",
    "doesn",
    "isn",
    "wasn",
    "weren",
    "couldn",
    "wouldn",
    "shouldn",
    "won",
    "ve",
    "ll",
}
FILLER = re.compile(
    r"^\W*(n/?a|none|nothing|no|nope|nil|no comments?|nothing (else |more )?to (add|say|report)"
    r"|not applicable|don'?t know|dk|see above|as above|no thanks?|-+|\.+)\W*$",
    re.IGNORECASE,
)


@dataclass
class DiscoveryResult:
    run_id: int
    candidates: list[Candidate]
    stats: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"run {self.run_id}: {len(self.candidates)} candidate themes from {self.stats.get('clustered')} "
            f"segments ({self.stats.get('dropped_short_or_filler')} short or filler left out)"
        )


def clustering_parameters(n: int, min_topic_size: int | None = None) -> dict[str, int]:
    """UMAP and HDBSCAN settings scaled to ``n`` texts (small surveys to large corpora)."""
    if min_topic_size is None:
        min_topic_size = max(3, min(10, n // 25)) if n < 1000 else max(10, min(50, n // 400))
    n_neighbors = max(5, min(15, n // 20))
    return {
        "min_topic_size": int(min_topic_size),
        "min_cluster_size": int(min_topic_size),
        "n_neighbors": int(n_neighbors),
        "n_components": 5 if n >= 50 else 2,
        "min_df": 1 if n < 1000 else 2,
    }


INTERVIEWER = ("Interviewer",)  # interviewers' questions are left out of the clustering


def is_substantive(text: str) -> bool:
    """False for empty, filler ("N/A", "nothing to add") and very short answers."""
    stripped = text.strip()
    return bool(stripped) and not FILLER.match(stripped) and len(re.findall(r"\w+", stripped)) >= MIN_WORDS


def discover_themes(
    project: Project,
    *,
    embedder: Embedder,
    user: str,
    codebook_name: str | None = None,
    seed: int = 42,
    min_topic_size: int | None = None,
    unit: SegmentUnit | None = None,
    seed_topics: bool = False,
    zeroshot: bool = False,
    keybert_labels: bool = True,
    stability_seeds: int = 0,
    progress: Callable[[str], None] | None = None,
) -> DiscoveryResult:
    """Cluster the project's segments into candidate themes and store them (one transaction).

    With ``stability_seeds`` the clustering is fitted again that many times with the seeds after
    ``seed``, and the run's stats say how often each candidate recurs
    (:func:`~narratives.discovery.quality.stability`); they always name the candidates that mostly
    repeat an existing code (``redundant``) and the outlier share."""
    started = time.perf_counter()
    with project.connect() as connection:
        chosen_unit = choose_unit(connection, unit)
        all_segments = load_segments(connection, unit=chosen_unit, exclude_speakers=INTERVIEWER)
        codebook = current_codebook(connection, codebook_name) if codebook_name else None
    if (seed_topics or zeroshot) and codebook is None:
        raise CodingError(
            "guided discovery needs a codebook to take seed topics from.",
            fix="pass --codebook NAME, or leave out --guided.",
        )
    kept = [s for s in all_segments if is_substantive(s.text)]
    if len(kept) < MIN_TEXTS:
        raise CodingError(
            f"only {len(kept)} of {len(all_segments)} {chosen_unit.value} segments have enough text "
            f"to cluster; discovery needs at least {MIN_TEXTS}.",
            fix="ingest more documents, or choose a longer unit with --unit paragraph.",
        )
    cache = EmbeddingCache(project.engine)
    vectors = cache.embed(embedder, [s.text for s in kept])
    params = clustering_parameters(len(kept), min_topic_size)
    guidance = _guidance(codebook, seed_topics, zeroshot)
    cached = cast(
        Embedder, CachedEmbedder(embedder, EmbeddingCache(project.engine))
    )  # BERTopic re-embeds quotes and words
    say = progress or (lambda message: None)
    say("clustering")
    fit = _fit_topics([s.text for s in kept], vectors, params, seed, cached, guidance, keybert_labels)
    reruns = {}
    for k in range(1, stability_seeds + 1):
        say(f"clustering again with seed {seed + k} ({k} of {stability_seeds}), for stability")
        again = _fit_topics([s.text for s in kept], vectors, params, seed + k, cached, guidance, False)
        reruns[seed + k] = again.topics
    config = {
        "unit": chosen_unit.value,
        "seed": seed,
        "codebook": codebook_name,
        "guidance": guidance["mode"],
        "keybert_labels": keybert_labels,
        "stability_seeds": stability_seeds,
        **params,
    }
    stats = {
        "segments": len(all_segments),
        "dropped_short_or_filler": len(all_segments) - len(kept),
        "clustered": len(kept),
        "cache_hits": cache.hits,
        "cache_misses": cache.misses,
        **fit.stats,
    }
    with project.begin() as connection:
        found = describe_candidates(connection, kept, vectors, fit.topics, fit.keywords, fit.labels, codebook)
        stats["topics"] = len(found)
        stats["outlier_share"] = round(int((fit.topics == -1).sum()) / len(kept), 4)
        stats["redundant"] = {str(t): o for t, o in redundant({c.topic: c.overlap for c in found}).items()}
        if reruns:
            stats["stability"] = _stability_stats(fit.topics, reruns, [c.topic for c in found])
        stats["seconds"] = round(time.perf_counter() - started, 2)
        run_id = store_candidates(connection, found, config, stats, embedder.name, user)
    logger.info("discovery run %s: %s candidates from %s texts", run_id, len(found), len(kept))
    return DiscoveryResult(run_id=run_id, candidates=found, stats=stats, config=config)


def _stability_stats(base: np.ndarray, reruns: dict[int, np.ndarray], shown: list[int]) -> dict[str, Any]:
    """:func:`~narratives.discovery.quality.stability` of the stored candidates, JSON-ready."""
    found = stability(base, reruns, only=set(shown)).as_dict()
    for per_topic in ("best_jaccard", "recurs"):
        found[per_topic] = {str(t): v for t, v in found[per_topic].items()}  # JSON keys
    return {**found, "threshold": RECUR_JACCARD}


def _guidance(codebook: Codebook | None, seed_topics: bool, zeroshot: bool) -> dict[str, Any]:
    if codebook is None or not (seed_topics or zeroshot):
        return {"mode": None}
    codes = codebook.active_codes
    if zeroshot:
        return {"mode": "zeroshot", "topics": [c.definition or c.name for c in codes]}
    seeds = []
    for code in codes:
        words = [p.lower() for p in code.phrases if p.strip()]
        words += [w.lower() for w in re.findall(r"[A-Za-z]{4,}", code.name)]
        if words:
            seeds.append(list(dict.fromkeys(words)))
    return {"mode": "guided", "seeds": seeds} if seeds else {"mode": None}


# ---------------------------------------------------------------------------------------- fitting


@dataclass
class _Fit:
    topics: np.ndarray  # topic per kept text, -1 for outliers
    keywords: dict[int, list[str]]
    labels: dict[int, str]
    stats: dict[str, Any]


def _backend(embedder: Embedder) -> Any:
    """A BERTopic embedding backend over our embedder, so BERTopic never loads a model by name
    (called from :func:`_topic_model`, after the transformers guard)."""
    from bertopic.backend import BaseEmbedder

    class NarrativesBackend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return np.asarray(embedder.encode(list(documents)), dtype=np.float32)

    return NarrativesBackend()


def _pca_init(vectors: np.ndarray, n_components: int) -> np.ndarray:
    """A deterministic UMAP start for when the spectral one fails (too small an eigengap): UMAP then
    falls back to a random start that differed between runs with the same seed (seen at 20,000 texts)."""
    from sklearn.decomposition import PCA

    coords = PCA(n_components=n_components, svd_solver="full").fit_transform(vectors)
    return np.asarray(coords / max(float(np.abs(coords[:, 0]).max()), 1e-9) * 10.0, dtype=np.float32)


def _topic_model(
    params: dict[str, int],
    seed: int,
    embedder: Embedder,
    guidance: dict,
    init: np.ndarray | None = None,
    knn: tuple[np.ndarray, np.ndarray] | None = None,
) -> Any:
    hide_kernels_transformers_cannot_use()
    try:
        cache_compiled_code()  # UMAP's compiled code from disk: no 30-50 s compile in each process
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer
        from umap import UMAP
    except ImportError as error:
        raise NotInstalled(error.name or "bertopic", "theme discovery") from None
    umap_model = UMAP(
        n_neighbors=params["n_neighbors"],
        n_components=params["n_components"],
        min_dist=0.0,
        metric="cosine",
        random_state=seed,
        init=init if init is not None else "spectral",
        low_memory=True,
        precomputed_knn=knn if knn is not None else (None, None, None),
    )
    hdbscan_model = HDBSCAN(
        min_cluster_size=params["min_cluster_size"],
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=True,
    )
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop_words = sorted(ENGLISH_STOP_WORDS | CONTRACTION_PARTS)
    vectorizer = CountVectorizer(stop_words=stop_words, ngram_range=(1, 2), min_df=params["min_df"])
    return BERTopic(
        embedding_model=_backend(embedder),
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=vectorizer,
        min_topic_size=params["min_topic_size"],
        seed_topic_list=guidance.get("seeds"),
        zeroshot_topic_list=guidance.get("topics"),
        zeroshot_min_similarity=0.6,
        top_n_words=10,
        verbose=False,
    )


def _fit_topics(
    texts: list[str],
    vectors: np.ndarray,
    params: dict[str, int],
    seed: int,
    embedder: Embedder,
    guidance: dict,
    keybert: bool,
) -> _Fit:
    """Fit, give outliers to their nearest topic, then describe the topics once (c-TF-IDF, KeyBERT)."""
    random.seed(seed)
    np.random.seed(seed)
    started = time.perf_counter()
    model, topics, umap_init = _fit_model(texts, vectors, params, seed, embedder, guidance)
    outliers_before = int((topics == -1).sum())
    if 0 < outliers_before < len(texts):
        topics = np.asarray(
            model.reduce_outliers(
                texts, topics.tolist(), strategy="embeddings", embeddings=vectors, threshold=0.3
            )
        )
    if keybert or outliers_before:
        _update_representations(model, texts, topics, seed, keybert)
    keywords, labels = _representations(model, sorted(set(topics.tolist()) - {-1}))
    stats = {
        "outliers_before_reduction": outliers_before,
        "outliers": int((topics == -1).sum()),
        "fit_seconds": round(time.perf_counter() - started, 2),
        "umap_init": umap_init,
    }
    return _Fit(topics=topics, keywords=keywords, labels=labels, stats=stats)


def _fit_model(
    texts: list[str],
    vectors: np.ndarray,
    params: dict[str, int],
    seed: int,
    embedder: Embedder,
    guidance: dict,
) -> tuple[Any, np.ndarray, str]:
    """Fit with UMAP's spectral start, or from a PCA start for large collections or when it failed.

    A failing spectral start costs minutes on large collections before UMAP falls back to a random
    start, which then differed between runs with the same seed; a PCA start is cheap and fixed.
    """
    knn = None
    if len(texts) < PCA_START_FROM:  # where UMAP would compute every pairwise distance, slowly
        knn = exact_cosine_knn(vectors, params["n_neighbors"])
        model, topics, spectral_failed = _try_fit(texts, vectors, params, seed, embedder, guidance, None, knn)
        if not spectral_failed:
            return model, topics, "spectral"
        logger.info("UMAP's spectral start failed; fitting again from a PCA start, for reproducibility")
    start = _pca_init(vectors, params["n_components"])
    model, topics, _ = _try_fit(texts, vectors, params, seed, embedder, guidance, start, knn)
    return model, topics, "pca" if len(texts) >= PCA_START_FROM else "pca (spectral failed)"


def _try_fit(
    texts: list[str],
    vectors: np.ndarray,
    params: dict[str, int],
    seed: int,
    embedder: Embedder,
    guidance: dict,
    init: np.ndarray | None,
    knn: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Any, np.ndarray, bool]:
    model = _topic_model(params, seed, embedder, guidance, init, knn)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            topics = np.asarray(model.fit_transform(texts, embeddings=vectors)[0])
    except (ValueError, TypeError, IndexError) as error:
        logger.exception("BERTopic failed")
        raise CodingError(
            f"theme discovery failed on {len(texts)} texts ({error.__class__.__name__}: {error}).",
            fix="try a larger --min-topic-size, leave out --guided/--zeroshot, or add more texts.",
        ) from None
    return model, topics, any("Spectral initialisation failed" in str(w.message) for w in caught)


def _update_representations(
    model: Any, texts: list[str], topics: np.ndarray, seed: int, keybert: bool
) -> None:
    from bertopic.representation import KeyBERTInspired

    bertopic_logger = logging.getLogger("BERTopic")
    level = bertopic_logger.level
    bertopic_logger.setLevel(logging.ERROR)  # its warning about custom topics does not apply here
    try:
        model.update_topics(
            texts,
            topics=topics.tolist(),
            vectorizer_model=model.vectorizer_model,
            representation_model={"KeyBERT": KeyBERTInspired(top_n_words=5, random_state=seed)}
            if keybert
            else None,
            top_n_words=10,
        )
    finally:
        bertopic_logger.setLevel(level)


def _representations(model: Any, topic_ids: Sequence[int]) -> tuple[dict[int, list[str]], dict[int, str]]:
    keywords: dict[int, list[str]] = {}
    labels: dict[int, str] = {}
    for topic in topic_ids:
        words = [w for w, _ in (model.get_topic(topic) or []) if w]
        keywords[topic] = words[:10]
        keybert = [w for w, _ in model.topic_aspects_.get("KeyBERT", {}).get(topic, []) if w]
        labels[topic] = _label(keybert, words[:10])
    return keywords, labels


def _label(semantic: list[str], keywords: list[str], size: int = 3) -> str:
    """Up to three distinct words: KeyBERT's order where it agrees with c-TF-IDF, else c-TF-IDF's."""
    distinctive = {word for phrase in keywords for word in phrase.split()}
    ordered = [word for phrase in semantic for word in phrase.split() if word in distinctive]
    ordered += [word for phrase in keywords for word in phrase.split()]
    chosen = list(dict.fromkeys(ordered))[:size]
    return " / ".join(chosen) if chosen else "unlabelled"
