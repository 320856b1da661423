#!/usr/bin/python3
"""
Shadow mode benchmark: local produce rate (Kafka clients -> pg_kafka) next
to mirror throughput and commit-to-external-ack lag (pg_kafka_shadow ->
librdkafka's mock cluster).

    /usr/bin/python3 shadow/bench_shadow.py [RECORDS] [VALUE_BYTES] [RATE]

RATE (records/s, default 0 = as fast as the broker takes them) paces the
producer, to see the lag of a mirror that keeps up rather than one that
catches up.

Uses the e2e fixtures (a throwaway PostgreSQL 15, the broker from
PGK_BROKER, default build/rel/pg_kafka) and build/rel/{pg_kafka_shadow,
mock_cluster}. Prints one line of numbers; docs/SHADOW.md keeps a copy.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("PGK_BROKER", str(REPO / "build" / "rel" / "pg_kafka"))
sys.path.insert(0, str(REPO / "e2e"))

from confluent_kafka import Producer  # noqa: E402

import conftest  # noqa: E402
from test_shadow import MockCluster, Shadow  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 100
RATE = int(sys.argv[3]) if len(sys.argv) > 3 else 0
PARTS = 8


def main():
    work = Path(tempfile.mkdtemp(prefix="pgk-shadow-bench-"))
    pg = conftest._new_pg()
    broker = conftest.Broker(pg, work)
    broker.start()
    mock = MockCluster()
    shadow = None
    try:
        pg.sql("SELECT kafka.create_topic('bench', %d)" % PARTS)
        mock.command("topic bench %d" % PARTS)
        mock.command("topic __pg_kafka_shadow 1")
        shadow = Shadow(pg, mock, work, "bench_slot", "--status-interval-ms", "1000")
        shadow.start()
        conftest.wait_for(lambda: "streaming slot" in shadow.log(), 30, "the forwarder")

        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5,
                      "acks": "all", "batch.num.messages": 10000,
                      "queue.buffering.max.messages": 1000000})
        value = b"x" * SIZE
        t0 = time.monotonic()
        for i in range(N):
            while True:
                try:
                    p.produce("bench", value, key=b"k%d" % i, partition=i % PARTS)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 1000 == 0:
                p.poll(0)
                if RATE:
                    ahead = i / RATE - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
        p.flush(300)
        local_s = time.monotonic() - t0

        def done():
            m = re.findall(r"forwarded=(\d+) ", shadow.log())
            return m and int(m[-1]) >= N
        conftest.wait_for(done, 300, "the mirror to catch up", interval=0.5)
        mirror_s = time.monotonic() - t0
        shadow.stop()
        last = [l for l in shadow.log().splitlines() if "status confirmed_lsn" in l][-1]
        rate = re.search(r"rate=(\d+)/s", last).group(1)
        p50 = re.search(r"txn_lag_ms_p50=(-?\d+)", last).group(1)
        p99 = re.search(r"txn_lag_ms_p99=(-?\d+)", last).group(1)
        print("records=%d value_bytes=%d partitions=%d paced=%s local_produce=%.0f rec/s "
              "mirror=%s rec/s (end to end %.1f s) commit_to_external_ack p50=%s ms p99=%s ms"
              % (N, SIZE, PARTS, RATE or "no", N / local_s, rate, mirror_s, p50, p99))
    finally:
        if shadow and shadow.proc.poll() is None:
            shadow.kill()
        mock.stop()
        broker.stop()
        pg.destroy()


if __name__ == "__main__":
    main()
