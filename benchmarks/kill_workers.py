"""Three workers on one study under kill -9, rated over HTTP: issue 11's reliability target, per storage.

Per storage, in a temp folder (PostgreSQL: a fresh database on the local server, dropped after):
3 ``python run.py`` workers of the tutorial's setup share one study, each serving the dashboard;
every 1-5 s a random one of those that serve is killed with SIGKILL and restarted at once (a
kill waits until another one serves too, so one always does); a rater waits for
``batch`` ready trials and rates a random one with ``POST /api/trials/<id>/tell`` on a random
live worker's dashboard. ``benchmarks/kill_scenario.py`` runs it and defines each column:

* acked: ratings answered 200; lost: acknowledged ratings not in the study at the end;
  duplicated: a trial acknowledged twice, a completed trial nobody rated, or one output in two
  trials; unanswered: tells cut off by a kill (not counted either way).
* max unfinished: the most running-or-waiting trials (half-made ones too) in any read of the
  storage, sampled every ~20 ms; the target is at most ``batch``.
* crashes: a worker that exits by itself, exits non-zero on SIGTERM at the end, or logs a traceback.
* refill: the longest time from a rating's 200 until ``batch`` trials are ready again; tell: the
  longest rating HTTP call. A stall is the longer of the two; the target is at most 5 s.
* s/kill: the run's length over its kills (above 3 s when restarts are slow to serve).

    python benchmarks/kill_workers.py                                  # all three storages, 30 kills each
    python benchmarks/kill_workers.py --storage journal --kills 10 --seed 2

Exits 1 if any storage misses a target. PostgreSQL is ``HITL_BENCH_POSTGRES_ADMIN`` (default
``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import sys
import tempfile
import uuid


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy  # noqa: E402

from benchmarks.kill_scenario import Report  # noqa: E402
from benchmarks.kill_scenario import run_scenario  # noqa: E402
from benchmarks.kill_scenario import STORAGES  # noqa: E402


ADMIN = os.environ.get("HITL_BENCH_POSTGRES_ADMIN", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
STALL_LIMIT = 5.0


@contextlib.contextmanager
def fresh_postgres(admin_url: str = ADMIN) -> Iterator[str]:
    """A new, empty database on the server ``admin_url`` reaches; dropped afterwards (connections too)."""
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"hitl_kill_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def one(storage: str, *, kills: int, seed: int, batch: int) -> Report:
    with tempfile.TemporaryDirectory(prefix=f"hitl-kill-{storage}-", ignore_cleanup_errors=True) as folder:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(fresh_postgres()) if storage == "postgres" else None
            return run_scenario(storage, Path(folder), kills=kills, seed=seed, batch=batch, postgres_url=url,
                                say=lambda line: print(line, flush=True))


def table(reports: list[Report]) -> str:
    head = ("storage", "kills", "s/kill", "acked", "lost", "duplicated", "max unfinished", "crashes",
            "longest refill s", "longest tell s", "unanswered", "met")
    rows = [head] + [
        (r.storage, str(r.kills), f"{r.seconds / max(r.kills, 1):.1f}", str(r.acked), str(r.lost), str(r.duplicated), f"{r.max_unfinished} (batch {r.batch})",
         str(r.crashes), f"{r.longest_refill:.2f}", f"{r.longest_tell:.2f}", str(r.unanswered),
         "yes" if not r.missed(STALL_LIMIT) else "NO: " + ", ".join(r.missed(STALL_LIMIT)))
        for r in reports
    ]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(head))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default=",".join(STORAGES), help="comma-separated: sqlite,postgres,journal")
    parser.add_argument("--kills", type=int, default=30, help="kills per storage")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    names = [s.strip() for s in args.storage.split(",") if s.strip()]
    unknown = sorted(set(names) - set(STORAGES))
    if unknown:
        parser.error(f"--storage: unknown {', '.join(unknown)}; use {','.join(STORAGES)}")
    reports = [one(name, kills=args.kills, seed=args.seed, batch=args.batch) for name in names]
    print(f"\n{' '.join(['python', 'benchmarks/kill_workers.py'] + sys.argv[1:])}\n")
    print(table(reports))
    for r in reports:
        if r.longest_refill_at:
            print(f"{r.storage}: the longest refill ended at {r.longest_refill_at}")
        for line in r.details[:20]:
            print(f"{r.storage}: {line}")
    return 1 if any(r.missed(STALL_LIMIT) for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
