"""
Idempotent producers (docs/IDEMPOTENCE.md): InitProducerId, and the sequence
checks that make a retried batch land once. A librdkafka producer with
enable.idempotence=true, raw-protocol batches with producer ids, a
stream of 10,000 records through two broker crashes, and confluent-kafka
and KafkaJS producers whose connections a proxy cuts right after the broker
wrote a batch, so that the batch comes again.
"""

import signal
import time

import pytest

import kafkaproto as kp
from conftest import Broker, Kafka, unique
from test_kafkajs import node, node_ready  # noqa: F401 (node_ready is a fixture)

INIT_PRODUCER_ID = 22
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47


def init_producer_id(conn, version=4, transactional_id=None, producer_id=-1, epoch=-1):
    """-> (error_code, producer_id, producer_epoch)"""
    flex = version >= 2
    w = kp.Writer().string(transactional_id, flex).i32(60000)
    if version >= 3:
        w.i64(producer_id).i16(epoch)
    if flex:
        w.tags()
    r = conn.request(INIT_PRODUCER_ID, version, w.getvalue(),
                     header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0)
    r.i32()  # throttle_time_ms
    return r.i16(), r.i64(), r.i16()


def idempotent_batch(values, producer_id, epoch, base_sequence):
    """A v2 record batch carrying a producer id, epoch and base sequence."""
    now = int(time.time() * 1000)
    recs = b"".join(kp.encode_record(i, None, v) for i, v in enumerate(values))
    tail = (kp.Writer().i16(0).i32(len(values) - 1).i64(now).i64(now)
            .i64(producer_id).i16(epoch).i32(base_sequence).i32(len(values))
            .raw(recs).getvalue())
    return (kp.Writer().i64(0).i32(9 + len(tail)).i32(-1).i8(2).u32(kp.crc32c(tail))
            .raw(tail).getvalue())


def send(conn, topic, values, pid, epoch, seq):
    return kp.produce(conn, topic, 0, idempotent_batch(values, pid, epoch, seq), version=9)


def stored_values(kafka, topic):
    return [v for (v,) in kafka.pg.rows(
        "SELECT convert_from(value, 'UTF8') FROM kafka.records WHERE topic = '%s'"
        " ORDER BY \"offset\"" % topic)]


def test_confluent_idempotent_round_trip(kafka, topic):
    n = 500
    recs = [(b"k%d" % i, b"v%d" % i) for i in range(n)]
    delivered = kafka.produce(topic, recs, **{"enable.idempotence": True, "linger.ms": 2})
    assert sorted(d.offset for d in delivered) == list(range(n))
    got = kafka.consume(topic, n)
    assert [(r.key, r.value) for r in got] == recs
    assert kafka.pg.rows("SELECT count(*) FROM kafka.producer_state"
                         " WHERE topic = '%s'" % topic) == [["1"]]


def test_init_producer_id(kafka):
    with kp.Conn.to(kafka.bootstrap) as c:
        for v in range(0, 5):
            err, pid, epoch = init_producer_id(c, v)
            assert (err, epoch) == (0, 0) and pid >= 0
        a = init_producer_id(c, 4)[1]
        b = init_producer_id(c, 4)[1]
        assert a != b
        # An id and epoch sent without a transactional id are ignored, as
        # by the Java coordinator: a new id at epoch 0, known or not.
        for v, pid, epoch in [(4, a, 0), (4, a, 0), (3, a, 0), (4, 987654321, 3)]:
            err, new, new_epoch = init_producer_id(c, v, producer_id=pid, epoch=epoch)
            assert (err, new_epoch) == (0, 0) and new not in (-1, a, b, pid)
        # A transactional id gets a producer id of its own at epoch 0
        # (docs/TRANSACTIONS.md); asking again bumps the epoch.
        tx = unique("tx")
        err, tpid, tepoch = init_producer_id(c, 4, transactional_id=tx)
        assert (err, tepoch) == (0, 0) and tpid >= 0 and tpid not in (a, b)
        assert init_producer_id(c, 4, transactional_id=tx) == (0, tpid, 1)


def test_raw_duplicates_gaps_and_epochs(kafka, topic):
    with kp.Conn.to(kafka.bootstrap) as c:
        _, pid, epoch = init_producer_id(c)
        first = send(c, topic, [b"a", b"b", b"c"], pid, epoch, 0)
        assert (first["error_code"], first["base_offset"]) == (0, 0)
        again = send(c, topic, [b"a", b"b", b"c"], pid, epoch, 0)
        assert (again["error_code"], again["base_offset"]) == (0, 0)
        nxt = send(c, topic, [b"d"], pid, epoch, 3)
        assert (nxt["error_code"], nxt["base_offset"]) == (0, 3)
        assert stored_values(kafka, topic) == ["a", "b", "c", "d"]

        gap = send(c, topic, [b"x"], pid, epoch, 9)
        assert gap["error_code"] == OUT_OF_ORDER_SEQUENCE_NUMBER

        # KIP-360: an idempotent producer bumps its epoch itself.
        epoch2 = epoch + 1
        assert send(c, topic, [b"y"], pid, epoch2, 5)["error_code"] == \
            OUT_OF_ORDER_SEQUENCE_NUMBER
        ok = send(c, topic, [b"e"], pid, epoch2, 0)
        assert (ok["error_code"], ok["base_offset"]) == (0, 4)
        stale = send(c, topic, [b"z"], pid, epoch, 4)
        assert stale["error_code"] == INVALID_PRODUCER_EPOCH
        assert stored_values(kafka, topic) == ["a", "b", "c", "d", "e"]


