# Two commands matter: `make demo` and `make test`. Everything else is a step they run.
.PHONY: setup setup-dev demo serve test lint bench schema screenshots load

# The service and the explorer: all `make demo` needs.
setup:
	@scripts/setup.sh

# Also what the tests run against: dev packages, the MLflow server, Neo4j's jars, Chromium.
setup-dev:
	@scripts/setup.sh --dev

demo: setup
	.venv/bin/lineage serve --demo --data data/demo

serve: setup
	.venv/bin/lineage serve

test: setup-dev
	.venv/bin/pytest

lint: setup-dev
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/python -m api.graphql.export --check

bench: setup-dev
	.venv/bin/python -m benchmarks.store_bench --nodes 10000 100000 1000000

load: setup-dev
	.venv/bin/python -m benchmarks.load_test --seconds 60

schema: setup-dev
	.venv/bin/python -m api.graphql.export

# The explorer's pictures in docs/screenshots/ (the end-to-end test takes them; they are committed).
screenshots: setup-dev
	LINEAGE_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/test_explorer.py -q
