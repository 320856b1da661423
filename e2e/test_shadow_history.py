"""
Shadow mode, first start and history (docs/SHADOW.md, "What is mirrored"):
the forwarder copies what kafka.records holds, then streams its slot, with
no gap and no duplicate, while producers keep writing through the switch;
the same after a SIGKILL in the middle of the copy, for a topic added to the
include list later, and after --replay refused to run without a slot. The
external partitions must end equal to the local ones, record for record and
offset for offset. Also: --cutover-status for a group whose partitions only
hold history, and the forwarder's status right after a restart with nothing
left to send (issue: /metrics lost its per-partition lines).
"""

import os
import re
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from conftest import PGBIN, SANITIZER_RE, free_port, tail, unique, wait_for
from test_shadow import BIN_DIR, ENV, SHADOW_BIN, Shadow, external_records, local_records, mock  # noqa: F401


def produce(pg, topic, nparts, first, last):
    """Records first..last: key k<i> (null when i % 5 == 0), value v<i>, a
    header n=<i> when i % 3 == 0, partition i % nparts, 1 ms apart."""
    pg.sql("SELECT count(kafka.produce('%s', "
           "CASE WHEN i %% 5 = 0 THEN NULL ELSE convert_to('k' || i, 'UTF8') END, "
           "convert_to('v' || i, 'UTF8'), "
           "CASE WHEN i %% 3 = 0 THEN jsonb_build_object('n', i::text) END, i %% %d, "
           "timestamptz '2024-03-01 00:00:00+00' + i * interval '1 millisecond')) "
           "FROM generate_series(%d, %d) i" % (topic, nparts, first, last))


class Writer:
    """Produces batches from a thread until stopped; next is the next i."""

    def __init__(self, pg, topic, nparts, first, batch=200):
        self.pg, self.topic, self.nparts, self.next, self.batch = pg, topic, nparts, first, batch
        self.errors = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            while not self.stopping.is_set():
                produce(self.pg, self.topic, self.nparts, self.next, self.next + self.batch - 1)
                self.next += self.batch
        except Exception as e:  # reported by stop()
            self.errors.append(e)

    def written_since(self, mark):
        return self.next - mark

    def stop(self):
        self.stopping.set()
        self.thread.join(60)
        assert not self.thread.is_alive() and not self.errors, self.errors


def new_topic(pg, mock, prefix, nparts):
    topic = unique(prefix)
    slot = prefix + "_" + topic.split("-")[1]
    # Kept forever: the records carry 2024 timestamps, and a broker's
    # storage job on this shared database would expire them under the
    # default retention.ms (7 days) in the middle of a test.
    pg.sql("SELECT kafka.create_topic('%s', %d, '{\"retention.ms\": \"-1\"}')"
           % (topic, nparts))
    mock.command("topic %s %d" % (topic, nparts))
    mock.command("topic __pg_kafka_shadow 1")
    return topic, slot

# Other tests' topics share the database: each forwarder here is given its
# own topic with --include.


def assert_mirror_equal(pg, mock, topic, nparts, shadow):
    """Every local record once on the external cluster, at its own offset,
    with its key, value, headers and timestamp."""
    local = local_records(pg, topic)
    expect = {p: len(local.get(p, [])) for p in range(nparts)}
    got = external_records(mock.bootstrap, topic, nparts, expect, timeout=120)
    for p in range(nparts):
        loc, remote = local.get(p, []), got[p]
        assert len(remote) == len(loc), "partition %d: %d external, %d local\n%s" % (
            p, len(remote), len(loc), tail(shadow.logs[-1]))
        for (lo, lk, lv, lts), (eo, ek, ev, eh, ets) in zip(loc, remote):
            assert (eo, ek, ev, ets) == (lo, lk, lv, lts), "partition %d offset %d" % (p, lo)
            i = int(lv[1:])
            assert eh == ([("n", str(i).encode())] if i % 3 == 0 else []), lo
    return expect


