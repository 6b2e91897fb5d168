"""Member upload and audience overlap at CDP scale, beside a SQL join and the pyroaring floor.

    python -m benchmarks.overlap --db sqlite|postgresql|both [--members 10000000] [--runs 30]

In a fresh database (a temporary SQLite file, or a PostgreSQL database created and dropped
after, as benchmarks.insights_bench does) it uploads two audiences of --members random keys
out of a universe twice that size through the service's upload path (text lines parsed,
encoded, stored), re-uploads the first (all keys known), then times: the overlap report of
the two with bitmaps cached and read from the database, the same intersection as a SQL join
over a membership table in the same database, pyroaring's in-memory intersection, the
report over 8 audiences (all 255 regions), and the union of 20 audiences.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks import serving
from insights import members
from insights.db import is_sqlite, make_engine, make_sessionmakers, migrate, transaction
from insights.evaluations import record_member_evaluation
from insights.models import Audience, Workspace, utcnow
from insights.reports.audience_overlap import audience_overlap
from insights.settings import Settings
from insights.uploads import record_member_upload

PG_ADMIN_URL = os.environ.get(
    "INSIGHTS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
BATCH = 100_000


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """An empty database of this benchmark's own, removed afterwards."""
    with serving.fresh_database(kind, prefix="overlap_bench") as url:
        yield url


