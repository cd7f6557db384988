"""``make cassettes``: record the scripted session (tests/cassettes) against a fresh sandbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm_sandbox.store import deterministic  # noqa: E402

import overlay  # noqa: E402
from tests.cassettes.session import CASSETTE, HERE, recorder, session  # noqa: E402


def main() -> int:
    CASSETTE.unlink(missing_ok=True)
    deterministic(7)  # the same ids and timestamps on every recording
    try:
        with (
            overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb,
            sb.connect() as crm,
            recorder("once").use_cassette(str(CASSETTE)),
        ):
            seen = session(crm)
    finally:
        deterministic(None)
    (HERE / "session.json").write_text(json.dumps(seen, indent=2, sort_keys=True) + "\n")
    print(f"recorded {CASSETTE.relative_to(ROOT)}: {json.dumps(seen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