def test_duplicate_after_broker_restart(pg, make_broker):
    b = make_broker(pg)
    kafka = Kafka(b)
    topic = kafka.create_topic()
    with kp.Conn.to(kafka.bootstrap) as c:
        _, pid, epoch = init_producer_id(c)
        assert send(c, topic, [b"once"], pid, epoch, 0)["base_offset"] == 0
    b.restart()
    with kp.Conn.to(kafka.bootstrap) as c:
        again = send(c, topic, [b"once"], pid, epoch, 0)
        assert (again["error_code"], again["base_offset"]) == (0, 0)
    assert stored_values(kafka, topic) == ["once"]
    kafka.close()


def kill_and_restart(b):
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(10)
    Broker.live.remove(b)
    b.proc = None
    b.start()


@pytest.mark.e2e_timeout(240)
def test_every_record_once_through_broker_crashes(pg, make_broker):
    b = make_broker(pg)
    kafka = Kafka(b)
    topic = kafka.create_topic()
    n = 10000
    p = kafka.producer(**{"enable.idempotence": True, "linger.ms": 5,
                          "batch.num.messages": 200, "message.timeout.ms": 120000,
                          "retry.backoff.ms": 50})
    errors = []
    delivered = [0]

    def cb(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            delivered[0] += 1

    killed = []
    kill_at = [n // 4, n // 2]
    for i in range(n):
        while True:
            try:
                p.produce(topic, value=b"%d" % i, partition=0, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
        if kill_at and i >= kill_at[0]:
            # Records before i are queued or in flight: crash the broker
            # under them, with the stream still going.
            kill_at.pop(0)
            p.poll(0.05)
            killed.append(delivered[0])
            kill_and_restart(b)
    assert p.flush(150) == 0
    assert not errors, errors[:5]
    assert len(killed) == 2 and killed[-1] < n, killed  # crashed mid-stream
    values = stored_values(kafka, topic)
    assert len(values) == n
    assert values == [str(i) for i in range(n)]
    kafka.close()


# --------------------------------------------------------------------------
# Connections cut under an idempotent producer. The proxy drops the broker's
# answer to chosen Produce requests and cuts every connection: each of those
# batches is stored, and the producer, which never heard so, sends it again
# (with whatever else was in flight) on a new connection through the proxy.

CUTS = (3, 12, 25)  # the Produce requests whose answers are dropped


@pytest.mark.e2e_timeout(120)
def test_confluent_idempotent_through_cut_connections(pg, proxied_broker):
    b, proxy = proxied_broker(pg)
    kafka = Kafka(b, bootstrap=proxy.address)
    topic = kafka.create_topic()
    n = 3000
    p = kafka.producer(**{"enable.idempotence": True, "linger.ms": 2,
                          "batch.num.messages": 40, "max.in.flight": 5,
                          "message.timeout.ms": 60000, "retry.backoff.ms": 50,
                          "reconnect.backoff.ms": 20})
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append(str(err))

    proxy.cut_on_produce_answer(*CUTS)
    for i in range(n):
        while True:
            try:
                p.produce(topic, value=b"%d" % i, partition=0, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
        if i % 50 == 0:
            p.poll(0.01)  # let a few requests go at a time
    assert p.flush(90) == 0
    assert not errors, errors[:5]
    # Every planned cut happened while records were in flight ...
    assert proxy.dropped_answers == len(CUTS), (proxy.dropped_answers, proxy.produce_seen)
    assert proxy.accepted > len(CUTS)  # ... and the producer came back through the proxy
    # ... and yet each value is stored once, in order, at offsets 0 .. n-1.
    assert stored_values(kafka, topic) == [str(i) for i in range(n)]
    assert kafka.watermarks(topic) == (0, n)
    kafka.close()


@pytest.mark.e2e_timeout(120)
@pytest.mark.parametrize("in_flight", [1, 5])
def test_kafkajs_idempotent_through_cut_connections(pg, proxied_broker, node_ready, in_flight):
    b, proxy = proxied_broker(pg)
    kafka = Kafka(b, bootstrap=proxy.address)
    topic = kafka.create_topic()
    n, per_send = 400, 10
    proxy.cut_on_produce_answer(*CUTS)
    res = node("idempotent_produce.js", {"bootstrap": proxy.address, "topic": topic,
                                         "count": n, "perSend": per_send,
                                         "maxInFlightRequests": in_flight})
    assert proxy.dropped_answers == len(CUTS), (proxy.dropped_answers, proxy.produce_seen)
    # A send whose answer was dropped learns its offsets from the retry,
    # which the broker answers as a duplicate: where the batch already is.
    assert res["firstOffsets"] == list(range(0, n, per_send))
    assert stored_values(kafka, topic) == [str(i) for i in range(n)]
    kafka.close()
