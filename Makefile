# Set-up and everyday targets. `make report` and `make test` work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
SNAKEMAKE := $(BIN)/snakemake --cores $(CORES)

.PHONY: report figures test lint bench clean venv

venv: $(STAMP)

# pip takes torch and torchvision from requirements.txt, never unpinned.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

report: $(STAMP)
	$(SNAKEMAKE)
	@echo "HTML report: $(CURDIR)/report/build/report.html"
	@test -f report/build/report.pdf && echo "PDF report:  $(CURDIR)/report/build/report.pdf" || echo "PDF report:  not built (latexmk missing); see report/build/README.txt"

# Redraw figures and the report from existing results, without training.
figures: $(STAMP)
	$(SNAKEMAKE) report

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

bench: $(STAMP)
	for script in bench/bench_*.py; do $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf results report/build .snakemake
	find figures -mindepth 1 ! -name .gitkeep -delete
