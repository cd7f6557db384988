"""A throwaway PostgreSQL cluster of the Debian package, on a free loopback port.

``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the package's
``postgres`` user, on a temporary directory that user owns. The cluster trusts local
connections (user ``crm``) and is stopped, and its directory removed, at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[::-1]), None
    )
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yield its SQLAlchemy URL (database ``postgres``, user ``crm``)."""
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    if as_root:
        shutil.chown(base, "postgres")
    data, port = base / "data", _free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(_binary("initdb"), "-D", str(data), "-A", "trust", "-U", "crm", "--no-sync")
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start")
        try:
            yield f"postgresql://crm@127.0.0.1:{port}/postgres"
        finally:
            run(_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def new_database(cluster_url: str, name: str) -> str:
    """The URL of a new, empty database ``name`` on the cluster of ``cluster_url``."""
    import sqlalchemy as sa

    engine = sa.create_engine(
        cluster_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"
