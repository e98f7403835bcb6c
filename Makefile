# The two commands a new user needs: `make demo` and `make test`. Everything is installed into
# virtual environments inside the repository; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
# python3.12 beside the machine's 3.11, for `sam build` without Docker (pyenv machines).
export PYENV_VERSION ?= 3.11.7:3.12.1

.PHONY: demo test lint install install-dev sam-cli build clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[local]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# The SAM CLI pins its own boto3/cfn-lint versions, so it lives in a venv of its own.
$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q aws-sam-cli

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
sam-cli: $(SAM_VENV)/bin/sam

demo: install
	$(VENV)/bin/supportwatch local demo/trails

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml

test: install-dev sam-cli lint
	SAM_CLI=$(abspath $(SAM_VENV)/bin/sam) $(VENV)/bin/pytest -q

build: sam-cli
	$(SAM_VENV)/bin/sam build

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache
