"""The scripted benchmark every --until-decided test starts from (tests/deciding/scripted_bench.py)."""
from __future__ import annotations

import pytest

from tests.deciding.scripted_bench import lay_out, script_judge


@pytest.fixture
def bench(tmp_path, scripted_server):
    """gen_judgment's arguments for 40 questions of which m-one wins every one strongly and m-two ties every one."""
    args = lay_out(tmp_path, scripted_server)
    script_judge(scripted_server)
    return args
