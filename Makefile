# Set-up and entry points. `make test` and `make demo` each create .venv when it is missing,
# install what is missing, and reuse both on the next run.
PYTHON_SYS ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
# Only installed when the venv has no torch at all: a user's CUDA torch is never replaced.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
export DETECTRON2_DATASETS ?= $(CURDIR)/datasets
SYNTHETIC  := $(DETECTRON2_DATASETS)/agmm_synthetic/.complete
INSTALLED  := $(VENV)/.agmm_installed

.PHONY: setup detectron2 data lint test demo clean-venv

setup: $(INSTALLED)

$(PY):
	$(PYTHON_SYS) -m venv $(VENV)

$(INSTALLED): pyproject.toml tools/install_detectron2.py | $(PY)
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PY) -m pip install $(TORCH_SPEC)
	$(MAKE) detectron2
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# detectron2 provisioning lives in one script; it keeps an importable detectron2 untouched.
detectron2: | $(PY)
	$(PY) tools/install_detectron2.py
	$(PY) -c "from detectron2.projects.deeplab import add_deeplab_config"

data: $(SYNTHETIC)

# Also re-run when the generator changes (it keeps a dataset made with the same parameters).
$(SYNTHETIC): $(INSTALLED) agmm_d2/data/synthetic/generator.py datasets_prep/make_synthetic.py
	$(PY) datasets_prep/make_synthetic.py --root $(DETECTRON2_DATASETS)
	touch $@

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

# The linter first; `pytest -m "not slow"` is the fast unit run (no training).
test: $(SYNTHETIC) lint
	$(PY) -m pytest tests --durations=10

# One torch thread unless you set OMP_NUM_THREADS: the demo's model runs many small ops, and with
# two threads on a CPU that other work shares, the threads wait on each other (a step 5x slower).
demo: export OMP_NUM_THREADS ?= 1
demo: $(SYNTHETIC)
	$(PY) tools/train_net.py --config-file configs/synthetic/demo.yaml --overwrite

clean-venv:
	rm -rf $(VENV)
