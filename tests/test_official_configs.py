"""The official benchmarks' settings: ours in config/, the original tool's own files, system_prompt_file, --model."""
from __future__ import annotations

import pytest

from tests.helpers import ROOT, make_questions, read_jsonl, run_script, write_jsonl
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, render_game
from utils.asking.judging import plan
from utils.plumbing.config import OFFICIAL_BASELINES, load_answer_settings, load_api_config, load_judge_settings
from utils.plumbing.errors import InputError
from utils.vocabulary.records import Answer, read_answers, read_questions

FIXTURES = ROOT / "tests" / "fixtures"
O3, GEMINI = "o3-mini-2025-01-31", "gemini-2.0-flash-001"
LAYOUT = ("<|User Prompt|>\n{QUESTION}\n\n<|The Start of Assistant A's Answer|>\n{ANSWER_A}\n"
          "<|The End of Assistant A's Answer|>\n\n<|The Start of Assistant B's Answer|>\n{ANSWER_B}\n"
          "<|The End of Assistant B's Answer|>")
V2_PATTERNS = (r"\[\[([AB<>=]+)\]\]", r"\[([AB<>=]+)\]")


def judge_settings(path, models=None):
    return load_judge_settings(path, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, models)[0]


def v2_questions():
    return read_questions(ROOT / "data/arena-hard-v2.0/question.jsonl")


def planned_baselines(settings, questions, answers, tmp_path):
    """Per model: the baseline of every question planned for judging, and the counts left unjudged."""
    jobs = plan(settings, questions, answers, tmp_path)
    try:
        return {job.model: ([p.baseline.model for p in job.todo], job.left_out.no_baseline) for job in jobs}
    finally:
        for job in jobs:
            job.store.close()


def answers_of(model, questions):
    return {q.uid: Answer(q.uid, model, [f"{model} on {q.uid}"]) for q in questions}


# ---------------------------------------------------------------- ours


def test_v01_settings_judge_with_gpt4_turbo_against_gpt4_0314():
    s = judge_settings(ROOT / "config/arena-hard-v0.1.yaml", ["my-model"])
    assert (s.bench_name, s.judge_models, s.model_list) == ("arena-hard-v0.1", ("gpt-4-1106-preview",), ("my-model",))
    assert (s.temperature, s.max_tokens) == (0.0, 4096)
    assert s.prompt.baseline_model == "gpt-4-0314" and not s.categories
    assert s.prompt.prompt_template == (LAYOUT,)
    assert s.prompt.system_prompt == DEFAULT_SYSTEM_PROMPT


def test_v20_settings_plan_o3_mini_for_hard_prompts_and_gemini_for_creative_writing(tmp_path):
    s = judge_settings(ROOT / "config/arena-hard-v2.0.yaml", ["my-model"])
    assert (s.bench_name, s.judge_models, s.temperature, s.max_tokens) == ("arena-hard-v2.0", ("gpt-4.1",), 0.0, 16000)
    for category in ("hard_prompt", "coding", "math"):
        p = s.prompt_for(category)
        assert (p.baseline_model, p.system_prompt, p.regex_patterns) == (O3, DEFAULT_SYSTEM_PROMPT, V2_PATTERNS)
    creative = s.prompt_for("creative_writing")
    assert creative.baseline_model == GEMINI and creative.prompt_template == (LAYOUT,)
    assert creative.system_prompt != DEFAULT_SYSTEM_PROMPT and "[[B>>A]]" in creative.system_prompt
    # the difference that matters: the default asks the judge to work out an answer first, this one not
    assert "correct and complete answer" in DEFAULT_SYSTEM_PROMPT
    assert "correct and complete answer" not in creative.system_prompt

    questions = v2_questions()
    answers = {"my-model": answers_of("my-model", questions), O3: read_answers(
        ROOT / "data/arena-hard-v2.0/model_answer/o3-mini-2025-01-31.jsonl")}
    planned, waiting = planned_baselines(s, questions, answers, tmp_path)["my-model"]
    hard = [q for q in questions if q.category == "hard_prompt"]
    assert planned == [O3] * len(hard) == [O3] * 500
    assert waiting == {GEMINI: 250}


