"""Writers wait for each other: eight processes writing reviews at once, one transaction per review
or as concurrent `narratives reviews import` runs, keep every review exactly once, on SQLite and on
PostgreSQL, every process exiting 0 with no traceback; a writer that cannot get the lock in time
fails with our error and a fix."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, func, select

from narratives.errors import StoreError
from narratives.interop.reviews_csv import import_reviews_csv
from narratives.schema import Codebook
from narratives.store.project import Project, open_project
from narratives.store.retry import WAIT_ENV, is_retryable, pauses
from narratives.store.tables import reviews
from tests.builders.project import ProjectBuilder
from tests.builders.study import CODEBOOK, CODES, DOCUMENTS, sentences
from tests.store.writers import CODE, segment_ids

PROCESSES = 8
EACH = 500
REPO = Path(__file__).resolve().parents[2]
NARRATIVES = str(Path(sys.executable).with_name("narratives"))


def add_study(project: Project) -> None:
    """The study's documents, sentence segments and codebook, written through the library."""
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK)
        build.add_documents(DOCUMENTS, split=lambda i, document: sentences(i, document.text))
        build.store_codebook(Codebook(name=CODEBOOK, version="1", codes=CODES))


def start(arguments: list[str]) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        arguments, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_all(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    """Wait for each process to end; its exit code, stdout and stderr."""
    outputs = [process.communicate(timeout=600) for process in processes]
    return [(process.returncode, out, err) for process, (out, err) in zip(processes, outputs, strict=True)]


def memos(project: Project) -> list[str]:
    with project.connect() as connection:
        return [str(row.memo) for row in connection.execute(select(reviews.c.memo))]


def assert_clean(results: list[tuple[int, str, str]]) -> None:
    for code, _out, err in results:
        assert code == 0, err[-2000:]
        assert "Traceback" not in err and "locked" not in err, err[-2000:]


@pytest.mark.slow
def test_eight_processes_of_single_review_transactions_keep_every_review_once(
    backend_project: Project,
) -> None:
    add_study(backend_project)
    writers = [
        start(
            [
                sys.executable,
                "-m",
                "tests.store.writers",
                "reviews",
                str(backend_project.path),
                f"p{i}",
                str(EACH),
            ]
        )
        for i in range(PROCESSES)
    ]
    results = finish_all(writers)
    assert_clean(results)
    acknowledged = [int(line.split()[1]) for _, out, _ in results for line in out.splitlines()]
    assert len(acknowledged) == len(set(acknowledged)) == PROCESSES * EACH
    stored = memos(backend_project)
    assert sorted(stored) == sorted(f"p{i}-{k}" for i in range(PROCESSES) for k in range(EACH))


def write_review_csv(path: Path, user: str, targets: list[int], count: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["segment_id", "code", "decision", "user", "memo"])
        for k in range(count):
            writer.writerow([targets[k % len(targets)], CODE, "add", user, f"{user}-{k}"])
    return path


@pytest.mark.slow
def test_eight_concurrent_reviews_imports_keep_every_row_once(
    backend_project: Project, tmp_path: Path
) -> None:
    add_study(backend_project)
    targets = segment_ids(backend_project)
    files = [write_review_csv(tmp_path / f"u{i}.csv", f"u{i}", targets, EACH) for i in range(PROCESSES)]
    command = [NARRATIVES, "reviews", "import", str(backend_project.path)]
    importers = [start([*command, str(file), "--codebook", CODEBOOK]) for file in files]
    results = finish_all(importers)
    assert_clean(results)
    assert all(f"{EACH} reviews imported" in out for _, out, _ in results), [r[1] for r in results]
    assert sorted(memos(backend_project)) == sorted(
        f"u{i}-{k}" for i in range(PROCESSES) for k in range(EACH)
    )


def test_importing_the_same_file_again_stores_nothing_twice(backend_project: Project, tmp_path: Path) -> None:
    add_study(backend_project)
    targets = segment_ids(backend_project)
    file = write_review_csv(tmp_path / "r.csv", "ana", targets, 23)
    first = import_reviews_csv(backend_project, file, codebook_name=CODEBOOK, batch_rows=5)
    again = import_reviews_csv(backend_project, file, codebook_name=CODEBOOK, batch_rows=5)
    assert (first.imported, first.already_imported) == (23, 0)
    assert (again.imported, again.already_imported) == (0, 23)
    assert sorted(memos(backend_project)) == sorted(f"ana-{k}" for k in range(23))


def test_an_interrupted_import_run_again_stores_only_the_rest(
    backend_project: Project, tmp_path: Path
) -> None:
    add_study(backend_project)
    file = write_review_csv(tmp_path / "r.csv", "ana", segment_ids(backend_project), 12)
    inserts = 0

    def power_cut(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        nonlocal inserts
        if statement.lstrip().upper().startswith("INSERT INTO REVIEWS"):
            inserts += 1
            if inserts == 11:  # the first review of the third batch of five
                raise OSError("the power went")

    event.listen(backend_project.engine, "before_cursor_execute", power_cut)
    try:
        with pytest.raises(OSError):
            import_reviews_csv(backend_project, file, codebook_name=CODEBOOK, batch_rows=5)
    finally:
        event.remove(backend_project.engine, "before_cursor_execute", power_cut)
    assert len(memos(backend_project)) == 10  # two whole batches; the third rolled back
    rerun = import_reviews_csv(backend_project, file, codebook_name=CODEBOOK, batch_rows=5)
    assert (rerun.imported, rerun.already_imported) == (2, 10)
    assert sorted(memos(backend_project)) == sorted(f"ana-{k}" for k in range(12))


def test_a_writer_that_never_gets_the_lock_fails_with_our_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narratives.store import init_project

    holder = init_project(tmp_path / "p")
    add_study(holder)
    monkeypatch.setenv(WAIT_ENV, "0.3")  # a short wait in all, SQLite's own busy wait included
    waiter = open_project(tmp_path / "p")
    assert waiter.write_wait == 0.3
    try:
        with holder.begin() as connection:  # holds the write lock until the block ends
            connection.execute(select(func.count()).select_from(reviews))
            with pytest.raises(StoreError) as raised, waiter.begin(what="review 7 of ana"):
                pass
        assert "could not write review 7 of ana" in raised.value.message
        assert "another process holds the project for writing" in (raised.value.fix or "")
        assert is_retryable(raised.value.__cause__)  # type: ignore[arg-type]
        with waiter.begin() as connection:  # once let go, the lock is the waiter's
            connection.execute(select(func.count()).select_from(reviews))
    finally:
        waiter.close()
        holder.close()


def test_pauses_grow_are_jittered_and_stop_at_the_deadline() -> None:
    import random

    next_pause = pauses(0.5, random.Random(0))
    first = [next_pause() for _ in range(5)]
    assert all(p is not None and p > 0 for p in first)
    assert first[4] > first[0]  # doubling ceilings outgrow the jitter
    stop = pauses(0.0)
    assert stop() is None


@pytest.mark.postgres
def test_a_postgresql_lock_timeout_reruns_the_whole_transaction(tmp_path: Path) -> None:
    from narratives.store import init_project
    from narratives.store.settings import get_setting, set_setting
    from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database

    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: no server reachable (set NARRATIVES_TEST_PG_URL)")
    url, name = _fresh_pg_database()
    project = init_project(tmp_path / "p", db_url=url)
    try:
        with project.begin() as connection:
            set_setting(connection, "counter", 0)
        holder = project.engine.connect()
        held = holder.begin()
        holder.exec_driver_sql("SELECT value FROM settings WHERE key = 'counter' FOR UPDATE")  # row locked
        attempts = 0

        def bump(connection: Connection) -> int:
            nonlocal attempts
            attempts += 1
            if attempts == 3:  # the other transaction lets go before the third try
                held.rollback()
            connection.exec_driver_sql("SET LOCAL lock_timeout = '50ms'")
            value = int(get_setting(connection, "counter")) + 1
            set_setting(connection, "counter", value)  # waits for the row lock, or fails with 55P03
            return value

        assert project.write(bump, what="the counter") == 1
        assert attempts == 3  # two tries refused by the lock, each rolled back, then one stored
        with project.connect() as connection:
            assert get_setting(connection, "counter") == 1
        holder.close()
    finally:
        project.close()
        _drop_pg_database(name)