def member_keys(indexes: np.ndarray) -> bytes:
    """`cust_` + 16 hex digits of a hash of the index + `_abc` (25 characters), one a line."""
    hashed = (indexes.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(0x5DEECE66D)
    out = np.empty((len(indexes), 26), dtype=np.uint8)
    out[:, :5] = np.frombuffer(b"cust_", dtype=np.uint8)
    for digit in range(16):
        nibble = (hashed >> np.uint64(60 - 4 * digit)) & np.uint64(15)
        out[:, 5 + digit] = HEX[nibble.astype(np.intp)]
    out[:, 21:25] = np.frombuffer(b"_abc", dtype=np.uint8)
    out[:, 25] = ord("\n")
    return out.tobytes()


def body_chunks(indexes: np.ndarray) -> Iterator[bytes]:
    for start in range(0, len(indexes), BATCH):
        yield member_keys(indexes[start : start + BATCH])


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory of a process (this one by default), in MiB."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def load() -> str:
    """The machine's load averages: the numbers mean little on a busy machine."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} CPUs"


def median_p95(
    call: Callable[[], object], runs: int, before: Callable[[], None] | None = None
) -> tuple[float, float]:
    """(median, p95) of `runs` calls, in milliseconds; `before` runs untimed before each."""
    samples = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def timings(call: Callable[[], object], runs: int, before: Callable[[], None] | None = None) -> str:
    median, p95 = median_p95(call, runs, before)
    return f"median {median:8.2f} ms  p95 {p95:8.2f} ms"


class Bench:
    def __init__(self, url: str, members_per_audience: int, runs: int) -> None:
        self.url, self.n, self.runs = url, members_per_audience, runs
        self.engine = make_engine(url)
        self.caches = members.MemberCaches.sized(Settings().bitmap_cache_bytes)
        info = members.session_info(self.caches)
        self.read, self.write = make_sessionmakers(self.engine, info, info)
        self.rng = np.random.default_rng(7)
        with transaction(self.write) as session:
            workspace = Workspace(name="overlap benchmark")
            session.add(workspace)
            session.flush()
            self.ws = workspace.id
        self.when = utcnow().replace(microsecond=0) - timedelta(days=1)

    def audience(self, session: Session, name: str) -> uuid.UUID:
        audience = Audience(workspace_id=self.ws, name=name, status="active")
        session.add(audience)
        session.flush()
        return audience.id

    def upload(self, label: str, audience_id: uuid.UUID | None, indexes: np.ndarray) -> uuid.UUID:
        """Streams the keys through the upload path; reports time and memory growth."""
        base = peak = rss_mib()
        started = time.perf_counter()

        def chunks() -> Iterator[bytes]:
            nonlocal peak
            for chunk in body_chunks(indexes):
                peak = max(peak, rss_mib())
                yield chunk

        with transaction(self.write) as session:
            audience_id = audience_id or self.audience(session, label)
        self.when += timedelta(seconds=1)
        with members.KeySpool(members.TEXT) as spool:
            for chunk in chunks():
                spool.feed(chunk)
            spool.finish()
            with transaction(self.write) as session:
                record_member_upload(session, self.ws, audience_id, self.when, spool.blocks())
            peak = max(peak, rss_mib())
        seconds = time.perf_counter() - started
        print(f"upload {label:28s} {seconds:7.1f} s   RSS +{peak - base:6.0f} MiB at peak")
        return audience_id

    def store_random(self, session: Session, name: str, size: int, universe: int) -> uuid.UUID:
        """An audience of `size` random IDs, stored directly (its keys are already known)."""
        ids = np.sort(self.rng.choice(universe, size, replace=False)).astype(np.uint32)
        audience_id = self.audience(session, name)
        bitmap = members.bitmap_from_ids(ids)
        record_member_evaluation(session, self.ws, audience_id, self.when, bitmap)
        return audience_id


def sql_join(
    session_factory: sessionmaker[Session], pairs: list[np.ndarray], runs: int
) -> tuple[float, float]:
    """The peers' way: a membership table and a join, in the same database; (median, p95) ms."""
    with transaction(session_factory) as session:
        session.execute(
            text(
                "CREATE TABLE bench_members (audience integer, member integer, "
                "PRIMARY KEY (audience, member))"
            )
        )
        connection = session.connection().connection.driver_connection
        for audience, ids in enumerate(pairs):
            _load_members(session, connection, audience, ids)
        if is_sqlite(session):
            session.execute(text("ANALYZE bench_members"))
        engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        # The planner's statistics and the visibility map that lets the join read the
        # primary key alone (what autovacuum does soon after a load): the join at its best.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE bench_members"))
    query = text(
        "SELECT count(*) FROM bench_members a JOIN bench_members b "
        "ON a.member = b.member WHERE a.audience = 0 AND b.audience = 1"
    )
    with session_factory() as session:
        return median_p95(lambda: session.execute(query).scalar_one(), runs)


def _load_members(session: Session, connection: Any, audience: int, ids: np.ndarray) -> None:
    ids = np.sort(ids)
    parts = (ids[start : start + 1_000_000].tolist() for start in range(0, len(ids), 1_000_000))
    if is_sqlite(session):
        for part in parts:
            rows = zip(itertools.repeat(audience), part)
            connection.executemany("INSERT INTO bench_members VALUES (?, ?)", rows)
        return
    with connection.cursor() as cursor, cursor.copy("COPY bench_members FROM STDIN") as copy:
        for part in parts:
            copy.write("".join(f"{audience}\t{i}\n" for i in part))


def run(kind: str, n: int, runs: int, uploads: bool, join: bool) -> None:
    with fresh_database(kind) as url:
        migrate(url)
        bench = Bench(url, n, runs)
        universe = 2 * n
        print(f"== {kind}: audiences of {n:,} random members out of {universe:,}; {load()}")
        if uploads:
            upload_three(bench, universe)
        # Random IDs over the whole universe: the worst case for compression and speed
        # (keys uploaded together get consecutive IDs, which compress to runs).
        with transaction(bench.write) as session:
            pair = [bench.store_random(session, name, n, universe) for name in ("R1", "R2")]
        report_pair(bench, pair[0], pair[1], runs)
        if join:
            with bench.read() as session:
                found = members.current_bitmaps(session, bench.ws, pair)
            ids = [np.frombuffer(found[x][1].to_array(), dtype=np.uint32) for x in pair]
            median, p95 = sql_join(bench.write, ids, 3)
            print(
                f"SQL join over a membership table     median {median:8.2f} ms  p95 {p95:8.2f} ms"
            )
        report_many(bench, pair, runs)
        print(f"== done; {load()}")
        bench.engine.dispose()


def upload_three(bench: Bench, universe: int) -> None:
    """10M new keys, the same 10M again (all known), and 10M drawn from the universe."""
    n = bench.n
    a_idx = bench.rng.choice(universe, n, replace=False)
    b_idx = bench.rng.choice(universe, n, replace=False)
    a = bench.upload(f"A: {n:,} new keys", None, a_idx)
    bench.upload(f"A again: {n:,} known keys", a, bench.rng.permutation(a_idx))
    b = bench.upload(f"B: {n:,} (~half new)", None, b_idx)
    with bench.read() as session:
        for name, audience_id in (("A", a), ("B", b)):
            _, bitmap = members.current_bitmaps(session, bench.ws, [audience_id])[audience_id]
            print_blob_size(f"uploaded {name}", bitmap)


def print_blob_size(label: str, bitmap: members.Members) -> None:
    blob = len(bitmap.serialize())
    print(
        f"stored bitmap, {label}: {blob / 2**20:.2f} MiB for {len(bitmap):,} members "
        f"({blob * 8 / len(bitmap):.2f} bits a member)"
    )


def report_pair(bench: Bench, a: uuid.UUID, b: uuid.UUID, runs: int) -> None:
    with bench.read() as session:
        found = members.current_bitmaps(session, bench.ws, [a, b])
        first, second = found[a][1], found[b][1]
        print_blob_size("random", first)
        report = lambda: audience_overlap(session, bench.ws, audience_ids=[a, b])  # noqa: E731
        cached = timings(report, runs)
        print(f"overlap report, bitmaps cached       {cached}")
        uncached = timings(report, runs, before=bench.caches.bitmaps.clear)
        print(f"overlap report, read from database   {uncached}")
        floor = lambda: first.intersection_cardinality(second)  # noqa: E731
        print(f"pyroaring intersection (floor)       {timings(floor, runs)}")
        print(f"overlap size: {report().overlap.size:,}")


def report_many(bench: Bench, pair: list[uuid.UUID], runs: int) -> None:
    universe = 2 * bench.n
    sizes = np.linspace(bench.n // 10, bench.n, 18).astype(int)
    with transaction(bench.write) as session:
        extra = [
            bench.store_random(session, f"X{i}", int(s), universe) for i, s in enumerate(sizes)
        ]
    eight, twenty = pair + extra[:6], pair + extra
    with bench.read() as session:
        members.current_bitmaps(session, bench.ws, twenty)  # warm the cache
        overlap8 = lambda: audience_overlap(session, bench.ws, audience_ids=eight)  # noqa: E731
        print(f"overlap of 8 audiences, 255 regions  {timings(overlap8, max(5, runs // 3))}")
        union20 = lambda: members.union_cardinality(session, bench.ws, twenty)  # noqa: E731
        print(f"union of 20 audiences, count cached  {timings(union20, runs)}")
        print(
            f"union of 20 audiences, bitmaps cached "
            f"{timings(union20, runs, before=bench.caches.unions.clear)}"
        )
        print(
            f"union of 20 audiences, from database "
            f"{timings(union20, max(5, runs // 3), before=bench.caches.clear)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], required=True)
    parser.add_argument("--members", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-join", action="store_true", help="skip the slow SQL join")
    parser.add_argument("--no-uploads", action="store_true", help="skip the slow uploads")
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(kind, args.members, args.runs, not args.no_uploads, not args.no_join)


if __name__ == "__main__":
    main()