def metrics(port):
    try:
        return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    except OSError:
        return ""


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def drop_slot(pg, slot):
    pg.sql("SELECT pg_drop_replication_slot('%s') FROM pg_replication_slots "
           "WHERE slot_name = '%s'" % (slot, slot))


def run_shadow(pg, mock, slot, *extra):
    return subprocess.run([str(SHADOW_BIN), "--pg", pg.conninfo, "--slot", slot,
                           "--bootstrap", mock.bootstrap, *extra], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=dict(os.environ, **ENV), timeout=120)


@pytest.mark.e2e_timeout(180)
def test_first_start_copies_history_then_streams(pg, mock, workdir):
    nparts = 4
    topic, slot = new_topic(pg, mock, "first", nparts)
    produce(pg, topic, nparts, 0, 19_999)  # history, before any slot
    writer = Writer(pg, topic, nparts, 20_000)
    shadow = Shadow(pg, mock, workdir, slot, "--include", topic)
    try:
        # records keep coming before, during and after the switch to the stream
        wait_for(lambda: writer.written_since(20_000) >= 400, 30, "records before the start")
        shadow.start()
        wait_for(lambda: "streaming slot" in shadow.log(), 60, "the forwarder to stream")
        mark = writer.next
        wait_for(lambda: writer.written_since(mark) >= 1000, 30, "records after the switch")
        writer.stop()
        assert "history: " in shadow.log()
        assert_mirror_equal(pg, mock, topic, nparts, shadow)
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        writer.stopping.set()
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
        drop_slot(pg, slot)


@pytest.mark.e2e_timeout(300)
def test_sigkill_during_history_copy(pg, mock, workdir):
    nparts = 8
    total = 120_000
    topic, slot = new_topic(pg, mock, "histkill", nparts)
    for first in range(0, total, 20_000):
        produce(pg, topic, nparts, first, first + 19_999)
    port = free_port()
    shadow = Shadow(pg, mock, workdir, slot, "--include", topic,
                    "--metrics-listen", "127.0.0.1:%d" % port)
    writer = None
    try:
        shadow.start()
        # kill when some, not all, of the history has been acknowledged
        wait_for(lambda: (metric(metrics(port), "pg_kafka_shadow_forwarded_total") or 0) >= 1000,
                 120, "part of the history to be forwarded", interval=0.02)
        shadow.kill()
        assert "streaming slot" not in shadow.log(), "the copy finished before the kill"
        writer = Writer(pg, topic, nparts, total)
        shadow.start()
        wait_for(lambda: "streaming slot" in shadow.log(), 120, "the forwarder to stream")
        mark = writer.next
        wait_for(lambda: writer.written_since(mark) >= 1000, 30, "records after the switch")
        writer.stop()
        assert_mirror_equal(pg, mock, topic, nparts, shadow)
        shadow.stop()
        assert shadow.log().count("created slot") == 1
        shadow.check_sanitizer()
    finally:
        if writer:
            writer.stopping.set()
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
        drop_slot(pg, slot)


