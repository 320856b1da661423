"""
kafka-python 2.0 against pg_kafka: KafkaProducer and a group-less
KafkaConsumer (assign + seek_to_beginning), every codec the installed Python
modules allow, and KafkaAdminClient topic creation and deletion.
"""

import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import codec as kcodec
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from conftest import unique, wait_for


def producer(kafka, **conf):
    return KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all",
                         request_timeout_ms=30000, max_block_ms=30000, **conf)


def consume(kafka, topic, count, partitions=(0,), timeout=30):
    c = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=None,
                      enable_auto_commit=False, request_timeout_ms=30000,
                      auto_offset_reset="earliest")
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            assert time.monotonic() < deadline, "consumed %d of %d records" % (len(out), count)
            for recs in c.poll(timeout_ms=500).values():
                out.extend(recs)
        return out
    finally:
        c.close()


HAVE = {
    "gzip": kcodec.has_gzip(),
    "snappy": kcodec.has_snappy(),
    "lz4": kcodec.has_lz4(),
    "zstd": kcodec.has_zstd(),
}
MODULE = {"gzip": "zlib", "snappy": "python-snappy", "lz4": "lz4", "zstd": "zstandard"}


@pytest.mark.parametrize("codec", [None, "gzip", "snappy", "lz4", "zstd"])
def test_round_trip(kafka, pg, topic, codec):
    if codec and not HAVE[codec]:
        pytest.skip("kafka-python needs the %s Python module for %s" % (MODULE[codec], codec))
    p = producer(kafka, compression_type=codec, linger_ms=20)
    sent = [
        (b"k1", b"v1", [("h1", b"x"), ("h2", b"yy")]),
        (None, b"no key", []),
        (b"tombstone", None, []),
    ] + [(b"k%d" % i, b"value %d " % i * 10, [("i", b"%d" % i)]) for i in range(50)]
    futures = [p.send(topic, key=k, value=v, headers=h, partition=0) for k, v, h in sent]
    p.flush(30)
    offsets = [f.get(timeout=30).offset for f in futures]
    p.close(10)
    assert offsets == list(range(len(sent)))

    got = consume(kafka, topic, len(sent))
    assert [(r.key, r.value, list(r.headers)) for r in got] == \
        [(k, v, [(hk, hv) for hk, hv in h]) for k, v, h in sent]
    assert [r.offset for r in got] == list(range(len(sent)))

    rows = pg.records(topic)
    assert [(r["key"], r["value"]) for r in rows] == [(k, v) for k, v, _ in sent]


def test_timestamps_and_partitions(kafka):
    # Kept forever: records stamped 2020 would expire under the default
    # retention.ms (7 days) at the next storage pass of any broker.
    topic = kafka.create_topic(partitions=3, config={"retention.ms": "-1"})
    p = producer(kafka)
    stamps = {0: 1_600_000_000_000, 1: 1_600_000_001_000, 2: 1_600_000_002_000}
    futures = [p.send(topic, value=b"p%d" % part, partition=part, timestamp_ms=ts)
               for part, ts in stamps.items()]
    p.flush(30)
    meta = [f.get(timeout=30) for f in futures]
    p.close(10)
    assert [(m.partition, m.offset) for m in meta] == [(0, 0), (1, 0), (2, 0)]
    got = consume(kafka, topic, 3, partitions=(0, 1, 2))
    assert sorted((r.partition, r.value, r.timestamp) for r in got) == \
        [(part, b"p%d" % part, ts) for part, ts in stamps.items()]


def test_admin_create_and_delete_topics(kafka, pg):
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap, request_timeout_ms=30000)
    try:
        name = unique("kp-admin")
        admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1,
                                      topic_configs={"retention.ms": "600000"})])
        kafka.wait_partitions(name, 2)
        assert pg.sql("SELECT value FROM kafka.topic_configs WHERE topic = '%s' "
                      "AND name = 'retention.ms'" % name) == "600000"

        with pytest.raises(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])

        p = producer(kafka)
        assert p.send(name, value=b"x", partition=1).get(timeout=30).offset == 0
        p.close(10)

        admin.delete_topics([name])
        wait_for(lambda: name not in kafka.topic_names(), 30, "topic to be deleted", 0.2)
        assert pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%s'" % name) == "0"
        # the records are gone or left to the storage job
        assert pg.records_of_deleted_topic_left(name) == 0
    finally:
        admin.close()
