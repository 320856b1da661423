"""
confluent-kafka (librdkafka 2.0) against pg_kafka: producer and assign()-based
consumer round trips, compression, partitions, large values, acks,
timestamps, the admin API, offset lookups, and the rows in kafka.records.
"""

import hashlib
import os
import time

import pytest
from confluent_kafka import (TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME,
                             KafkaError, KafkaException, TopicPartition)
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic

from conftest import wait_for


def test_round_trip_keys_headers_and_null_values(kafka, pg, topic):
    sent = [
        {"key": b"k1", "value": b"v1", "headers": [("h1", b"x"), ("h2", b"")]},
        {"key": None, "value": b"no key"},
        {"key": b"tombstone", "value": None},
        {"key": b"", "value": b""},
        {"key": b"\x00\xff binary", "value": bytes(range(256)),
         "headers": [("dup", b"1"), ("dup", b"2"), ("null-header", None)]},
    ]
    delivered = kafka.produce(topic, sent)
    assert [d.offset for d in delivered] == [0, 1, 2, 3, 4]

    got = kafka.consume(topic, len(sent))
    assert [r.offset for r in got] == [0, 1, 2, 3, 4]
    assert [r.key for r in got] == [s["key"] for s in sent]
    assert [r.value for r in got] == [s["value"] for s in sent]
    assert [r.headers for r in got] == [s.get("headers", []) for s in sent]

    rows = pg.records(topic)
    assert [(r["partition"], r["offset"]) for r in rows] == [(0, i) for i in range(5)]
    assert [(r["key"], r["value"]) for r in rows] == [(s["key"], s["value"]) for s in sent]
    assert kafka.watermarks(topic) == (0, 5)


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_compression(kafka, pg, topic, codec):
    sent = [(b"key-%d" % i, (b"compressible value %d " % i) * 40) for i in range(200)]
    kafka.produce(topic, sent, **{"compression.type": codec, "linger.ms": 50})
    got = kafka.consume(topic, len(sent))
    assert [(r.key, r.value) for r in got] == sent
    assert [r.offset for r in got] == list(range(len(sent)))
    # Stored decompressed, one row per record.
    rows = pg.records(topic)
    assert [(r["key"], r["value"]) for r in rows] == sent


def test_eight_partitions_order_and_offsets(kafka, pg):
    topic = kafka.create_topic(partitions=8)
    per_partition = 12
    records = []
    for i in range(per_partition):
        for p in range(8):
            records.append({"key": b"p%d" % p, "value": b"p%d-%d" % (p, i), "partition": p})
    delivered = kafka.produce(topic, records)
    for d, r in zip(delivered, records):
        assert d.partition == r["partition"]

    got = kafka.consume(topic, len(records), partitions=range(8))
    for p in range(8):
        mine = [r for r in got if r.partition == p]
        assert [r.offset for r in mine] == list(range(per_partition)), "partition %d" % p
        assert [r.value for r in mine] == [b"p%d-%d" % (p, i) for i in range(per_partition)]
        assert kafka.watermarks(topic, p) == (0, per_partition)

    rows = pg.records(topic)
    assert len(rows) == len(records)
    for row in rows:
        assert row["value"].startswith(b"p%d-" % row["partition"])
    assert pg.sql("SELECT count(*) FROM kafka.partitions WHERE topic = '%s'" % topic) == "8"


def test_one_megabyte_values(kafka, pg, topic):
    values = [os.urandom(1_000_000) for _ in range(3)]
    kafka.produce(topic, [(b"big-%d" % i, v) for i, v in enumerate(values)],
                  **{"message.max.bytes": 4_000_000, "linger.ms": 0})
    got = kafka.consume(topic, 3, **{"fetch.max.bytes": 8_000_000,
                                     "max.partition.fetch.bytes": 2_000_000,
                                     "receive.message.max.bytes": 20_000_000})
    assert [r.value for r in got] == values
    digests = pg.sql("SELECT string_agg(md5(value), ',' ORDER BY \"offset\") "
                     "FROM kafka.records WHERE topic = '%s'" % topic)
    assert digests.split(",") == [hashlib.md5(v).hexdigest() for v in values]
    assert pg.sql("SELECT min(length(value)) || '/' || max(length(value)) FROM kafka.records "
                  "WHERE topic = '%s'" % topic) == "1000000/1000000"