def test_v20_creative_writing_prompt_renders_in_the_official_layout():
    s = judge_settings(ROOT / "config/arena-hard-v2.0.yaml", ["my-model"])
    q = next(q for q in v2_questions() if q.category == "creative_writing")
    fields = {"QUESTION": q.turns[-1], "ANSWER_A": "first", "ANSWER_B": "second"}
    system, user = render_game(s.prompt_for(q.category), fields, False)
    assert system["content"] == s.prompt_for("creative_writing").system_prompt
    assert user["content"] == LAYOUT.format(QUESTION=q.turns[-1], ANSWER_A="first", ANSWER_B="second")


@pytest.mark.parametrize("name, bench", [("gen_answer_arena-hard-v0.1.yaml", "arena-hard-v0.1"),
                                         ("gen_answer_arena-hard-v2.0.yaml", "arena-hard-v2.0")])
def test_answer_settings_name_the_bench_and_take_models_from_the_command_line(name, bench):
    settings, _ = load_answer_settings(ROOT / "config" / name, ["my-model"])
    assert (settings.bench_name, settings.model_list, settings.num_choices) == (bench, ("my-model",), 1)
    with pytest.raises(InputError, match="--model"):
        load_answer_settings(ROOT / "config" / name)  # its model_list is only an example in a comment


