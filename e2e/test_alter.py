"""
Changing what is stored: AlterConfigs, IncrementalAlterConfigs and
DeleteRecords, through the clients' admin APIs (kafka-python, confluent-kafka,
KafkaJS) and as raw requests for what the clients do not send, answered as
Apache Kafka's broker answers (ConfigAdminManager, the controller's config
checks, ReplicaManager.deleteRecords).
"""

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import ConfigResource
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpConfigResource, ConfigResourceType

import kafkaproto as kp
from conftest import unique, wait_for
from test_conformance import conn  # noqa: F401  (conn: fixture)
from test_kafkajs import node, node_ready  # noqa: F401  (node_ready: fixture)
from test_conformance_data import (BROKER, BROKER_LOGGER, GROUP, TOPIC, describe_one,
                                   fetch_one, node_id, one_batch,
                                   produce_req)

DELETE_RECORDS, ALTER_CONFIGS, INCREMENTAL_ALTER_CONFIGS = 21, 33, 44
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3

OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_CONFIG = 40
INVALID_REQUEST = 42
POLICY_VIOLATION = 44


def topic_configs(kafka, topic):
    rows = kafka.pg.sql("SELECT name || '=' || value FROM kafka.topic_configs WHERE topic = '%s'"
                        " ORDER BY name" % topic)
    return rows.split("\n") if rows else []


def incremental_alter(conn, resources, validate_only=False, version=1):
    """resources: [(type, name, [(config, op, value)])] -> [(type, name, error, message)]"""
    flex = version >= 1

    def cfg(w, c):
        w.string(c[0], flex).i8(c[1]).string(c[2], flex)
        if flex:
            w.tags()

    def res(w, r):
        w.i8(r[0]).string(r[1], flex).array(r[2], cfg, flex)
        if flex:
            w.tags()

    return alter_request(conn, INCREMENTAL_ALTER_CONFIGS, version, flex,
                         kp.Writer().array(resources, res, flex).boolean(validate_only))


def legacy_alter(conn, resources, validate_only=False, version=2):
    """resources: [(type, name, [(config, value)])]"""
    flex = version >= 2

    def cfg(w, c):
        w.string(c[0], flex).string(c[1], flex)
        if flex:
            w.tags()

    def res(w, r):
        w.i8(r[0]).string(r[1], flex).array(r[2], cfg, flex)
        if flex:
            w.tags()

    return alter_request(conn, ALTER_CONFIGS, version, flex,
                         kp.Writer().array(resources, res, flex).boolean(validate_only))


def alter_request(conn, key, version, flex, w):
    if flex:
        w.tags()
    r = conn.request(key, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=20)
    r.i32()

    def result(rr):
        o = (rr.i16(), rr.string(flex), rr.i8(), rr.string(flex))
        if flex:
            rr.tags()
        return (o[2], o[3], o[0], o[1])

    return r.array(result, flex)


def delete_records(conn, parts, version=2):
    """parts: [(topic, partition, offset)] -> {(topic, partition): (low watermark, error)}"""
    flex = version >= 2
    topics = {}
    for t, p, o in parts:
        topics.setdefault(t, []).append((p, o))

    def part(w, po):
        w.i32(po[0]).i64(po[1])
        if flex:
            w.tags()

    def top(w, t):
        w.string(t, flex).array(topics[t], part, flex)
        if flex:
            w.tags()

    w = kp.Writer().array(list(topics), top, flex).i32(30000)
    if flex:
        w.tags()
    r = conn.request(DELETE_RECORDS, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=30)
    r.i32()
    out = {}

    def rpart(rr, t):
        p, low, err = rr.i32(), rr.i64(), rr.i16()
        if flex:
            rr.tags()
        out[(t, p)] = (low, err)

    def rtop(rr):
        t = rr.string(flex)
        rr.array(lambda r2: rpart(r2, t), flex)
        if flex:
            rr.tags()

    r.array(rtop, flex)
    return out


# --------------------------------------------------------------------------
# The clients' admin APIs

