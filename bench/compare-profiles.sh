#!/usr/bin/env bash
# `bash bench/compare-profiles.sh [MESSAGES]` (default 1,000,000): the full rebuild as the CLI runs it
# (`statcache refresh --full`, in the policy's shape) on the statcache profile's demo schema and on
# Open Chat Studio's schema, seeded alike (`statcache seed`), in interleaved rounds, then verify on
# both. A first look at what the ocs mapping costs; `npm run bench -- --source ocs` (all four figures
# side by side) is still to come. Needs `npm run build`; PostgreSQL at BENCH_SERVER_URL (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
messages="${1:-1000000}"
bin="$(cd "$(dirname "$0")/.." && pwd)/bin/statcache.js"
server="${BENCH_SERVER_URL:-postgres://postgres@127.0.0.1:5432}"
rounds=3
use() { # profile
  export DATABASE_URL="$server/statcache_cmp_$1"
  if [ "$1" = ocs ]; then export STATCACHE_SOURCE=ocs; else unset STATCACHE_SOURCE; fi
}
for p in statcache ocs; do
  psql "$server/postgres" -qc "drop database if exists statcache_cmp_$p with (force)" -c "create database statcache_cmp_$p" >/dev/null
  use "$p"
  node "$bin" migrate --create-source-tables >/dev/null
  node "$bin" seed --messages "$messages" >/dev/null
done
for round in $(seq 1 "$rounds"); do
  for p in statcache ocs; do
    use "$p"
    psql "$DATABASE_URL" -qc checkpoint >/dev/null
    ms=$(node "$bin" refresh --full --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(Math.round(JSON.parse(s).durationMs)))')
    echo "round $round: $p refresh --full ${ms} ms"
  done
done
for p in statcache ocs; do
  use "$p"
  echo "$p: $(node "$bin" verify | tail -1)"
  psql "$server/postgres" -qc "drop database statcache_cmp_$p with (force)" >/dev/null
done
