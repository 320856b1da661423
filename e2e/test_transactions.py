"""
Transactions (docs/TRANSACTIONS.md) with real clients: confluent-kafka
(librdkafka) and KafkaJS transactional producers, read_committed and
read_uncommitted consumers, consume-transform-produce with a processor
that is killed with a transaction open, fencing, the broker aborting a
transaction that outlived its timeout, transactional offset commits, and
DescribeTransactions / ListTransactions on the wire.

Each check is what a user would notice: which records a consumer sees,
where its position ends up, which offsets a group has, which calls fail.
The SQL tables are read where they say it more directly (markers take
offsets but are not rows of kafka.records).
"""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
from confluent_kafka import (OFFSET_BEGINNING, OFFSET_INVALID, KafkaError, KafkaException,
                             TopicPartition)

import kafkaproto as kp
from conftest import Kafka, config_file, sql_literal, unique, wait_for
from test_kafkajs import JS, node, node_ready  # noqa: F401 (node_ready is a fixture)

OFFSET_FETCH = 9
DESCRIBE_TRANSACTIONS = 65
LIST_TRANSACTIONS = 66
UNSTABLE_OFFSET_COMMIT = 88
TRANSACTIONAL_ID_NOT_FOUND = 105

# The errors a fenced librdkafka producer may report, depending on which
# request meets the new epoch first.
FENCED_ERRORS = {KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                 KafkaError.INVALID_PRODUCER_EPOCH}


# --------------------------------------------------------------------------
# Helpers.

def txn_producer(kafka, txn_id, **conf):
    """A confluent-kafka transactional producer, initialized."""
    p = kafka.producer(transactional_id=txn_id, **conf)
    p.init_transactions(30)
    return p


def produce_all(p, topic, records):
    """records: (partition, value) pairs; waits until all are written, so a
    transaction left open afterwards has its records in the log."""
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append(err)

    for partition, value in records:
        p.produce(topic, value=value.encode(), partition=partition, on_delivery=cb)
    assert p.flush(30) == 0
    assert not errors, errors


def high_watermarks(kafka, topic, partitions):
    return {p: kafka.watermarks(topic, p)[1] for p in partitions}


def read_to_end(kafka, topic, ends, isolation, timeout=30, **conf):
    """Read partitions from the beginning with a confluent-kafka consumer
    until each has reported end of partition at ends[partition], and check
    that the consumer's position is there too: a read_committed consumer
    must step over the control records (and aborted records) at the end.
    Returns [(partition, offset, value)] in arrival order per partition."""
    c = kafka.consumer(isolation_level=isolation, enable_partition_eof=True, **conf)
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        got = []
        eof = {}
        deadline = time.monotonic() + timeout
        while any(eof.get(p) != end for p, end in ends.items()):
            assert time.monotonic() < deadline, \
                "%s consumer reached %r, not %r; records %r" % (isolation, eof, ends, got[-5:])
            msg = c.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                assert msg.error().code() == KafkaError._PARTITION_EOF, msg.error()
                eof[msg.partition()] = msg.offset()
                continue
            got.append((msg.partition(), msg.offset(), msg.value().decode()))
        positions = {tp.partition: tp.offset
                     for tp in c.position([TopicPartition(topic, p) for p in ends])}
        assert positions == ends, (isolation, positions, ends)
        return got
    finally:
        c.close()


def values_by_partition(records):
    out = {}
    for p, _, v in records:
        out.setdefault(p, []).append(v)
    return out


def markers(pg, topic):
    """{partition: [(offset, control)]} of the markers (1 commit, 0 abort)."""
    out = {}
    for p, off, ctl in pg.rows(
            "SELECT partition, base_offset, control FROM kafka.txn_batches"
            " WHERE topic = %s AND control IS NOT NULL ORDER BY partition, base_offset"
            % sql_literal(topic)):
        out.setdefault(int(p), []).append((int(off), int(ctl)))
    return out


