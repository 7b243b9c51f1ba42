"""Result bundles: one file that pins everything a leaderboard row was computed from, and the checks that re-score it.

``python -m utils.bundle pack|verify`` (utils/bundle.py) and ``show_result.py
--from-bundles`` run on these modules (docs/bundles.md):

* manifest.py  the manifest's schema: what it records, the summaries of answers, judgments and prompts
* archive.py   the file itself: a gzip-compressed tar, manifest.json first, the same bytes for the same inputs
* scoring.py   the claimed table: show_result.py run on a bundle's files, through its command line
* pack.py      from a data directory and a judge config to a bundle
* checks.py    the checks of verify, each a line ``name: ok`` or ``name: differs: ...``
* verify.py    unpack, check, re-score
* rejudge.py   verify --rejudge: sampled games asked again of the recorded judge (gen_judgment's drift check)
* merge.py     several bundles into one data directory for show_result.py, refused when they disagree
"""
