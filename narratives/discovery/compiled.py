"""Keep the machine code numba compiles for UMAP and pynndescent on disk, for every later process.

UMAP's functions are compiled by numba the first time a process calls them: 30-50 s of CPU on this
kind of machine before discovery does any work, paid again by every new `narratives discover`.
pynndescent marks most of its functions ``cache=True``; UMAP marks almost none. :func:`cache_compiled_code`
turns numba's on-disk cache on for every compiled function of both packages (before any is compiled),
in ``$NUMBA_CACHE_DIR`` or else ``$XDG_CACHE_HOME/narratives/numba``. Numba keys each entry by the
function's source file and the CPU, so an upgraded package or another machine compiles afresh rather
than loading stale code. The results are the same: only where the code comes from changes.

``python -m narratives.discovery.compiled`` compiles everything discovery uses once (``make install``
runs it), so even the first discovery on a machine does not wait.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from pathlib import Path

from narratives.paths import user_cache

logger = logging.getLogger(__name__)

PACKAGES = ("umap", "pynndescent")
SKIPPED_MODULES = {"plot", "aligned_umap", "parametric_umap", "tests"}  # optional extras, never used here
_done = False


def numba_cache_folder() -> Path:
    """Where compiled code is kept: ``$NUMBA_CACHE_DIR`` if set, else the user's narratives cache."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    return user_cache("numba")


def cache_compiled_code() -> int:
    """Turn on numba's disk cache for UMAP's and pynndescent's functions; returns how many were turned on.

    Call before UMAP is first used in the process (discovery does); later calls do nothing.
    """
    global _done
    if _done:
        return 0
    folder = numba_cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a read-only home: compile in memory as before
        logger.info("compiled code is not cached: %s is not writable (%s)", folder, error)
        _done = True
        return 0
    os.environ.setdefault("NUMBA_CACHE_DIR", str(folder))
    import numba

    numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]  # type: ignore[attr-defined]  # numba imported before
    turned_on = sum(_enable_in_package(name) for name in PACKAGES)
    _done = True
    logger.debug("numba disk cache on for %d functions in %s", turned_on, folder)
    return turned_on


def _enable_in_package(package_name: str) -> int:
    from numba.core.registry import CPUDispatcher

    package = importlib.import_module(package_name)
    turned_on = 0
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in SKIPPED_MODULES:
            continue
        try:
            module = importlib.import_module(f"{package_name}.{info.name}")
        except ImportError:  # an optional dependency of a module discovery does not use
            continue
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and type(value._cache).__name__ == "NullCache":  # type: ignore[attr-defined]
                value.enable_caching()
                turned_on += 1
    return turned_on


def compile_now(points: int = 300, seed: int = 0) -> None:
    """Fit UMAP on random unit vectors, as discovery does, so its compiled code lands in the cache."""
    import numpy as np

    cache_compiled_code()
    from umap import UMAP

    vectors = np.random.default_rng(seed).standard_normal((points, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for low_memory in (True, False):
        UMAP(
            n_neighbors=15, n_components=5, metric="cosine", random_state=seed, low_memory=low_memory
        ).fit_transform(vectors)


if __name__ == "__main__":  # pragma: no cover - run by `make install`
    compile_now()
    print(f"UMAP's compiled code is cached in {numba_cache_folder()}")