def txn_state(pg, txn_id):
    rows = pg.rows("SELECT state, producer_id, producer_epoch FROM kafka.transactions"
                   " WHERE transactional_id = %s" % sql_literal(txn_id))
    return tuple(rows[0]) if rows else None


def expect_fenced(fn):
    with pytest.raises(KafkaException) as ei:
        fn()
    err = ei.value.args[0]
    assert err.code() in FENCED_ERRORS, err
    return err


# --------------------------------------------------------------------------
# Raw protocol: DescribeTransactions v0, ListTransactions v0-1, OffsetFetch
# v7 (require_stable). All flexible: request header v2, response header v1.

def flexible(conn, api_key, version, body):
    return conn.request(api_key, version, body, header_version=2, response_header_version=1)


def describe_transactions(conn, ids):
    """-> {id: {"error_code", "state", "timeout_ms", "start_time_ms",
    "producer_id", "producer_epoch", "topics": {topic: [partitions]}}}"""
    w = kp.Writer().array(ids, lambda ww, i: ww.string(i, True), True).tags()
    r = flexible(conn, DESCRIBE_TRANSACTIONS, 0, w.getvalue())
    r.i32()  # throttle_time_ms
    out = {}

    def topic(rr):
        name = rr.string(True)
        parts = rr.array(lambda x: x.i32(), True)
        rr.tags()
        return name, sorted(parts)

    def state(rr):
        s = {"error_code": rr.i16()}
        tid = rr.string(True)
        s["state"] = rr.string(True)
        s["timeout_ms"] = rr.i32()
        s["start_time_ms"] = rr.i64()
        s["producer_id"] = rr.i64()
        s["producer_epoch"] = rr.i16()
        s["topics"] = dict(rr.array(topic, True))
        rr.tags()
        out[tid] = s

    r.array(state, True)
    r.tags()
    return out


def list_transactions(conn, states=(), producer_ids=(), duration_ms=None):
    """-> (error_code, unknown_state_filters, {id: (producer_id, state)});
    v1 when duration_ms is given."""
    version = 0 if duration_ms is None else 1
    w = (kp.Writer().array(list(states), lambda ww, s: ww.string(s, True), True)
         .array(list(producer_ids), lambda ww, p: ww.i64(p), True))
    if version >= 1:
        w.i64(duration_ms)
    w.tags()
    r = flexible(conn, LIST_TRANSACTIONS, version, w.getvalue())
    r.i32()  # throttle_time_ms
    err = r.i16()
    unknown = r.array(lambda rr: rr.string(True), True)

    def state(rr):
        tid, pid, st = rr.string(True), rr.i64(), rr.string(True)
        rr.tags()
        return tid, (pid, st)

    txns = dict(r.array(state, True))
    r.tags()
    return err, unknown, txns


def offset_fetch_stable(conn, group, topic, partitions):
    """OffsetFetch v7 with require_stable -> (error, {partition: (offset, error)})"""
    w = (kp.Writer().string(group, True)
         .array([topic], lambda ww, t: ww.string(t, True)
                .array(partitions, lambda x, p: x.i32(p), True).tags(), True)
         .boolean(True).tags())
    r = flexible(conn, OFFSET_FETCH, 7, w.getvalue())
    r.i32()
    out = {}

    def part(x):
        p, off = x.i32(), x.i64()
        x.i32()  # committed_leader_epoch
        x.string(True)
        out[p] = (off, x.i16())
        x.tags()

    def top(rr):
        rr.string(True)
        rr.array(part, True)
        rr.tags()

    r.array(top, True)
    err = r.i16()
    r.tags()
    return err, out


# --------------------------------------------------------------------------
# 2. Commit some transactions, abort others.

# (end, [(partition, value)]): three partitions, markers in each.
TXNS = [
    ("commit", [(0, "c1-0"), (1, "c1-1"), (2, "c1-2"), (0, "c1-0b")]),
    ("abort", [(0, "a2-0"), (1, "a2-1")]),
    ("commit", [(1, "c3-1"), (2, "c3-2")]),
    ("abort", [(2, "a4-2"), (0, "a4-0")]),
]
PARTS = (0, 1, 2)


