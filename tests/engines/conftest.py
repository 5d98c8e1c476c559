"""One local Ray with 2 CPUs for every test of the Ray engine (started once, shut down at the end)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from narratives.engines import EngineOptions, start_engine

RAY = EngineOptions(name="ray", workers=2, batch_size=128)


@pytest.fixture(scope="package")
def ray_engine() -> Iterator[EngineOptions]:
    """A local Ray with 2 CPUs; the phrase coder's per-segment pattern timeout (0.1 s) raised while
    it runs, so a pattern never times out on a busy machine in one run and not in the other."""
    pytest.importorskip("ray")
    import ray

    from narratives.coding.phrase import PhraseCoder

    defaults = PhraseCoder.__init__.__defaults__
    assert defaults is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PhraseCoder.__init__, "__defaults__", (*defaults[:-1], 30.0))
        assert start_engine(RAY) == "engine: ray (2 workers, on a local Ray)"
        yield RAY
        ray.shutdown()
