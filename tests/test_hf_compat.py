"""A ``kernels`` release transformers cannot use must not stop models loading (it broke CI once).

transformers 5.3 imports ``kernels`` whenever it is installed and builds ``LayerRepository`` objects the way
kernels 0.10 expects; kernels 0.11 and later raise "Either a revision or a version must be specified", so
``import transformers.modeling_utils`` failed and with it every model load. The tests put a distribution
named ``kernels`` that behaves like those releases first on the path of a fresh interpreter, with the
real transformers and the real MiniLM behind it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from narratives.hf_compat import _transformers_kernels_range

NEW_KERNELS = "99.0.0"  # later than any range a transformers release declares


def _declared_range() -> str:
    wanted = _transformers_kernels_range()
    if wanted is None:
        pytest.skip("this transformers declares no kernels range")
    return str(wanted)


@pytest.fixture(scope="module")
def incompatible_kernels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``kernels`` NEW_KERNELS whose LayerRepository rejects transformers 5.3's calls."""
    root = tmp_path_factory.mktemp("site")
    package = root / "kernels"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            class LayerRepository:
                def __init__(self, repo_id, *, layer_name, revision=None, version=None, **_):
                    if revision is None and version is None:
                        raise ValueError("Either a revision or a version must be specified.")

            class Device:
                def __init__(self, *args, **kwargs): pass

            class Mode:
                INFERENCE = TRAINING = TORCH_COMPILE = FALLBACK = 0

            def register_kernel_mapping(*args, **kwargs): pass
            def replace_kernel_forward_from_hub(*args, **kwargs): pass
            def get_kernel(*args, **kwargs): raise RuntimeError("no hub here")
            def use_kernel_forward_from_hub(name): return lambda cls: cls
            """
        )
    )
    info = root / f"kernels-{NEW_KERNELS}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: kernels\nVersion: {NEW_KERNELS}\n")
    return root


def _python(site: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=600
    )


def test_the_fixture_reproduces_the_failure(incompatible_kernels: Path) -> None:
    declared = _declared_range()
    assert not Requirement(f"kernels{declared}").specifier.contains(NEW_KERNELS)
    result = _python(incompatible_kernels, "import transformers.modeling_utils")
    if result.returncode == 0:
        pytest.skip("this transformers imports an incompatible kernels without failing")
    assert "Either a revision or a version must be specified" in result.stderr


def test_minilm_loads_and_encodes_beside_an_incompatible_kernels(incompatible_kernels: Path) -> None:
    _declared_range()
    result = _python(
        incompatible_kernels,
        """
        from importlib import metadata
        assert metadata.version("kernels") == "99.0.0", metadata.version("kernels")
        from narratives.embed import load_embedder
        vectors = load_embedder(None).encode(["a carer who is never listened to"])
        import transformers.utils.import_utils as utils
        print(vectors.shape, utils.is_kernels_available())
        """,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["(1,", "384)", "False"]


def test_a_kernels_release_transformers_accepts_is_left_alone(tmp_path: Path) -> None:
    wanted = _transformers_kernels_range()
    if wanted is None:
        pytest.skip("this transformers declares no kernels range")
    lowest = next((spec.version for spec in wanted if spec.operator in (">=", "==")), None)
    if lowest is None:
        pytest.skip(f"no lowest release in {wanted}")
    info = tmp_path / f"kernels-{lowest}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: kernels\nVersion: {lowest}\n")
    (tmp_path / "kernels.py").write_text("")
    result = _python(
        tmp_path,
        """
        import sys
        from narratives.hf_compat import hide_kernels_transformers_cannot_use
        print(hide_kernels_transformers_cannot_use(), sys.modules.get("kernels", "absent"))
        """,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["False", "absent"]
