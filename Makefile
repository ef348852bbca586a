# TrueVoice: `make run` sets everything up and starts the embedded default with the sample;
# `make test` sets everything up and runs the whole test suite (what CI runs).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install system-deps bench clean help

help:
	@echo "make run    - install, then start TrueVoice (embedded broker, worker, ClickHouse, API) with the sample"
	@echo "make test   - install, then run the whole test suite"
	@echo "make bench  - install, then run the pipeline and model benchmarks"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

# Debian's docker-compose validates docker-compose.yml in the tests (no engine needed); promtool
# (Debian's prometheus package, the only one that carries it; its recommends left out) checks and
# unit-tests the ops alert rules (streams/ops/prometheus_rules.yml). Debian's chromium is the browser
# tests/test_dashboard.py drives through Playwright (nothing is downloaded), fonts-noto-cjk its Hangul.
system-deps:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  echo "installing docker-compose (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "installing promtool (Debian package prometheus)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    prometheus >/dev/null; }
	@{ command -v chromium >/dev/null 2>&1 && fc-list | grep -q "Noto Sans CJK"; } || { \
	  echo "installing chromium and fonts-noto-cjk (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium fonts-noto-cjk >/dev/null; }

run: install
	$(BIN)/truevoice up

test: install system-deps
	$(BIN)/python -m pytest

# NSMC reviews: 150,000 distinct Korean texts, so the tracker sees traffic as distinct as real posts
NSMC ?= ../shared/data/nsmc/ratings_train.txt.gz

bench: install
	@if [ -f $(NSMC) ]; then $(BIN)/python bench/pipeline.py --seconds 15 --texts $(NSMC); \
	 else echo "$(NSMC) not found: the NSMC run is skipped"; fi
	$(BIN)/python bench/pipeline.py --seconds 15
	$(BIN)/truevoice models bench
	$(BIN)/python bench/sigkill_loss.py

clean:
	rm -rf $(VENV) data .pytest_cache
