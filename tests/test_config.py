"""utils.plumbing.config on its own: what a YAML file turns into, and where a mistake is reported."""
from __future__ import annotations

import pytest

from utils.plumbing.config import load_answer_settings, load_api_config, load_judge_settings
from utils.plumbing.errors import InputError

API = """\
local:
  model_name: served-name
  endpoints:
    - api_base: http://127.0.0.1:8000/v1
      api_key: ${LOCAL_KEY}
    - api_base: http://127.0.0.1:8001/v1
      api_key: plain-key
  parallel: 4

hosted:
  model_name: gpt-x
  endpoints: null
  max_tokens: 100
  temperature: 0.5
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_entry_becomes_a_model_config_with_our_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_KEY", "  sk-from-env\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    models = load_api_config(write(tmp_path, "api.yaml", API), ["local", "hosted"])
    local, hosted = models["local"], models["hosted"]
    assert (local.name, local.model_name, local.api_type, local.parallel) == ("local", "served-name", "openai", 4)
    assert [e.api_base for e in local.endpoints] == ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"]
    assert [e.api_key for e in local.endpoints] == ["sk-from-env", "plain-key"]  # ${VAR} read, whitespace gone
    assert (local.timeout, local.max_retries, local.max_tokens, local.temperature) == (600.0, 6, None, None)
    assert hosted.endpoints[0].api_base is None and hosted.endpoints[0].api_key == "sk-openai"
    assert (hosted.max_tokens, hosted.temperature) == (100, 0.5)
    assert "sk-from-env" not in repr(local) and "sk-openai" not in repr(hosted)  # a printed config shows no key


def test_an_unset_variable_names_the_line_of_the_key_that_uses_it(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCAL_KEY", raising=False)
    path = write(tmp_path, "api.yaml", API)
    with pytest.raises(InputError) as err:
        load_api_config(path, ["local"])
    assert (err.value.path, err.value.line, err.value.key) == (str(path), 5, "local.endpoints.0.api_key")
    assert "LOCAL_KEY is not set" in err.value.message


def test_a_dry_run_loads_entries_whose_keys_are_not_set(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCAL_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    models = load_api_config(write(tmp_path, "api.yaml", API), ["local", "hosted"], keys_needed=False)
    assert [e.api_key for m in models.values() for e in m.endpoints] == [None, "plain-key", None]
    with pytest.raises(InputError):  # a run that sends needs them
        load_api_config(write(tmp_path, "api.yaml", API), ["hosted"])


def test_only_the_entries_asked_for_are_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCAL_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    assert list(load_api_config(write(tmp_path, "api.yaml", API), ["hosted"])) == ["hosted"]


def test_a_model_missing_from_api_config_is_reported_where_it_was_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    api = write(tmp_path, "api.yaml", API)
    settings_path = write(tmp_path, "settings.yaml", "bench_name: b\nmodel_list:\n  - hosted\n  - nowhere\n")
    settings, doc = load_answer_settings(settings_path)
    assert settings.model_list == ("hosted", "nowhere")
    with pytest.raises(InputError) as err:
        load_api_config(api, list(settings.model_list), wanted_from=doc)
    assert (err.value.path, err.value.line, err.value.key) == (str(settings_path), 4, "model_list.1")


@pytest.mark.parametrize("text, line, key", [
    ("local:\n  model_name: a\n  model_name: b\n", 3, "local.model_name"),  # a duplicate key
    ("local:\n  parallel: many\n", 2, "local.parallel"),  # a wrong type
    ("local:\n  parallel: 0\n", 2, "local.parallel"),  # below the minimum
    ("local:\n  paralel: 2\n", 2, "local.paralel"),  # a mistyped key
    ("local:\n  api_type: gemini\n", 2, "local.api_type"),  # not a provider we speak to
])
def test_a_mistake_in_an_entry_names_its_line_and_key(tmp_path, monkeypatch, text, line, key):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    path = write(tmp_path, "api.yaml", text)
    with pytest.raises(InputError) as err:
        load_api_config(path, ["local"])
    assert (err.value.path, err.value.line, err.value.key) == (str(path), line, key)


def test_answer_settings_defaults(tmp_path):
    settings, _ = load_answer_settings(write(tmp_path, "s.yaml", "bench_name: b\nmodel_list: [m]\n"))
    assert (settings.temperature, settings.max_tokens, settings.num_choices) == (0.0, 4096, 1)
    settings, _ = load_answer_settings(write(tmp_path, "s.yaml", "bench_name: b\nmodel_list: [m]\n"), ["x", "y"])
    assert settings.model_list == ("x", "y")  # --model replaces the list


def test_judge_settings_give_each_category_its_baseline_and_prompt(tmp_path):
    path = write(tmp_path, "judge.yaml", """\
