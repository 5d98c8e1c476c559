#!/usr/bin/env bash
# Development only, before the first release: rebuild migration 0001 from narratives/store/tables.py.
# Once a release has shipped, add a new migration instead (alembic revision --autogenerate).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $PWD/narratives/store/migrations
sqlalchemy.url = sqlite:///$tmp/autogen.db
INI
rm -f narratives/store/migrations/versions/0001_*.py
PYTHONPATH=. .venv/bin/alembic -c "$tmp/alembic.ini" revision --autogenerate -m "initial schema" --rev-id 0001 >/dev/null
.venv/bin/ruff format -q narratives/store/migrations/versions/
rm -rf "$tmp"
echo "regenerated narratives/store/migrations/versions/0001_initial_schema.py"
