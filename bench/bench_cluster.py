#!/usr/bin/python3
"""
Several brokers on one database: produce and consume throughput with 1, 2
and 3 brokers (same machine, same PostgreSQL), and how long producers wait
after the broker leading some of their partitions is killed.

    /usr/bin/python3 bench/bench_cluster.py [RECORDS] [VALUE_BYTES]

Uses the e2e fixtures (a throwaway PostgreSQL 15, the broker from
PGK_BROKER, default build/rel/pg_kafka). Brokers are members of one cluster
(node.id 1, 2, 3; broker.session.timeout.ms 3000); each round adds one and
waits until every broker reports them all. Throughput: one producer
(acks=all) and one consumer bootstrapped to every live broker, 12
partitions. Recovery: a producer sends a record to every partition every
10 ms; the broker with the highest node id is SIGKILLed, and the time is
from the kill until every partition has an acknowledged record sent after
it. Prints a Markdown table; docs/BENCHMARKS.md keeps a copy.
"""

import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("PGK_BROKER", str(REPO / "build" / "rel" / "pg_kafka"))
sys.path.insert(0, str(REPO / "e2e"))

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

import conftest  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 100
PARTS = 12
SESSION_MS = 3000


def member(pg, work, node_id):
    b = conftest.Broker(pg, work, ["--node-id", str(node_id),
                                   "--broker-session-timeout-ms", str(SESSION_MS),
                                   "--log-level", "warn"])
    b.start()
    return b


def bootstrap(brokers):
    return ",".join(b.bootstrap for b in brokers)


def wait_cluster(brokers):
    """Until every broker's Metadata lists them all and leads every
    partition of the topics through one of them."""
    want = len(brokers)

    def seen():
        for b in brokers:
            md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10)
            if len(md.brokers) != want:
                return False
        return True
    conftest.wait_for(seen, 60, "%d brokers in every broker's Metadata" % want, interval=0.2)


def produce(brokers, topic):
    p = Producer({"bootstrap.servers": bootstrap(brokers), "acks": "all", "linger.ms": 5,
                  "batch.num.messages": 10000, "queue.buffering.max.messages": 2000000,
                  "enable.idempotence": False})
    value = b"x" * SIZE
    t0 = time.monotonic()
    for i in range(N):
        while True:
            try:
                p.produce(topic, value, partition=i % PARTS)
                break
            except BufferError:
                p.poll(0.01)
        if i % 10000 == 0:
            p.poll(0)
    left = p.flush(120)
    assert left == 0, "%d records not acknowledged" % left
    return N / (time.monotonic() - t0)


def consume(brokers, topic):
    c = Consumer({"bootstrap.servers": bootstrap(brokers), "group.id": "bench-cluster",
                  "enable.auto.commit": False, "fetch.max.bytes": 52428800,
                  "max.partition.fetch.bytes": 4194304})
    c.assign([TopicPartition(topic, p, 0) for p in range(PARTS)])
    got, t0 = 0, time.monotonic()
    try:
        while got < N:
            assert time.monotonic() - t0 < 300, "consume timed out at %d" % got
            got += sum(1 for m in c.consume(10000, 1.0) if not m.error())
        return N / (time.monotonic() - t0)
    finally:
        c.close()


def recovery(pg, brokers):
    """Seconds from a SIGKILL of the last broker until every partition has
    an acknowledged record produced after the kill."""
    topic = "bench-cluster-recovery"
    pg.sql("SELECT kafka.create_topic('%s', %d)" % (topic, PARTS))
    wait_cluster(brokers)
    acked_after = {}
    kill_at = [None]
    lock = threading.Lock()

    def on_delivery(err, msg):
        if err is None and kill_at[0] is not None:
            sent = float(msg.value())
            if sent > kill_at[0]:
                with lock:
                    acked_after.setdefault(msg.partition(), time.monotonic())

    p = Producer({"bootstrap.servers": bootstrap(brokers), "acks": "all", "linger.ms": 0,
                  "enable.idempotence": True, "message.timeout.ms": 60000})
    stop = threading.Event()

    def sender():
        while not stop.is_set():
            now = b"%.6f" % time.monotonic()
            for part in range(PARTS):
                p.produce(topic, now, partition=part, on_delivery=on_delivery)
            p.poll(0.01)

    t = threading.Thread(target=sender)
    t.start()
    try:
        time.sleep(2)  # two seconds of steady traffic before the kill
        victim = brokers[-1]
        kill_at[0] = time.monotonic()
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        conftest.wait_for(lambda: len(acked_after) == PARTS, 60,
                          "every partition acknowledged after the kill", interval=0.05)
        return max(acked_after.values()) - kill_at[0]
    finally:
        stop.set()
        t.join()
        p.flush(30)


def main():
    work = Path(tempfile.mkdtemp(prefix="pgk-cluster-bench-"))
    pg = conftest._new_pg()
    brokers = []
    rows = []
    try:
        for n in (1, 2, 3):
            brokers.append(member(pg, work, n))
            topic = "bench-cluster-%d" % n
            pg.sql("SELECT kafka.create_topic('%s', %d)" % (topic, PARTS))
            wait_cluster(brokers)
            prate = produce(brokers, topic)
            crate = consume(brokers, topic)
            rows.append((n, prate, crate))
            print("bench-cluster: %d broker(s): produce %.0f msgs/s, consume %.0f msgs/s"
                  % (n, prate, crate), file=sys.stderr)
        rec = recovery(pg, brokers)
        print("| brokers | produce msgs/s | consume msgs/s |")
        print("|---:|---:|---:|")
        for n, prate, crate in rows:
            print("| %d | %.0f | %.0f |" % (n, prate, crate))
        print()
        print("%d x %d B, %d partitions, one producer (acks=all) and one consumer; recovery"
              " after a SIGKILL of one of 3 brokers (broker.session.timeout.ms %d):"
              " %.1f s until every partition acknowledged again"
              % (N, SIZE, PARTS, SESSION_MS, rec))
    finally:
        for b in brokers:
            if b.proc and b.proc.poll() is None:
                b.stop()
        pg.destroy()


if __name__ == "__main__":
    main()
