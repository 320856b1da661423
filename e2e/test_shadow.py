"""
Shadow mode (docs/SHADOW.md): pg_kafka_shadow mirrors every record to an
external Kafka cluster, here librdkafka's mock cluster (shadow/mock_cluster).

The main test writes 100,000 records into 8 partitions from SQL while the
forwarder is killed with SIGKILL three times (each once the mirror has made
some progress) and the external cluster is taken down and brought back; afterwards the external cluster must hold
every record exactly once, in local offset order per partition, with the
same key, value, headers and timestamp.
"""

import os
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from conftest import BROKER_BIN, SANITIZER_RE, free_port, tail, unique, wait_for
from test_tls import certs  # noqa: F401  (fixture)

BIN_DIR = Path(os.environ.get("PGK_SHADOW_DIR", BROKER_BIN.parent))
SHADOW_BIN = BIN_DIR / "pg_kafka_shadow"
MOCK_BIN = BIN_DIR / "mock_cluster"
ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}

NRECORDS = 100_000
NPARTS = 8
BATCH = 2_000


class MockCluster:
    def __init__(self, brokers=3):
        self.proc = subprocess.Popen([str(MOCK_BIN), str(brokers)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=dict(os.environ, **ENV))
        self.bootstrap = self.proc.stdout.readline().decode().strip()
        assert self.bootstrap, "mock_cluster printed no bootstrap address"

    def command(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode().strip()
        assert answer == "ok", "mock_cluster %r: %r" % (line, answer)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


class Shadow:
    def __init__(self, pg, mock, workdir, slot, *extra):
        self.args = [str(SHADOW_BIN), "--pg", pg.conninfo, "--slot", slot,
                     "--bootstrap", mock.bootstrap, "--status-interval-ms", "1000",
                     *extra]
        self.workdir = Path(workdir)
        self.slot = slot
        self.launches = 0
        self.proc = None
        self.logs = []

    def start(self):
        self.launches += 1
        path = self.workdir / ("shadow-%s-%d.log" % (self.slot, self.launches))
        self.logs.append(path)
        with open(path, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, env=dict(os.environ, **ENV))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        assert rc == 0, "forwarder exited %s:\n%s" % (rc, tail(self.logs[-1]))

    def log(self):
        return "".join(p.read_bytes().decode("utf-8", "replace") for p in self.logs)

    def check_sanitizer(self):
        m = SANITIZER_RE.search(self.log())
        assert not m, "sanitizer report in forwarder log:\n" + self.log()[m.start() - 300:][:6000]


def external_records(bootstrap, topic, partitions, expect=None, timeout=60):
    """Every record of the external topic, per partition, read to its high
    watermark (waiting until it reaches expect[p] when given)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("check"),
                  "enable.auto.commit": False, "enable.partition.eof": False})
    try:
        deadline = time.monotonic() + timeout
        highs = {}
        for p in range(partitions):
            def high():
                hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                if expect is None or hi >= expect[p] or time.monotonic() > deadline:
                    return (hi,)
                return None
            highs[p] = wait_for(high, timeout + 30, "the external high watermark",
                                interval=0.2)[0]
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        out = {p: [] for p in range(partitions)}
        while any(len(out[p]) < highs[p] for p in out):
            assert time.monotonic() < deadline, "reading the external cluster timed out"
            for m in c.consume(1000, 1.0):
                assert not m.error(), m.error()
                out[m.partition()].append(
                    (m.offset(), m.key(), m.value(), m.headers() or [], m.timestamp()[1]))
        return out
    finally:
        c.close()


def local_records(pg, topic):
    rows = pg.rows("SELECT partition, \"offset\", coalesce(encode(key, 'hex'), 'NULL'), "
                   "encode(value, 'hex'), (extract(epoch FROM \"timestamp\") * 1000)::bigint "
                   "FROM kafka.records WHERE topic = '%s' ORDER BY partition, \"offset\"" % topic)
    out = {}
    for p, o, k, v, ts in rows:
        out.setdefault(int(p), []).append(
            (int(o), None if k == "NULL" else bytes.fromhex(k), bytes.fromhex(v), int(ts)))
    return out


def produce_sql(pg, topic, first, last):
    """Records first..last: key k<i> (null when i % 7 == 0), value v<i>,
    header h=x<i> when i % 10 == 0, partition i % 8, timestamp 2024-01-01 + i ms."""
    pg.sql("SELECT count(kafka.produce('%s', "
           "CASE WHEN i %% 7 = 0 THEN NULL ELSE convert_to('k' || i, 'UTF8') END, "
           "convert_to('v' || i, 'UTF8'), "
           "CASE WHEN i %% 10 = 0 THEN jsonb_build_object('h', 'x' || i) END, "
           "i %% %d, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 millisecond')) "
           "FROM generate_series(%d, %d) i" % (topic, NPARTS, first, last))


def mirrored_topic(pg, mock, prefix, partitions, ext=None):
    """A new local topic, its external twin (named ext, or the same) and the
    forwarder's checkpoint topic on the mock cluster; returns (topic, slot)."""
    topic = unique(prefix)
    slot = prefix + "_" + topic.split("-")[1]
    # Kept forever: the records carry 2024 timestamps, and a broker's
    # storage job on this shared database would expire them under the
    # default retention.ms (7 days) in the middle of a test.
    pg.sql("SELECT kafka.create_topic('%s', %d, '{\"retention.ms\": \"-1\"}')"
           % (topic, partitions))
    mock.command("topic %s %d" % (ext(topic) if ext else topic, partitions))
    mock.command("topic __pg_kafka_shadow 1")
    return topic, slot


@pytest.fixture
def mock():
    m = MockCluster()
    yield m
    m.stop()


def listen_addresses(port):
    """The IPv4 addresses with a socket listening on port (/proc/net/tcp)."""
    out = []
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                out.append(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


@pytest.mark.e2e_timeout(240)
def test_mirror_survives_kills_and_outage(pg, mock, workdir):
    topic, slot = mirrored_topic(pg, mock, "shadow", NPARTS, ext=lambda t: t + ".ext")
    ext = topic + ".ext"

    metrics_port = free_port()
    # A port alone: the metrics endpoint listens on loopback only.
    shadow = Shadow(pg, mock, workdir, slot, "--include", topic,
                    "--topic-map", "%s:%s" % (topic, ext),
                    "--metrics-listen", str(metrics_port))
    shadow.start()
    try:
        wait_for(lambda: "streaming slot" in shadow.log(), 30, "the forwarder to stream")
        assert "metrics on http://127.0.0.1:%d/metrics" % metrics_port in shadow.log()
        assert listen_addresses(metrics_port) == ["127.0.0.1"]

        errors = []

        def writer():
            try:
                for first in range(0, NRECORDS, BATCH):
                    produce_sql(pg, topic, first, first + BATCH - 1)
            except Exception as e:  # reported by the main thread
                errors.append(e)

        t = threading.Thread(target=writer)
        t.start()

        def local_count():
            return int(pg.sql("SELECT count(*) FROM kafka.records WHERE topic = '%s'" % topic))

        watcher = Consumer({"bootstrap.servers": mock.bootstrap, "group.id": unique("watch")})

        def forwarded():
            try:
                return sum(watcher.get_watermark_offsets(TopicPartition(ext, p), timeout=5)[1]
                           for p in range(NPARTS))
            except Exception:  # the external cluster is down: no progress to see
                return 0

        # three SIGKILLs while records flow, each once the mirror has made
        # progress, and an external outage in between during which
        # PostgreSQL keeps taking records
        try:
            for kill in range(3):
                goal = (kill + 1) * NRECORDS // 5
                wait_for(lambda: forwarded() >= goal, 120, "%d records forwarded" % goal,
                         interval=0.02)
                shadow.kill()
                shadow.start()
                if kill == 1:
                    wait_for(lambda: shadow.log().count("streaming slot") == shadow.launches,
                             60, "the restarted forwarder to stream")
                    mock.command("downall")
                    during = local_count()
                    wait_for(lambda: local_count() >= during + BATCH or not t.is_alive(), 60,
                             "records written during the outage")
                    mock.command("upall")
        finally:
            watcher.close()
        t.join(180)
        assert not t.is_alive() and not errors, errors

        local = local_records(pg, topic)
        assert sum(len(v) for v in local.values()) == NRECORDS
        expect = {p: len(local.get(p, [])) for p in range(NPARTS)}
        got = external_records(mock.bootstrap, ext, NPARTS, expect, timeout=120)

        for p in range(NPARTS):
            loc = local.get(p, [])
            remote = got[p]
            # exactly once: no duplicate, nothing missing
            assert len(remote) == len(loc), "partition %d: %d external, %d local\n%s" % (
                p, len(remote), len(loc), tail(shadow.logs[-1]))
            for (lo, lk, lv, lts), (eo, ek, ev, eh, ets) in zip(loc, remote):
                assert (ek, ev, ets) == (lk, lv, lts), "partition %d local offset %d" % (p, lo)
                i = int(lv[1:])
                want = [("h", b"x%d" % i)] if i % 10 == 0 else []
                assert eh == want, "headers of local offset %d" % lo
                assert eo == lo  # a topic mirrored from its start keeps offsets

        # the status in SQL catches up to the end (lag zero)
        def caught_up():
            rows = pg.rows("SELECT partition, local_offset, lag_records FROM "
                           "kafka.shadow_partitions WHERE slot = '%s'" % slot)
            return len(rows) == NPARTS and all(
                int(r[1]) == expect[int(r[0])] - 1 and int(r[2]) == 0 for r in rows)
        wait_for(caught_up, 30, "kafka.shadow_partitions to show lag 0")
        assert "status %s[0]" % topic in shadow.log()
        # the Prometheus endpoint has the same numbers
        def metrics_caught_up():
            text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port,
                                          timeout=10).read().decode()
            for p in range(NPARTS):
                labels = '{topic="%s",partition="%d",external_topic="%s"}' % (topic, p, ext)
                if "pg_kafka_shadow_lag_records%s 0\n" % labels not in text or \
                        "pg_kafka_shadow_local_offset%s %d\n" % (labels, expect[p] - 1) not in text:
                    return None
            return text
        text = wait_for(metrics_caught_up, 30, "/metrics to show lag 0 on every partition")
        assert "pg_kafka_shadow_forwarded_total " in text
        shadow.stop()
        assert shadow.log().count("created slot") == 1
        shadow.check_sanitizer()
    finally:
        if shadow.proc.poll() is None:
            shadow.kill()
        pg.sql("SELECT pg_drop_replication_slot('%s') FROM pg_replication_slots "
               "WHERE slot_name = '%s'" % (slot, slot))


def test_help_and_bad_config():
    out = subprocess.run([str(SHADOW_BIN), "--help"], stdout=subprocess.PIPE,
                         env=dict(os.environ, **ENV), timeout=30)
    assert out.returncode == 0
    text = out.stdout.decode()
    for word in ("--slot", "--bootstrap", "--kafka-prop", "topic.map", "SHADOW_PG"):
        assert word in text
    bad = subprocess.run([str(SHADOW_BIN), "--dedup", "maybe", "--bootstrap", "x:1"],
                         stderr=subprocess.PIPE, env=dict(os.environ, **ENV), timeout=30)
    assert bad.returncode == 2 and b"dedup" in bad.stderr


def consume_values(consumer, count, timeout=60):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        assert time.monotonic() < deadline, "consumed %d of %d" % (len(out), count)
        for m in consumer.consume(min(500, count - len(out)), 1.0):
            assert not m.error(), m.error()
            out.append(m.value().decode())
    return out


@pytest.mark.e2e_timeout(180)
def test_cutover_consumer_group(kafka, mock, workdir):
    """A group consumes part of a topic on pg_kafka and commits; records keep
    coming; after --cutover the same group on the external cluster resumes
    exactly at the next record: no gap, no duplicate."""
    pg = kafka.pg
    topic, slot = mirrored_topic(pg, mock, "cut", 2)
    group = unique("cutgroup")

    def produce(first, last):
        pg.sql("SELECT count(kafka.produce('%s', NULL::bytea, convert_to('c' || i, 'UTF8'), "
               "NULL, i %% 2)) FROM generate_series(%d, %d) i" % (topic, first, last))

    shadow = Shadow(pg, mock, workdir, slot, "--include", topic)
    shadow.start()
    try:
        wait_for(lambda: "streaming slot" in shadow.log(), 30, "the forwarder to stream")
        produce(0, 999)

        # on pg_kafka: read 600, commit, leave
        c = kafka.consumer(**{"group.id": group, "enable.auto.offset.store": True})
        c.subscribe([topic])
        before = consume_values(c, 600)
        c.commit(asynchronous=False)
        c.close()

        produce(1000, 1499)  # the stream goes on
        wait_for(lambda: pg.sql("SELECT kafka.shadow_ready('%s', '%s')" % (slot, topic)) == "t",
                 60, "the topic to be ready for cutover")

        base = [str(SHADOW_BIN), "--pg", pg.conninfo, "--slot", slot,
                "--bootstrap", mock.bootstrap]
        status = subprocess.run(base + ["--cutover-status", group], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(os.environ, **ENV), timeout=60)
        assert status.returncode == 0, status.stdout.decode() + status.stderr.decode()
        assert b"group ready for cutover" in status.stdout
        cut = subprocess.run(base + ["--cutover", group], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=dict(os.environ, **ENV), timeout=60)
        assert cut.returncode == 0, cut.stdout.decode() + cut.stderr.decode()
        assert b"committed 2 offsets" in cut.stdout

        produce(1500, 1999)  # and after the cutover

        # on the external cluster: the same group resumes where it stopped
        e = Consumer({"bootstrap.servers": mock.bootstrap, "group.id": group,
                      "enable.auto.commit": False, "auto.offset.reset": "latest"})
        e.subscribe([topic])
        after = consume_values(e, 2000 - 600)
        extra = e.consume(100, 2.0)
        e.close()
        assert not extra, "more records than expected after the cutover"
        everything = before + after
        assert len(everything) == len(set(everything)) == 2000
        assert set(everything) == {"c%d" % i for i in range(2000)}
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        if shadow.proc.poll() is None:
            shadow.kill()
        pg.sql("SELECT pg_drop_replication_slot('%s') FROM pg_replication_slots "
               "WHERE slot_name = '%s'" % (slot, slot))


@pytest.mark.e2e_timeout(120)
def test_history_then_mirror_then_replay(pg, mock, workdir):
    """Records written before shadow mode are copied by the forwarder's
    first start, then it mirrors the rest; the external topic ends with
    every record once, in offset order, with the same timestamps and
    headers. --replay, run afterwards, finds everything there."""
    topic, slot = mirrored_topic(pg, mock, "hist", 2)

    def produce(first, last):
        pg.sql("SELECT count(kafka.produce('%s', convert_to('k' || i, 'UTF8'), "
               "convert_to('h' || i, 'UTF8'), CASE WHEN i %% 3 = 0 THEN "
               "jsonb_build_object('n', i::text) END, i %% 2, "
               "timestamptz '2023-06-01 00:00:00+00' + i * interval '1 second')) "
               "FROM generate_series(%d, %d) i" % (topic, first, last))

    produce(0, 299)  # history
    base = [str(SHADOW_BIN), "--pg", pg.conninfo, "--slot", slot, "--bootstrap", mock.bootstrap]
    shadow = Shadow(pg, mock, workdir, slot, "--include", topic)
    shadow.start()
    try:
        wait_for(lambda: "streaming slot" in shadow.log(), 30, "the forwarder to stream")
        produce(300, 499)
        local = local_records(pg, topic)
        expect = {p: len(local[p]) for p in range(2)}
        got = external_records(mock.bootstrap, topic, 2, expect)
        for p in range(2):
            assert [(o, k, v, ts) for o, k, v, ts in local[p]] == \
                [(o, k, v, ts) for o, k, v, _h, ts in got[p]]
            for (_, _k, v, h, _ts) in got[p]:
                i = int(v[1:])
                assert h == ([("n", str(i).encode())] if i % 3 == 0 else [])
        shadow.stop()
        shadow.check_sanitizer()
        for start in ("earliest", "@2023-06-01 00:02:00+00"):
            r = subprocess.run(base + ["--replay", topic, "--replay-from", start],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=dict(os.environ, **ENV), timeout=60)
            assert r.returncode == 0 and b"replay done" in r.stdout, r.stdout + r.stderr
            assert r.stderr.count(b" 0 records sent") == 2, r.stderr
            assert not SANITIZER_RE.search(r.stderr.decode(errors="replace"))
    finally:
        if shadow.proc.poll() is None:
            shadow.kill()
        pg.sql("SELECT pg_drop_replication_slot('%s') FROM pg_replication_slots "
               "WHERE slot_name = '%s'" % (slot, slot))


@pytest.mark.e2e_timeout(120)
def test_postgres_restart(fresh_pg, mock, workdir):
    """PostgreSQL restarts under the forwarder: it reconnects, resumes from
    its slot, and the external topic has every record once."""
    pg = fresh_pg
    topic, slot = mirrored_topic(pg, mock, "pgr", 3)

    def produce(first, last):
        pg.sql("SELECT count(kafka.produce('%s', NULL::bytea, convert_to('r' || i, 'UTF8'), "
               "NULL, i %% 3)) FROM generate_series(%d, %d) i" % (topic, first, last))

    shadow = Shadow(pg, mock, workdir, slot, "--include", topic)
    shadow.start()
    try:
        wait_for(lambda: "streaming slot" in shadow.log(), 30, "the forwarder to stream")
        produce(0, 4999)
        pg.restart()
        produce(5000, 9999)
        wait_for(lambda: shadow.log().count("streaming slot") >= 2, 30, "a reconnect")
        local = local_records(pg, topic)
        expect = {p: len(local[p]) for p in range(3)}
        got = external_records(mock.bootstrap, topic, 3, expect)
        for p in range(3):
            assert [v for _, _k, v, _ts in local[p]] == [v for _, _k, v, _h, _ts in got[p]]
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        if shadow.proc.poll() is None:
            shadow.kill()


@pytest.mark.e2e_timeout(180)
def test_mirror_to_a_sasl_ssl_listener(pg, fresh_pg, workdir, certs, make_broker):
    """The forwarder reaches an external cluster that wants SASL_SSL through
    librdkafka properties alone: here a second pg_kafka, on its own
    database, whose SASL_SSL listener lets a PostgreSQL role in with
    SCRAM-SHA-256. Every record arrives, in order; with a wrong password
    nothing does and the external broker logs the refusal."""
    from test_sasl import SaslBroker, make_role
    external = make_broker(fresh_pg, cls=SaslBroker, certs=certs)
    topic = unique("saslmirror")
    slot = "saslmirror_" + topic.split("-")[1]
    pg.sql("SELECT kafka.create_topic('%s', 3, '{\"retention.ms\": \"-1\"}')" % topic)
    fresh_pg.sql("SELECT kafka.create_topic('%s', 3, '{\"retention.ms\": \"-1\"}')" % topic)
    fresh_pg.sql("SELECT kafka.create_topic('__pg_kafka_shadow', 1)")
    user = make_role(fresh_pg, "mirror-secret")

    class Ext:
        bootstrap = external.sasl_ssl_bootstrap

    def props(password):
        out = []
        for kv in ("security.protocol=SASL_SSL", "ssl.ca.location=%s" % (certs / "ca.pem"),
                   "sasl.mechanism=SCRAM-SHA-256", "sasl.username=%s" % user,
                   "sasl.password=%s" % password):
            out += ["--kafka-prop", kv]
        return out

    def external_values():
        return fresh_pg.rows("SELECT partition, convert_from(value, 'UTF8') FROM kafka.records "
                             "WHERE topic = '%s' ORDER BY partition, \"offset\"" % topic)

    pg.sql("SELECT count(kafka.produce('%s', NULL::bytea, convert_to('m' || i, 'UTF8'), NULL, "
           "i %% 3)) FROM generate_series(0, 299) i" % topic)
    local = pg.rows("SELECT partition, convert_from(value, 'UTF8') FROM kafka.records "
                    "WHERE topic = '%s' ORDER BY partition, \"offset\"" % topic)
    assert len(local) == 300

    # A wrong password: refused, nothing mirrored.
    since = len(external.log_text())
    bad = Shadow(pg, Ext, workdir, slot, "--include", topic, *props("not-the-password"))
    bad.start()
    try:
        wait_for(lambda: "authentication failed" in external.log_text()[since:] and
                 user in external.log_text()[since:], 60, "the external broker to refuse")
        assert external_values() == []
    finally:
        bad.kill()

    shadow = Shadow(pg, Ext, workdir, slot, "--include", topic, *props("mirror-secret"))
    shadow.start()
    try:
        wait_for(lambda: external_values() == local, 120, "every record on the external side")
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        if shadow.proc.poll() is None:
            shadow.kill()
        pg.sql("SELECT pg_drop_replication_slot('%s') FROM pg_replication_slots "
               "WHERE slot_name = '%s'" % (slot, slot))