def test_api_config_reaches_the_official_judges_and_baselines(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("GEMINI_API_KEY", "test-gemini")
    judges = [judge_settings(ROOT / f"config/arena-hard-v{v}.yaml", ["m"]).judge_models[0] for v in ("0.1", "2.0")]
    models = load_api_config(ROOT / "config/api_config.yaml", [*judges, O3, GEMINI])
    assert judges == ["gpt-4-1106-preview", "gpt-4.1"]
    assert models["gpt-4.1"].endpoints[0].api_key == "sk-test-openai"
    (gemini,) = models[GEMINI].endpoints
    assert gemini.api_base == "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert gemini.api_key == "test-gemini" and models[GEMINI].api_type == "openai"


# ---------------------------------------------------------------- the original tool's own files


def test_original_v20_file_loads_with_the_official_baselines_per_category(tmp_path):
    s = judge_settings(FIXTURES / "original-arena-hard-v2.0.yaml")
    assert (s.judge_models, s.temperature, s.max_tokens) == (("gemini-2.5",), 1.0, 32000)
    assert s.model_list == ("contestant-one", "contestant-two") and s.ref_model is None
    assert s.prompt.prompt_template == (LAYOUT,) and s.prompt.regex_patterns == (r"\[\[([AB<>=]+)\]\]",)
    assert {c: s.prompt_for(c).baseline_model for c in OFFICIAL_BASELINES["arena-hard-v2.0"]} == {
        "hard_prompt": O3, "coding": O3, "math": O3, "creative_writing": GEMINI}

    questions = v2_questions()
    answers = {m: answers_of(m, questions) for m in ("contestant-one", "contestant-two", O3, GEMINI)}
    for planned, waiting in planned_baselines(s, questions, answers, tmp_path).values():
        expected = [O3 if q.category == "hard_prompt" else GEMINI for q in questions]  # question order
        assert planned == expected and expected.count(GEMINI) == 250 and not waiting


def test_original_v20_file_with_a_list_of_patterns_loads():
    s = judge_settings(FIXTURES / "original-arena-hard-v2.0-patterns.yaml")
    assert s.prompt.regex_patterns == V2_PATTERNS
    assert s.prompt_for("creative_writing").regex_patterns == V2_PATTERNS
    assert s.prompt_for("math").baseline_model == O3


def test_original_v01_file_judges_against_gpt4_0314_and_takes_models_from_the_command_line(tmp_path):
    with pytest.raises(InputError) as err:
        judge_settings(FIXTURES / "original-arena-hard-v0.1.yaml")  # its model_list is all comments
    assert "original-arena-hard-v0.1.yaml" in str(err.value) and "--model" in str(err.value)
    s = judge_settings(FIXTURES / "original-arena-hard-v0.1.yaml", ["contestant-one"])
    questions = read_questions(ROOT / "data/arena-hard-v0.1/question.jsonl")
    answers = {"contestant-one": answers_of("contestant-one", questions),
               "gpt-4-0314": read_answers(ROOT / "data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl")}
    planned, waiting = planned_baselines(s, questions, answers, tmp_path)["contestant-one"]
    assert planned == ["gpt-4-0314"] * 500 and not waiting


def test_original_answer_settings_with_a_name_load():
    settings, _ = load_answer_settings(FIXTURES / "original-gen_answer_config.yaml")
    assert (settings.bench_name, settings.model_list) == ("arena-hard-v0.1", ("contestant-one",))


def test_a_bench_of_our_own_without_baseline_model_is_still_an_error(tmp_path):
    path = tmp_path / "judge.yaml"
    path.write_text((FIXTURES / "original-arena-hard-v2.0.yaml").read_text().replace(
        "bench_name: arena-hard-v2.0", "bench_name: my-bench"))
    with pytest.raises(InputError) as err:
        judge_settings(path)
    assert str(err.value).startswith(f"{path}: baseline_model: missing key")


def test_an_explicit_baseline_model_wins_over_the_official_table(tmp_path):
    path = tmp_path / "judge.yaml"
    path.write_text((FIXTURES / "original-arena-hard-v2.0.yaml").read_text().replace(
        "reference: null", "reference: null\nbaseline_model: my-baseline"))
    s = judge_settings(path)
    assert {s.prompt_for(c).baseline_model for c in ("hard_prompt", "creative_writing", "other")} == {"my-baseline"}


# ---------------------------------------------------------------- system_prompt_file


def write_settings(tmp_path, lines: str):
    path = tmp_path / "conf" / "judge.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("bench_name: b\njudge_model: j\nbaseline_model: base\nmodel_list: [m]\n" + lines)
    return path


def test_system_prompt_file_is_read_relative_to_the_yaml_file(tmp_path):
    (tmp_path / "conf" / "prompts").mkdir(parents=True)
    (tmp_path / "conf" / "prompts" / "main.txt").write_text("Judge fairly. ✓\nEnd with [[A>B]] or so.\n",
                                                            encoding="utf-8")
    (tmp_path / "poems.txt").write_text("Judge poems.", encoding="utf-8")
    path = write_settings(tmp_path, "system_prompt_file: prompts/main.txt\ncategories:\n  poetry:\n"
                                    "    system_prompt_file: ../poems.txt\n  other:\n    baseline_model: b2\n")
    s = judge_settings(path)
    assert s.prompt.system_prompt == "Judge fairly. ✓\nEnd with [[A>B]] or so."  # one final line break dropped
    assert s.prompt_for("poetry").system_prompt == "Judge poems."
    assert s.prompt_for("other").system_prompt == s.prompt.system_prompt  # a category inherits the top's


@pytest.mark.parametrize("lines, line, key, fragment", [
    ("system_prompt: hi\nsystem_prompt_file: p.txt\n", 6, "system_prompt_file", "not both"),
    ("system_prompt_file: absent.txt\n", 5, "system_prompt_file", "absent.txt"),
    ("categories:\n  c:\n    system_prompt_file: absent.txt\n", 7, "categories.c.system_prompt_file", "absent.txt"),
    ("system_prompt_file: latin1.txt\n", 5, "system_prompt_file", "not UTF-8"),
    ("system_prompt_file: .\n", 5, "system_prompt_file", "cannot read"),
])
def test_a_bad_system_prompt_file_is_one_error_naming_file_line_and_key(tmp_path, lines, line, key, fragment):
    path = write_settings(tmp_path, lines)
    (path.parent / "p.txt").write_text("x")
    (path.parent / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(InputError) as err:
        judge_settings(path)
    assert (err.value.path, err.value.line, err.value.key) == (str(path), line, key)
    assert fragment in err.value.message


# ---------------------------------------------------------------- --model on the command line


def answer_setup(tmp_path, server, listed=("listed",), known=("listed", "chosen", "other")):
    (tmp_path / "answer.yaml").write_text("bench_name: tiny\ntemperature: 0\nmax_tokens: 16\nmodel_list:\n"
                                          + "".join(f"  - {m}\n" for m in listed))
    (tmp_path / "api.yaml").write_text("".join(
        f"{m}:\n  model_name: {m}-served\n  parallel: 4\n  endpoints:\n    - api_base: {server.url}\n"
        "      api_key: k\n" for m in known))
    write_jsonl(tmp_path / "data/tiny/question.jsonl", make_questions(3))
    return ["--setting-file", tmp_path / "answer.yaml", "--endpoint-file", tmp_path / "api.yaml",
            "--data-dir", tmp_path / "data"]


def test_gen_answer_model_flags_replace_the_model_list(tmp_path, scripted_server):
    args = answer_setup(tmp_path, scripted_server)
    proc = run_script("gen_answer.py", *args, "--model", "chosen", "--model", "other", timeout=120)
    assert proc.returncode == 0, proc.stderr
    answers = tmp_path / "data/tiny/model_answer"
    assert sorted(p.name for p in answers.glob("*.jsonl")) == ["chosen.jsonl", "other.jsonl"]
    assert len(read_jsonl(answers / "chosen.jsonl")) == 3
    assert {r.body["model"] for r in scripted_server.chat_requests()} == {"chosen-served", "other-served"}


def test_a_trial_run_asks_only_the_first_questions_and_a_full_run_the_rest(tmp_path, scripted_server):
    args = answer_setup(tmp_path, scripted_server)
    proc = run_script("gen_answer.py", *args, "--first", 2, timeout=120)
    assert proc.returncode == 0, proc.stderr
    stored = tmp_path / "data/tiny/model_answer/listed.jsonl"
    assert [r["uid"] for r in read_jsonl(stored)] == ["q0000", "q0001"]
    assert "listed: 2 new answers, 0 already there" in proc.stdout
    assert run_script("gen_answer.py", *args, timeout=120).returncode == 0
    assert [r["uid"] for r in read_jsonl(stored)] == ["q0000", "q0001", "q0002"]
    assert len(scripted_server.chat_requests()) == 3


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_first_that_is_not_a_positive_count_is_one_line_exit_2(tmp_path, scripted_server, value):
    proc = run_script("gen_answer.py", *answer_setup(tmp_path, scripted_server), "--first", value, timeout=60)
    assert proc.returncode == 2 and "--first" in proc.stderr, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not scripted_server.chat_requests()


def test_gen_answer_model_flag_takes_a_list(tmp_path, scripted_server):
    args = answer_setup(tmp_path, scripted_server)
    proc = run_script("gen_answer.py", *args, "--model", "chosen", "other", timeout=120)
    assert proc.returncode == 0, proc.stderr
    answers = tmp_path / "data/tiny/model_answer"
    assert sorted(p.name for p in answers.glob("*.jsonl")) == ["chosen.jsonl", "other.jsonl"]
    assert {r.body["model"] for r in scripted_server.chat_requests()} == {"chosen-served", "other-served"}


@pytest.mark.parametrize("flags, fragment", [(["--model", "nowhere"], "'nowhere' is not defined in"),
                                             (["--model", "chsoen"], "(did you mean 'chosen'?)"),
                                             (["--model", "chosen", "--model", "chosen"], "given twice"),
                                             (["--model", "chosen", "chosen"], "given twice")])
def test_gen_answer_bad_model_flag_is_one_line_exit_2_and_nothing_written(tmp_path, scripted_server, flags, fragment):
    args = answer_setup(tmp_path, scripted_server)
    proc = run_script("gen_answer.py", *args, *flags, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "--model" in proc.stderr
    assert fragment in proc.stderr
    assert not (tmp_path / "data/tiny/model_answer").exists() and not scripted_server.chat_requests()


def test_a_key_without_a_value_is_null_and_a_list_as_key_is_one_error(tmp_path):
    path = write_settings(tmp_path, "ref_model:\nmax_tokens:\n")  # the original's files leave keys empty
    s = judge_settings(path)
    assert (s.ref_model, s.max_tokens) == (None, 4096)
    path.write_text(path.read_text() + "? [a, b]\n: 1\n")
    with pytest.raises(InputError) as err:
        judge_settings(path)
    assert (err.value.path, err.value.line) == (str(path), 7) and "plain name" in err.value.message


def test_the_shipped_judge_without_a_key_says_another_judge_can_be_chosen(tmp_path, monkeypatch):
    """The quickstart without --judge: the settings' judge is an OpenAI model, and no key is set."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    done = run_script("gen_judgment.py", "--setting-file", "config/arena-hard-v0.1.yaml", "--model",
                      "my-model", "--data-dir", tmp_path / "data")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "no API key: set api_key or the environment variable OPENAI_API_KEY" in done.stderr
    assert ("gpt-4-1106-preview is the judge_model of config/arena-hard-v0.1.yaml; --judge NAME judges with another "
            "entry of config/api_config.yaml") in done.stderr, done.stderr
    assert not (tmp_path / "data").exists()
    chosen = run_script("gen_judgment.py", "--setting-file", "config/arena-hard-v0.1.yaml", "--model",
                        "my-model", "--judge", "gpt-4.1", "--data-dir", tmp_path / "data")
    assert "OPENAI_API_KEY" in chosen.stderr and "--judge NAME" not in chosen.stderr  # chosen by the user: no hint
