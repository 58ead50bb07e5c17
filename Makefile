# TransformerSteps: the commands a learner and a maintainer use.
# `make help` lists them.

SWIFT ?= swift
PYTHON ?= python3
CORPUS_URL := https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt
CORPUS_SHA256 := 86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed
STEPS := 00Bigram 01Tokenizer 02Dataset 03Embeddings 04MLP 05SelfAttention 06MultiHeadAttention 07TransformerBlock 08Transformer 09Training 10Generation

.PHONY: help build test test-step diff-step data bench ladder train-shakespeare readme-outputs clean

help:
	@echo "make build              build every step (debug)"
	@echo "make test               run all tests"
	@echo "make test-step N=3      run one step's tests (also: make test-step 3)"
	@echo "make diff-step N=5      show what step N adds to step N-1 (also: make diff-step 5)"
	@echo "make data               fetch tinyshakespeare into data/ (TINYSHAKESPEARE_FILE=path copies a local file)"
	@echo "make train-shakespeare  train the shakespeare-cpu preset (release build), then generate"
	@echo "make ladder             train each step's model on tinyshakespeare and print the loss ladder"
	@echo "make bench              GEMM and training-step benchmarks against numpy and PyTorch"
	@echo "make readme-outputs     rerun the commands the READMEs show and write the output into them"
	@echo "make clean              remove the build folder"

build:
	$(SWIFT) build

test:
	$(SWIFT) test

# `make test-step 3` and `make test-step N=3` both work: a bare number after the target is taken as N.
# Any bare number counts, so that `make test-step 11` reports 11 instead of an empty N.
ARG_NUMBER := $(firstword $(shell printf '%s\n' $(filter-out test-step diff-step,$(MAKECMDGOALS)) | grep -Ex '[0-9]+'))
N ?= $(ARG_NUMBER)
# Empty unless N is a whole number naming a step (printf would turn "" or "x" into 00).
VALID_N = $(shell echo '$(N)' | grep -Ex '[0-9]{1,2}')
STEP_NAME = $(if $(VALID_N),$(filter $(shell printf '%02d' $$(expr $(VALID_N) + 0))%,$(STEPS)))
PREVIOUS_NAME = $(filter $(shell printf '%02d' $$(( $(N) - 1 )) 2>/dev/null)%,$(STEPS))

test-step:
	@test -n "$(STEP_NAME)" || { echo "usage: make test-step N=<0..10>  (got N='$(N)')" >&2; exit 2; }
	$(SWIFT) test --filter Step$(STEP_NAME)Tests

diff-step:
	@test -n "$(STEP_NAME)" -a -n "$(PREVIOUS_NAME)" || { echo "usage: make diff-step N=<1..10>  (got N='$(N)')" >&2; exit 2; }
	@Tools/diff-step.sh $(N)

# Swallow the bare number given after test-step or diff-step.
0 1 2 3 4 5 6 7 8 9 10 00 01 02 03 04 05 06 07 08 09:
	@:

data: data/tinyshakespeare.txt

data/tinyshakespeare.txt:
	@mkdir -p data
	@if [ -n "$$TINYSHAKESPEARE_FILE" ]; then \
		echo "copying $$TINYSHAKESPEARE_FILE"; cp "$$TINYSHAKESPEARE_FILE" data/tinyshakespeare.txt.tmp; \
	else \
		echo "downloading $(CORPUS_URL)"; \
		curl -fsSL -o data/tinyshakespeare.txt.tmp "$(CORPUS_URL)" || { rm -f data/tinyshakespeare.txt.tmp; \
			echo "error: the download failed. Without internet access, copy a local file instead: make data TINYSHAKESPEARE_FILE=/path/to/input.txt" >&2; exit 1; }; \
	fi
	@actual=$$(sha256sum data/tinyshakespeare.txt.tmp 2>/dev/null || shasum -a 256 data/tinyshakespeare.txt.tmp); actual=$${actual%% *}; \
	if [ "$$actual" != "$(CORPUS_SHA256)" ]; then \
		rm -f data/tinyshakespeare.txt.tmp; \
		echo "error: SHA-256 of the corpus is $$actual, expected $(CORPUS_SHA256); the file is not tinyshakespeare. Use the input.txt of karpathy/char-rnn (data/tinyshakespeare), $(CORPUS_URL)" >&2; exit 1; \
	fi
	@mv data/tinyshakespeare.txt.tmp data/tinyshakespeare.txt
	@echo "data/tinyshakespeare.txt is ready (SHA-256 checked)"

bench: data
	PYTHON=$(PYTHON) $(SWIFT) run -c release TensorBench all

ladder: data
	$(SWIFT) run -c release Step08Transformer --ladder --text-file data/tinyshakespeare.txt

train-shakespeare: data
	$(SWIFT) run -c release Step09Training --preset shakespeare-cpu --text-file data/tinyshakespeare.txt --out runs/shakespeare --overwrite
	$(SWIFT) run -c release Step10Generation --checkpoint runs/shakespeare --samples 3 --max-new-tokens 300

readme-outputs:
	Tools/refresh-readme-outputs.sh README.md Steps/*/README.md

clean:
	$(SWIFT) package clean