def check_committed_and_aborted(kafka, topic, read_committed, read_uncommitted):
    """The expectations of TXNS, for any client. read_*(ends) -> records."""
    pg = kafka.pg
    recs = pg.records(topic)
    data = {p: sum(1 for _, recs_ in TXNS for q, _ in recs_ if q == p) for p in PARTS}
    txns_in = {p: sum(1 for _, recs_ in TXNS if any(q == p for q, _ in recs_)) for p in PARTS}
    # Markers take offsets but are not records: high watermark = records
    # + one marker per transaction that wrote to the partition.
    ends = high_watermarks(kafka, topic, PARTS)
    assert ends == {p: data[p] + txns_in[p] for p in PARTS}
    assert {p: sum(1 for r in recs if r["partition"] == p) for p in PARTS} == data
    mk = markers(pg, topic)
    assert {p: [c for _, c in mk.get(p, [])] for p in PARTS} == \
        {p: [1 if end == "commit" else 0 for end, r in TXNS if any(q == p for q, _ in r)]
         for p in PARTS}
    # The offset after the last record of a partition is its last marker.
    assert all(mk[p][-1][0] == ends[p] - 1 for p in PARTS)

    committed = {p: [v for end, r in TXNS if end == "commit" for q, v in r if q == p]
                 for p in PARTS}
    everything = {p: [v for _, r in TXNS for q, v in r if q == p] for p in PARTS}
    got = read_committed(ends)
    assert values_by_partition(got) == {p: v for p, v in committed.items() if v}
    got = read_uncommitted(ends)
    assert values_by_partition(got) == everything
    # Offsets as stored: consumers see the gaps the markers leave.
    assert sorted((p, o) for p, o, _ in got) == \
        sorted((r["partition"], r["offset"]) for r in recs)


@pytest.mark.e2e_timeout(60)
def test_confluent_commit_and_abort(kafka):
    topic = kafka.create_topic(partitions=len(PARTS))
    txn_id = unique("txn")
    p = txn_producer(kafka, txn_id)
    for end, records in TXNS:
        p.begin_transaction()
        produce_all(p, topic, records)
        if end == "commit":
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
    assert txn_state(kafka.pg, txn_id)[0] == "CompleteAbort"
    check_committed_and_aborted(
        kafka, topic,
        lambda ends: read_to_end(kafka, topic, ends, "read_committed"),
        lambda ends: read_to_end(kafka, topic, ends, "read_uncommitted"))


def kafkajs_read(kafka, topic, ends, read_uncommitted):
    res = node("txn_consume.js", {"bootstrap": kafka.bootstrap, "topic": topic,
                                  "groupId": unique("js-txn-read"),
                                  "readUncommitted": read_uncommitted,
                                  "ends": {str(p): e for p, e in ends.items()}})
    # The group's committed offsets reached the ends: the consumer stepped
    # over the markers (and, read_committed, the aborted records).
    assert {int(p): o for p, o in res["committed"].items()} == ends, res["committed"]
    return [tuple(r) for r in res["records"]]


@pytest.mark.e2e_timeout(90)
def test_kafkajs_commit_and_abort(kafka, node_ready):
    topic = kafka.create_topic(partitions=len(PARTS))
    txn_id = unique("js-txn")
    node("txn_produce.js", {
        "bootstrap": kafka.bootstrap, "topic": topic, "transactionalId": txn_id,
        "transactions": [{"end": end, "messages": [{"partition": q, "value": v}
                                                   for q, v in records]}
                         for end, records in TXNS]})
    assert txn_state(kafka.pg, txn_id)[0] == "CompleteAbort"
    check_committed_and_aborted(
        kafka, topic,
        lambda ends: kafkajs_read(kafka, topic, ends, False),
        lambda ends: kafkajs_read(kafka, topic, ends, True))
    # And librdkafka reads what KafkaJS wrote the same way.
    ends = high_watermarks(kafka, topic, PARTS)
    got = read_to_end(kafka, topic, ends, "read_committed")
    assert [v for _, _, v in got if v.startswith("a")] == []
    assert len(got) == sum(len(r) for end, r in TXNS if end == "commit")


