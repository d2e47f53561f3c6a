PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1

.PHONY: install demo test lint fuzz catalog sweep rule-pages clean realworld

install: $(STAMP)

# torch is pinned and installed first: an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	# The oracle for Unsloth's target regex (tests/unsloth_oracle.py loads one file of it).
	$(BIN)/python -m pip install -q --no-deps unsloth_zoo==2026.10.9
	touch $(STAMP)

demo: install
	$(BIN)/lorlint models meta-llama/Llama-3.1-8B --targets all-linear
	$(BIN)/lorlint models microsoft/Phi-3-mini-4k-instruct --targets qkv_proj,o_proj,gate_up_proj,down_proj
	-$(BIN)/lorlint models gpt2 --targets q_proj,v_proj
	-$(BIN)/lorlint check fixtures/

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

# the fix property test and the front-end equivalence test with thousands of generated scripts
# (CI runs a few hundred and 60 in `make test`)
fuzz: install
	LORLINT_FUZZ_EXAMPLES=3000 $(BIN)/python -m pytest -q tests/test_fix_properties.py
	LORLINT_FRONTEND_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/test_frontend_equivalence.py -k generated

catalog: install
	$(BIN)/python scripts/gen_peft_defaults.py
	$(BIN)/ruff format -q lorlint/models/peft_defaults.py
	$(BIN)/python scripts/gen_kernel_weights.py
	$(BIN)/ruff format -q lorlint/models/kernel_weights.py
	$(BIN)/python scripts/gen_auto_targets.py
	$(BIN)/python scripts/build_catalog.py
	$(BIN)/python scripts/gen_server_answer.py

# Rule pages' header lines (severity, fix availability) come from the rule registry.
rule-pages: install
	$(BIN)/python scripts/gen_rule_headers.py

# The differential sweep, the catalog check and the table shortcuts on every buildable model type
# (CI runs a sample).
sweep: install
	LORLINT_SWEEP=all $(BIN)/python -m pytest -q tests/test_sweep.py tests/test_catalog.py tests/test_table_templates.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Precision, recall and model resolution on tests/realworld/ (the README's "Accuracy on real code").
realworld: install
	$(BIN)/python scripts/realworld_score.py
