# The two commands a new user needs: `make demo` and `make test`. Everything is installed into
# virtual environments inside the repository; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
# python3.12 beside the machine's 3.11, for `sam build` without Docker (pyenv machines).
export PYENV_VERSION ?= 3.11.7:3.12.1

.PHONY: demo test check lint install install-dev sam-cli checkov chromium report-screenshot dashboard-preview build clean

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

# checkov (IaC security scanner) pins boto3 and networkx below what moto and cfn-lint need: a venv of its
# own too, at the version template.yaml's skip comments were reviewed against.
$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q 'checkov==3.3.30'

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
sam-cli: $(SAM_VENV)/bin/sam
checkov: $(CHECKOV_VENV)/bin/checkov

demo: install
	$(VENV)/bin/supportwatch local demo/trails
	@echo
	@echo "What next:"
	@echo "  $(VENV)/bin/supportwatch scan demo/trails --format json  # offline, as JSON"
	@echo "  $(VENV)/bin/supportwatch sandbox demo/trails  # try it as if deployed"
	@echo "  docs/README.md  # deploy, alerts, backfill, queries, operations"

# BC_SKIP_MAPPING and --skip-download: checkov runs offline, without its vendor's API. The test suite
# scans the existing-bucket variants of the template as well (tests/integration/test_template.py).
lint: install-dev checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

# Debian's chromium, for the report's headless-browser test (tests/e2e/test_report_browser.py). CI runs as
# root on a clean Debian machine; elsewhere install it once with sudo.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# The report of demo/trails and its screenshot, as docs/report.md shows them.
report-screenshot: install chromium
	mkdir -p build
	$(VENV)/bin/supportwatch local demo/trails --report build/demo-report.html > /dev/null
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --hide-scrollbars --user-data-dir=$$(mktemp -d) --window-size=1100,1500 \
		--screenshot=$(abspath docs/images/report-demo.png) file://$(abspath build/demo-report.html)

# A preview of the CloudWatch dashboard (its layout, with the metrics of `supportwatch local demo/trails`),
# as docs/report.md shows it: CloudWatch itself draws only from live metrics.
dashboard-preview: install
	$(VENV)/bin/python tools/dashboard_preview.py -o docs/images/dashboard-preview.png demo/trails

# The whole suite, as CI runs it. The three virtual environments and chromium install side by side (they share
# nothing); then ruff; cfn-lint and checkov run inside the suite
# (tests/integration/test_template.py: the template and its variants), so `make lint` is not repeated here. Then
# one worker more than the cores (pytest-xdist: with one per core a fifth of the CPU idled while tests waited on
# their subprocesses and servers; an idle worker takes tests queued for another), the 15 slowest listed.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
test:
	$(MAKE) --no-print-directory -j4 --output-sync=target install-dev sam-cli checkov chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SAM_CLI=$(abspath $(SAM_VENV)/bin/sam) CHECKOV=$(abspath $(CHECKOV_VENV)/bin/checkov) \
		$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=15

# The inner loop (under 90 s): ruff and the unit tests, which touch no AWS and no server.
check: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q -n auto tests/unit

build: sam-cli
	$(SAM_VENV)/bin/sam build

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache
