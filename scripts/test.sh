#!/usr/bin/env bash
# Everything the test suite needs, then the suite: system packages (PostgreSQL, Chromium), axe-core
# from npm, a throw-away PostgreSQL server on a free local port, and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

bash scripts/install_system_deps.sh
if [ ! -f tests/e2e/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then
  (cd tests/e2e && npm install --no-audit --no-fund --silent) || echo "npm install failed: browser tests will skip axe"
fi

pg_dir=$(mktemp -d /tmp/narratives-pg.XXXXXX)
if source scripts/start_postgres.sh "$pg_dir"; then
  trap 'bash scripts/stop_postgres.sh "$pg_dir"' EXIT
else
  echo "PostgreSQL could not be started: PostgreSQL tests will be skipped"
fi

echo "lint: ruff and mypy"
.venv/bin/ruff check narratives tests app.py scripts
.venv/bin/ruff format --check narratives tests app.py scripts
.venv/bin/mypy narratives

mkdir -p test-output
set +e
.venv/bin/python -m pytest "$@"
status=$?
# The whole suite runs on SQLite, with the store tests and a team-server browser test on PostgreSQL
# too; the library and page tests built on the demo project then run once more on PostgreSQL.
if [ "$status" -eq 0 ] && [ "$#" -eq 0 ] && [ -n "${NARRATIVES_TEST_PG_URL:-}" ]; then
  echo "the demo-project tests again, on PostgreSQL"
  NARRATIVES_TEST_DEMO_ON_PG=1 .venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/review tests/analysis tests/codebook tests/discovery tests/ui/test_pages.py tests/ui/test_panel_pages.py
  status=$?
fi
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests"; exit 1
fi
exit "$status"
