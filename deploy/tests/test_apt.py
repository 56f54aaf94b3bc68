"""What a fresh machine lacks is installed with apt-get, and only by root."""

import os
import shutil
import subprocess

import pytest

from changeledger.deploy.process import LaunchError, apt_install


def test_without_root_it_says_what_to_run_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LaunchError, match=r"run `apt-get install -y wrk`"):
        apt_install("wrk")


def test_a_failed_install_says_which_command_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/apt-get")
    ran: list[list[str]] = []

    def refuse(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        return subprocess.CompletedProcess(argv, 100, "", "E: Unable to locate package")

    monkeypatch.setattr(subprocess, "run", refuse)
    with pytest.raises(LaunchError, match="apt-get update -qq failed:\nE: Unable to locate"):
        apt_install("no-such-package")
    assert ran == [["apt-get", "update", "-qq"]]