# --------------------------------------------------------------------------
# 3. Consume-transform-produce, with the processor killed mid-transaction.

# A confluent-kafka processor: reads the input read_committed from its
# group's committed offsets (assign(), no rebalance to wait for), writes
# "out-<value>" to the same partition of the output and commits the input
# positions in each transaction. With hang_after it stops, transaction
# open and its records written, after that many commits.
PROCESSOR_PY = r'''
import json, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition

cfg = json.loads(sys.argv[1])


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


common = {"bootstrap.servers": cfg["bootstrap"], "broker.address.family": "v4"}
c = Consumer(dict(common, **{"group.id": cfg["group"], "isolation.level": "read_committed",
                             "enable.auto.commit": False, "auto.offset.reset": "earliest"}))
p = Producer(dict(common, **{"transactional.id": cfg["txn_id"], "linger.ms": 1}))
p.init_transactions(30)
parts = [TopicPartition(cfg["input"], i) for i in range(cfg["partitions"])]
c.assign(parts)
done = 0
while True:
    pos = {tp.partition: tp.offset for tp in c.position(parts)}
    if all(pos[i] >= end for i, end in enumerate(cfg["ends"])):
        break
    msgs = c.consume(num_messages=cfg["batch"], timeout=0.2)
    msgs = [m for m in msgs if not m.error()]
    if not msgs:
        continue
    p.begin_transaction()
    for m in msgs:
        p.produce(cfg["output"], key=m.key(), value=b"out-" + m.value(), partition=m.partition())
    if cfg.get("hang_after") == done:
        p.flush(30)
        out({"event": "hanging"})
        time.sleep(3600)
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
    p.commit_transaction(30)
    done += 1
    out({"event": "committed", "records": len(msgs)})
out({"event": "done", "transactions": done})
c.close()
'''


