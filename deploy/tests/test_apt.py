"""What a fresh machine lacks is installed with apt-get, and only by root."""

import os
import shutil
import subprocess
from typing import Any

import pytest

from changeledger.deploy.process import LaunchError, apt_install


@pytest.fixture
def root_with_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/apt-get")


def test_without_root_it_says_what_to_run_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LaunchError, match=r"run `apt-get install -y wrk`"):
        apt_install("wrk")


def test_a_failed_install_says_which_command_failed(
    monkeypatch: pytest.MonkeyPatch, root_with_apt: None
) -> None:
    ran: list[list[str]] = []

    def refuse(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        return subprocess.CompletedProcess(argv, 100, "", "E: Could not get lock")

    monkeypatch.setattr(subprocess, "run", refuse)
    with pytest.raises(LaunchError, match="apt-get update -qq failed:\nE: Could not get lock"):
        apt_install("no-such-package")
    assert ran == [["apt-get", "update", "-qq"]]


def test_it_updates_the_package_lists_then_installs_the_package_without_questions(
    monkeypatch: pytest.MonkeyPatch, root_with_apt: None
) -> None:
    ran: list[tuple[list[str], str | None]] = []

    def succeed(argv: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        ran.append((argv, options["env"].get("DEBIAN_FRONTEND")))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(subprocess, "run", succeed)
    apt_install("wrk")
    assert ran == [
        (["apt-get", "update", "-qq"], "noninteractive"),
        (["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], "noninteractive"),
    ]


def test_a_failed_install_after_an_update_names_the_install(
    monkeypatch: pytest.MonkeyPatch, root_with_apt: None
) -> None:

    def refuse_the_install(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        code = 100 if "install" in argv else 0
        return subprocess.CompletedProcess(argv, code, "", "E: Unable to locate package nope")

    monkeypatch.setattr(subprocess, "run", refuse_the_install)
    with pytest.raises(LaunchError, match=r"apt-get install .* nope failed:\nE: Unable to locate"):
        apt_install("nope")


def test_without_apt_get_it_says_what_to_run_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(LaunchError, match=r"run `apt-get install -y wrk`"):
        apt_install("wrk")
