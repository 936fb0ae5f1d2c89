# The two commands: `make run` (portal on http://127.0.0.1:8000 with the Pingliang plan and demo accounts)
# and `make test`. Everything else here is what those two need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

.PHONY: run test test-ci system-deps lint format clean benchmark

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

system-deps:
	@scripts/system-deps.sh

run: $(STAMP) system-deps
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo
	@echo ""
	@echo "  门户地址：http://127.0.0.1:$(PORT)/   接口文档：http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	$(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

test: $(STAMP) system-deps
	$(BIN)/python manage.py check --fail-level ERROR
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/portal.sqlite3 var/media staticfiles
