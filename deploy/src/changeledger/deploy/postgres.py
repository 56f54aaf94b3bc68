"""PostgreSQL for a machine without Docker: Debian's package, a private cluster on 127.0.0.1.

`start()` installs the `postgresql` package when it is missing (as root, with apt-get),
creates a cluster in its own folder on first use, starts it and creates the role and the
database that Changeledger uses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from changeledger.deploy.process import LaunchError, apt_install

PG_ROOT = Path("/usr/lib/postgresql")


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder."""
    if not PG_ROOT.exists():
        return None
    versions = sorted(
        (p for p in PG_ROOT.iterdir() if (p / "bin" / "pg_ctl").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    return versions[-1] / "bin" if versions else None


def ensure_installed() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is not None:
        return bin_dir
    apt_install("postgresql")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise LaunchError("apt-get installed postgresql but no pg_ctl was found")
    return bin_dir


class PostgresLauncher:
    """A private cluster. As root it runs as the `postgres` user, which owns its folder."""

    def __init__(
        self,
        home: Path | None = None,
        port: int = 5432,
        user: str = "changeledger",
        password: str = "changeledger",
        database: str = "changeledger",
    ) -> None:
        self.as_root = os.geteuid() == 0
        # As root, the folder must be reachable by the postgres user, so it cannot live
        # under a private checkout such as one made by `mktemp -d`.
        default = Path(tempfile.gettempdir()) / f"changeledger-postgres-{port}"
        self.home = (home or default) if not self.as_root else default
        self.port = port
        self.user = user
        self.password = password
        self.database = database

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def env(self) -> dict[str, str]:
        """Settings that point Changeledger's stores at this cluster."""
        return {
            "CHANGELEDGER_STORE": "postgres",
            "CHANGELEDGER_POSTGRES_HOST": "127.0.0.1",
            "CHANGELEDGER_POSTGRES_PORT": str(self.port),
            "CHANGELEDGER_POSTGRES_USER": self.user,
            "CHANGELEDGER_POSTGRES_PASSWORD": self.password,
            "CHANGELEDGER_POSTGRES_DBNAME": self.database,
        }

    def start(self) -> None:
        bin_dir = ensure_installed()
        self.home.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.home, "postgres", "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                bin_dir / "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            )
        if not self.running:
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.home} -c fsync=on -c max_connections=200"
            )
            self._run(
                bin_dir / "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.home / "postgres.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
        self._create_role_and_database()

    def stop(self) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is not None and self.running:
            self._run(bin_dir / "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        bin_dir = ensure_installed()
        # With a log file, as at start: the server's output would otherwise keep our
        # captured pipe open, and this call would never return.
        log_file = str(self.home / "postgres.log")
        self._run(
            bin_dir / "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            log_file,
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
        )

    @property
    def running(self) -> bool:
        bin_dir = find_bin_dir()
        if bin_dir is None or not (self.data_dir / "PG_VERSION").exists():
            return False
        result = self._run(bin_dir / "pg_ctl", "-D", str(self.data_dir), "status", check=False)
        return result.returncode == 0

    def _create_role_and_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.user,))
            if role.fetchone() is None:
                conn.execute(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'")
            db = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            if db.fetchone() is None:
                conn.execute(f"CREATE DATABASE {self.database} OWNER {self.user}")

    def _run(self, *argv: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in argv]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode != 0:
            raise LaunchError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
        return result