@pytest.mark.e2e_timeout(300)
@pytest.mark.parametrize("kill", [False, True], ids=["plain", "sigkill-mid-copy"])
def test_topic_added_to_include_list(pg, mock, workdir, kill):
    nparts = 3
    history = 90_000 if kill else 5000
    first, slot = new_topic(pg, mock, "inca", nparts)
    later = unique("incb")
    pg.sql("SELECT kafka.create_topic('%s', %d, '{\"retention.ms\": \"-1\"}')"
           % (later, nparts))
    mock.command("topic %s %d" % (later, nparts))
    port = free_port()
    shadow = Shadow(pg, mock, workdir, slot, "--include", first,
                    "--metrics-listen", "127.0.0.1:%d" % port)
    writers = []
    try:
        shadow.start()
        wait_for(lambda: "streaming slot" in shadow.log(), 60, "the forwarder to stream")
        produce(pg, first, nparts, 0, 2999)
        for i in range(0, history, 30_000):  # not mirrored yet
            produce(pg, later, nparts, i, min(i + 30_000, history) - 1)
        assert_mirror_equal(pg, mock, first, nparts, shadow)
        shadow.stop()

        # the second topic joins while both keep being written
        writers = [Writer(pg, later, nparts, history), Writer(pg, first, nparts, 3000)]
        wait_for(lambda: writers[0].written_since(history) >= 400, 30, "records before the restart")
        shadow.args[shadow.args.index(first)] = "%s,%s" % (first, later)
        shadow.start()
        if kill:
            wait_for(lambda: (metric(metrics(port), "pg_kafka_shadow_forwarded_total") or 0)
                     >= 1000, 120, "part of the history to be forwarded", interval=0.02)
            shadow.kill()
            assert shadow.log().count("streaming slot") == 1, "the copy finished before the kill"
            shadow.start()
        wait_for(lambda: shadow.log().count("streaming slot") == 2, 120, "the forwarder to stream")
        mark = writers[0].next
        wait_for(lambda: writers[0].written_since(mark) >= 1000, 30, "records after the switch")
        for w in writers:
            w.stop()
        assert_mirror_equal(pg, mock, later, nparts, shadow)
        assert_mirror_equal(pg, mock, first, nparts, shadow)
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        for w in writers:
            w.stopping.set()
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
        drop_slot(pg, slot)


@pytest.mark.e2e_timeout(180)
def test_replay_without_slot_refuses(pg, mock, workdir):
    nparts = 2
    topic, slot = new_topic(pg, mock, "norep", nparts)
    produce(pg, topic, nparts, 0, 2999)
    r = run_shadow(pg, mock, slot, "--replay", topic)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "slot %s does not exist" % slot in err and "Start the forwarder" in err, err
    assert not SANITIZER_RE.search(err)
    c = Consumer({"bootstrap.servers": mock.bootstrap, "group.id": unique("w")})
    try:
        for p in range(nparts):
            assert c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] == 0
    finally:
        c.close()

    # what the message says to do: start the forwarder, writes going on
    writer = Writer(pg, topic, nparts, 3000)
    shadow = Shadow(pg, mock, workdir, slot, "--include", topic)
    try:
        shadow.start()
        wait_for(lambda: "streaming slot" in shadow.log(), 60, "the forwarder to stream")
        mark = writer.next
        wait_for(lambda: writer.written_since(mark) >= 1000, 30, "records after the switch")
        writer.stop()
        assert_mirror_equal(pg, mock, topic, nparts, shadow)
        shadow.stop()
        shadow.check_sanitizer()
        # with the slot there, --replay runs; everything is there already
        r = run_shadow(pg, mock, slot, "--replay", topic, "--replay-from", "100")
        assert r.returncode == 0 and b"replay done" in r.stdout, r.stdout + r.stderr
        assert b"0 records sent" in r.stderr
        assert_mirror_equal(pg, mock, topic, nparts, shadow)
    finally:
        writer.stopping.set()
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
        drop_slot(pg, slot)


@pytest.mark.e2e_timeout(180)
def test_cutover_status_for_history_only(kafka, mock, workdir):
    pg = kafka.pg
    nparts = 3
    topic, slot = new_topic(pg, mock, "cuthist", nparts)
    group = unique("cuthist")
    produce(pg, topic, nparts, 0, 599)
    c = kafka.consumer(**{"group.id": group, "enable.auto.offset.store": True})
    c.subscribe([topic])
    seen = 0

    def consumed():
        nonlocal seen
        seen += len([m for m in c.consume(600, 0.5) if not m.error()])
        return seen >= 600
    wait_for(consumed, 60, "600 records on pg_kafka", interval=0)
    c.commit(asynchronous=False)
    c.close()

    shadow = Shadow(pg, mock, workdir, slot, "--include", topic)
    try:
        shadow.start()
        wait_for(lambda: pg.sql("SELECT kafka.shadow_ready('%s', '%s')" % (slot, topic)) == "t",
                 60, "the topic to be ready for cutover")
        r = run_shadow(pg, mock, slot, "--cutover-status", group)
        out = r.stdout.decode()
        assert r.returncode == 0, out + r.stderr.decode()
        assert "group ready for cutover" in out and "unknown" not in out, out
        for p in range(nparts):
            assert "%s[%d] committed=200 -> %s[%d] 200 lag=0 ready" % (topic, p, topic, p) in out
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
        drop_slot(pg, slot)


