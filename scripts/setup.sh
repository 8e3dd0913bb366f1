#!/usr/bin/env bash
# Install everything the project needs on a fresh machine; safe to run again (it skips what is done).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages (pyproject.toml)"
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
# The MLflow server the tests start: full mlflow pins graphql-core below strawberry's range, so it
# lives in its own venv (the project venv has only the mlflow-skinny client). 3.3+ has webhooks.
MLFLOW_VERSION=3.17.2
if [ ! -f ".venv-mlflow/.installed-$MLFLOW_VERSION" ]; then
  echo "==> creating .venv-mlflow (mlflow==$MLFLOW_VERSION, the server the tests run)"
  "$PYTHON" -m venv .venv-mlflow
  .venv-mlflow/bin/pip install --quiet --upgrade pip
  .venv-mlflow/bin/pip install --quiet "mlflow==$MLFLOW_VERSION"
  rm -f .venv-mlflow/.installed-* && touch ".venv-mlflow/.installed-$MLFLOW_VERSION"
fi
# Neo4j's jars (Maven Central, ~120 MB, once): the tests run a real Neo4j from them.
.venv/bin/lineage neo4j fetch
echo "==> setup done"
