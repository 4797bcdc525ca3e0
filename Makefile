# Developer commands. `make run` starts the service locally, `make test` runs the tests; both
# first create or refresh the virtualenv in .venv.

VENV := .venv
PYTHON := $(VENV)/bin/python
# Touched after a successful install: pip runs again only when pyproject.toml is newer.
INSTALLED := $(VENV)/.installed

.PHONY: install run lint test test-fast bench chaos cluster clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --upgrade pip
	$(PYTHON) -m pip install -e '.[dev]'
	touch $@

# Uses DATABASE_URL and REDIS_URL if set, else embedded servers with their data in .run/.
run: install
	$(PYTHON) -m devtools.run

# Unused or undefined names, import order, and the layers' import contracts (pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Every tier, slow ones included. Extra pytest arguments: make test PYTEST_ARGS='-k servers -x';
# a tier alone: make test PYTEST_ARGS='-m "not faults and not bench"'.
test: lint
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# Unit and component tests only (no HTTP server nor worker): a minute or less.
test-fast: lint
	$(PYTHON) -m pytest tests/unit tests/component $(PYTEST_ARGS)

# The benchmark (see the README's performance section); sizes as BENCH_* variables, e.g.
# make bench BENCH_RECORDS=50000. Writes bench/results/bench.json and throughput.png.
bench: install
	$(PYTHON) -m bench $(BENCH_ARGS)

# The chaos run on private embedded servers; prints one line of figures, fails on any loss.
# Extra arguments: make chaos CHAOS_ARGS='--jobs 20'
chaos: install
	$(PYTHON) -m devtools.chaos $(CHAOS_ARGS)

# The service on a data host, a web host and three worker hosts (network namespaces; root).
# CHAOS=1 deals it every network fault under a continuous import and prints one line;
# BROKER=rabbitmq runs it on RabbitMQ. Extra arguments: make cluster CLUSTER_ARGS='--jobs 60'
cluster: install
	$(PYTHON) -m devtools.cluster --broker $(or $(BROKER),redis) $(if $(CHAOS),--chaos) $(CLUSTER_ARGS)

# Removes everything the targets above create, the embedded servers' data included.
clean:
	rm -rf $(VENV) .run .pytest_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
