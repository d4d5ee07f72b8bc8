"""Kill anywhere: `run` SIGKILLed at random points of a migration, each time followed by `--resume`, and
the target equals the source every time (pgconvoy's compare and an independent checksum query).

Slow (about two minutes): outside the suite, `pytest -m slow tests/test_soak.py`."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fidelity import data_lines, prepared_target
from test_roundtrip import BIG_SQL

from conftest import DatabaseFactory, invoke
from pgconvoy import compare

KILLS = 20


def _checksum(uri: str) -> list[str]:
    return data_lines(uri, ("auth", "storage", "extensions", "realtime", "pgbouncer"))


@pytest.mark.slow
def test_run_killed_anywhere_then_resumed_equals_the_source(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql=BIG_SQL)
    assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
    assert invoke("compile", "--project-dir", str(tmp_path), "--source", source).exit_code == 0
    started = time.monotonic()
    assert invoke("run", "--project-dir", str(tmp_path), "--target", prepared_target(new_db, source)).exit_code == 0
    whole = time.monotonic() - started
    expected = _checksum(source)
    rng = random.Random(20261202)
    killed_at = []
    for _ in range(KILLS):
        target = prepared_target(new_db, source)
        proc = subprocess.Popen([sys.executable, "-m", "pgconvoy.cli", "run", "--project-dir", str(tmp_path),
                                 "--target", target], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=os.environ | {"PYTHONWARNINGS": "ignore"})
        delay = rng.uniform(0.0, whole * 1.1)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed_at.append(round(delay, 2))
        for _attempt in range(20):  # the killed backend may still hold the run lock for a moment
            resumed = invoke("run", "--project-dir", str(tmp_path), "--target", target, "--resume")
            if "another pgconvoy run" not in resumed.output:
                break
            time.sleep(0.2)
        assert resumed.exit_code == 0, (delay, resumed.output)
        assert _checksum(target) == expected, delay
        assert compare.compare_urls(source, target, schemas=["public"]).equal, delay
    assert len(killed_at) == KILLS
