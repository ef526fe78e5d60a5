# Two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test install lint format messages requirements worker beat clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Links in mails and PDFs (SITE_URL) follow the port, also for the demo data's mails. Mails go
# to files in sent-mail/ (not the terminal), so that the demo log-ins are the last thing printed.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: export EMAIL_BACKEND ?= django.core.mail.backends.filebased.EmailBackend
run: export EMAIL_FILE_PATH ?= $(CURDIR)/sent-mail
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	FAST_PASSWORD_HASHER=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the English catalogue (needs GNU gettext) and compile it; the .mo files are committed
# so that the site works without gettext installed.
messages: install
	$(BIN)/python manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=bench
	$(BIN)/python manage.py compilemessages -l en --ignore=.venv

# Pin again after editing requirements.in or requirements-dev.in (the human-edited sources):
# every package with its version and hashes. `make requirements UPGRADE=--upgrade` takes the
# newest versions the .in files allow.
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(UPGRADE)
requirements: install
	$(BIN)/python -m pip install --quiet pip-tools
	$(PIP_COMPILE) --output-file=requirements.txt requirements.in
	$(PIP_COMPILE) --output-file=requirements-dev.txt requirements.in requirements-dev.in

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