bench_name: b
judge_model: [j1, j2]
baseline_model: base
model_list: [m]
regex_pattern: '\\[\\[(\\w+)\\]\\]'
categories:
  writing:
    baseline_model: writer
    system_prompt: Judge the writing.
""")
    settings, _ = load_judge_settings(path, "our prompt", ("{QUESTION} {ANSWER_A} {ANSWER_B}",))
    assert settings.judge_models == ("j1", "j2")
    general, writing = settings.prompt_for("maths"), settings.prompt_for("writing")
    assert (general.baseline_model, general.system_prompt) == ("base", "our prompt")
    assert (writing.baseline_model, writing.system_prompt) == ("writer", "Judge the writing.")
    assert writing.regex_patterns == general.regex_patterns == (r"\[\[(\w+)\]\]",)  # inherited from the top
    assert (settings.temperature, settings.max_tokens, settings.attempts, settings.structured) == (0.0, 4096, 2, False)


def test_price_family_and_batch_of_an_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    path = write(tmp_path, "api.yaml", "m:\n  price: {input: 2.5, output: 10}\n  family: gpt\n  batch: true\n"
                                       "n:\n  price:\n    input: 1\n    output: 4\n    batch_discount: 0.6\n")
    models = load_api_config(path, ["m", "n"])
    m, n = models["m"], models["n"]
    assert (m.price.input, m.price.output, m.price.batch_discount, m.family, m.batch) == (2.5, 10.0, 0.5, "gpt", True)
    assert (n.price.batch_discount, n.family, n.batch) == (0.6, None, False)


@pytest.mark.parametrize("price, line, key", [
    ("{input: 2}", 2, "m.price.output"),  # both prices are needed
    ("{input: -1, output: 1}", 2, "m.price.input"),
    ("{input: 1, output: 1, batch_discount: 2}", 2, "m.price.batch_discount"),
    ("{input: 1, output: 1, currency: eur}", 2, "m.price.currency"),
    ("{input: .nan, output: 1}", 2, "m.price.input"),  # NaN would slip past "at least 0" and spoil every sum
    ("{input: 1, output: .inf}", 2, "m.price.output"),
])
def test_a_bad_price_names_its_line_and_key(tmp_path, monkeypatch, price, line, key):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    path = write(tmp_path, "api.yaml", f"m:\n  price: {price}\n")
    with pytest.raises(InputError) as err:
        load_api_config(path, ["m"])
    assert (err.value.line, err.value.key) == (line, key)


@pytest.mark.parametrize("base", ["localhost:8000/v1", "htp://127.0.0.1:8000/v1", "http:///v1", "127.0.0.1",
                                  "http://user:pw-secret@/v1"])
def test_an_api_base_that_is_not_a_url_is_refused_at_load_without_showing_it(tmp_path, base):
    path = write(tmp_path, "api.yaml", f"m:\n  endpoints:\n    - api_base: '{base}'\n      api_key: k\n")
    with pytest.raises(InputError) as err:
        load_api_config(path, ["m"])
    assert (err.value.line, err.value.key) == (3, "m.endpoints.0.api_base")
    assert "http:// or https://" in err.value.message and "pw-secret" not in str(err.value)