@pytest.mark.parametrize("acks", [0, 1, "all"])
def test_acks(kafka, pg, topic, acks):
    sent = [(b"k%d" % i, b"acks-%s-%d" % (str(acks).encode(), i)) for i in range(30)]
    delivered = kafka.produce(topic, sent, acks=acks)
    if acks == 0:
        # No response frames: the client learns no offsets; the records
        # still arrive, in order.
        wait_for(lambda: kafka.watermarks(topic)[1] == len(sent), 30,
                 "all acks=0 records to be stored", 0.2)
    else:
        assert [d.offset for d in delivered] == list(range(len(sent)))
        # acks=1/all are answered after COMMIT: the rows are already there.
        assert pg.sql("SELECT count(*) FROM kafka.records WHERE topic = '%s'" % topic) == "30"
    got = kafka.consume(topic, len(sent))
    assert [(r.key, r.value) for r in got] == sent


def test_create_time_is_kept(kafka, pg):
    # Kept forever: under the default retention.ms (7 days) a storage pass
    # of any broker on this database would expire these old records.
    topic = kafka.create_topic(config={"retention.ms": "-1"})
    stamps = [1_600_000_000_123, 1_500_000_000_000, 1_700_000_000_999]
    kafka.produce(topic, [{"value": b"ts%d" % i, "timestamp": ts} for i, ts in enumerate(stamps)])
    got = kafka.consume(topic, 3)
    assert [(r.timestamp_type, r.timestamp) for r in got] == \
        [(TIMESTAMP_CREATE_TIME, ts) for ts in stamps]
    ms = pg.sql("SELECT string_agg((extract(epoch FROM \"timestamp\") * 1000)::bigint::text, ',' "
                "ORDER BY \"offset\") FROM kafka.records WHERE topic = '%s'" % topic)
    assert [int(x) for x in ms.split(",")] == stamps


def test_log_append_time_topic(kafka, pg):
    topic = kafka.create_topic(config={"message.timestamp.type": "LogAppendTime"})
    before = int(time.time() * 1000)
    kafka.produce(topic, [{"value": b"old", "timestamp": 1_000_000_000_000}])
    after = int(time.time() * 1000)
    (r,) = kafka.consume(topic, 1)
    assert r.timestamp_type == TIMESTAMP_LOG_APPEND_TIME
    # Broker time, not the producer's (clocks are the same host: allow a
    # generous margin, this is not a latency check).
    assert before - 60_000 <= r.timestamp <= after + 60_000, (before, r.timestamp, after)


def test_admin_create_topic_with_configs(kafka, pg):
    name = kafka.new_topic_name("cfg")
    fs = kafka.admin().create_topics([NewTopic(name, num_partitions=3, replication_factor=1,
                                               config={"retention.ms": "3600000",
                                                       "cleanup.policy": "delete"})])
    fs[name].result(30)
    kafka.wait_partitions(name, 3)

    res = kafka.admin().describe_configs([ConfigResource("topic", name)])
    entries = list(res.values())[0].result(30)
    assert entries["retention.ms"].value == "3600000"
    assert entries["cleanup.policy"].value == "delete"
    assert not entries["retention.ms"].is_default

    assert pg.sql("SELECT partitions FROM kafka.topics WHERE name = '%s'" % name) == "3"
    assert pg.sql("SELECT value FROM kafka.topic_configs WHERE topic = '%s' "
                  "AND name = 'retention.ms'" % name) == "3600000"
    assert pg.sql("SELECT string_agg(partition::text || ':' || next_offset::text, ',' "
                  "ORDER BY partition) FROM kafka.partitions WHERE topic = '%s'" % name) \
        == "0:0,1:0,2:0"


def test_admin_create_topic_validate_only_creates_nothing(kafka, pg):
    name = kafka.new_topic_name("validate")
    fs = kafka.admin().create_topics([NewTopic(name, num_partitions=2, replication_factor=1)],
                                     validate_only=True)
    assert fs[name].result(30) is None
    assert name not in kafka.topic_names()
    assert pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%s'" % name) == "0"
    # And a real create afterwards works.
    kafka.create_topic(name, partitions=2)


def test_admin_create_existing_topic_fails(kafka, topic):
    fs = kafka.admin().create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    with pytest.raises(KafkaException) as ei:
        fs[topic].result(30)
    assert ei.value.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS


