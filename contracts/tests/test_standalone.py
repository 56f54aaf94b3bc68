"""The contracts package stands alone: a subscriber installs it (and pydantic) and
nothing else of Changeledger."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.timeout(300)
def test_the_wheel_installs_and_parses_an_envelope_on_its_own(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    command = [uv] if uv else [sys.executable, "-m", "uv"]
    subprocess.run(
        [*command, "build", "--package", "changeledger-contracts", "--wheel", "-o", tmp_path],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("changeledger_contracts-*.whl")
    venv = tmp_path / "subscriber"
    subprocess.run([*command, "venv", "-q", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*command, "pip", "install", "-q", "--python", str(python), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "from changeledger.contracts import Envelope, parse_event, topic_of\n"
        "import changeledger.contracts.planning as p, pkgutil, sys\n"
        "names = {m.name for m in pkgutil.iter_modules(['/'.join(p.__file__.split('/')[:-2])])}\n"
        "assert names == {'contracts'}, names\n"
        "envelope = Envelope.model_validate({'id': '6a264430-b2a3-49c5-b881-ea9eb7e03726',"
        " 'source': 'planning', 'type': 'planning.release.deployed', 'dataversion': 1,"
        " 'subject': 'x', 'time': '2026-11-26T00:00:00Z', 'actor': {'sub': 'rita'},"
        " 'correlationid': 'c', 'sequence': 1,"
        " 'data': {'release_id': '6a264430-b2a3-49c5-b881-ea9eb7e03726', 'extra': 1}})\n"
        "print(type(parse_event(envelope)).__name__, topic_of('planning'))\n"
    )
    result = subprocess.run(
        [python, "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.stdout.split() == ["ReleaseDeployed", "planning.events"]
