"""Keep ``import transformers`` working when an incompatible ``kernels`` package is installed.

transformers imports the optional package ``kernels`` (compute kernels from the Hugging Face Hub) whenever it
is installed, and builds kernel descriptions the way the ``kernels`` release it was written for expects.
transformers 5.3 (the newest that ``model2vec[distill]`` accepts) with ``kernels`` 0.11 or later fails on
``import transformers.modeling_utils`` with "Either a revision or a version must be specified", so every
model load fails. narratives never uses hub kernels (models run on the CPU, offline), so when the
installed ``kernels`` lies outside the range transformers declares for it, transformers is told that it is
absent. Nothing changes when ``kernels`` is not installed or is a release transformers accepts.
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

logger = logging.getLogger(__name__)

_checked = False


def hide_kernels_transformers_cannot_use() -> bool:
    """Make ``import kernels`` fail if transformers cannot use the installed release; True if hidden.

    Call before the first import of transformers, sentence-transformers, model2vec or BERTopic. Checks
    only installed package metadata (no import), once per process.
    """
    global _checked
    if _checked:
        return sys.modules.get("kernels", ...) is None
    _checked = True
    if "kernels" in sys.modules:  # already imported (by the user's own code): leave it alone
        return False
    installed = _installed_version("kernels")
    wanted = _transformers_kernels_range()
    if installed is None or wanted is None or wanted.contains(installed, prereleases=True):
        return False
    sys.modules["kernels"] = None  # type: ignore[assignment]  # `import kernels` now raises ImportError
    logger.info(
        "kernels %s is installed but this transformers asks for kernels%s: transformers runs without it",
        installed,
        wanted,
    )
    return True


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _transformers_kernels_range() -> SpecifierSet | None:
    """The version range transformers declares for ``kernels`` (its ``kernels`` extra), if any."""
    try:
        requirements = metadata.requires("transformers") or []
    except metadata.PackageNotFoundError:
        return None
    for line in requirements:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.name.lower() == "kernels" and str(requirement.specifier):
            return requirement.specifier
    return None
