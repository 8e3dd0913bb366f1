# Two commands matter: `make demo` and `make test`. Everything else is a step they run.
.PHONY: setup demo serve test lint bench schema screenshots load

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/lineage serve --demo --data data/demo

serve: setup
	.venv/bin/lineage serve

test: setup
	.venv/bin/pytest

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/python -m api.graphql.export --check

bench: setup
	.venv/bin/python -m benchmarks.store_bench --nodes 10000 100000 1000000

load: setup
	.venv/bin/python -m benchmarks.load_test --seconds 60

schema: setup
	.venv/bin/python -m api.graphql.export

# The explorer's pictures in docs/screenshots/ (the end-to-end test takes them; they are committed).
screenshots: setup
	LINEAGE_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/test_explorer.py -q
