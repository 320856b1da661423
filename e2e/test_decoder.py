"""
The decoding stream end to end: records written with kafka.produce() in an
application's transaction reach Kafka consumers exactly when it commits; a
record produced through one broker wakes a long-polling fetch waiting on
another broker of the same database; pg_recvlogical replays a named slot with
format=json after the broker restarted; and a latency probe that reports
produce-to-consume latency for single records (it asserts only that every
record arrives).
"""

import json
import re
import subprocess
import time

import pytest

from conftest import PGBIN, sql_literal, unique, wait_for

# A long poll that outlasts every wait in these tests: a record that reaches a
# parked consumer before its fetch expired proves the fetch was woken.
LONG_POLL_MS = 40000


def kcat(*args, timeout=60):
    res = subprocess.run(["kcat", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=timeout)
    assert res.returncode == 0, "kcat %s failed (%d): %s" % (
        " ".join(map(str, args)), res.returncode, res.stderr.decode(errors="replace"))
    return res.stdout.decode()


def create_topic(pg, partitions=1):
    name = unique("dec")
    pg.sql("SELECT kafka.create_topic(%s, %d)" % (sql_literal(name), partitions))
    return name


def wait_streaming(broker, timeout=30):
    """Wait until the broker's wake-up stream is up (its log says so)."""
    wait_for(lambda: "stream: streaming" in broker.log_text(), timeout,
             "the wake-up stream of %s to start" % broker.bootstrap)


def parked_fetches(broker, client_id, topic):
    """How many fetches of client_id on partition 0 of topic the broker has
    parked so far: it logs (at debug level) each fetch that starts to wait."""
    pattern = r"fetch: client %s waits up to \d+ ms on 1 partitions, first %s-0\b" % (
        re.escape(client_id), re.escape(topic))
    return len(re.findall(pattern, broker.log_text()))


def wait_parked(broker, client_id, topic, count=1, timeout=30):
    """Wait until the broker has parked `count` fetches of client_id on the
    topic, the last of them waiting now for a record to arrive."""
    wait_for(lambda: parked_fetches(broker, client_id, topic) >= count, timeout,
             "%d fetches of %s on %s to wait in the broker" % (count, client_id, topic))


def assert_never_expired(broker, client_id):
    """No fetch of client_id ran out its max_wait_ms: every answer it got was
    a wake-up by a record."""
    assert "fetch: client %s: max_wait_ms passed" % client_id not in broker.log_text()


def long_poll_consumer(kafka_helper, topic, client_id, wait_ms=LONG_POLL_MS):
    """A consumer assigned to partition 0 from the beginning whose fetches
    wait up to wait_ms for data."""
    from confluent_kafka import TopicPartition
    c = kafka_helper.consumer(**{"fetch.wait.max.ms": wait_ms, "fetch.min.bytes": 1,
                                 "socket.timeout.ms": max(wait_ms + 20000, 60000),
                                 "client.id": client_id})
    c.assign([TopicPartition(topic, 0, 0)])
    return c


def poll_one(consumer, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = consumer.poll(0.02)
        if msg is None:
            continue
        assert not msg.error(), "consumer error: %s" % msg.error()
        return msg
    return None


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


# --------------------------------------------------------------------------


def test_sql_produce_commit_reaches_kcat_rollback_never(kafka, broker, pg):
    topic = create_topic(pg)
    # A consumer already waiting when the transactions run: its fetch is
    # parked in the broker (the broker's log says so) before the first commit,
    # and it waits longer than this test, so each record it gets woke it.
    cid = unique("kcat")
    consumer = subprocess.Popen(
        ["kcat", "-C", "-b", kafka.bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
         "-X", "client.id=" + cid, "-X", "fetch.wait.max.ms=%d" % LONG_POLL_MS,
         "-X", "socket.timeout.ms=%d" % (LONG_POLL_MS + 20000),
         "-c", "2", "-q", "-f", r"%k|%s|%h|%o\n"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_parked(broker, cid, topic)
        t = sql_literal(topic)
        pg.sql("BEGIN; SELECT kafka.produce(%s, 'k1', 'committed-1', '{\"trace\": \"abc\"}');"
               " COMMIT;" % t)
        pg.sql("BEGIN; SELECT kafka.produce(%s, 'k2', 'rolled-back'); ROLLBACK;" % t)
        # The outbox pattern: the record and the application's own row in one transaction.
        pg.sql("BEGIN; CREATE TEMP TABLE orders (id int); INSERT INTO orders VALUES (1);"
               " SELECT kafka.produce(%s, 'k3', 'committed-2'); COMMIT;" % t)
        out, err = consumer.communicate(timeout=30)
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
    assert consumer.returncode == 0, err.decode(errors="replace")
    assert out.decode().splitlines() == ["k1|committed-1|trace=abc|0", "k3|committed-2||1"]
    assert_never_expired(broker, cid)

    # Read again from the beginning: the rolled-back record is not there,
    # and it did not use up an offset.
    rows = kcat("-C", "-b", kafka.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                "-f", r"%s|%o\n").splitlines()
    assert rows == ["committed-1|0", "committed-2|1"]
    assert kafka.watermarks(topic) == (0, 2)


def test_sql_produce_keyed_record_goes_where_the_java_client_would(kafka, pg):
    topic = create_topic(pg, partitions=6)
    keys = [b"user-%d" % i for i in range(30)]
    for k in keys:
        pg.sql("SELECT kafka.produce(%s, %s, 'v')" % (sql_literal(topic), sql_literal(k.decode())))
    # librdkafka's murmur2_random partitioner is the Java client's default.
    p = kafka.producer(partitioner="murmur2_random")
    placed = {}

    def on_delivery(err, msg):
        assert err is None
        placed[msg.key()] = msg.partition()

    for k in keys:
        p.produce(topic, key=k, value=b"java", on_delivery=on_delivery)
    assert p.flush(30) == 0
    rows = pg.rows("SELECT convert_from(key, 'UTF8'), partition FROM kafka.records"
                   " WHERE topic = %s AND value = 'v'" % sql_literal(topic))
    assert {k.encode(): int(part) for k, part in rows} == placed
    assert len(set(placed.values())) > 1


def test_produce_on_one_broker_wakes_fetch_on_another(pg, kafka, make_broker):
    """A fetch long-polling on broker B is answered as soon as a record is
    committed through broker A, or through SQL: each record reaches the
    consumer while its fetch is parked, and no fetch ever runs out its
    max_wait_ms (which is longer than the test)."""
    from conftest import Kafka
    a = make_broker(pg)
    b = make_broker(pg)
    wait_streaming(b)
    ka, kb = Kafka(a), Kafka(b)
    topic = create_topic(pg)
    cid = unique("long-poll")
    consumer = long_poll_consumer(kb, topic, cid)
    producer = ka.producer(acks="all", **{"linger.ms": 0})
    try:
        for i in range(5):
            wait_parked(b, cid, topic, i + 1)
            producer.produce(topic, key=b"k", value=b"via-a-%d" % i, partition=0)
            assert producer.flush(10) == 0
            msg = poll_one(consumer, 30)
            assert msg is not None and msg.value() == b"via-a-%d" % i, \
                "record %d did not reach the consumer on the other broker" % i
        wait_parked(b, cid, topic, 6)
        pg.sql("SELECT kafka.produce(%s, 'k', 'via-sql', partition => 0)" % sql_literal(topic))
        msg = poll_one(consumer, 30)
        assert msg is not None and msg.value() == b"via-sql"
        assert_never_expired(b, cid)
    finally:
        consumer.close()


def test_stream_reconnects_after_losing_its_walsender(pg, make_broker):
    """Killing the broker's walsender costs one log line; the broker opens a
    new temporary slot by itself and wake-ups work again."""
    from conftest import Kafka, wait_for
    b = make_broker(pg)
    wait_streaming(b)
    slot_prefix = "pg_kafka_wake_1_%d_" % b.proc.pid
    killed = pg.sql("SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots"
                    " WHERE slot_name LIKE %s AND active" % sql_literal(slot_prefix + "%"))
    assert killed == "1"
    wait_for(lambda: "stream: streaming again" in b.log_text(), 30, "the stream to come back")
    assert b.log_text().count("WARN stream:") == 1, b.log_text()[-3000:]
    # The old slot went with its connection; the new one is there.
    slots = pg.sql("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s"
                   % sql_literal(slot_prefix + "%")).split()
    assert len(slots) == 1 and not slots[0].endswith("_1"), slots

    topic = create_topic(pg)
    cid = unique("after-reconnect")
    consumer = long_poll_consumer(Kafka(b), topic, cid)
    try:
        wait_parked(b, cid, topic)
        pg.sql("SELECT kafka.produce(%s, 'k', 'after-reconnect', partition => 0)"
               % sql_literal(topic))
        msg = poll_one(consumer, 30)
        assert msg is not None and msg.value() == b"after-reconnect"
        assert_never_expired(b, cid)  # woken, not answered by expiry
    finally:
        consumer.close()


def pg_recvlogical(pg, slot, endpos, *options):
    args = [str(PGBIN / "pg_recvlogical"), "-h", "127.0.0.1", "-p", str(pg.port),
            "-U", "postgres", "-d", "pg_kafka", "--slot", slot, "--start",
            "--endpos", endpos, "--no-loop", "-f", "-"]
    for o in options:
        args += ["-o", o]
    res = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 0, "pg_recvlogical failed (%d): %s" % (
        res.returncode, res.stderr.decode(errors="replace"))
    return [json.loads(line) for line in res.stdout.decode().splitlines() if line.strip()]


def test_replay_slot_with_pg_recvlogical_after_broker_restart(pg, make_broker):
    from conftest import Kafka
    slot = "replay_" + unique("s").replace("-", "_")
    topic = create_topic(pg)
    t = sql_literal(topic)
    pg.sql("SELECT kafka.create_replay_slot(%s)" % sql_literal(slot))
    try:
        b = make_broker(pg)
        Kafka(b).produce(topic, [(b"k%d" % i, b"before-%d" % i) for i in range(3)], acks="all")
        b.restart()
        Kafka(b).produce(topic, [(b"k%d" % i, b"after-%d" % i) for i in range(3, 5)], acks="all")
        pg.sql("SELECT kafka.produce(%s, 'k5', 'from-sql', '[[\"h\", \"1\"]]', 0)" % t)
        pg.sql("BEGIN; SELECT kafka.produce(%s, 'k6', 'rolled-back', partition => 0);"
               " ROLLBACK;" % t)

        endpos = pg.sql("SELECT pg_current_wal_lsn()")
        got = pg_recvlogical(pg, slot, endpos, "format=json", "bytes=text", "topics=" + topic)
        assert [(r["offset"], r["key"], r["value"]) for r in got] == [
            (0, "k0", "before-0"), (1, "k1", "before-1"), (2, "k2", "before-2"),
            (3, "k3", "after-3"), (4, "k4", "after-4"), (5, "k5", "from-sql")]
        assert all(r["topic"] == topic and r["partition"] == 0 for r in got)
        assert got[5]["headers"] == [{"key": "h", "value": "1"}]
        assert all(r["timestamp"] > 1.6e12 and "/" in r["lsn"] for r in got)

        # Consumed and confirmed: the slot moved past them.
        pg.sql("SELECT kafka.produce(%s, 'k7', 'later', partition => 0)" % t)
        endpos = pg.sql("SELECT pg_current_wal_lsn()")
        got = pg_recvlogical(pg, slot, endpos, "format=json", "topics=" + topic)
        assert [(r["offset"], r["value"]) for r in got] == [(6, "bGF0ZXI=")]  # base64 "later"
    finally:
        pg.sql("SELECT kafka.drop_replay_slot(%s)" % sql_literal(slot))


def test_latency_probe(pg, kafka, make_broker, capsys):
    """Single records, acks=all, fetch.wait.max.ms=500: report p50/p99 of
    the time from produce() to the consumer receiving the record, with the
    consumer on the producing broker and on a second broker (woken by the
    decoding stream). Only correctness is asserted."""
    from conftest import Kafka
    other = make_broker(pg)
    wait_streaming(other)
    n = 100
    report = []
    for label, consumer_side in (("same broker", kafka), ("other broker", Kafka(other))):
        topic = create_topic(pg)
        consumer = long_poll_consumer(consumer_side, topic, unique("probe"), 500)
        producer = kafka.producer(acks="all", **{"linger.ms": 0})
        latencies = []
        try:
            poll_one(consumer, 1.0)
            # Record 0 warms up connections and metadata; it is not counted.
            for i in range(n + 1):
                value = b"probe-%d" % i
                t0 = time.monotonic()
                producer.produce(topic, value=value, partition=0)
                assert producer.flush(10) == 0
                msg = poll_one(consumer, 10)
                assert msg is not None and msg.value() == value and msg.offset() == i, \
                    "record %d did not arrive in order" % i
                if i > 0:
                    latencies.append((time.monotonic() - t0) * 1000)
        finally:
            consumer.close()
        report.append("latency probe (%s, %d records, acks=all, fetch.wait.max.ms=500): "
                      "p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (
                          label, n, percentile(latencies, 50), percentile(latencies, 99),
                          max(latencies)))
    with capsys.disabled():
        print()
        for line in report:
            print(line)
