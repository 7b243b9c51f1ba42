"""Result bundles: pack what gen_judgment made against the scripted server, verify it, and change it every way a
submitter could, by accident or on purpose; merge bundles in show_result.py; spot re-judging.

A careless change leaves the manifest as it was; a forger also rewrites the
manifest's hashes (and whatever facts they can), which only the checks that
compare the bundle's files with each other and with the local benchmark catch.
"""
from __future__ import annotations

import gzip
import json
import re
import shutil
import tarfile

import pytest
import yaml

from tests.helpers import (JUDGED_BENCH, JUDGING_BASE as BASE, JUDGING_JUDGE as JUDGE, SENTINEL, RefusedEndpoint,
                           gen_judgment, lay_out_judging, one_line_error, read_jsonl, run_script, write_jsonl)
from tests.scripted_server import Answer, ScriptedServer
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE
from utils.bundles.archive import write_bundle
from utils.bundles.manifest import MANIFEST, judging_facts, sha256_hex
from utils.bundles.rejudge import odd_one_out_p
from utils.plumbing.config import load_judge_settings
from utils.vocabulary.verdicts import LABELS

MODELS = ("m-one", "m-two")
QUESTIONS = 10  # q0..q9: no question id is the start of another


# each model's verdicts from its own side, by question and game: 0 a strong loss ... 4 a strong win; m-one is
# mostly better than the baseline, m-two mostly worse, neither one-sided
LEANINGS = {"m-one": (1, 2, 3, 4, 4, 3), "m-two": (0, 0, 1, 2, 3, 1)}


def label_for(model: str, question: int, game: int) -> str:
    """The scripted judge's label of a game: game 1 shows the model as B, game 2 as A (LABELS runs A's way)."""
    side = LEANINGS[model][(question + game) % len(LEANINGS[model])]
    return LABELS[side] if game == 0 else LABELS[len(LABELS) - 1 - side]


def judge_rules(models=MODELS, served="judge-1-0613"):
    """One rule per game: the judge names the label of its model, question and order (game 1 shows the baseline
    first), with a served model id and fingerprint as a provider would."""
    rules = []
    for model in models:
        for i in range(QUESTIONS):
            for game in (0, 1):
                def asked(req, model=model, i=i, game=game):
                    text = req.last_user_text
                    mine, theirs = text.find(f"{model} answers q{i}"), text.find(f"{BASE} answers q{i}")
                    return mine >= 0 and theirs >= 0 and (theirs < mine) == (game == 0)
                rules.append((asked, Answer(f"Weighing both... [[{label_for(model, i, game)}]]", model=served,
                                            system_fingerprint="fp_77")))
    return rules


def bundle_cmd(*args):
    return run_script("-m utils.bundle", *args)


@pytest.fixture(scope="module")
def server():
    server = ScriptedServer().start()
    server.rules = judge_rules()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def judged(tmp_path_factory, server):
    """A benchmark judged by gen_judgment against the scripted server: (root, gen_judgment's args)."""
    root = tmp_path_factory.mktemp("judged")
    questions = [{"uid": f"q{i}", "category": "general", "prompt": f"Question {i}?"} for i in range(QUESTIONS)]
    args = lay_out_judging(root, server, questions=questions, models=MODELS)
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    return root, args


