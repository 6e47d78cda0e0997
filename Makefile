# DeepNet reproduction harness. `make` (or `make help`) lists the targets.
# Every target that builds first makes sure the system libraries are present (`deps`).

SHELL    := /bin/bash
SWIFT    ?= swift
PROFILE  ?= reduced
JOBS     ?= $(shell nproc 2>/dev/null || echo 1)
RESULTS  ?= results
BUILD    := .build/release
ROUNDS   ?= 2
STEPS    ?= 5
FILTER   ?=
THREADS  ?= 2
PYTHON   ?= python3
DEEPNET  := $(BUILD)/deepnet
EXPERIMENTS_TABLES := table1 table2 table3 table4 table5 table6 table7 table10 table11
EXPERIMENTS_FIGS   := fig1 fig2 fig3 fig4 fig5 fig6 fig7 fig8 fig9
SMOKE_RESULTS := results/smoke
SMOKE_REPORTS := reports/smoke

.DEFAULT_GOAL := help
.PHONY: help deps build test unit-tests smoke slurm-test campaign reports bench bench-vs-torch data clean $(EXPERIMENTS_TABLES) $(EXPERIMENTS_FIGS) table8 table9

## help: list the targets (default)
help:
	@echo "DeepNet reproduction harness — targets:"
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  make /'
	@echo ""
	@echo "Variables: PROFILE=smoke|reduced|paper (default reduced), JOBS=N (parallel runs, default: one per core)"
	@echo "Data: set DEEPNET_DATA=/path/to/data for the real corpora (\`make data\` fetches them). Without it, PROFILE=reduced"
	@echo "      reuses the committed results and lists the runs it would compute; PROFILE=smoke is the synthetic path."

## deps: install libopenblas-dev and libhdf5-dev with apt-get when pkg-config cannot find them
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openblas hdf5; then \
	  echo "deps: installing pkg-config libopenblas-dev libhdf5-dev with apt-get"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y pkg-config libopenblas-dev libhdf5-dev; \
	else echo "deps: openblas $$(pkg-config --modversion openblas), hdf5 $$(pkg-config --modversion hdf5) found"; fi

## build: release build of the `deepnet` CLI and the benchmark
build: deps
	$(SWIFT) build -c release

## test: unit tests (release) and the smoke profile of every experiment
test: build smoke unit-tests

# XCTest's own summary is followed by Swift Testing's empty-run line, so the XCTest totals are
# repeated at the end as one plain "tests: N passed, N failed, N skipped" line.
unit-tests: deps
	@mkdir -p .build; set -o pipefail; $(SWIFT) test -c release 2>&1 | tee .build/unit-tests.log; status=$$?; \
	line=$$(grep -E 'Executed [0-9]+ tests?, with' .build/unit-tests.log | tail -1); \
	total=$$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$$line"); \
	failed=$$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$$line"); \
	skipped=$$(grep -oE '[0-9]+ tests? skipped' <<<"$$line" | grep -oE '^[0-9]+' || echo 0); \
	if [ -n "$$line" ]; then echo "tests: $$((total - failed - skipped)) passed, $$failed failed, $$skipped skipped"; fi; \
	exit $$status

## smoke: every experiment at the smoke profile (synthetic data), reports into reports/smoke (git-ignored)
smoke: build
	$(DEEPNET) run --all --profile smoke --results $(SMOKE_RESULTS) -j $(JOBS)
	$(DEEPNET) report --all --results $(SMOKE_RESULTS) --out $(SMOKE_REPORTS)

## table1 ... table11, fig1 ... fig9: run one experiment at PROFILE and render reports/<id>.md
$(EXPERIMENTS_TABLES) $(EXPERIMENTS_FIGS): build
	$(DEEPNET) run $@ --profile $(PROFILE) -j $(JOBS) $(if $(filter-out reduced,$(PROFILE)),--results $(RESULTS)/$(PROFILE),)
	$(DEEPNET) report $@ $(if $(filter-out reduced,$(PROFILE)),--results $(RESULTS)/$(PROFILE) --out reports/$(PROFILE),)

# Tables VII-IX are one experiment in the registry (`table7`).
table8 table9: table7

## slurm-test: the Slurm executor against a real one-node Slurm on this machine (root; installs slurm-wlm and munge if missing; not in CI)
slurm-test: build
	bash scripts/slurm_test.sh

## campaign: the pre-registered reduced campaign in its order (docs/preregistration.md §7), stopping cleanly after BUDGET (default 2h); run it again to continue
BUDGET   ?= 2h
CAMPAIGN_ORDER := fig4 fig3 fig2 table10 table6 table7 fig1 fig5 table11 table1 table2 fig6 fig7 fig9 fig8 table3 table4 table5
campaign: build
	@test -n "$$DEEPNET_DATA" || { echo "campaign: set DEEPNET_DATA (make data fetches the corpora)"; exit 2; }
	$(DEEPNET) run $(CAMPAIGN_ORDER) --profile reduced -j $(JOBS) --budget $(BUDGET)

## reports: render every reports/<id>.md and reports/README.md from the results in results/
reports: build
	$(DEEPNET) report --all

## bench: engine throughput vs the cblas_sgemm peak measured in the same process (release build)
bench: deps
	$(SWIFT) run -c release deepnet-bench

## bench-vs-torch: deepnet-bench and PyTorch + torchscale on the same configs, one table (ROUNDS=2 STEPS=5 FILTER= THREADS=2; skipped without torch)
bench-vs-torch:
	@ROUNDS="$(ROUNDS)" STEPS="$(STEPS)" FILTER="$(FILTER)" THREADS="$(THREADS)" SWIFT="$(SWIFT)" PYTHON="$(PYTHON)" \
	  MAKE="$(MAKE)" bash scripts/bench_vs_torch.sh

## data: fetch Multi30k, IWSLT'14 sample, newstest and Tatoeba from their upstream repositories at pinned commits into DEEPNET_DATA (default ./data), checking every SHA-256 (needs internet; tests never do)
data:
	bash scripts/download_data.sh "$${DEEPNET_DATA:-data}"

## clean: remove build products, smoke results and caches (keeps results/ that back reports)
clean:
	rm -rf .build $(SMOKE_RESULTS) $(SMOKE_REPORTS) .cache