@pytest.mark.e2e_timeout(180)
def test_status_after_restart_with_nothing_to_send(pg, mock, workdir):
    """After a restart the forwarder reports every partition at once, from
    the checkpoint and the tables, in /metrics and in SQL, and deletes rows
    of partitions it no longer mirrors."""
    nparts = 4
    topic, slot = new_topic(pg, mock, "rst", nparts)
    port = free_port()
    shadow = Shadow(pg, mock, workdir, slot, "--include", topic,
                    "--metrics-listen", "127.0.0.1:%d" % port)
    try:
        shadow.start()
        wait_for(lambda: "streaming slot" in shadow.log(), 60, "the forwarder to stream")
        produce(pg, topic, nparts, 0, 3999)
        expect = assert_mirror_equal(pg, mock, topic, nparts, shadow)

        def sql_rows():
            return sorted((int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in pg.rows(
                "SELECT partition, local_offset, external_offset, lag_records FROM "
                "kafka.shadow_partitions WHERE slot = '%s' AND topic = '%s'" % (slot, topic)))
        want = [(p, expect[p] - 1, expect[p] - 1, 0) for p in range(nparts)]
        wait_for(lambda: sql_rows() == want, 30, "the status rows to catch up")

        shadow.kill()
        # a row no partition stands for any more, and a row made stale
        pg.sql("INSERT INTO kafka.shadow_partitions (slot, topic, partition, external_topic, "
               "local_offset, external_offset, lag_records, lag_bytes) VALUES "
               "('%s', 'gone-topic', 0, 'gone-topic', 5, 5, 7, 70)" % slot)
        pg.sql("UPDATE kafka.shadow_partitions SET lag_records = 99, local_offset = 0 "
               "WHERE slot = '%s' AND topic = '%s' AND partition = 0" % (slot, topic))
        shadow.start()

        def metrics_right():
            text = metrics(port)
            for p in range(nparts):
                labels = '{topic="%s",partition="%d",external_topic="%s"}' % (topic, p, topic)
                for name, value in (("lag_records", 0), ("local_offset", expect[p] - 1),
                                    ("external_offset", expect[p] - 1)):
                    if "pg_kafka_shadow_%s%s %d\n" % (name, labels, value) not in text:
                        return False
            return text
        text = wait_for(metrics_right, 60, "/metrics to show every partition after the restart")
        assert metric(text, "pg_kafka_shadow_forwarded_total") == 0, text
        wait_for(lambda: sql_rows() == want, 30, "the status rows after the restart")
        assert pg.sql("SELECT count(*) FROM kafka.shadow_partitions WHERE slot = '%s' "
                      "AND topic = 'gone-topic'" % slot) == "0"
        assert pg.sql("SELECT kafka.shadow_ready('%s', '%s')" % (slot, topic)) == "t"
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
        drop_slot(pg, slot)


def try_it_locally_blocks():
    """The sh blocks of docs/SHADOW.md's "Try it locally" section."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "SHADOW.md").read_text()
    section = text.split("## Try it locally", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.mark.e2e_timeout(180)
def test_try_it_locally(fresh_pg, workdir):
    """The commands of SHADOW.md's "Try it locally", as written, with the
    test's ports and binaries substituted: the forwarder copies the
    history to the stand-in cluster and the status says lag 0."""
    pg = fresh_pg
    blocks = try_it_locally_blocks()
    assert len(blocks) == 4, blocks
    mock_port = free_port()
    psql = "%s -h 127.0.0.1 -p %d -U postgres -d pg_kafka" % (PGBIN / "psql", pg.port)

    def subst(block):
        return (block.replace("make psql", psql).replace("25432", str(pg.port))
                .replace("9192", str(mock_port)).replace("build/rel/", str(BIN_DIR) + "/"))

    def sh(block):
        r = subprocess.run(["bash", "-ec", subst(block)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, env=dict(os.environ, **ENV))
        assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
        return r.stdout.decode()

    sh(blocks[0])
    mock_log = open(Path(workdir) / ("try-mock-%d.log" % mock_port), "wb")
    mock = subprocess.Popen(["bash", "-c", "exec " + subst(blocks[1]).strip()],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=mock_log,
                            env=dict(os.environ, **ENV))
    fwd_path = Path(workdir) / ("try-shadow-%d.log" % mock_port)
    fwd = None
    try:
        assert mock.stdout.readline().decode().strip() == "127.0.0.1:%d" % mock_port
        with open(fwd_path, "wb") as log:
            fwd = subprocess.Popen(["bash", "-c", "exec " + subst(blocks[2]).replace("\\\n", " ")
                                    .strip()], stdout=log, stderr=log,
                                   env=dict(os.environ, **ENV))
        wait_for(lambda: "streaming slot" in fwd_path.read_text(), 60, "the forwarder to stream")
        out = sh(blocks[3])
        lines = out.split()
        assert lines[0] == "1000", out
        rows = [line for line in out.splitlines() if line.startswith(" orders |")]
        assert len(rows) == 8 and all(re.search(r"\|\s+0$", line) for line in rows), out
        fwd.send_signal(signal.SIGINT)
        assert fwd.wait(60) == 0, tail(fwd_path)
        assert not SANITIZER_RE.search(fwd_path.read_text())
    finally:
        if fwd and fwd.poll() is None:
            fwd.kill()
        mock.send_signal(signal.SIGTERM)
        mock.wait(30)
        mock_log.close()


@pytest.mark.e2e_timeout(180)
def test_history_ending_with_transaction_marker(kafka, mock, workdir):
    """A partition whose last offset is a transaction's commit marker (an
    offset without a record): after the history copy the lag is zero and
    the group that read to the end is ready for cutover."""
    pg = kafka.pg
    topic, slot = new_topic(pg, mock, "txnhist", 1)
    p = kafka.producer(**{"transactional.id": unique("txnhist")})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, value=b"t%d" % i, partition=0)
    p.commit_transaction(30)
    assert pg.sql("SELECT next_offset FROM kafka.partitions WHERE topic = '%s'" % topic) == "11"
    group = unique("txnhist")
    c = kafka.consumer(**{"group.id": group, "enable.auto.offset.store": True,
                          "isolation.level": "read_committed"})
    c.subscribe([topic])
    got = []

    def consumed():
        got.extend(m for m in c.consume(10, 0.5) if not m.error())
        return len(got) >= 10
    wait_for(consumed, 60, "the 10 records on pg_kafka", interval=0)
    c.commit(asynchronous=False)
    c.close()
    committed = pg.sql("SELECT committed_offset FROM kafka.consumer_offsets WHERE group_id = '%s'"
                       % group)

    shadow = Shadow(pg, mock, workdir, slot, "--include", topic)
    try:
        shadow.start()
        wait_for(lambda: pg.sql("SELECT kafka.shadow_ready('%s', '%s')" % (slot, topic)) == "t",
                 60, "the topic to be ready for cutover")
        r = run_shadow(pg, mock, slot, "--cutover-status", group)
        out = r.stdout.decode()
        assert r.returncode == 0, out + r.stderr.decode()
        assert "%s[0] committed=%s -> %s[0] 10 lag=0 ready" % (topic, committed, topic) in out, out
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
        drop_slot(pg, slot)
