# Fresh machine: `make run` serves the map on http://127.0.0.1:5000, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BOUNDARY_SOURCES ?= $(or $(GEOAPP_BOUNDARY_SOURCES),../shared/data/boundaries)
BOUNDARY_FILES := $(wildcard $(BOUNDARY_SOURCES)/*.geojson $(BOUNDARY_SOURCES)/*.csv)
BUILD_CODE := geoapp/domain/boundaries.py geoapp/services/boundary_build.py
HOST ?= 127.0.0.1
PORT ?= 5000
export GEOAPP_BOUNDARY_SOURCES := $(BOUNDARY_SOURCES)

.PHONY: run db dev test lint format bench setup data ocop-data chromium gdal clean translations messages \
	audit soak

setup: $(VENV)/.installed static/vendor/.installed data translations

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Leaflet, its plugins and topojson-client come from npm (package-lock.json) and are served by the app itself.
static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	rm -rf static/vendor && mkdir -p static/vendor
	cp -r node_modules/leaflet/dist static/vendor/leaflet
	cp -r node_modules/leaflet.markercluster/dist static/vendor/leaflet.markercluster
	cp -r node_modules/topojson-client/dist static/vendor/topojson-client
	cp -r node_modules/leaflet.vectorgrid/dist static/vendor/leaflet.vectorgrid
	touch $@

# UI languages (Flask-Babel): the .po catalogues are in the repo, the .mo files are built here.
# `make messages` extracts the English strings of code and templates (babel.cfg) and merges them
# into translations/*/LC_MESSAGES/messages.po; translate the new empty msgstr, then `make`.
PO_FILES := $(wildcard translations/*/LC_MESSAGES/messages.po)
translations: $(PO_FILES:.po=.mo)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

messages: | $(VENV)/.installed
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --sort-by-file --project geoapp -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --width 100

data: data/boundaries/manifest.json

data/boundaries/manifest.json: $(BOUNDARY_FILES) $(BUILD_CODE) | $(VENV)/.installed
	GEOAPP_CHECK_DATA=0 $(BIN)/flask --app wsgi boundaries build

# data/ocop/ is committed; rebuild it from ../shared/data/ocop after a change of facts or rules.
ocop-data: data
	GEOAPP_CHECK_DATA=0 $(BIN)/flask --app wsgi ocop build

# With GEOAPP_DATABASE_URL set, `make run` serves from PostGIS: the schema is upgraded and, the
# first time only, the boundary build and the OCOP data are loaded (`make db` does just that).
run: setup $(if $(GEOAPP_DATABASE_URL),db)
	$(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

db: setup
	@test -n "$(GEOAPP_DATABASE_URL)" || { echo "set GEOAPP_DATABASE_URL=postgresql://..."; exit 1; }
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi db load --if-empty

dev: setup
	$(BIN)/flask --app wsgi run --debug --host $(HOST) --port $(PORT)

chromium:
	@command -v /usr/bin/chromium >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

# GDAL's command-line clients (ogrinfo, ogr2ogr): the tests read /ogc with them (issue 15).
gdal:
	@command -v ogrinfo >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdal-bin; }

# Benchmark (issue 7): wrk from Debian, the naive page's packages (mapclassify for explore(),
# its CDN assets from npm), then bench/run_bench.py: a table and bench/results/latest.json.
bench: setup chromium bench/results/.installed
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

bench/results/.installed: bench/requirements.txt bench/package.json | $(VENV)/.installed
	@command -v wrk >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	npm install --prefix bench --no-audit --no-fund --silent
	mkdir -p bench/results && touch $@

# pip-audit of requirements.txt (.ci/audit.py): accept a finding with a reason in .pip-audit-ignore.
audit: | $(VENV)/.installed
	$(BIN)/python .ci/audit.py

# Soak (issue 12), not part of make test: gunicorn (2 workers), 50 clients for SOAK_SECONDS
# (default 300) on the built data; fails on any 5xx or worker memory growth of 10% or more.
soak: setup
	$(BIN)/python bench/soak.py

test: setup chromium gdal audit
	$(BIN)/ruff check geoapp tests bench
	$(BIN)/ruff format --check geoapp tests bench
	$(BIN)/pytest

lint:
	$(BIN)/ruff check geoapp tests bench
	$(BIN)/ruff format --check geoapp tests bench

format:
	$(BIN)/ruff format geoapp tests bench
	$(BIN)/ruff check --fix geoapp tests bench

clean:
	rm -rf $(VENV) node_modules static/vendor
	find data/boundaries -mindepth 1 ! -name README.md -exec rm -rf {} +
