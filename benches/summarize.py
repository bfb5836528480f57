#!/usr/bin/env python3
"""One table from one suite run (benches/suite.sh): reads the JSON lines the
benches append to bench-results/*.jsonl with the given run id."""
import json
import sys
from pathlib import Path

run = sys.argv[1]
root = Path(__file__).resolve().parent.parent / "bench-results"
rows = []
for name in ("verify", "load", "print"):
    path = root / f"{name}.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("run") == run:
                rows.append((name, rec))


def find(engine, n, prefix):
    """The latest row whose scenario starts with `prefix` (a scenario rerun
    under the same id replaces it); `prefix$` matches the whole scenario."""
    exact = prefix.endswith("$")
    found = None
    for name, rec in rows:
        r = rec.get("row", {})
        sc = r.get("scenario", "")
        hit = sc == prefix[:-1] if exact else (sc.startswith(prefix) and "against scripted" not in sc)
        if r.get("engine") == engine and r.get("enterprises") == n and hit:
            found = r
    return found


def fmt(v, d=1):
    return "" if v is None else f"{v:,.{d}f}"


engines = sorted({rec["row"]["engine"] for _, rec in rows if "row" in rec}, key=lambda e: e != "SQLite")
sizes = sorted({rec["row"]["enterprises"] for _, rec in rows if "row" in rec})
cols = [(e, n) for e in engines for n in sizes]
metrics = [
    ("verify: req/s", "GET /api/v1/verify/{credential} (", lambda r: fmt(r.get("rps"), 0)),
    ("verify: × /healthz (target ≥ 0.6)", "GET /api/v1/verify/{credential} (", lambda r: fmt(r.get("ratio"), 2)),
    ("verify: p50 / p99 ms (p99 target ≤ 10)", "GET /api/v1/verify/{credential} (", lambda r: f"{fmt(r.get('p50_ms'), 2)} / {fmt(r.get('p99_ms'), 2)}"),
    ("/healthz req/s (same run)", "GET /healthz", lambda r: fmt(r.get("rps"), 0)),
    ("batch of 1 000, warm: median ms (≤ 50)", "POST /api/v1/platform/verifications, 1 000 items, warm", lambda r: fmt(r.get("p50_ms"))),
    ("batch of 1 000, caches cleared: median ms", "POST /api/v1/platform/verifications, 1 000 items, caches", lambda r: fmt(r.get("p50_ms"))),
    ("licence.pdf served: × /healthz (≥ 0.5)", "GET /api/v1/enterprises/{uscc}/licence.pdf", lambda r: fmt(r.get("ratio"), 2)),
    ("server RSS under verification load, MB (≤ 150 at 1M)", "server process RSS", lambda r: f"{r.get('rss_mb')} (peak {r.get('peak_rss_mb')})"),
    ("name check, 1 client, first pass: p50 / p99 ms", "name check, first pass, concurrency 1$", lambda r: f"{fmt(r.get('p50_ms'), 2)} / {fmt(r.get('p99_ms'), 2)}"),
    ("name check, 1 client: p50 / p99 ms (p99 ≤ 10)", "name check, concurrency 1$", lambda r: f"{fmt(r.get('p50_ms'), 2)} / {fmt(r.get('p99_ms'), 2)}"),
    ("name check, 16 clients: p50 / p99 ms", "name check, concurrency 16$", lambda r: f"{fmt(r.get('p50_ms'), 2)} / {fmt(r.get('p99_ms'), 2)}"),
    ("establishment flows per second (SQLite ≥ 200, PG ≥ 300)", "establishment flows", lambda r: fmt(r.get("per_second"))),
    ("webhook deliveries per second", "webhook deliveries", lambda r: fmt(r.get("per_second"), 0)),
]
print(f"Run {run}\n")
print("| figure | " + " | ".join(f"{e} {n:,}" for e, n in cols) + " |")
print("| --- |" + " --- |" * len(cols))
for label, prefix, show in metrics:
    cells = []
    for e, n in cols:
        r = find(e, n, prefix)
        cells.append(show(r) if r else "")
    print(f"| {label} | " + " | ".join(cells) + " |")

# How figures scale from the smallest to the largest size.
if len(sizes) > 1:
    lo, hi = sizes[0], sizes[-1]
    print(f"\nScaling, {hi:,} ÷ {lo:,} enterprises (target ≤ 1.5 for verification and name checks):\n")
    print("| figure | " + " | ".join(engines) + " |")
    print("| --- |" + " --- |" * len(engines))
    for label, prefix, key in [
        ("verify p50 latency", "GET /api/v1/verify/{credential} (", "p50_ms"),
        ("verify p99 latency", "GET /api/v1/verify/{credential} (", "p99_ms"),
        ("verify throughput (inverse: time per request)", "GET /api/v1/verify/{credential} (", "rps"),
        ("name check p50, 1 client, first pass", "name check, first pass, concurrency 1$", "p50_ms"),
        ("name check p99, 1 client, first pass", "name check, first pass, concurrency 1$", "p99_ms"),
        ("name check p50, 1 client", "name check, concurrency 1$", "p50_ms"),
        ("name check p99, 1 client", "name check, concurrency 1$", "p99_ms"),
        ("name check p50, 16 clients", "name check, concurrency 16$", "p50_ms"),
        ("name check p99, 16 clients", "name check, concurrency 16$", "p99_ms"),
    ]:
        cells = []
        for e in engines:
            a, b = find(e, lo, prefix), find(e, hi, prefix)
            if a and b and a.get(key) and b.get(key):
                ratio = a[key] / b[key] if key == "rps" else b[key] / a[key]
                cells.append(f"{ratio:.2f}")
            else:
                cells.append("")
        print(f"| {label} | " + " | ".join(cells) + " |")

for name, rec in rows:
    if name == "print":
        print(
            f"\nLicence PDF per document: pdf-writer {rec['pdf_writer_ms']:.2f} ms (target ≤ 2); "
            f"the same licence as HTML printed by headless Chromium (one process per document, median of "
            f"{rec['chromium_runs']}) {rec['chromium_ms']:.0f} ms: {rec['ratio']:.0f}× slower."
        )