def test_kafka_python_alter_configs_replaces_a_topics_configs(kafka):
    topic = kafka.create_topic(config={"retention.ms": "3600000", "segment.ms": "600000"})
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap, request_timeout_ms=20000)
    try:
        res = admin.alter_configs([KpConfigResource(ConfigResourceType.TOPIC, topic,
                                                    configs={"retention.ms": "7200000"})])
        assert [r[0] for r in res.resources] == [0], res
        # The legacy API sets the configs given and resets the others.
        assert topic_configs(kafka, topic) == ["retention.ms=7200000"]
        described = admin.describe_configs([KpConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {c[0]: c[1] for c in described[0].resources[0][4]}
        assert entries["retention.ms"] == "7200000"
        assert entries["segment.ms"] == "604800000"
    finally:
        admin.close()


def test_confluent_alter_configs_refuses_an_invalid_value_and_changes_nothing(kafka):
    topic = kafka.create_topic(config={"retention.ms": "3600000"})
    admin = kafka.admin()
    bad = ConfigResource("topic", topic, set_config={"retention.ms": "soon"})
    with pytest.raises(Exception) as e:
        admin.alter_configs([bad])[bad].result(20)
    assert "retention.ms" in str(e.value)
    assert topic_configs(kafka, topic) == ["retention.ms=3600000"]
    good = ConfigResource("topic", topic, set_config={"cleanup.policy": "compact"})
    admin.alter_configs([good])[good].result(20)
    assert topic_configs(kafka, topic) == ["cleanup.policy=compact"]


def test_kafkajs_alter_configs_and_delete_topic_records(kafka, node_ready):
    topic = kafka.create_topic(partitions=2)
    kafka.produce(topic, [{"value": b"r%d" % i, "partition": 0} for i in range(5)])
    r = node("admin.js", {"bootstrap": kafka.bootstrap, "steps": [
        {"op": "alterConfigs", "args": [{"validateOnly": False, "resources": [
            {"type": "TOPIC", "name": topic,
             "configEntries": [{"name": "retention.ms", "value": "86400000"}]}]}]},
        {"op": "deleteTopicRecords", "args": [{"topic": topic,
                                               "partitions": [{"partition": 0, "offset": "3"}]}]},
        {"op": "fetchTopicOffsets", "args": [topic]},
    ]})
    assert [s["ok"] for s in r] == [True] * 3, r
    assert topic_configs(kafka, topic) == ["retention.ms=86400000"]
    offsets = {o["partition"]: (o["low"], o["high"]) for o in r[2]["value"]}
    assert offsets == {0: ("3", "5"), 1: ("0", "0")}
    assert [row["offset"] for row in kafka.pg.records(topic)] == [3, 4]


def test_consumer_from_earliest_starts_at_the_log_start_after_delete_records(kafka, conn):
    topic = kafka.create_topic()
    kafka.produce(topic, [{"value": b"v%d" % i, "partition": 0} for i in range(6)])
    assert delete_records(conn, [(topic, 0, 4)]) == {(topic, 0): (4, 0)}
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": unique("dr"),
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        c.subscribe([topic])
        got = []
        wait_for(lambda: got.extend(m.value() for m in c.consume(10, 1) if not m.error())
                 or len(got) >= 2, timeout=30, what="records after the log start")
        assert got == [b"v4", b"v5"]
    finally:
        c.close()


# --------------------------------------------------------------------------
# IncrementalAlterConfigs

def test_incremental_set_delete_append_subtract(kafka, conn):
    topic = kafka.create_topic(config={"retention.ms": "3600000"})
    assert incremental_alter(conn, [(TOPIC, topic, [
        ("segment.ms", SET, "600000"), ("retention.ms", DELETE, None),
        ("cleanup.policy", APPEND, "compact")])]) == [(TOPIC, topic, 0, None)]
    # APPEND starts from the default (delete) when the topic has no value.
    assert topic_configs(kafka, topic) == ["cleanup.policy=delete,compact", "segment.ms=600000"]
    assert incremental_alter(conn, [(TOPIC, topic, [("cleanup.policy", SUBTRACT, "delete"),
                                                    ("segment.ms", DELETE, "ignored")])]) == \
        [(TOPIC, topic, 0, None)]
    assert topic_configs(kafka, topic) == ["cleanup.policy=compact"]
    res = describe_one(conn, TOPIC, topic, ["cleanup.policy", "segment.ms"])
    assert {c["name"]: (c["value"], c["source"]) for c in res["configs"]} == \
        {"cleanup.policy": ("compact", 1), "segment.ms": ("604800000", 5)}


def test_incremental_change_applies_to_the_next_produce(kafka, conn):
    topic = kafka.create_topic()
    assert produce_req(conn, [(topic, 0, one_batch(b"x" * 300))]) == [(topic, 0, 0)]
    assert incremental_alter(conn, [(TOPIC, topic, [("max.message.bytes", SET, "200")])]) == \
        [(TOPIC, topic, 0, None)]
    assert produce_req(conn, [(topic, 0, one_batch(b"x" * 300))]) == \
        [(topic, 0, MESSAGE_TOO_LARGE)]


def test_incremental_validate_only_changes_nothing(kafka, conn):
    topic = kafka.create_topic()
    assert incremental_alter(conn, [(TOPIC, topic, [("retention.ms", SET, "1000")])],
                             validate_only=True) == [(TOPIC, topic, 0, None)]
    assert topic_configs(kafka, topic) == []
    assert incremental_alter(conn, [(TOPIC, topic, [("retention.ms", SET, "x")])],
                             validate_only=True)[0][2] == INVALID_CONFIG


@pytest.mark.parametrize("configs,error,message", [
    ([("retention.ms", SET, None)], INVALID_REQUEST, "Null value not supported for : retention.ms"),
    ([("retention.ms", SET, "1"), ("retention.ms", DELETE, None)], INVALID_REQUEST,
     "Error due to duplicate config keys"),
    ([("no.such.config", SET, "1")], INVALID_CONFIG, "Unknown topic config name: no.such.config"),
    ([("retention.ms", APPEND, "1")], INVALID_CONFIG,
     "Config value append is not allowed for config key: retention.ms"),
    ([("retention.ms", SUBTRACT, "1")], INVALID_CONFIG,
     "Config value subtract is not allowed for config key: retention.ms"),
    ([("min.insync.replicas", SET, "0")], INVALID_CONFIG, None),
    ([("cleanup.policy", APPEND, "forever")], INVALID_CONFIG, None),
])
def test_incremental_refusals_change_nothing(kafka, conn, configs, error, message):
    topic = kafka.create_topic(config={"retention.ms": "3600000"})
    ((_, _, err, msg),) = incremental_alter(conn, [(TOPIC, topic, configs)])
    assert err == error, msg
    if message:
        assert msg == message
    assert topic_configs(kafka, topic) == ["retention.ms=3600000"]


def test_incremental_resource_checks(kafka, conn):
    topic = kafka.create_topic()
    missing = unique("nosuch")
    res = incremental_alter(conn, [
        (TOPIC, topic, [("retention.ms", SET, "1000")]),
        (TOPIC, missing, [("retention.ms", SET, "1000")]),
        (TOPIC, "", [("retention.ms", SET, "1000")]),
        (GROUP, "g", [("consumer.session.timeout.ms", SET, "50000")]),
        (BROKER, str(node_id(kafka)), [("message.max.bytes", SET, "2000000")]),
        (BROKER, "not-a-number", []),
        (99, "x", []),
    ])
    assert [(r[1], r[2]) for r in res] == [
        (topic, 0), (missing, UNKNOWN_TOPIC_OR_PARTITION), ("", INVALID_REQUEST),
        ("g", INVALID_CONFIG), (str(node_id(kafka)), INVALID_REQUEST),
        ("not-a-number", INVALID_REQUEST), ("x", INVALID_REQUEST)]
    assert res[4][3] == "Cannot update these configs dynamically: Set(message.max.bytes)"
    # A resource twice: both mentions refused, nothing changed.
    other = kafka.create_topic()
    res = incremental_alter(conn, [(TOPIC, other, [("retention.ms", SET, "1")]),
                                   (TOPIC, other, [("segment.ms", SET, "1")])])
    assert [(r[2], r[3]) for r in res] == \
        [(INVALID_REQUEST, "Each resource must appear at most once.")] * 2
    assert topic_configs(kafka, other) == []


def test_incremental_root_logger_level(kafka, conn):
    nid = str(node_id(kafka))

    def level():
        return describe_one(conn, BROKER_LOGGER, nid, ["root"])["configs"][0]["value"]

    start = level()
    assert incremental_alter(conn, [(BROKER_LOGGER, nid, [("root", SET, "WARN")])]) == \
        [(BROKER_LOGGER, nid, 0, None)]
    assert level() == "WARN"
    assert incremental_alter(conn, [(BROKER_LOGGER, nid, [("root", SET, "LOUD")])])[0][2] == \
        INVALID_CONFIG
    assert incremental_alter(conn, [(BROKER_LOGGER, nid, [("root", DELETE, None)])])[0][2] == \
        INVALID_REQUEST
    assert incremental_alter(conn, [(BROKER_LOGGER, nid, [("root", SET, start)])])[0][2] == 0
    assert level() == start


def test_legacy_alter_configs_checks(kafka, conn):
    topic = kafka.create_topic()
    assert legacy_alter(conn, [(TOPIC, topic, [("retention.ms", None)])])[0][2:] == \
        (INVALID_REQUEST, "Null value not supported for : retention.ms")
    # Loggers are for IncrementalAlterConfigs only.
    assert legacy_alter(conn, [(BROKER_LOGGER, str(node_id(kafka)), [("root", "DEBUG")])]
                        )[0][2:] == (INVALID_REQUEST, "Unknown resource type 8")
    for version in (0, 1, 2):
        assert legacy_alter(conn, [(TOPIC, topic, [("segment.ms", "60000")])],
                            version=version)[0][2] == 0
    assert topic_configs(kafka, topic) == ["segment.ms=60000"]


# --------------------------------------------------------------------------
# DeleteRecords

def test_delete_records_answers(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    compacted = kafka.create_topic(config={"cleanup.policy": "compact"})
    kafka.produce(topic, [{"value": b"v", "partition": 0} for _ in range(4)])
    res = delete_records(conn, [(topic, 0, 2), (topic, 1, -1), (compacted, 0, -1),
                                (topic, 7, 0), (unique("nosuch"), 0, 0)])
    assert res[(topic, 0)] == (2, 0)
    assert res[(topic, 1)] == (0, 0)
    assert res[(compacted, 0)] == (-1, POLICY_VIOLATION)
    assert res[(topic, 7)][1] == UNKNOWN_TOPIC_OR_PARTITION
    assert [e for (t, _), (_, e) in res.items() if t.startswith("nosuch")] == \
        [UNKNOWN_TOPIC_OR_PARTITION]
    # Beyond the high watermark, or below -1: OFFSET_OUT_OF_RANGE.
    assert delete_records(conn, [(topic, 0, 5)]) == {(topic, 0): (-1, OFFSET_OUT_OF_RANGE)}
    assert delete_records(conn, [(topic, 0, -2)]) == {(topic, 0): (-1, OFFSET_OUT_OF_RANGE)}
    # Below the log start: nothing changes.
    assert delete_records(conn, [(topic, 0, 1)], version=0) == {(topic, 0): (2, 0)}
    # Fetch and ListOffsets follow the new log start.
    assert fetch_one(conn, topic, 0, 0)[0] == OFFSET_OUT_OF_RANGE
    assert fetch_one(conn, topic, 0, 2)[0] == 0
    assert kp.list_offsets(conn, topic, 0, -2)["offset"] == 2
    assert delete_records(conn, [(topic, 0, -1)], version=1) == {(topic, 0): (4, 0)}
    assert kafka.pg.records(topic) == []
    assert produce_req(conn, [(topic, 0, one_batch())]) == [(topic, 0, 0)]
    assert [r["offset"] for r in kafka.pg.records(topic)] == [4]
