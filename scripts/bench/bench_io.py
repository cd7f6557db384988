"""Import and export at scale: a 100,000-row CSV in, 100,000 records out to JSON lines.

Import: a client process runs ``import_file`` on a CSV of companies (name, domain,
employees, categories) against a sandbox in this process (rate limits off, so the
figure is the SDK's and the server's work), upserting on the domain through the batch
endpoint. Its time and its peak RSS (VmHWM) are measured in the child.

Export: the same 100,000 records, exported to JSON lines by ``query.export`` and by a
raw httpx loop that pages through the query endpoint and writes each record as a line,
alternating, each in its own process; the ratio is the raw loop's time over the export's.

Mirror: the first run of ``overlay.mirror`` (snapshot of the companies into a new SQLite
file), in its own process between the exports; the ratio is the export's time over its own.
"""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import Result

import overlay

N = 100_000
CATEGORIES = ["SaaS", "Hardware", "Services", "Finance"]
IMPORT = """
import sys, time, overlay
url, token, path = sys.argv[1:4]
start = time.perf_counter()
with overlay.Client(api_key=token, base_url=url) as crm:
    report = crm.import_file(path, "companies", match="domains")
elapsed = time.perf_counter() - start
assert report.accepted == report.total == int(sys.argv[4]) and report.rejected == 0, report
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(elapsed, hwm)
"""
EXPORT = """
import sys, time, overlay
url, token, path = sys.argv[1:4]
start = time.perf_counter()
with overlay.Client(api_key=token, base_url=url) as crm:
    report = crm.records("companies").export(path)
elapsed = time.perf_counter() - start
assert report.rows == int(sys.argv[4]), report
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(elapsed, hwm)
"""
MIRROR = """
import sys, time, overlay
from overlay.mirror import Mirror
url, token, path = sys.argv[1:4]
start = time.perf_counter()
with overlay.Client(api_key=token, base_url=url) as crm:
    with Mirror(crm, f"sqlite:///{path}", objects=["companies"], lists=[]) as mirror:
        report = mirror.run()
elapsed = time.perf_counter() - start
assert report.snapshot_rows["companies"] == int(sys.argv[4]), report
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(elapsed, hwm)
"""
RAW = """
import sys, time, json, httpx
url, token, path = sys.argv[1:4]
start = time.perf_counter()
rows = 0
auth = {"Authorization": f"Bearer {token}"}
with httpx.Client(base_url=url, headers=auth, timeout=60) as api, open(path, "w") as out:
    offset = 0
    while True:
        body = {"limit": 1000, "offset": offset}
        page = api.post("/v2/objects/companies/records/query", json=body).json()["data"]
        for record in page:
            out.write(json.dumps(record) + "\\n")
        rows += len(page)
        if len(page) < 1000:
            break
        offset += 1000
elapsed = time.perf_counter() - start
assert rows == int(sys.argv[4]), rows
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(elapsed, hwm)
"""


def _child(script: str, sandbox: overlay.Sandbox, path: Path) -> tuple[float, float]:
    command = [sys.executable, "-c", script, sandbox.url, sandbox.token, str(path), str(N)]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"the benchmark's child process failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    out = proc.stdout.split()
    return float(out[0]), int(out[1]) / 1024


def _write_csv(path: Path) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Domain", "Employees", "Categories"])
        for i in range(N):
            writer.writerow([f"Company {i}", f"company{i}.example", f"{i % 5000:,}", CATEGORIES[i % 4]])


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as folder, overlay.Sandbox(read_rate=None, write_rate=None) as sandbox:
        source = Path(folder) / "companies.csv"
        _write_csv(source)
        imported, import_rss = _child(IMPORT, sandbox, source)
        exports, raws, mirrors, export_rss, mirror_rss = [], [], [], 0.0, 0.0
        for round in range(3):
            seconds, rss = _child(EXPORT, sandbox, Path(folder) / "export.jsonl")
            exports.append(seconds)
            export_rss = max(export_rss, rss)
            raws.append(_child(RAW, sandbox, Path(folder) / "raw.jsonl")[0])
            seconds, rss = _child(MIRROR, sandbox, Path(folder) / f"mirror{round}.db")
            mirrors.append(seconds)
            mirror_rss = max(mirror_rss, rss)
    export, raw, mirror = statistics.median(exports), statistics.median(raws), statistics.median(mirrors)
    return [
        Result(
            "import_100k_csv_seconds_vs_60",
            imported / 60,
            1.0,
            "the 60 s budget",
            detail=f"{N:,} rows upserted in {imported:.1f} s ({N / imported:,.0f}/s), rate limits off",
        ),
        Result(
            "import_100k_csv_peak_rss_vs_150mb",
            import_rss / 150,
            1.0,
            "the 150 MB budget",
            detail=f"peak RSS {import_rss:.0f} MB in the importing process",
        ),
        Result(
            "export_100k_jsonl_vs_raw_httpx",
            raw / export,
            0.8,
            "a raw httpx page loop writing each record as a line",
            better="higher",
            detail=f"export {export:.1f} s vs raw {raw:.1f} s (median of 3), peak RSS {export_rss:.0f} MB",
        ),
        Result(
            "mirror_100k_sqlite_vs_export",
            export / mirror,
            0.8,
            "the export of the same records to JSON lines (its throughput)",
            better="higher",
            detail=f"first mirror run {mirror:.1f} s ({N / mirror:,.0f} records/s) vs export {export:.1f} s "
            f"(median of 3), peak RSS {mirror_rss:.0f} MB",
        ),
        Result(
            "mirror_100k_peak_rss_vs_150mb",
            mirror_rss / 150,
            1.0,
            "the 150 MB budget",
            detail=f"peak RSS {mirror_rss:.0f} MB in the mirroring process",
        ),
        Result(
            "export_100k_jsonl_peak_rss_vs_100mb",
            export_rss / 100,
            1.0,
            "the 100 MB budget",
            detail=f"peak RSS {export_rss:.0f} MB in the exporting process",
        ),
    ]


if __name__ == "__main__":
    for result in run():
        print(result)