@pytest.fixture(scope="module")
def packed(judged, tmp_path_factory):
    """The bundle of both models, packed from the judged benchmark."""
    root, _ = judged
    bundle = tmp_path_factory.mktemp("bundle") / "result.tar.gz"
    proc = bundle_cmd("pack", bundle, "--setting-file", root / "judge.yaml", "--data-dir", root / "data",
                      "--endpoint-file", root / "api.yaml", "--", "--num-rounds", "20", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    return bundle


def verify(bundle, root, *flags):
    return bundle_cmd("verify", bundle, "--data-dir", root / "data", *flags)


def lines_of(proc) -> dict[str, str]:
    """verify's output: check name -> the rest of its line."""
    return dict(line.split(": ", 1) for line in proc.stdout.splitlines())


# ---------------------------------------------------------------- pack and verify


def test_a_bundle_of_the_pipeline_verifies_with_every_check_ok(packed, judged):
    root, _ = judged
    proc = verify(packed, root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = lines_of(proc)
    assert list(checks) == ["files", "questions", "baselines", "judge_prompt", "judge", "answers", "labels",
                            "judged_texts", "table", "software"]
    assert all(text.startswith("ok") for text in checks.values()), proc.stdout
    assert checks["labels"] == "ok (40 games)" and checks["judged_texts"] == "ok (40 games)"
    assert "served as judge-1-0613" in checks["judge"]
    assert checks["answers"] == ("ok (20 of 20 judgments name the bundle's answers in their provenance, 20 by their "
                                 "texts' digests)")


def test_the_same_inputs_pack_to_the_same_bytes_with_the_manifest_first(packed, judged, tmp_path):
    root, _ = judged
    again, endpoints = tmp_path / "again.tar.gz", tmp_path / "api.yaml"
    endpoints.write_text((root / "api.yaml").read_text().replace("api_key: k", f"api_key: {SENTINEL}"))
    proc = bundle_cmd("pack", again, "--setting-file", root / "judge.yaml", "--data-dir", root / "data",
                      "--endpoint-file", endpoints, "--", "--num-rounds", "20", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    assert again.read_bytes() == packed.read_bytes()  # and so the other key is nowhere in it either
    # judged with gen_judgment.py --judge J under a config naming another judge: pack --judge J packs the same
    other = tmp_path / "other-judge.yaml"
    config = (root / "judge.yaml").read_text()
    assert f"judge_model: {JUDGE}\n" in config
    other.write_text(config.replace(f"judge_model: {JUDGE}\n", "judge_model: someone-else\n"))
    named = tmp_path / "named.tar.gz"
    proc = bundle_cmd("pack", named, "--setting-file", other, "--judge", JUDGE, "--data-dir", root / "data",
                      "--endpoint-file", root / "api.yaml", "--", "--num-rounds", "20", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    assert named.read_bytes() == packed.read_bytes()
    assert SENTINEL.encode() not in gzip.decompress(again.read_bytes())
    with tarfile.open(packed) as tar:
        members = tar.getmembers()
        manifest = json.loads(tar.extractfile(members[0]).read())
    assert members[0].name == MANIFEST
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(0, 0, 0, "", "", 0o644)}
    # the manifest records what the issue asks for, from the files and the judge config
    assert manifest["schema_version"] == 1 and set(manifest["files"]) == {m.name for m in members[1:]}
    assert manifest["questions"] == {"file": f"data/{JUDGED_BENCH}/question.jsonl", "count": QUESTIONS}
    assert {m: e["role"] for m, e in manifest["answers"].items()} == {"m-one": "judged", "m-two": "judged",
                                                                      BASE: "baseline"}
    summary = manifest["judgments"][JUDGE]["m-one"]["summary"]
    assert summary["served"] == [{"served_model": "judge-1-0613", "system_fingerprint": "fp_77", "count": 20}]
    assert summary["sent"] == [{"entry": JUDGE, "model_name": f"{JUDGE}-served", "temperature": 0.0,
                                "max_tokens": 100, "count": 10}]
    assert manifest["endpoints"][JUDGE]["model_name"] == f"{JUDGE}-served"
    assert manifest["show_result"] == {"flags": ["--num-rounds", "20", "--seed", "7"], "csv": "claimed.csv",
                                       "method": "Bradley-Terry", "seed": 7, "rounds": 20}
    assert [row["model"] for row in manifest["claimed"]] == ["m-one", BASE, "m-two"]
    assert set(manifest["software"]["packages"]) >= {"numpy", "orjson", "scikit-learn", "tiktoken"}


# ---------------------------------------------------------------- a changed bundle


M_ONE_JUDGMENTS = f"data/{JUDGED_BENCH}/model_judgment/{JUDGE}/m-one.jsonl"


def jsonl_bytes(records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def jsonl_records(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def edit_records(files, member, change):
    records = jsonl_records(files[member])
    change(records)
    files[member] = jsonl_bytes(records)


def edit_label(files, manifest):
    def change(records):
        game = records[0]["games"][0]
        game["score"] = "A>>B" if game["score"] in ("B>A", "B>>A", "A=B") else "B>>A"
    edit_records(files, M_ONE_JUDGMENTS, change)


def edit_answer(files, manifest):
    def change(records):
        records[0]["messages"][1]["content"]["answer"] += ", and better than before"
    edit_records(files, f"data/{JUDGED_BENCH}/model_answer/m-one.jsonl", change)


def swap_baseline(files, manifest):
    def change(records):
        for r in records:
            r["messages"][1]["content"]["answer"] = f"another {BASE} answer to {r['uid']}"
            r["ans_id"] = f"other-{r['uid']}"
    edit_records(files, f"data/{JUDGED_BENCH}/model_answer/{BASE}.jsonl", change)


def change_template(files, manifest):
    config = yaml.safe_load(files["judge_config.yaml"])
    config["prompt_template"] = ["Q: {QUESTION}\n\nFirst: {ANSWER_A}\n\nSecond: {ANSWER_B}"]
    files["judge_config.yaml"] = yaml.safe_dump(config).encode()


def edit_claimed_score(files, manifest):
    row = next(r for r in manifest["claimed"] if r["model"] == "m-two")
    files["claimed.csv"] = files["claimed.csv"].replace(f",{row['score']},".encode(), f",{row['score'] + 20},".encode())
    row["score"] += 20


def remove_question(files, manifest):
    member = f"data/{JUDGED_BENCH}/question.jsonl"
    files[member] = b"".join(files[member].splitlines(keepends=True)[:-1])


def tampered(bundle, out, edit, forge: bool):
    """A copy of ``bundle`` changed by ``edit(files, manifest)``; ``forge``: the manifest's file hashes, and its
    judge prompt facts, rewritten to match, as someone covering their tracks would."""
    with tarfile.open(bundle) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(files.pop(MANIFEST))
    edit(files, manifest)
    if forge:
        manifest["files"] = {name: {"sha256": sha256_hex(data), "bytes": len(data)} for name, data in files.items()}
        config = out.with_name("judge_config.yaml")
        config.write_bytes(files["judge_config.yaml"])
        settings, _ = load_judge_settings(config, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE)
        manifest["judge_config"] = {"file": "judge_config.yaml", **judging_facts(settings)}
    write_bundle(out, manifest, files)
    return out


@pytest.mark.parametrize("forge", [False, True], ids=["careless", "forged"])
@pytest.mark.parametrize("edit, check", [(edit_label, "labels"), (edit_answer, "judged_texts"),
                                         (swap_baseline, "baselines"), (change_template, "judge_prompt"),
                                         (edit_claimed_score, "table"), (remove_question, "questions")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_a_changed_bundle_fails_verify_naming_the_check(packed, judged, tmp_path, edit, check, forge):
    root, _ = judged
    proc = verify(tampered(packed, tmp_path / "changed.tar.gz", edit, forge), root)
    checks = lines_of(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert checks[check].startswith("differs: "), proc.stdout
    # a careless change is a file whose hash is not the manifest's; a forger's hashes match, the other checks see it
    assert checks["files"].startswith("ok" if forge else "differs: "), proc.stdout


def test_an_answer_edited_under_its_id_is_named_by_the_digest_its_judgments_record(packed, judged, tmp_path):
    root, _ = judged
    proc = verify(tampered(packed, tmp_path / "edited.tar.gz", edit_answer, forge=True), root)
    assert proc.returncode == 1
    assert lines_of(proc)["answers"] == ("differs: 1 of 20 judgments judged other answers than the bundle's "
                                         "(m-one / q0: the model's answer text changed)")


# ---------------------------------------------------------------- what verify and pack refuse


def test_verify_refuses_what_is_no_bundle_or_a_manifest_it_cannot_trust_with_one_line(packed, judged, tmp_path):
    root, _ = judged
    not_tar = tmp_path / "notes.tar.gz"
    not_tar.write_text("just text")
    assert "not a readable bundle" in one_line_error(verify(not_tar, root))

    def newer(files, manifest):
        manifest["schema_version"] = 2
    assert "schema_version 2" in one_line_error(verify(tampered(packed, tmp_path / "v2.tar.gz", newer, False), root))

    def writes_files(files, manifest):  # a manifest asking show_result to write where the reader would not want
        manifest["show_result"]["flags"] += ["--output"]
    line = one_line_error(verify(tampered(packed, tmp_path / "out.tar.gz", writes_files, False), root))
    assert "--output cannot be recorded in a bundle" in line

    def reads_my_files(files, manifest):  # a prompt "from a file" would be a file of the reader's machine
        files["judge_config.yaml"] += b"system_prompt_file: /etc/hostname\n"
    line = one_line_error(verify(tampered(packed, tmp_path / "file.tar.gz", reads_my_files, False), root))
    assert f"{tmp_path / 'file.tar.gz'}: judge_config.yaml: system_prompt_file: a bundle's judge config holds" in line

    def escapes(files, manifest):
        files["../outside.txt"] = b"x"
        manifest["files"]["../outside.txt"] = {"sha256": sha256_hex(b"x"), "bytes": 1}
    assert "outside" in one_line_error(verify(tampered(packed, tmp_path / "esc.tar.gz", escapes, False), root))
    assert not (tmp_path / "outside.txt").exists()

    def file_and_directory(files, manifest):  # one name both a file and the directory of another
        for name, data in (("data/x", b"a"), ("data/x/y", b"b")):
            files[name] = data
            manifest["files"][name] = {"sha256": sha256_hex(data), "bytes": 1}
    line = one_line_error(verify(tampered(packed, tmp_path / "fd.tar.gz", file_and_directory, False), root))
    assert "cannot be unpacked beside the others" in line


def test_pack_checks_its_inputs_before_writing_anything(judged, tmp_path):
    root, _ = judged
    target = tmp_path / "b.tar.gz"
    common = ("--setting-file", root / "judge.yaml", "--data-dir", root / "data")
    line = one_line_error(bundle_cmd("pack", target, *common, "--", "--html", tmp_path / "r.html"))
    assert "--html cannot be recorded in a bundle" in line
    line = one_line_error(bundle_cmd("pack", target, *common, "--model", "m-three"))
    assert "no judgments of m-three by judge-1" in line and "m-three.jsonl" in line
    line = one_line_error(bundle_cmd("pack", target, *common, "--", "--seed", "-3"))
    assert "show_result.py cannot score these files" in line and "--seed" in line
    # judgments made with another judge prompt than the config named: verify would find the bundle differing
    other = tmp_path.parent / f"{tmp_path.name}-other.yaml"
    other.write_text((root / "judge.yaml").read_text()
                     + 'prompt_template: "Q: {QUESTION}\\n\\nFirst: {ANSWER_A}\\n\\nSecond: {ANSWER_B}"\n')
    line = one_line_error(bundle_cmd("pack", target, "--setting-file", other, "--data-dir", root / "data"))
    assert "model_judgment" in line and "provenance.prompt_hash" in line, line
    assert f"judged with another judge prompt than {other}'s" in line and "--setting-file" in line, line
    assert list(tmp_path.iterdir()) == []

    # a judgment file a kill left with two records of a question: show_result and verify would read it apart
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    judgments = next((data / JUDGED_BENCH / "model_judgment" / JUDGE).glob("m-one.jsonl"))
    records = jsonl_records(judgments.read_bytes())
    judgments.write_bytes(jsonl_bytes([*records, records[1]]))
    line = one_line_error(bundle_cmd("pack", target, "--setting-file", root / "judge.yaml", "--data-dir", data))
    assert f"{judgments}:" in line and f"question {records[1]['uid']} has two judgments" in line
    assert "run gen_judgment.py once more" in line and not target.exists()


# ---------------------------------------------------------------- several bundles in one leaderboard


def test_a_table_pack_cannot_score_is_one_error_naming_the_users_own_file(judged, tmp_path):
    root, _ = judged
    shutil.copytree(root / "data", tmp_path / "data")
    path = tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / "m-one.jsonl"
    records = read_jsonl(path)
    for r in records:
        for game in r["games"]:
            game["score"], game["judgment"] = None, "I cannot decide."
    write_jsonl(path, records)
    line = one_line_error(bundle_cmd("pack", tmp_path / "b.tar.gz", "--setting-file", root / "judge.yaml",
                                     "--data-dir", tmp_path / "data", "--model", "m-one"))
    assert "show_result.py cannot score these files" in line and "every verdict is missing" in line, line
    assert line.count("error:") == 1 and str(path) in line and "arena-bundle-" not in line, line
    assert not (tmp_path / "b.tar.gz").exists()


def pack_models(root, bundle, *models):
    proc = bundle_cmd("pack", bundle, "--setting-file", root / "judge.yaml", "--data-dir", root / "data",
                      "--model", *models)
    assert proc.returncode == 0, proc.stderr
    return bundle


def test_bundles_of_one_judge_and_prompt_score_together_as_their_data_would(judged, tmp_path):
    root, _ = judged
    one, two = pack_models(root, tmp_path / "one.tar.gz", "m-one"), pack_models(root, tmp_path / "two.tar.gz", "m-two")
    flags = ("--num-rounds", "30", "--seed", "3")
    merged = run_script("show_result.py", "--from-bundles", one, two, "--csv", tmp_path / "merged.csv", *flags)
    assert merged.returncode == 0, merged.stderr
    direct = run_script("show_result.py", "--data-dir", root / "data", "--setting-file", root / "judge.yaml",
                        "--csv", tmp_path / "direct.csv", *flags)
    assert direct.returncode == 0, direct.stderr
    assert (tmp_path / "merged.csv").read_bytes() == (tmp_path / "direct.csv").read_bytes()
    assert "m-one" in merged.stdout and "m-two" in merged.stdout
    # the bundles are unpacked into a directory that is gone when it ends: no file is announced there
    wrote = [line.removeprefix("wrote ") for line in merged.stdout.splitlines() if line.startswith("wrote ")]
    assert wrote == [str(tmp_path / "merged.csv")], merged.stdout
    assert f"of the judge config of {one};" in merged.stdout and "arena-bundles-" not in merged.stdout
    for flag in ("--load-battles", "--load-bootstrap"):  # what no run on bundles leaves behind
        line = one_line_error(run_script("show_result.py", "--from-bundles", one, flag))
        assert line.startswith(f"error: {flag}: with --from-bundles, give the file's PATH"), line


def test_bundles_made_with_different_judge_prompts_are_refused_with_a_line_naming_it(judged, server, tmp_path):
    root, _ = judged
    other = tmp_path / "other"
    args = lay_out_judging(other, server, models=("m-two",), judge_lines=(
        'prompt_template: "Q: {QUESTION}\\n\\nFirst: {ANSWER_A}\\n\\nSecond: {ANSWER_B}"\n'),
        questions=[{"uid": f"q{i}", "category": "general", "prompt": f"Question {i}?"} for i in range(QUESTIONS)])
    assert gen_judgment(args).returncode == 0
    mine = pack_models(root, tmp_path / "mine.tar.gz", "m-one")
    theirs = pack_models(other, tmp_path / "theirs.tar.gz", "m-two")
    line = one_line_error(run_script("show_result.py", "--from-bundles", mine, theirs))
    assert f"{theirs}: --from-bundles: disagrees with {mine} on the judge prompt" in line
    assert "(default.template: " in line


# ---------------------------------------------------------------- spot re-judging


def fabricate_labels(files, manifest):
    """m-one's judgments rewritten to say the opposite, the judge's text along with the label, so that nothing in
    the bundle contradicts itself: only the judge can tell."""
    mirror = {"A>>B": "B>>A", "A>B": "B>A", "A=B": "A=B", "B>A": "A>B", "B>>A": "A>>B"}

    def change(records):
        for r in records:
            for game in r["games"]:
                if game["score"] != "A=B":
                    game["score"] = mirror[game["score"]]
                    game["judgment"] = f"Weighing both... [[{game['score']}]]"
    edit_records(files, M_ONE_JUDGMENTS, change)


def test_rejudging_tells_made_up_labels_from_the_judges_own_noise(packed, judged, server, tmp_path):
    root, _ = judged
    honest = lines_of(verify(packed, root, "--rejudge", 40, "--endpoint-file", root / "api.yaml"))
    assert honest["rejudge"].startswith("ok (40 games asked twice of judge-1: the recorded label came back 40 "
                                        "times, the two new labels disagreed 0 times"), honest
    made_up = tampered(packed, tmp_path / "made-up.tar.gz", fabricate_labels, forge=True)
    proc = verify(made_up, root, "--rejudge", 40, "--endpoint-file", root / "api.yaml")
    checks = lines_of(proc)
    assert checks["labels"].startswith("ok") and checks["judged_texts"].startswith("ok")  # consistent in itself
    changed = sum(label_for("m-one", i, g) != "A=B" for i in range(QUESTIONS) for g in (0, 1))
    assert checks["rejudge"].startswith("differs: the recorded labels differ from this judge's more than the judge "
                                        f"differs from itself: 40 games asked twice of judge-1: the recorded label "
                                        f"came back {40 - changed} times"), checks["rejudge"]
    assert proc.returncode == 1


def test_rejudging_a_judge_that_cannot_be_reached_says_it_could_not_check_and_why(packed, judged, tmp_path):
    root, _ = judged
    dead = tmp_path / "dead.yaml"
    refused = RefusedEndpoint.make().url
    dead.write_text(re.sub(r"http://127\.0\.0\.1:\d+/v1", refused, (root / "api.yaml").read_text()))
    proc = verify(packed, root, "--rejudge", 2, "--endpoint-file", dead)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = lines_of(proc)["rejudge"]
    assert line.startswith("differs: cannot be checked: no game could be asked again; 2 not compared"), line
    assert "(the first: " in line and "Connect" in line, line


def test_verify_holds_the_prompts_to_a_local_judge_config_when_given_one(packed, judged, tmp_path):
    root, _ = judged
    assert lines_of(verify(packed, root, "--setting-file", root / "judge.yaml"))["judge_prompt"].endswith(
        f"the same as {root / 'judge.yaml'}'s)")
    other = tmp_path / "official.yaml"
    other.write_text((root / "judge.yaml").read_text()
                     + 'prompt_template: "Q: {QUESTION}\\n\\nFirst: {ANSWER_A}\\n\\nSecond: {ANSWER_B}"\n')
    proc = verify(packed, root, "--setting-file", other)
    assert proc.returncode == 1
    assert lines_of(proc)["judge_prompt"] == f"differs: not the prompt of {other} for the questions of category general"


@pytest.mark.parametrize("recorded_alone, new_alone, p", [(0, 0, 1.0), (5, 0, 1 / 32), (3, 2, 16 / 32),
                                                          (1, 3, 15 / 16), (16, 0, 2 ** -16)])
def test_the_sign_test_of_rejudging_by_hand(recorded_alone, new_alone, p):
    # P(X >= r) for X ~ Binomial(r + b, 1/2): e.g. (3, 2): C(5,3) + C(5,4) + C(5,5) = 16 of 32 outcomes
    assert odd_one_out_p(recorded_alone, new_alone) == pytest.approx(p)
