"""A server process started in the background, remembered by a pid file."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class LaunchError(RuntimeError):
    """A server could not be installed, started or reached."""


class ServerProcess:
    def __init__(self, name: str, home: Path) -> None:
        self.name = name
        self.home = home
        self.pid_file = home / f"{name}.pid"
        self.log_file = home / f"{name}.log"

    @property
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def spawn(self, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
        if (pid := self.pid) is not None:
            return pid
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                # Its own session, so a Ctrl-C meant for the caller does not reach it early.
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        return process.pid

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.1
        while time.monotonic() < deadline:
            if self.pid is None:
                raise LaunchError(f"{self.name} exited during start-up; see {self.log_file}")
            if ready():
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
        raise LaunchError(f"{self.name} was not ready after {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> None:
        pid = self.pid
        if pid is not None:
            _signal(pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
            _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                _signal(pid, signal.SIGKILL)
                while _alive(pid):
                    time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """Stop at once, as a crash would."""
        pid = self.pid
        if pid is not None:
            _signal(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)

    def pause(self) -> None:
        if (pid := self.pid) is not None:
            _signal(pid, signal.SIGSTOP)

    def resume(self) -> None:
        if (pid := self.pid) is not None:
            _signal(pid, signal.SIGCONT)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    # Reap our own exited children so they do not linger as zombies that look alive.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def apt_install(package: str) -> None:
    """Install a Debian package with apt-get (as root): how the project gets what a fresh
    machine lacks, PostgreSQL say."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise LaunchError(f"{package} is not installed: run `apt-get install -y {package}`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
    ):
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LaunchError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
