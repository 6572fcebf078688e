"""A PostgreSQL server for the tests: the one CI started, or a throwaway cluster started here."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.server import free_port

ENV = "REGIOMATCH_TEST_POSTGRES_URL"


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root.
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(command)]
    return command


class ThrowawayPostgres:
    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise RuntimeError("no PostgreSQL server binaries (Debian package 'postgresql') on this machine")
        self.bin = Path(bins[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="regiomatch-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        subprocess.run(_as_postgres_user([str(self.bin / "initdb"), "-D", str(data), "-U", "postgres",
                                          "--auth=trust"]), check=True, capture_output=True)
        subprocess.run(_as_postgres_user([str(self.bin / "pg_ctl"), "-D", str(data), "-w", "-l",
                                          str(self.dir / "log"), "-o",
                                          f"'-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}'", "start"]),
                       check=True, capture_output=True)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(_as_postgres_user([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                                          "stop"]), capture_output=True)
        time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)
