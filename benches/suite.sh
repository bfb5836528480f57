#!/usr/bin/env bash
# The whole benchmark suite: verification, batches, licence documents,
# memory (benches/verify.rs), name checks, establishment flows and webhook
# deliveries (benches/load.rs) on SQLite and on PostgreSQL at each size, and
# pdf-writer against headless Chromium (benches/print.rs); then one table
# (benches/summarize.py) of this run's results.
#
#   benches/suite.sh                    # 10k, 100k and 1M enterprises
#   benches/suite.sh 10000              # one size
#   BENCH_ENGINES=sqlite benches/suite.sh
#
# Needs wrk and chromium (Debian packages) and, for PostgreSQL, a server at
# BENCH_PG_URL (default: the local cluster, user/password postgres). Seeded
# databases are kept (target/bench-data, gc_bench_<n>) and reused. Nothing
# else should run on the machine meanwhile; the table says what ran.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-10000 100000 1000000}")
read -r -a sizes <<<"${sizes[*]}"
engines=${BENCH_ENGINES:-sqlite postgres}
pg=${BENCH_PG_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable}
export BENCH_RUN=${BENCH_RUN:-$(date -u +%Y%m%dT%H%M%SZ)}
export BENCH_SECONDS=${BENCH_SECONDS:-10}
export CARGO_TERM_COLOR=never

cargo bench --no-run --bench verify --bench load --bench print >/dev/null 2>&1 || cargo bench --no-run --bench verify --bench load --bench print
for engine in $engines; do
  for n in "${sizes[@]}"; do
    echo "=== $engine, $n enterprises ($(date -u +%H:%M:%S))" >&2
    if [ "$engine" = postgres ]; then db=(env BENCH_DATABASE_URL="$pg"); else db=(env); fi
    "${db[@]}" BENCH_ENTERPRISES="$n" cargo bench --bench verify 2>&1 | grep -E '^\||server process|warm-up|seeding|seeded' >&2
    "${db[@]}" BENCH_ENTERPRISES="$n" cargo bench --bench load 2>&1 | grep -E '^\||seeding|seeded' >&2
  done
done
cargo bench --bench print 2>&1 | grep -E '^\|' >&2
python3 benches/summarize.py "$BENCH_RUN"
