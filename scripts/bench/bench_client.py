"""The client: a ``get`` round trip against raw httpx, and what ``import overlay`` costs.

The round trip is the same GET of one record on the same sandbox: raw httpx sends it and
decodes the JSON; the overlay sends it through its transport stack and returns a typed
``Record``. Import times are the fastest of fresh interpreters, in a venv holding only the
core dependencies, against ``python -c pass`` there.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from _harness import Result, median_times

import overlay

IMPORT_RUNS = 15
ROOT = Path(__file__).resolve().parents[2]
READY_URL = "https://api.example.com"


def _round_trip() -> Result:
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        people = crm.records("people")
        ada = people.query({"name": "Ada Lovelace"}).first()
        assert ada is not None
        raw = httpx.Client(
            base_url=sb.url, headers={"Authorization": f"Bearer {sb.token}", "CRM-Version": "2026-12-01"}
        )
        path = f"/v2/objects/people/records/{ada.id}"

        def raw_get() -> object:
            response = raw.get(path)
            response.raise_for_status()
            return response.json()

        times = median_times({"overlay": lambda: people.get(ada.id), "httpx": raw_get}, rounds=400)
        raw.close()
    ratio = times["overlay"] / times["httpx"]
    overlay_ms, httpx_ms = times["overlay"] * 1e3, times["httpx"] * 1e3
    detail = f"{overlay_ms:.2f} ms vs {httpx_ms:.2f} ms (typed Record vs decoded JSON)"
    return Result("client_get_round_trip", ratio, 1.15, "raw httpx GET + json(), same sandbox", detail=detail)


def clean_python() -> tuple[str, dict[str, str]]:
    """A venv with only the core dependencies (made once under .bench), and the environment
    that runs this checkout's overlay in it: what a user's fresh install loads, without the
    dev venv's extras (httpx imports its CLI's click, rich and pygments when they are there)."""
    import hashlib
    import os
    import tomllib

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    venv = ROOT / ".bench" / "clean-venv"
    stamp = venv / ".dependencies"
    wanted = hashlib.sha256("\n".join(dependencies).encode()).hexdigest()
    python = venv / "bin" / "python"
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *dependencies], check=True)
        stamp.write_text(wanted)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'generated'}"}
    env.pop("CRM_RATE_LIMIT_REDIS", None)
    return str(python), env


def _startup(python: str, env: dict[str, str], code: str) -> list[float]:
    times = []
    for _ in range(IMPORT_RUNS):
        start = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - start)
    return times


def _imports() -> list[Result]:
    python, env = clean_python()
    bare = min(_startup(python, env, "pass"))
    runs = {
        "import": _startup(python, env, "import overlay"),
        "load": _startup(python, env, "import overlay; overlay.Client"),
        "ready": _startup(
            python, env, f"import overlay; overlay.Client(api_key='k', base_url={READY_URL!r})"
        ),
    }
    extra = {name: (min(times) - bare) * 1e3 for name, times in runs.items()}
    spread = {name: (max(times) - min(times)) * 1e3 for name, times in runs.items()}

    def detail(name: str, what: str) -> str:
        return (
            f"{what}: {min(runs[name]) * 1e3:.0f} ms vs {bare * 1e3:.0f} ms, the fastest of {IMPORT_RUNS} "
            f"fresh interpreters in a venv of the core dependencies (spread {spread[name]:.0f} ms)"
        )

    return [
        Result(
            "import_overlay_extra_ms", extra["import"], 150, "python -c pass",
            detail=detail("import", "import overlay (the ratio column is the extra ms)"),
        ),
        Result(
            "import_overlay_client_extra_ms", extra["load"], None, "python -c pass",
            detail=detail("load", "and load overlay.Client (httpx, endpoints)"),
        ),
        Result(
            "client_ready_ms", extra["ready"], 100, "python -c pass",
            detail=detail("ready", "and make a Client"),
        ),
    ]  # fmt: skip


def run() -> list[Result]:
    return [_round_trip(), *_imports()]