class Child:
    """A child process that prints JSON lines; a thread collects them."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.events = []
        self.stderr = []
        self.readers = [threading.Thread(target=self._read, args=args, daemon=True)
                        for args in ((self.proc.stdout, self.events),
                                     (self.proc.stderr, self.stderr))]
        for t in self.readers:
            t.start()

    @staticmethod
    def _read(stream, into):
        for line in stream:
            into.append(line.decode(errors="replace").rstrip("\n"))

    def seen(self, event):
        out = []
        for line in list(self.events):
            if line.startswith("{"):
                e = json.loads(line)
                if e.get("event") == event:
                    out.append(e)
        return out

    def wait_event(self, event, timeout, count=1):
        def cond():
            errs = self.seen("error")
            assert not errs, errs
            if self.proc.poll() is not None:
                for t in self.readers:
                    t.join(5)  # the last lines it printed
            assert self.proc.poll() is None or len(self.seen(event)) >= count, \
                "child exited %s: %s\n%s" % (self.proc.returncode, self.events[-5:],
                                            "\n".join(map(str, self.stderr[-30:])))
            return len(self.seen(event)) >= count
        wait_for(cond, timeout, "%d %r event(s)" % (count, event), 0.05)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("child did not finish within %ss: %s\n%s" % (
                timeout, self.events[-5:], "\n".join(map(str, self.stderr[-30:]))))


def make_input(kafka, partitions, per_partition, batch):
    """An input topic whose records arrive in small batches (one produce
    request each), values "<partition>-<i>"."""
    topic = kafka.create_topic(kafka.new_topic_name("in"), partitions=partitions)
    for p in range(partitions):
        for start in range(0, per_partition, batch):
            kafka.produce(topic, [{"value": b"%d-%d" % (p, i), "partition": p}
                                  for i in range(start, min(start + batch, per_partition))],
                          linger_ms=0)
    return topic


def check_exactly_once(kafka, inp, out, partitions, per_partition):
    ends = high_watermarks(kafka, out, range(partitions))
    got = read_to_end(kafka, out, ends, "read_committed")
    assert values_by_partition(got) == {
        p: ["out-%d-%d" % (p, i) for i in range(per_partition)] for p in range(partitions)}
    return ends


@pytest.mark.e2e_timeout(90)
def test_confluent_consume_transform_produce_survives_kill(kafka):
    partitions, per_partition = 2, 60
    inp = make_input(kafka, partitions, per_partition, 10)
    out = kafka.create_topic(kafka.new_topic_name("out"), partitions=partitions)
    cfg = {"bootstrap": kafka.bootstrap, "input": inp, "output": out,
           "group": unique("ctp"), "txn_id": unique("ctp-txn"), "partitions": partitions,
           "ends": [per_partition] * partitions, "batch": 10}

    first = Child([sys.executable, "-c", PROCESSOR_PY, json.dumps(dict(cfg, hang_after=3))])
    try:
        first.wait_event("hanging", 30)
        committed = sum(e["records"] for e in first.seen("committed"))
        assert len(first.seen("committed")) == 3
        # The open transaction's records are in the log, not yet visible.
        assert txn_state(kafka.pg, cfg["txn_id"])[0] == "Ongoing"
        assert len(kafka.pg.records(out)) > committed
    finally:
        first.kill()

    second = Child([sys.executable, "-c", PROCESSOR_PY, json.dumps(cfg)])
    second.wait_event("done", 60)
    assert second.wait(10) == 0
    check_exactly_once(kafka, inp, out, partitions, per_partition)
    # The killed processor's open transaction was written and then aborted:
    # its records are in the log, and a read_uncommitted consumer sees
    # them as duplicates.
    total = len(kafka.pg.records(out))
    assert total > partitions * per_partition
    ends = high_watermarks(kafka, out, range(partitions))
    assert len(read_to_end(kafka, out, ends, "read_uncommitted")) == total
    assert 0 in [c for cs in markers(kafka.pg, out).values() for _, c in cs]
    # The group's offsets are the input's ends, committed by transactions.
    c = kafka.consumer(group_id=cfg["group"], isolation_level="read_committed")
    try:
        committed = c.committed([TopicPartition(inp, p) for p in range(partitions)], timeout=10)
        assert [tp.offset for tp in committed] == [per_partition] * partitions
    finally:
        c.close()


@pytest.mark.e2e_timeout(90)
def test_kafkajs_consume_transform_produce_survives_kill(kafka, node_ready):
    partitions, per_partition = 2, 30
    inp = make_input(kafka, partitions, per_partition, 5)
    out = kafka.create_topic(kafka.new_topic_name("out"), partitions=partitions)
    job = {"bootstrap": kafka.bootstrap, "input": inp, "output": out,
           "groupId": unique("js-ctp"), "transactionalId": unique("js-ctp-txn")}
    argv = ["node", str(JS / "txn_process.js")]

    first = Child(argv + [json.dumps(dict(job, hangAfter=2))])
    try:
        first.wait_event("hanging", 30)
        assert txn_state(kafka.pg, job["transactionalId"])[0] == "Ongoing"
    finally:
        first.kill()
    second = Child(argv + [json.dumps(job)])
    try:
        # Done when the group has committed the input's ends.
        c = kafka.consumer(group_id=job["groupId"], isolation_level="read_uncommitted")
        try:
            tps = [TopicPartition(inp, p) for p in range(partitions)]
            wait_for(lambda: [tp.offset for tp in c.committed(tps, timeout=10)] ==
                     [per_partition] * partitions, 60, "the group to commit the input's ends",
                     0.2)
        finally:
            c.close()
    finally:
        second.proc.send_signal(signal.SIGTERM)
        second.wait(10)
    assert not second.seen("error"), second.events
    check_exactly_once(kafka, inp, out, partitions, per_partition)
    assert len(kafka.pg.records(out)) > partitions * per_partition  # the aborted attempt


# --------------------------------------------------------------------------
# 4. Fencing.

@pytest.mark.e2e_timeout(60)
def test_second_producer_fences_the_first(kafka):
    topic = kafka.create_topic(partitions=2)
    txn_id = unique("fence")
    p1 = txn_producer(kafka, txn_id)
    p1.begin_transaction()
    produce_all(p1, topic, [(0, "open-1"), (1, "open-1")])
    _, pid, epoch = txn_state(kafka.pg, txn_id)

    p2 = txn_producer(kafka, txn_id)
    # The new producer's InitProducerId aborted the open transaction (an
    # abort marker in each of its partitions), bumped the epoch and told
    # the producer to retry (CONCURRENT_TRANSACTIONS), whose retry bumped
    # it again; the id is then ready for a new transaction, as after a
    # Java broker's fence.
    state, pid2, epoch2 = txn_state(kafka.pg, txn_id)
    assert (pid2, int(epoch2)) == (pid, int(epoch) + 2)
    assert state == "Empty"
    assert sorted(c for cs in markers(kafka.pg, topic).values() for _, c in cs) == [0, 0]

    # The first producer finds out at its next produce or commit.
    p1.produce(topic, value=b"late-1", partition=0)
    err = expect_fenced(lambda: p1.commit_transaction(10))
    assert err.fatal()

    p2.begin_transaction()
    produce_all(p2, topic, [(0, "from-2")])
    p2.commit_transaction(30)

    ends = high_watermarks(kafka, topic, (0, 1))
    got = read_to_end(kafka, topic, ends, "read_committed")
    assert [v for _, _, v in got] == ["from-2"]
    uncommitted = [v for _, _, v in read_to_end(kafka, topic, ends, "read_uncommitted")]
    assert sorted(uncommitted) == ["from-2", "open-1", "open-1"]


@pytest.mark.e2e_timeout(90)
def test_kafkajs_second_producer_fences_the_first(kafka, node_ready):
    topic = kafka.create_topic(partitions=2)
    txn_id = unique("js-fence")
    res = node("txn_fence.js", {"bootstrap": kafka.bootstrap, "topic": topic,
                                "transactionalId": txn_id})
    # KafkaJS's EndTxn is older than v2: the fence reads INVALID_PRODUCER_EPOCH
    # there, PRODUCER_FENCED from v2 on.
    fenced = res["fenced"]
    assert fenced is not None, "the fenced producer's commit succeeded"
    types = {fenced.get("type")} | {e.get("type") for e in [fenced.get("originalError") or {}]}
    assert types & {"INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"}, fenced
    # The open transaction was aborted in both partitions; only the second
    # producer's record is committed.
    assert sorted(c for cs in markers(kafka.pg, topic).values() for _, c in cs) == [0, 0, 1]
    ends = high_watermarks(kafka, topic, (0, 1))
    got = read_to_end(kafka, topic, ends, "read_committed")
    assert [v for _, _, v in got] == ["from-2"]


# --------------------------------------------------------------------------
# 5. The broker aborts a transaction that outlived its timeout.

@pytest.mark.e2e_timeout(60)
def test_timed_out_transaction_is_aborted(pg, make_broker, workdir):
    conf = config_file(workdir, {"transaction.abort.timed.out.transaction.cleanup.interval.ms": 200})
    b = make_broker(pg, "--config", conf)
    kafka = Kafka(b)
    topic = kafka.create_topic(partitions=2)
    txn_id = unique("slow")
    # 4 s: long enough that a slow CI machine still sees it Ongoing below.
    p = txn_producer(kafka, txn_id, transaction_timeout_ms=4000, message_timeout_ms=4000,
                     socket_timeout_ms=2000)
    p.begin_transaction()
    produce_all(p, topic, [(0, "never-0"), (1, "never-1")])
    assert txn_state(pg, txn_id)[0] == "Ongoing"
    wait_for(lambda: txn_state(pg, txn_id)[0] == "CompleteAbort", 20,
             "the broker to abort the transaction")
    _, pid, epoch = txn_state(pg, txn_id)
    assert int(epoch) == 1  # bumped: the late producer is fenced
    ends = high_watermarks(kafka, topic, (0, 1))
    assert ends == {0: 2, 1: 2}  # a record and an abort marker each
    # read_committed consumers move on past the abort markers, and see nothing.
    assert read_to_end(kafka, topic, ends, "read_committed") == []
    assert len(read_to_end(kafka, topic, ends, "read_uncommitted")) == 2
    # The producer learns it at commit.
    with pytest.raises(KafkaException) as ei:
        p.commit_transaction(10)
    err = ei.value.args[0]
    assert err.code() in FENCED_ERRORS | {KafkaError.INVALID_TXN_STATE}, err
    kafka.close()


@pytest.mark.e2e_timeout(60)
def test_read_committed_waits_for_open_transaction(kafka):
    """The last stable offset: records after an open transaction's first
    record wait for its end, even non-transactional ones."""
    topic = kafka.create_topic()
    txn_id = unique("lso")
    kafka.produce(topic, [(None, b"before")])
    p = txn_producer(kafka, txn_id)
    p.begin_transaction()
    produce_all(p, topic, [(0, "inside")])
    kafka.produce(topic, [(None, b"after")])
    c = kafka.consumer(isolation_level="read_committed", enable_partition_eof=True)
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        seen = []

        def until_eof():
            msg = c.poll(0.2)
            if msg is None:
                return False
            if msg.error():
                assert msg.error().code() == KafkaError._PARTITION_EOF
                return msg.offset()
            seen.append(msg.value())
            return False

        assert wait_for(until_eof, 15, "end of partition at the last stable offset") == 1
        assert seen == [b"before"]
        p.commit_transaction(30)
        wait_for(lambda: until_eof() == 4, 15, "end of partition after the commit marker")
        assert seen == [b"before", b"inside", b"after"]
    finally:
        c.close()


# --------------------------------------------------------------------------
# 6. Transactional offsets are visible at commit, not before.

@pytest.mark.e2e_timeout(60)
def test_transactional_offsets_visible_at_commit(kafka):
    topic = kafka.create_topic(partitions=2)
    kafka.produce(topic, [(None, b"x%d" % i) for i in range(10)])
    group = unique("txn-offsets")
    # librdkafka asks for stable offsets (KIP-447) only when read_committed,
    # its default: this one sees what is committed, pending or not.
    c = kafka.consumer(group_id=group, isolation_level="read_uncommitted")
    tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    q = "SELECT partition, committed_offset FROM kafka.%s WHERE group_id = " + sql_literal(group) \
        + " ORDER BY partition"
    try:
        p = txn_producer(kafka, unique("txn-offsets"))
        for end, offsets in (("commit", (5, 1)), ("abort", (9, 2)), ("commit", (7, 2))):
            before = [(tp.partition, tp.offset) for tp in c.committed(tps, timeout=10)]
            if end == "commit" and offsets == (5, 1):
                assert before == [(0, OFFSET_INVALID), (1, OFFSET_INVALID)]
            p.begin_transaction()
            produce_all(p, topic, [(1, "with offsets")])
            p.send_offsets_to_transaction(
                [TopicPartition(topic, i, o) for i, o in enumerate(offsets)],
                c.consumer_group_metadata(), 30)
            # Pending: stored aside, not the group's offsets yet.
            assert kafka.pg.rows(q % "txn_offsets") == [["0", str(offsets[0])],
                                                        ["1", str(offsets[1])]]
            assert [(tp.partition, tp.offset) for tp in c.committed(tps, timeout=10)] == before
            with kp.Conn.to(kafka.bootstrap) as conn:
                err, res = offset_fetch_stable(conn, group, topic, [0, 1])
                assert err == 0 and {e for _, e in res.values()} == {UNSTABLE_OFFSET_COMMIT}
            if end == "commit":
                p.commit_transaction(30)
                want = list(enumerate(offsets))
            else:
                p.abort_transaction(30)
                want = before
            assert kafka.pg.rows(q % "txn_offsets") == []
            assert [(tp.partition, tp.offset) for tp in c.committed(tps, timeout=10)] == want
            assert kafka.pg.rows(q % "consumer_offsets") == [[str(a), str(b)] for a, b in want]
        assert want == [(0, 7), (1, 2)]
        # A read_committed consumer, which asks for stable offsets, too.
        c2 = kafka.consumer(group_id=group, isolation_level="read_committed")
        try:
            assert [tp.offset for tp in c2.committed(tps, timeout=10)] == [7, 2]
        finally:
            c2.close()
    finally:
        c.close()


# --------------------------------------------------------------------------
# 7. DescribeTransactions / ListTransactions.

@pytest.mark.e2e_timeout(60)
def test_describe_and_list_transactions(kafka):
    topic = kafka.create_topic(partitions=3)
    txn_id = unique("describe")
    p = txn_producer(kafka, txn_id, transaction_timeout_ms=45000)
    _, pid, epoch = txn_state(kafka.pg, txn_id)
    pid, epoch = int(pid), int(epoch)
    with kp.Conn.to(kafka.bootstrap) as conn:
        d = describe_transactions(conn, [txn_id])[txn_id]
        assert (d["error_code"], d["state"], d["producer_id"], d["producer_epoch"],
                d["timeout_ms"], d["start_time_ms"], d["topics"]) == \
            (0, "Empty", pid, epoch, 45000, -1, {})

        t0 = int(time.time() * 1000)
        p.begin_transaction()
        produce_all(p, topic, [(0, "a"), (2, "b")])
        d = describe_transactions(conn, [txn_id])[txn_id]
        assert (d["error_code"], d["state"], d["producer_id"], d["topics"]) == \
            (0, "Ongoing", pid, {topic: [0, 2]})
        assert t0 - 5000 <= d["start_time_ms"] <= int(time.time() * 1000) + 5000

        err, unknown, txns = list_transactions(conn)
        assert err == 0 and unknown == [] and txns[txn_id] == (pid, "Ongoing")
        assert txn_id in list_transactions(conn, states=["Ongoing"])[2]
        assert txn_id not in list_transactions(conn, states=["CompleteCommit"])[2]
        assert txn_id in list_transactions(conn, producer_ids=[pid])[2]
        assert txn_id not in list_transactions(conn, producer_ids=[pid + 1000000])[2]
        err, unknown, _ = list_transactions(conn, states=["Ongoing", "Bogus"])
        assert (err, unknown) == (0, ["Bogus"])
        # v1: only transactions running longer than the duration.
        assert txn_id in list_transactions(conn, states=["Ongoing"], duration_ms=0)[2]
        assert txn_id not in list_transactions(conn, duration_ms=3600_000)[2]

        started = d["start_time_ms"]
        p.commit_transaction(30)
        # An ended transaction keeps its start time, as Kafka's does, and so
        # passes the duration filter by it.
        d = describe_transactions(conn, [txn_id])[txn_id]
        assert (d["error_code"], d["state"], d["producer_id"], d["topics"],
                d["start_time_ms"]) == (0, "CompleteCommit", pid, {}, started)
        assert txn_id in list_transactions(conn, states=["CompleteCommit"], duration_ms=0)[2]
        assert txn_id not in list_transactions(conn, duration_ms=3600_000)[2]
        assert list_transactions(conn, states=["CompleteCommit"])[2][txn_id] == \
            (pid, "CompleteCommit")
        assert txn_id not in list_transactions(conn, states=["Ongoing"])[2]

        missing = unique("no-such-txn")
        d = describe_transactions(conn, [missing, txn_id])
        assert d[missing]["error_code"] == TRANSACTIONAL_ID_NOT_FOUND
        assert d[txn_id]["error_code"] == 0
