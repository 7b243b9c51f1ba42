"""Result bundles: pack a leaderboard result into one file anyone can check, and check one.

    python -m utils.bundle pack BUNDLE.tar.gz [--setting-file JUDGE.yaml] [--model M ...] [--data-dir data]
                                              [--endpoint-file API.yaml] [-- SHOW_RESULT_FLAGS ...]
    python -m utils.bundle verify BUNDLE.tar.gz [--data-dir data] [--setting-file JUDGE.yaml]
                                                [--rejudge N --endpoint-file API.yaml]

pack puts the benchmark's questions, the models' answers and judgments, the
baselines' answers, the judge config and the table show_result.py computes
from them (with the flags after ``--``) in one file with a manifest of
hashes and settings. verify prints one line per check, ``name: ok`` or
``name: differs: ...``, and exits 0 when nothing differs, 1 when something
does, 2 when the bundle cannot be read. docs/bundles.md has the format and
every check.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from utils.plumbing.cli import DATA_DIR, ENDPOINTS, JUDGE_SETTINGS, run_cli


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m utils.bundle", description=__doc__.split("\n\n")[0])
    steps = p.add_subparsers(dest="step", required=True)
    pack = steps.add_parser("pack", help="write a bundle (show_result.py's flags after --)")
    pack.add_argument("bundle", type=Path, help="the file to write (.tar.gz)")
    pack.add_argument("--setting-file", type=Path, default=Path(JUDGE_SETTINGS),
                      help="the judge config the judgments were made with (its bench, judges, baselines, prompts)")
    pack.add_argument("--model", action="extend", nargs="+", metavar="NAME",
                      help="the models to pack (default: the judge config's model_list)")
    pack.add_argument("--judge", action="extend", nargs="+", metavar="NAME",
                      help="the judges whose judgments to pack, as gen_judgment.py --judge named them (default: the "
                           "judge config's judge_model)")
    pack.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where the benchmark lives")
    pack.add_argument("--endpoint-file", type=Path,
                      help=f"record how each model and judge was asked from its entry here (default: {ENDPOINTS} "
                           "when it exists; no key or address is recorded)")
    verify = steps.add_parser("verify", help="check a bundle and re-score its table")
    verify.add_argument("bundle", type=Path)
    verify.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="the local benchmark whose questions and baseline answers the bundle's must be")
    verify.add_argument("--setting-file", type=Path, metavar="JUDGE.yaml",
                        help="also require the judge prompts of this judge config (e.g. the benchmark's official one)")
    verify.add_argument("--rejudge", type=int, metavar="N",
                        help="ask the recorded judge N sampled games again, twice (needs its key): made-up labels or "
                             "judge noise?")
    verify.add_argument("--endpoint-file", type=Path, default=Path(ENDPOINTS),
                        help="with --rejudge: how to reach the judge")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    args = _parser().parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.step == "pack":
        return _pack(args, flags)
    return _verify(args)


def _pack(args: argparse.Namespace, flags: list[str]) -> int:
    from utils.bundles.pack import pack_bundle
    from utils.plumbing.errors import InputError

    if args.endpoint_file is not None and not args.endpoint_file.is_file():
        raise InputError("file not found", args.endpoint_file, key="--endpoint-file")
    endpoints = args.endpoint_file or (Path(ENDPOINTS) if Path(ENDPOINTS).is_file() else None)
    packed = pack_bundle(args.bundle, args.setting_file, args.data_dir, args.model, endpoints, flags, args.judge)
    sys.stdout.write(packed.table)
    files = packed.manifest["files"]
    print(f"wrote {args.bundle}: {len(files)} files, {sum(f['bytes'] for f in files.values()) / 1e6:.1f} MB "
          f"unpacked, {args.bundle.stat().st_size / 1e6:.1f} MB packed")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from utils.bundles.verify import status, verify_bundle
    from utils.plumbing.errors import InputError

    if args.rejudge is not None and args.rejudge < 1:
        raise InputError(f"must be at least 1, got {args.rejudge}", key="--rejudge")
    for flag, path in (("--setting-file", args.setting_file),
                       ("--endpoint-file", args.endpoint_file if args.rejudge else None)):
        if path is not None and not path.is_file():
            raise InputError("file not found", path, key=flag)
    checks = verify_bundle(args.bundle, args.data_dir, args.setting_file, args.rejudge, args.endpoint_file)
    for check in checks:
        print(check.line)
    return status(checks)


if __name__ == "__main__":
    run_cli(main)
