"""
Durability and recovery: records survive broker and PostgreSQL restarts,
and a PostgreSQL outage in the middle of a produce stream loses nothing that
was acknowledged; the broker reconnects by itself.

Every test here runs its own PostgreSQL cluster and broker.
"""

import re

import pytest

import kafkaproto
from conftest import Kafka, wait_for

# Errors a client treats as retriable (the Java client's RetriableException
# family) that a broker may answer while its storage is unreachable.
RETRIABLE = {5, 6, 7, 13, 14, 15, 19, 20, 56}


def all_values(kafka, topic, partitions, count):
    got = kafka.consume(topic, count, partitions=partitions, timeout=60)
    return sorted((r.partition, r.offset, r.key, r.value) for r in got)


@pytest.mark.e2e_timeout(240)
def test_records_survive_broker_and_postgres_restart(fresh_pg, make_broker):
    b = make_broker(fresh_pg)
    kafka = Kafka(b)
    topic = kafka.create_topic(partitions=2)
    first = [{"key": b"k%d" % i, "value": b"first-%d" % i, "partition": i % 2} for i in range(20)]
    kafka.produce(topic, first)
    expected = sorted((r["partition"], i // 2, r["key"], r["value"]) for i, r in enumerate(first))
    assert all_values(kafka, topic, [0, 1], 20) == expected

    b.restart()
    assert all_values(kafka, topic, [0, 1], 20) == expected
    second = [{"key": b"s%d" % i, "value": b"second-%d" % i, "partition": i % 2} for i in range(6)]
    delivered = kafka.produce(topic, second)
    assert sorted((d.partition, d.offset) for d in delivered) == \
        [(0, 10), (0, 11), (0, 12), (1, 10), (1, 11), (1, 12)]
    expected = sorted(expected + [(d.partition, d.offset, d.key, d.value) for d in delivered])

    fresh_pg.restart()
    # The broker has to notice that its connections died and reconnect; the
    # client retries until it does.
    assert all_values(kafka, topic, [0, 1], 26) == expected
    kafka.produce(topic, [{"value": b"third", "partition": 1}])
    assert kafka.watermarks(topic, 1) == (0, 14)
    kafka.assert_healthy()


@pytest.mark.e2e_timeout(240)
def test_requests_fail_retriably_while_postgres_is_down(fresh_pg, make_broker):
    b = make_broker(fresh_pg)
    kafka = Kafka(b)
    topic = kafka.create_topic()
    batch = kafkaproto.record_batch([(b"k", b"before", [])])
    with kafkaproto.Conn.to(b.bootstrap) as c:
        assert kafkaproto.produce(c, topic, 0, batch)["error_code"] == 0

    fresh_pg.stop()
    with kafkaproto.Conn.to(b.bootstrap, timeout=60) as c:
        res = kafkaproto.produce(c, topic, 0, kafkaproto.record_batch([(b"k", b"lost", [])]),
                                 timeout=60)
        assert res["error_code"] in RETRIABLE, res

    fresh_pg.start()
    # The refused record was not stored; new ones are, after reconnection.
    wait_for(lambda: _produce_ok(b, topic, b"after"), 60, "produce to succeed again", 0.5)
    values = [r["value"] for r in fresh_pg.records(topic)]
    assert values[0] == b"before"
    assert b"lost" not in values
    assert set(values[1:]) == {b"after"}
    kafka.assert_healthy()


def _produce_ok(b, topic, value):
    try:
        with kafkaproto.Conn.to(b.bootstrap, timeout=10) as c:
            res = kafkaproto.produce(c, topic, 0, kafkaproto.record_batch([(b"k", value, [])]),
                                     timeout=10)
            return res["error_code"] == 0
    except (OSError, TimeoutError, kafkaproto.ProtocolError):
        return False


@pytest.mark.e2e_timeout(300)
def test_postgres_outage_while_producing(fresh_pg, make_broker):
    b = make_broker(fresh_pg)
    kafka = Kafka(b)
    topic = kafka.create_topic()
    p = kafka.producer(**{"acks": "all", "message.timeout.ms": 180000,
                          "retries": 1000000, "retry.backoff.ms": 200,
                          "request.timeout.ms": 30000, "linger.ms": 2})
    acked = {}     # value -> offset
    failed = []

    def on_delivery(err, msg):
        if err is not None:
            failed.append((msg.value(), err))
        else:
            acked[msg.value()] = msg.offset()

    sent = []

    def send(n):
        for _ in range(n):
            v = b"rec-%05d" % len(sent)
            p.produce(topic, v, key=v[-2:], partition=0, on_delivery=on_delivery)
            sent.append(v)
            p.poll(0.005)   # pace the stream so that it spans the outage

    def acked_at_least(n):
        p.poll(0.05)
        return len(acked) >= n

    send(100)
    wait_for(lambda: acked_at_least(50), 60, "the first records to be acknowledged")
    mark = len(b.log_text())

    fresh_pg.stop()
    send(150)            # produced into the outage
    fresh_pg.start()
    send(100)
    assert p.flush(180) == 0, "records still unacknowledged after PostgreSQL came back"
    assert not failed, failed[:5]
    assert len(acked) == len(sent)

    # Every acknowledged record is stored exactly as sent, at the offset the
    # broker acknowledged; no two acknowledgements share an offset.
    rows = {r["offset"]: r for r in fresh_pg.records(topic)}
    for v, off in acked.items():
        assert off in rows, "acknowledged offset %d (%r) is not in kafka.records" % (off, v)
        assert rows[off]["value"] == v and rows[off]["key"] == v[-2:]
    assert len(set(acked.values())) == len(acked)

    # The broker noticed and reconnected by itself, and says so.
    log = b.log_text()[mark:]
    assert re.search(r"connection to PostgreSQL lost: .*reconnecting", log), \
        "the broker did not log losing PostgreSQL"
    assert re.search(r"connection to PostgreSQL back after", log), \
        "the broker did not log reconnecting to PostgreSQL"

    # New produce and fetch work, and a consumer sees every record in order.
    got = kafka.consume(topic, len(rows), timeout=60)
    assert [r.offset for r in got] == sorted(rows)
    kafka.assert_healthy()