def test_admin_delete_topic(kafka, pg):
    name = kafka.create_topic(partitions=2)
    kafka.produce(name, [(b"k", b"v%d" % i) for i in range(5)])
    fs = kafka.admin().delete_topics([name], operation_timeout=30)
    assert fs[name].result(30) is None
    wait_for(lambda: name not in kafka.topic_names(), 30, "topic to leave metadata", 0.2)
    assert pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%s'" % name) == "0"
    # the records are gone or left to the storage job
    assert pg.records_of_deleted_topic_left(name) == 0
    assert pg.sql("SELECT count(*) FROM kafka.partitions WHERE topic = '%s'" % name) == "0"

    # The name can be reused, and the new topic starts empty.
    kafka.create_topic(name, partitions=1)
    assert kafka.watermarks(name) == (0, 0)

    # Deleting an unknown topic is an error.
    missing = kafka.new_topic_name("missing")
    fs = kafka.admin().delete_topics([missing], operation_timeout=30)
    with pytest.raises(KafkaException) as ei:
        fs[missing].result(30)
    assert ei.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_admin_create_partitions(kafka, pg):
    name = kafka.create_topic(partitions=2)
    kafka.produce(name, [{"value": b"before", "partition": 1}])
    fs = kafka.admin().create_partitions([NewPartitions(name, 5)])
    assert fs[name].result(30) is None
    kafka.wait_partitions(name, 5)
    assert pg.sql("SELECT partitions FROM kafka.topics WHERE name = '%s'" % name) == "5"

    (d,) = kafka.produce(name, [{"value": b"new partition", "partition": 4}])
    assert (d.partition, d.offset) == (4, 0)
    (r,) = kafka.consume(name, 1, partitions=[4])
    assert r.value == b"new partition"
    # Existing data is untouched.
    (r,) = kafka.consume(name, 1, partitions=[1])
    assert r.value == b"before"

    # Shrinking is refused.
    fs = kafka.admin().create_partitions([NewPartitions(name, 3)])
    with pytest.raises(KafkaException) as ei:
        fs[name].result(30)
    assert ei.value.args[0].code() == KafkaError.INVALID_PARTITIONS


def test_admin_describe_configs_topic_and_broker(kafka):
    name = kafka.create_topic(config={"retention.ms": "86400000"})
    md = kafka.admin().list_topics(timeout=10)
    assert len(md.brokers) == 1
    (node_id,) = md.brokers
    assert "%s:%d" % (md.brokers[node_id].host, md.brokers[node_id].port) == kafka.bootstrap

    res = kafka.admin().describe_configs([ConfigResource("topic", name),
                                          ConfigResource("broker", str(node_id))])
    by_type = {r.restype: f.result(30) for r, f in res.items()}
    topic_cfg = by_type[ConfigResource.Type.TOPIC]
    broker_cfg = by_type[ConfigResource.Type.BROKER]
    assert topic_cfg["retention.ms"].value == "86400000"
    assert broker_cfg, "broker resource has no configs"
    assert int(broker_cfg["num.partitions"].value) >= 1
    assert int(broker_cfg["message.max.bytes"].value) >= 1_000_000
    assert broker_cfg["auto.create.topics.enable"].value in ("true", "false")
    for entry in list(topic_cfg.values()) + list(broker_cfg.values()):
        assert entry.name


def test_offsets_for_times(kafka, topic):
    base = 1_650_000_000_000
    kafka.produce(topic, [{"value": b"t%d" % i, "timestamp": base + i * 1000} for i in range(5)])
    c = kafka.consumer()
    try:
        def lookup(ts):
            (tp,) = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=15)
            assert tp.error is None
            return tp.offset

        assert lookup(base - 1) == 0
        assert lookup(base) == 0
        assert lookup(base + 1500) == 2
        assert lookup(base + 4000) == 4
        assert lookup(base + 4001) == -1  # nothing at or after: end
    finally:
        c.close()


def test_watermarks(kafka, topic):
    assert kafka.watermarks(topic) == (0, 0)
    kafka.produce(topic, [(None, b"w%d" % i) for i in range(7)])
    assert kafka.watermarks(topic) == (0, 7)


def test_unknown_partition_is_refused(kafka, topic):
    p = kafka.producer(**{"message.timeout.ms": 5000})
    errors = []
    p.produce(topic, b"nowhere", partition=5, on_delivery=lambda err, msg: errors.append(err))
    p.flush(15)
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() == KafkaError._UNKNOWN_PARTITION
    assert kafka.watermarks(topic) == (0, 0)
