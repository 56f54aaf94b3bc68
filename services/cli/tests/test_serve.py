"""`changeledger serve --workers`: a worker that cannot build its application stops the
service with uvicorn's startup-failure status, as one process does, rather than being
started again and again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from changeledger.runtime.shared_port import STARTUP_FAILURE


def test_workers_that_cannot_start_stop_the_service(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "a-file"
    not_a_directory.touch()
    env = {**os.environ, "CHANGELEDGER_DATA_DIR": str(not_a_directory / "data")}
    serve = [sys.executable, "-m", "changeledger.cli", "serve", "planning", "--workers", "2"]
    run = subprocess.run(
        [*serve, "--port", "0"], env=env, capture_output=True, timeout=30, check=False
    )
    assert run.returncode == STARTUP_FAILURE, run.stderr.decode()[-2000:]
    assert b"planning could not start" in run.stderr
