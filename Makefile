# The two commands: `make run` (portal on http://127.0.0.1:8000 with the Pingliang plan and demo accounts)
# and `make test`. Everything else here is what those two need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

# The lock file: every package at the version CI, the Docker image and this venv use. pyproject.toml keeps
# the ranges; `make lock` re-resolves within them after a change there, `make upgrade-lock` takes the newest.
LOCK   := requirements.txt
PIP_COMPILE_ARGS := --extra dev --strip-extras --no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml

.PHONY: run test test-ci system-deps lint format clean benchmark lock upgrade-lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

lock:
	test -x $(BIN)/pip-compile || $(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile -q $(PIP_COMPILE_ARGS)

upgrade-lock:
	test -x $(BIN)/pip-compile || $(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile -q --upgrade $(PIP_COMPILE_ARGS)

system-deps:
	@scripts/system-deps.sh

# The quick start turns debug on itself: the settings default to DEBUG off (safe for production).
run: $(STAMP) system-deps
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py setup_demo
	@echo ""
	@echo "  门户地址：http://127.0.0.1:$(PORT)/   接口文档：http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	DEBUG=1 COMPILATIONS_IN_BACKGROUND=1 $(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

test: $(STAMP) system-deps
	DEBUG=1 $(BIN)/python manage.py check --fail-level ERROR
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/portal.sqlite3 var/media staticfiles
