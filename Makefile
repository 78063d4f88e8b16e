# Partnerscope — `make run` and `make test` set themselves up from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test screenshots bench bench-webhooks bench-dashboard clean

BENCH_VENV := .bench-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: the demo (no config.toml) or the configured trackers, then the dashboard on :8000.
run: $(STAMP)
	$(BIN)/partnerscope run --host 127.0.0.1 --port 8000

## The whole suite; against PostgreSQL too when PARTNERSCOPE_TEST_POSTGRES_URL is set.
## pytest exits 5 when it collected nothing: say so and fail rather than pass quietly.
test: $(STAMP)
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

## The README's pictures (docs/scorecard.png, area.png, ticket.png) of the demo, in the Chromium the browser tests use.
screenshots: $(STAMP)
	$(BIN)/python -m tests.browser.screenshots docs

## The benchmark (never part of `make test`): Partnerscope beside Perceval, which gets a venv of its own.
$(BENCH_VENV)/.installed-stamp:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet 'perceval>=1.0'
	touch $@

## CASES picks the cases (bench/run.py --help); webhooks, dashboard, report_postgres and scale are opt-in.
CASES ?= jira,github,ingest,exports,large

bench: $(STAMP) $(BENCH_VENV)/.installed-stamp
	$(BIN)/python -m bench.run --perceval $(BENCH_VENV)/bin/perceval --cases $(CASES)

## Webhook deliveries under load (SQLite, then PostgreSQL when a server answers); about three minutes.
bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.run --cases webhooks

## The dashboard's pages (scorecard, areas, a ticket, the ticket list) served to 8 logged-in clients at
## 100,000 tickets on SQLite; about three minutes, half of it building the database. DASHBOARD_DB=var/dash.db
## keeps that database for the next run (rebuilt when it holds another number of tickets).
## `.venv/bin/python -m bench.run --cases dashboard_postgres` does the same on PostgreSQL.
DASHBOARD_DB ?=
bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.run --cases dashboard $(if $(DASHBOARD_DB),--dashboard-db $(DASHBOARD_DB))

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info .pytest_cache
