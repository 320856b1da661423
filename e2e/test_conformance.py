"""
Protocol conformance: unusual requests, built by hand from Kafka's message
definitions, answered as Apache Kafka's broker answers them (KafkaApis,
ReplicationControlManager, ControllerApis, LogValidator). One test per row
of the validation tables in docs/PROTOCOL.md.
"""

import threading
import time

import pytest

import kafkaproto as kp
from conftest import SqlSession, sql_literal, wait_for

DELETE_TOPICS = 20
CREATE_PARTITIONS = 37

INVALID_REQUEST = 42
INVALID_PARTITIONS = 37
INVALID_CONFIG = 40
INVALID_REPLICATION_FACTOR = 38
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_TIMESTAMP = 32
UNSUPPORTED_COMPRESSION_TYPE = 76
UNKNOWN_TOPIC_OR_PARTITION = 3
LEADER_NOT_AVAILABLE = 5
POLICY_VIOLATION = 44
INVALID_TXN_STATE = 48

SOURCE_DYNAMIC_TOPIC = 1
SOURCE_DEFAULT = 5


# --------------------------------------------------------------------------
# CreateTopics at any version (v5+ flexible), decoding the v5+ fields.

def create_topics_raw(conn, version, topics, validate_only=False):
    """topics: list of dicts with name, partitions (-1), rf (-1),
    assignments [(partition, [brokers])], configs [(name, value)].
    -> list of result dicts in response order."""
    flex = version >= 5

    def assignment(w, a):
        w.i32(a[0]).array(a[1], lambda ww, b: ww.i32(b), flex)
        if flex:
            w.tags()

    def config(w, kv):
        w.string(kv[0], flex).string(kv[1], flex)
        if flex:
            w.tags()

    def topic(w, t):
        w.string(t["name"], flex).i32(t.get("partitions", -1)).i16(t.get("rf", -1))
        w.array(t.get("assignments", []), assignment, flex)
        w.array(t.get("configs", []), config, flex)
        if flex:
            w.tags()

    w = kp.Writer().array(topics, topic, flex).i32(10000)
    if version >= 1:
        w.boolean(validate_only)
    if flex:
        w.tags()
    r = conn.request(kp.CREATE_TOPICS, version, w.getvalue(),
                     header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=20)
    if version >= 2:
        r.i32()

    def rconfig(rr):
        c = {"name": rr.string(flex), "value": rr.string(flex), "read_only": rr.boolean(),
             "config_source": rr.i8(), "is_sensitive": rr.boolean()}
        rr.tags()
        return c

    def rtopic(rr):
        t = {"name": rr.string(flex)}
        if version >= 7:
            t["topic_id"] = rr.take(16)
        t["error_code"] = rr.i16()
        if version >= 1:
            t["error_message"] = rr.string(flex)
        if version >= 5:
            t["num_partitions"] = rr.i32()
            t["replication_factor"] = rr.i16()
            t["configs"] = rr.array(rconfig, flex)
            rr.tags()
        return t

    res = r.array(rtopic, flex)
    if flex:
        r.tags()
    return res


def create_one(conn, version=7, **topic):
    res = create_topics_raw(conn, version, [topic], topic.pop("validate_only", False))
    assert len(res) == 1, res
    return res[0]


@pytest.fixture
def conn(kafka):
    with kp.Conn.to(kafka.bootstrap) as c:
        yield c


# --------------------------------------------------------------------------
# CreateTopics

@pytest.mark.parametrize("version", [5, 6, 7])
@pytest.mark.parametrize("validate_only", [False, True])
def test_create_topics_returns_effective_configs(kafka, conn, version, validate_only):
    name = kafka.new_topic_name("cfg")
    t = create_one(conn, version, name=name, partitions=2, rf=1, validate_only=validate_only,
                   configs=[("retention.ms", "1000"), ("cleanup.policy", "compact")])
    assert t["error_code"] == 0, t
    assert t["num_partitions"] == 2 and t["replication_factor"] == 1
    configs = t["configs"]
    assert configs is not None and configs, t
    names = [c["name"] for c in configs]
    assert names == sorted(names)
    by_name = {c["name"]: c for c in configs}
    assert by_name["retention.ms"]["value"] == "1000"
    assert by_name["retention.ms"]["config_source"] == SOURCE_DYNAMIC_TOPIC
    assert by_name["cleanup.policy"]["value"] == "compact"
    assert by_name["compression.type"]["value"] == "producer"
    assert by_name["compression.type"]["config_source"] == SOURCE_DEFAULT
    assert by_name["message.timestamp.type"]["value"] == "CreateTime"
    assert all(not c["read_only"] and not c["is_sensitive"] for c in configs)
    assert (name in kafka.topic_names()) != validate_only


def test_create_topics_error_has_empty_configs(kafka, conn):
    name = kafka.new_topic_name("cfg")
    assert create_one(conn, name=name, partitions=1, rf=1)["error_code"] == 0
    t = create_one(conn, name=name, partitions=1, rf=1)
    assert t["error_code"] == kp.TOPIC_ALREADY_EXISTS
    assert t["configs"] == [] and t["num_partitions"] == -1 and t["replication_factor"] == -1


# --------------------------------------------------------------------------
# Record timestamps (LogValidator): CreateTime stored as sent.

def batch_timestamps(data):
    """(offset, timestamp) of every record of the uncompressed v2 batches in
    data, each timestamp base + delta with Java's long wrap-around."""
    out = []
    r = kp.Reader(data or b"")
    while r.remaining() >= 12:
        base = r.i64()
        length = r.i32()
        if length > r.remaining():
            break
        b = kp.Reader(r.take(length))
        b.take(4 + 1 + 4 + 2 + 4)     # leader epoch, magic, crc, attributes, last delta
        base_ts = b.i64()
        b.take(8 + 8 + 2 + 4)         # max timestamp, producer id/epoch, sequence
        for _ in range(b.i32()):
            rec = kp.Reader(b.take(b.varint()))
            rec.i8()
            ts = base_ts + rec.varint()
            ts = (ts + 2**63) % 2**64 - 2**63
            out.append((base + rec.varint(), ts))
    return out


STAMPS_EXACT = [-1, 0, -86_400_001, -62_135_596_800_000, 1_714_564_800_123,
                2**62 + 123456, 2**63 - 1, -2**63, 9_224_318_016_000_000]


def test_produce_timestamps_stored_exactly(kafka, conn):
    topic = kafka.create_topic()
    for i, ts in enumerate(STAMPS_EXACT):
        res = kp.produce(conn, topic, 0, kp.record_batch([(None, b"v%d" % i, [])],
                                                         first_timestamp=ts))
        assert res["error_code"] == 0 and res["base_offset"] == i, (ts, res)
    got = kp.fetch(conn, 11, topic, 0, 0)
    assert got["error_code"] == 0, got
    assert batch_timestamps(got["records"]) == list(enumerate(STAMPS_EXACT))
    # SQL keeps a timestamptz: the same instant, or -infinity/infinity.
    rows = kafka.pg.rows("SELECT timestamp_ms, \"timestamp\" AT TIME ZONE 'UTC' FROM kafka.records"
                         " WHERE topic = '%s' ORDER BY \"offset\"" % topic)
    assert [int(r[0]) for r in rows] == STAMPS_EXACT
    assert rows[1][1] == "1970-01-01 00:00:00"
    assert rows[5][1] == "infinity" and rows[7][1] == "-infinity"


def test_list_offsets_by_exact_timestamp(kafka, conn):
    topic = kafka.create_topic()
    for ts in (5, 2**62 + 1, 2**62 + 2):
        kp.produce(conn, topic, 0, kp.record_batch([(None, b"x", [])], first_timestamp=ts))
    assert kp.list_offsets(conn, topic, 0, 2**62 + 2)["offset"] == 2
    assert kp.list_offsets(conn, topic, 0, 2**62)["offset"] == 1
    top = kp.list_offsets(conn, topic, 0, kp.MAX_TIMESTAMP)
    assert (top["offset"], top["timestamp"]) == (2, 2**62 + 2)


@pytest.mark.parametrize("config,stamp", [
    ("message.timestamp.before.max.ms", 0),
    ("message.timestamp.after.max.ms", 2**62),
])
def test_produce_timestamp_out_of_topic_limits(kafka, conn, config, stamp):
    topic = kafka.create_topic(config={config: "3600000"})
    res = kp.produce(conn, topic, 0, kp.record_batch([(None, b"x", [])], first_timestamp=stamp))
    assert res["error_code"] == INVALID_TIMESTAMP, res
    # No timestamp (-1) and a current one are within any limit.
    for ts in (-1, None):
        res = kp.produce(conn, topic, 0, kp.record_batch([(None, b"y", [])], first_timestamp=ts))
        assert res["error_code"] == 0, res
    assert [r["value"] for r in kafka.pg.records(topic)] == [b"y", b"y"]


def test_produce_timestamps_out_of_limits_listed_in_record_errors(kafka, conn):
    # LogValidator lists every record out of the topic's limits, by index,
    # with its timestamp and the window; the partition's message is generic.
    topic = kafka.create_topic(config={"message.timestamp.before.max.ms": "3600000"})
    now = int(time.time() * 1000)
    day = 86400000
    recs = [(None, b"old", [], 0), (None, b"new", [], day), (None, b"older", [], -day),
            (None, b"new", [], day + 5)]
    res = kp.produce(conn, topic, 0, kp.record_batch(recs, first_timestamp=now - day), version=9)
    assert res["error_code"] == INVALID_TIMESTAMP
    assert res["error_message"] == "One or more records have been rejected due to invalid timestamp"
    assert [i for i, _ in res["record_errors"]] == [0, 2]
    for (i, msg), ts in zip(res["record_errors"], (now - day, now - 2 * day)):
        assert msg.startswith("Timestamp %d of message with offset %d is out of range. "
                              "The timestamp should be within [" % (ts, i)), msg
    assert kafka.pg.records(topic) == []


def test_produce_log_append_time_batch_listed_in_record_errors(kafka, conn):
    # To a LogAppendTime topic every record of a LogAppendTime batch is refused.
    topic = kafka.create_topic(config={"message.timestamp.type": "LogAppendTime"})
    batch = kp.record_batch([(None, b"a", []), (None, b"b", [])], attributes=0x08)
    res = kp.produce(conn, topic, 0, batch, version=9)
    assert res["error_code"] == INVALID_TIMESTAMP
    assert [i for i, _ in res["record_errors"]] == [0, 1]
    assert all("LogAppendTime" in m for _, m in res["record_errors"])


# --------------------------------------------------------------------------
# Produce with acks=0 (KafkaApis.handleProduceRequest).

def test_acks0_failure_closes_connection(kafka, conn):
    topic = kafka.create_topic()
    batch = kp.record_batch([(None, b"x", [])])
    conn.send(kp.PRODUCE, 3, kp.produce_body(3, topic, 7, batch, acks=0))
    assert conn.wait_closed(), "connection left open after a failed acks=0 produce"
    wait_for(lambda: "acks=0 produce to %s-7 failed" % topic in kafka.broker.log_text(), 10,
             "the log line of the closed connection")


def test_acks0_success_answers_nothing_and_keeps_connection(kafka, conn):
    topic = kafka.create_topic()
    conn.send(kp.PRODUCE, 3, kp.produce_body(3, topic, 0, kp.record_batch([(None, b"x", [])]),
                                             acks=0))
    # The next request's answer is the first frame: nothing came for acks=0.
    assert kp.api_versions(conn, 0)[0] == 0
    assert [r["value"] for r in kafka.pg.records(topic)] == [b"x"]


# --------------------------------------------------------------------------
# Produce: batch checks and partitions named twice (ProduceRequest,
# LogValidator, KafkaApis keys partitions by topic and partition).

def produce_raw(conn, version, topics, acks=-1):
    """topics: [(name, [(partition, records bytes)])], sent as given (names
    and partitions may repeat). -> [(name, [(partition, error_code)])]."""
    def part(w, pr):
        w.i32(pr[0]).bytes_(pr[1])

    def top(w, t):
        w.string(t[0]).array(t[1], part)

    body = kp.Writer().string(None).i16(acks).i32(10000).array(topics, top).getvalue()
    r = conn.request(kp.PRODUCE, version, body, timeout=20)

    def rpart(rr):
        p = (rr.i32(), rr.i16())
        rr.i64()
        rr.i64()
        if version >= 5:
            rr.i64()
        return p

    return r.array(lambda rr: (rr.string(), rr.array(rpart)))


def zstd_batch(value):
    import zstandard
    rec = kp.encode_record(0, None, value)
    raw = kp.record_batch([(None, value, [])], attributes=4)
    # Same header, records replaced by their zstd frame; CRC recomputed.
    head = bytearray(raw[:kp.RECORD_BATCH_HEADER_SIZE])
    body = bytes(head[21:]) + zstandard.ZstdCompressor().compress(rec)
    length = 4 + 1 + 4 + len(body)
    return (kp.Writer().i64(0).i32(length).i32(-1).i8(2).u32(kp.crc32c(body)).raw(body)
            .getvalue())


@pytest.mark.parametrize("version,error", [(3, UNSUPPORTED_COMPRESSION_TYPE), (6, UNSUPPORTED_COMPRESSION_TYPE),
                                           (7, 0)])
def test_produce_zstd_needs_v7(kafka, conn, version, error):
    topic = kafka.create_topic()
    assert produce_raw(conn, version, [(topic, [(0, zstd_batch(b"z"))])]) == [(topic, [(0, error)])]


@pytest.mark.parametrize("delta", [0, 2, -1])
def test_produce_last_offset_delta_must_match_count(kafka, conn, delta):
    topic = kafka.create_topic()
    batch = bytearray(kp.record_batch([(None, b"a", []), (None, b"b", [])]))
    batch[23:27] = delta.to_bytes(4, "big", signed=True)       # last_offset_delta
    batch[17:21] = kp.crc32c(bytes(batch[21:])).to_bytes(4, "big")
    assert kp.produce(conn, topic, 0, bytes(batch))["error_code"] == kp.INVALID_RECORD
    assert kafka.pg.records(topic) == []


def test_produce_same_partition_twice_keeps_last_batch(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    first = kp.record_batch([(None, b"first", [])])
    last = kp.record_batch([(None, b"last", [])])
    res = produce_raw(conn, 3, [(topic, [(0, first), (1, first), (0, last)])])
    # One answer per partition (Kafka's order is its map's: not checked).
    assert [(name, sorted(parts)) for name, parts in res] == [(topic, [(0, 0), (1, 0)])]
    assert [(r["partition"], r["value"]) for r in kafka.pg.records(topic)] == \
        [(0, b"last"), (1, b"first")]


def test_produce_topic_listed_twice_answered_once(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    batch = kp.record_batch([(None, b"v", [])])
    res = produce_raw(conn, 3, [(topic, [(1, batch)]), (topic, [(0, batch)])])
    assert [(name, sorted(parts)) for name, parts in res] == [(topic, [(0, 0), (1, 0)])]


# --------------------------------------------------------------------------
# ListOffsets (KafkaApis.handleListOffsetRequest, ReplicaManager.fetchOffset).

def list_offsets_raw(conn, topics, version=7):
    """topics: [(name, [(partition, timestamp, current_leader_epoch)])]
    -> [(name, [(partition, error, timestamp, offset, leader_epoch)])]"""
    flex = version >= 6

    def part(w, p):
        w.i32(p[0])
        if version >= 4:
            w.i32(p[2])
        w.i64(p[1])
        if flex:
            w.tags()

    def top(w, t):
        w.string(t[0], flex).array(t[1], part, flex)
        if flex:
            w.tags()

    w = kp.Writer().i32(-1).i8(0).array(topics, top, flex)
    if flex:
        w.tags()
    r = conn.request(kp.LIST_OFFSETS, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0)
    r.i32()

    def rpart(rr):
        p = (rr.i32(), rr.i16(), rr.i64(), rr.i64(), rr.i32())
        if flex:
            rr.tags()
        return p

    def rtop(rr):
        t = (rr.string(flex), rr.array(rpart, flex))
        if flex:
            rr.tags()
        return t

    return r.array(rtop, flex)


def test_list_offsets_partition_twice_is_invalid_request(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    res = list_offsets_raw(conn, [(topic, [(0, kp.LATEST, -1), (1, kp.LATEST, -1),
                                           (0, kp.EARLIEST, -1)])])
    assert res == [(topic, [(0, INVALID_REQUEST, -1, -1, -1), (1, 0, -1, 0, -1)])]


def test_list_offsets_leader_epoch_none_where_kafka_has_none(kafka, conn):
    topic = kafka.create_topic()
    (_, [(_, err, _, offset, epoch)]), = list_offsets_raw(conn, [(topic, [(0, kp.LATEST, -1)])])
    assert (err, offset, epoch) == (0, 0, -1)
    kp.produce(conn, topic, 0, kp.record_batch([(None, b"x", [])]))
    (_, [(_, err, _, offset, epoch)]), = list_offsets_raw(conn, [(topic, [(0, kp.LATEST, -1)])])
    assert (err, offset, epoch) == (0, 1, 0)
    # No record at or after the time: Kafka's error response, epoch -1.
    (_, [(_, err, _, offset, epoch)]), = list_offsets_raw(conn, [(topic, [(0, 2**62, -1)])])
    assert (err, offset, epoch) == (0, -1, -1)


@pytest.mark.parametrize("epoch,error", [(0, 0), (1, 75), (-2, 74)])
def test_list_offsets_current_leader_epoch(kafka, conn, epoch, error):
    topic = kafka.create_topic()
    (_, [(_, err, _, _, _)]), = list_offsets_raw(conn, [(topic, [(0, kp.LATEST, epoch)])])
    assert err == error


# --------------------------------------------------------------------------
# DeleteTopics (ControllerApis.deleteTopics).

ZERO_ID = bytes(16)


def delete_topics_raw(conn, topics, version=6):
    """v6: topics [(name or None, id bytes)]; v1: topics [name].
    -> [(name, id or None, error_code)]"""
    flex = version >= 4
    if version >= 6:
        def top(w, t):
            w.string(t[0], True).raw(t[1]).tags()
        w = kp.Writer().array(topics, top, True)
    else:
        w = kp.Writer().array(topics, lambda ww, n: ww.string(n, flex), flex)
    w.i32(10000)
    if flex:
        w.tags()
    r = conn.request(DELETE_TOPICS, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=20)
    r.i32()

    def rtop(rr):
        name = rr.string(flex)
        tid = rr.take(16) if version >= 6 else None
        err = rr.i16()
        if version >= 5:
            rr.string(flex)
        if flex:
            rr.tags()
        return (name, tid, err)

    return r.array(rtop, flex)


def topic_id(kafka, name):
    return bytes.fromhex(kafka.pg.sql("SELECT replace(topic_id::text, '-', '') FROM kafka.topics"
                                      " WHERE name = '%s'" % name))


def test_delete_topics_name_and_id_both_given(kafka, conn):
    topic = kafka.create_topic()
    tid = topic_id(kafka, topic)
    for given in (tid, b"\x01" * 16):   # its own id, or another one
        assert delete_topics_raw(conn, [(topic, given)]) == [(topic, given, INVALID_REQUEST)]
    assert topic in kafka.topic_names()


def test_delete_topics_neither_name_nor_id(kafka, conn):
    assert delete_topics_raw(conn, [(None, ZERO_ID)]) == [(None, ZERO_ID, INVALID_REQUEST)]


@pytest.mark.parametrize("version", [1, 6])
def test_delete_topics_same_name_twice(kafka, conn, version):
    topic = kafka.create_topic()
    entry = (topic, ZERO_ID) if version >= 6 else topic
    res = delete_topics_raw(conn, [entry, entry], version)
    assert [(n, e) for n, _, e in res] == [(topic, INVALID_REQUEST)]
    assert topic in kafka.topic_names()


def test_delete_topics_same_id_twice(kafka, conn):
    topic = kafka.create_topic()
    tid = topic_id(kafka, topic)
    assert delete_topics_raw(conn, [(None, tid), (None, tid)]) == [(None, tid, INVALID_REQUEST)]
    assert topic in kafka.topic_names()
    assert delete_topics_raw(conn, [(None, tid)]) == [(topic, tid, 0)]


# --------------------------------------------------------------------------
# CreateTopics checks (ControllerApis.createTopics,
# ReplicationControlManager.createTopics, LogConfig).

def test_create_topics_replication_factor_above_brokers(kafka, conn):
    name = kafka.new_topic_name()
    t = create_one(conn, name=name, partitions=1, rf=3)
    assert t["error_code"] == INVALID_REPLICATION_FACTOR, t
    assert name not in kafka.topic_names()


@pytest.mark.parametrize("existing,new", [("a.b", "a_b"), ("a_b", "a.b"), ("x.y_z", "x_y.z")])
def test_create_topics_name_collision(kafka, conn, existing, new):
    prefix = kafka.new_topic_name("col")
    existing, new = prefix + existing, prefix + new
    assert create_one(conn, name=existing, partitions=1, rf=1)["error_code"] == 0
    for validate_only in (True, False):
        t = create_one(conn, name=new, partitions=1, rf=1, validate_only=validate_only)
        assert t["error_code"] == kp.INVALID_TOPIC_EXCEPTION, t
        assert existing in t["error_message"]
    assert new not in kafka.topic_names()


def test_auto_create_does_not_create_a_colliding_name(kafka):
    prefix = kafka.new_topic_name("col")
    kafka.create_topic(prefix + "a.b")
    from confluent_kafka.admin import AdminClient
    admin = AdminClient(kafka.conf(allow_auto_create_topics=True))
    md = admin.list_topics(topic=prefix + "a_b", timeout=10)
    assert md.topics[prefix + "a_b"].error is not None
    assert kafka.pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%sa_b'" % prefix) == "0"


def test_auto_create_of_a_colliding_name_answers_leader_not_available(kafka, conn):
    # KRaft brokers hand auto-creation to the controller and answer
    # LEADER_NOT_AVAILABLE meanwhile; the controller then refuses the name.
    prefix = kafka.new_topic_name("col")
    kafka.create_topic(prefix + "x.y")
    for _ in range(2):
        _, topics = metadata_raw(conn, [prefix + "x_y"], allow_auto_create=True)
        assert topics == [(prefix + "x_y", LEADER_NOT_AVAILABLE)]
    _, topics = metadata_raw(conn, [prefix + "x_y"])
    assert topics == [(prefix + "x_y", UNKNOWN_TOPIC_OR_PARTITION)]
    assert kafka.pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%sx_y'" % prefix) == "0"


def test_create_topics_null_config_value(kafka, conn):
    t = create_one(conn, name=kafka.new_topic_name(), partitions=1, rf=1,
                   configs=[("retention.ms", None)])
    assert t["error_code"] == INVALID_CONFIG, t


@pytest.mark.parametrize("config,value", [
    ("min.insync.replicas", "0"), ("segment.ms", "0"), ("segment.bytes", "13"),
    ("retention.ms", "-2"), ("max.message.bytes", "-1"), ("delete.retention.ms", "-1"),
    ("message.timestamp.before.max.ms", "-1"), ("cleanup.policy", "compact,,delete"),
    ("min.insync.replicas", "2147483648"),
])
def test_create_topics_config_out_of_range(kafka, conn, config, value):
    t = create_one(conn, name=kafka.new_topic_name(), partitions=1, rf=1,
                   configs=[(config, value)])
    assert t["error_code"] == INVALID_CONFIG, t


@pytest.mark.parametrize("config,value", [
    ("message.timestamp.before.max.ms", "3600000"), ("message.timestamp.after.max.ms", "0"),
    ("delete.retention.ms", "0"), ("min.compaction.lag.ms", "1000"),
    ("cleanup.policy", "compact, delete"), ("cleanup.policy", "delete ,compact"),
])
def test_create_topics_valid_configs_accepted(kafka, conn, config, value):
    t = create_one(conn, name=kafka.new_topic_name(), partitions=1, rf=1,
                   configs=[(config, value)])
    assert t["error_code"] == 0, t
    assert {c["name"]: c["value"] for c in t["configs"]}[config] == value


def test_create_topics_cluster_metadata_is_invalid_request(kafka, conn):
    t = create_one(conn, name="__cluster_metadata", partitions=1, rf=1)
    assert t["error_code"] == INVALID_REQUEST, t


def test_create_topics_same_name_twice_answered_once(kafka, conn):
    name = kafka.new_topic_name()
    res = create_topics_raw(conn, 7, [{"name": name, "partitions": 1, "rf": 1}] * 2)
    assert [(t["name"], t["error_code"]) for t in res] == [(name, INVALID_REQUEST)]
    assert name not in kafka.topic_names()


def test_create_topics_answer_order(kafka, conn):
    # ControllerApis: the controller's answers (created or refused) in
    # request order, then the names given twice, then __cluster_metadata.
    dup, a, b = (kafka.new_topic_name() for _ in range(3))
    res = create_topics_raw(conn, 7, [
        {"name": "__cluster_metadata", "partitions": 1, "rf": 1},
        {"name": dup, "partitions": 1, "rf": 1},
        {"name": a, "partitions": 1, "rf": 1},
        {"name": dup, "partitions": 1, "rf": 1},
        {"name": b, "partitions": 1, "rf": 3},
    ])
    assert [(t["name"], t["error_code"]) for t in res] == [
        (a, 0), (b, INVALID_REPLICATION_FACTOR), (dup, INVALID_REQUEST),
        ("__cluster_metadata", INVALID_REQUEST)]
    assert a in kafka.topic_names() and b not in kafka.topic_names()


@pytest.mark.parametrize("assignments", [
    [(0, [1]), (0, [1])],          # a partition twice
    [(0, [1, 1])],                 # a broker twice
    [(0, [])],                     # no replica
    [(0, [1]), (2, [1])],          # not 0 .. n-1
    [(0, [7])],                    # no such broker
])
def test_create_topics_bad_replica_assignment(kafka, conn, assignments):
    name = kafka.new_topic_name()
    t = create_one(conn, name=name, assignments=assignments)
    assert t["error_code"] == INVALID_REPLICA_ASSIGNMENT, t
    assert name not in kafka.topic_names()


def test_create_topics_replica_assignment(kafka, conn):
    name = kafka.new_topic_name()
    t = create_one(conn, name=name, assignments=[(1, [1]), (0, [1])])
    assert t["error_code"] == 0 and t["num_partitions"] == 2, t


# --------------------------------------------------------------------------
# ApiVersions (ApiVersionsRequest.isValid) and Metadata (KafkaApis).

@pytest.mark.parametrize("name,version,valid", [
    ("librdkafka", "2.3.0", True), ("a", "1", True), ("my-client.x", "1.0-SNAPSHOT", True),
    ("", "1.0", False), ("bad name", "1.0", False), ("-x", "1.0", False),
    ("x.", "1.0", False), ("client", "1.0+build", False), ("client", "", False),
])
def test_api_versions_v3_client_software(conn, name, version, valid):
    body = kp.Writer().string(name, True).string(version, True).tags().getvalue()
    r = conn.request(kp.API_VERSIONS, 3, body, header_version=2)
    error, apis = kp.decode_api_versions(r, 3)
    if valid:
        assert error == 0 and apis
    else:
        assert (error, apis) == (INVALID_REQUEST, {})


def metadata_raw(conn, names, version=9, include_cluster_ops=False, allow_auto_create=False):
    """-> (cluster_authorized_operations, [(name, error_code)])"""
    flex = version >= 9

    def top(w, n):
        w.string(n, flex)
        if flex:
            w.tags()

    w = kp.Writer().array(names, top, flex).boolean(allow_auto_create)
    w.boolean(include_cluster_ops).boolean(False)
    if flex:
        w.tags()
    r = conn.request(kp.METADATA, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0)
    r.i32()

    def broker(rr):
        rr.i32(), rr.string(flex), rr.i32(), rr.string(flex)
        if flex:
            rr.tags()

    r.array(broker, flex)
    r.string(flex)
    r.i32()

    def part(rr):
        rr.i16(), rr.i32(), rr.i32(), rr.i32()
        for _ in range(3):
            rr.array(lambda r3: r3.i32(), flex)
        if flex:
            rr.tags()

    def topic(rr):
        err, name = rr.i16(), rr.string(flex)
        rr.boolean()
        rr.array(part, flex)
        rr.i32()
        if flex:
            rr.tags()
        return (name, err)

    topics = r.array(topic, flex)
    cluster_ops = r.i32()
    return cluster_ops, topics


@pytest.mark.parametrize("include,expected", [(True, 8096), (False, -2**31)])
def test_metadata_cluster_authorized_operations(kafka, conn, include, expected):
    ops, _ = metadata_raw(conn, [], include_cluster_ops=include)
    assert ops == expected


def test_metadata_topic_named_twice_answered_once(kafka, conn):
    topic = kafka.create_topic()
    _, topics = metadata_raw(conn, [topic, topic])
    assert topics == [(topic, 0)]


# --------------------------------------------------------------------------
# Fetch (KafkaApis.handleFetchRequest, FetchManager, Partition).

def fetch_raw(conn, parts, version=12, replica_id=-1, max_bytes=52428800, isolation=0,
              session=(0, -1), max_wait_ms=0, entries=None):
    """parts: [(topic, partition, offset, current_leader_epoch)], one topic
    entry each. -> (top error, [(topic, partition, error, records)]); the
    answer's topic entries, as names, are appended to `entries` if given."""
    flex = version >= 12
    w = kp.Writer().i32(replica_id).i32(max_wait_ms).i32(1).i32(max_bytes).i8(isolation)
    w.i32(session[0]).i32(session[1])

    def part(ww, p):
        ww.i32(p[1]).i32(p[3]).i64(p[2])
        if version >= 12:
            ww.i32(-1)
        ww.i64(-1).i32(1048576)
        if flex:
            ww.tags()

    def top(ww, p):
        ww.string(p[0], flex).array([p], part, flex)
        if flex:
            ww.tags()

    w.array(parts, top, flex).array([], None, flex).string("", flex)
    if flex:
        w.tags()
    r = conn.request(kp.FETCH, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0)
    r.i32()
    top_error = r.i16()
    r.i32()

    def aborted(rr):
        rr.i64(), rr.i64()
        if flex:
            rr.tags()

    def rpart(rr):
        p = [rr.i32(), rr.i16()]
        rr.i64(), rr.i64(), rr.i64()
        rr.array(aborted, flex)
        rr.i32()
        p.append(rr.bytes_(flex))
        if flex:
            rr.tags()
        return p

    out = []

    def rtop(rr):
        name = rr.string(flex)
        if entries is not None:
            entries.append(name)
        ps = rr.array(rpart, flex)
        assert ps, "a topic answered without partitions"
        for p in ps:
            out.append((name, p[0], p[1], p[2]))
        if flex:
            rr.tags()

    r.array(rtop, flex)
    return top_error, out


@pytest.fixture
def three_records(kafka, conn):
    topic = kafka.create_topic()
    for i in range(3):
        kp.produce(conn, topic, 0, kp.record_batch([(None, b"r%d" % i, [])]))
    return topic


@pytest.mark.parametrize("max_bytes", [0, -1])
def test_fetch_max_bytes_zero_returns_first_batch(conn, three_records, max_bytes):
    err, parts = fetch_raw(conn, [(three_records, 0, 0, -1)], max_bytes=max_bytes)
    assert err == 0 and parts[0][2] == 0
    assert [o for o, _, _ in kp.decode_batches(parts[0][3])] == [0]


@pytest.mark.parametrize("session,error", [
    ((0, -1), 0), ((0, 0), 0), ((12345, 0), 0), ((12345, -1), 0),
    ((0, 1), 70), ((12345, 3), 70), ((0, -2), 70),
])
def test_fetch_session_rules(conn, three_records, session, error):
    err, parts = fetch_raw(conn, [(three_records, 0, 0, -1)], session=session)
    assert err == error
    if error == 0:
        assert parts[0][2] == 0 and parts[0][3]
    else:
        assert parts == []


def test_fetch_isolation_level_2(conn, three_records):
    assert fetch_raw(conn, [(three_records, 0, 0, -1)], isolation=2) == (-1, [])


@pytest.mark.parametrize("epoch,error", [(-1, 6), (0, 75)])
def test_fetch_from_a_follower(conn, three_records, epoch, error):
    err, parts = fetch_raw(conn, [(three_records, 0, 0, epoch)], replica_id=1)
    assert err == 0 and parts[0][2] == error and not parts[0][3]


@pytest.mark.parametrize("epoch,error", [(0, 0), (-5, 0), (1, 75)])
def test_fetch_current_leader_epoch(conn, three_records, epoch, error):
    _, parts = fetch_raw(conn, [(three_records, 0, 0, epoch)])
    assert parts[0][2] == error


def test_fetch_same_partition_twice_read_once(conn, three_records):
    err, parts = fetch_raw(conn, [(three_records, 0, 0, -1), (three_records, 0, 2, -1)])
    assert err == 0 and len(parts) == 1
    assert [o for o, _, _ in kp.decode_batches(parts[0][3])] == [2]


def test_fetch_topic_in_consecutive_entries_answered_once(kafka, conn):
    # FetchResponse groups its partitions by runs of one topic: two
    # consecutive request entries of a topic make one answer entry, a topic
    # that comes back after another makes a second one.
    a = kafka.create_topic(partitions=2)
    b = kafka.create_topic()
    entries = []
    err, parts = fetch_raw(conn, [(a, 0, 0, -1), (a, 1, 0, -1)], entries=entries)
    assert err == 0 and entries == [a]
    assert [(t, p, e) for t, p, e, _ in parts] == [(a, 0, 0), (a, 1, 0)]
    entries = []
    err, parts = fetch_raw(conn, [(a, 0, 0, -1), (b, 0, 0, -1), (a, 1, 0, -1)], entries=entries)
    assert err == 0 and entries == [a, b, a]
    assert [(t, p) for t, p, _, _ in parts] == [(a, 0), (b, 0), (a, 1)]


# --------------------------------------------------------------------------
# A batch that claims LogAppendTime (LogValidator.validateTimestamp).

@pytest.mark.parametrize("topic_type,stamp,error", [
    ("LogAppendTime", None, INVALID_TIMESTAMP),
    ("CreateTime", -1, INVALID_TIMESTAMP),
    ("CreateTime", None, 0),
])
def test_produce_log_append_time_batch(kafka, conn, topic_type, stamp, error):
    topic = kafka.create_topic(config={"message.timestamp.type": topic_type})
    batch = kp.record_batch([(None, b"x", [])], first_timestamp=stamp, attributes=0x08)
    assert kp.produce(conn, topic, 0, batch)["error_code"] == error
    assert len(kafka.pg.records(topic)) == (0 if error else 1)


# --------------------------------------------------------------------------
# More Produce batch checks, CreatePartitions.

def two_batches():
    return kp.record_batch([(None, b"a", [])]) + kp.record_batch([(None, b"b", [])])


def control_batch():
    return kp.record_batch([(None, b"c", [])], attributes=0x20)


def idempotent_negative_sequence():
    batch = bytearray(kp.record_batch([(None, b"i", [])]))
    batch[43:51] = (5).to_bytes(8, "big")                       # producer_id
    batch[51:53] = (0).to_bytes(2, "big")                       # producer_epoch
    batch[53:57] = (-1).to_bytes(4, "big", signed=True)         # base_sequence
    batch[17:21] = kp.crc32c(bytes(batch[21:])).to_bytes(4, "big")
    return bytes(batch)


@pytest.mark.parametrize("make", [two_batches, control_batch, idempotent_negative_sequence],
                         ids=["two_batches", "control", "negative_sequence"])
def test_produce_invalid_batches(kafka, conn, make):
    topic = kafka.create_topic()
    assert kp.produce(conn, topic, 0, make())["error_code"] == kp.INVALID_RECORD
    assert kafka.pg.records(topic) == []


def test_create_topics_assignment_with_counts_is_invalid_request(kafka, conn):
    t = create_one(conn, name=kafka.new_topic_name(), rf=1, assignments=[(0, [1])])
    assert t["error_code"] == INVALID_REQUEST, t


def create_partitions_raw(conn, name, count, assignments, version=1):
    def assignment(w, brokers):
        w.array(brokers, lambda ww, b: ww.i32(b))

    w = kp.Writer().array([None], lambda ww, _: (ww.string(name).i32(count),
                                                 ww.array(assignments, assignment)))
    w.i32(10000).boolean(False)
    r = conn.request(CREATE_PARTITIONS, version, w.getvalue(), timeout=20)
    r.i32()
    return r.array(lambda rr: (rr.string(), rr.i16(), rr.string()))


@pytest.mark.parametrize("assignments", [[[7]], [[1, 1]], [[]]])
def test_create_partitions_bad_assignment(kafka, conn, assignments):
    topic = kafka.create_topic()
    (name, err, _), = create_partitions_raw(conn, topic, 2, assignments)
    assert err == INVALID_REPLICA_ASSIGNMENT
    assert kafka.partitions(topic) == [0]


@pytest.mark.parametrize("count,assignments,error", [
    (3, [[1]], INVALID_REPLICA_ASSIGNMENT),          # two added, one assignment
    (2, [[1], [1]], INVALID_REPLICA_ASSIGNMENT),     # one added, two assignments
    (2, [], INVALID_REPLICA_ASSIGNMENT),             # an empty list is not "none"
    (3, [[1], [1]], 0),
    (2, None, 0),
])
def test_create_partitions_assignment_count(kafka, conn, count, assignments, error):
    topic = kafka.create_topic()
    (name, err, _), = create_partitions_raw(conn, topic, count, assignments)
    assert err == error
    expected = list(range(count)) if error == 0 else [0]
    wait_for(lambda: kafka.partitions(topic) == expected, 10, "partitions %s" % expected)


def test_create_partitions_concurrent_checked_against_the_count_they_add_to(kafka, pg):
    # Kafka's controller runs CreatePartitions one at a time, so the second
    # of two is checked against the count the first left. Both requests are
    # checked while a transaction holds the topic's row, so both pass their
    # first check against one partition; whichever adds second must be
    # checked again: 1 -> 3 with two assignments, 1 -> 4 with three.
    topic = kafka.create_topic()
    lock = SqlSession(pg)
    try:
        assert lock.run("BEGIN; SELECT partitions FROM kafka.topics WHERE name = %s FOR UPDATE;"
                        % sql_literal(topic)) == ["1"]
        a, b = kp.Conn.to(kafka.bootstrap), kp.Conn.to(kafka.bootstrap)
        results = {}

        def ask(c, key, count, assignments):
            results[key] = create_partitions_raw(c, topic, count, assignments)[0][1]

        ts = [threading.Thread(target=ask, args=(a, 3, 3, [[1], [1]])),
              threading.Thread(target=ask, args=(b, 4, 4, [[1], [1], [1]]))]
        for t in ts:
            t.start()
        wait_for(lambda: pg.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_kafka' "
            "AND wait_event_type = 'Lock' AND query LIKE '%%create_partitions%%'") == "2",
            20, "both additions waiting for the topic's row")
        lock.run("COMMIT;")
        for t in ts:
            t.join(20)
        a.close()
        b.close()
    finally:
        lock.close()
    assert sorted(results.values()).count(0) == 1, results
    winner = 3 if results[3] == 0 else 4
    loser_error = INVALID_PARTITIONS if winner == 4 else INVALID_REPLICA_ASSIGNMENT
    assert results[7 - winner] == loser_error, results
    assert kafka.partitions(topic) == list(range(winner))


def test_list_offsets_isolation_level_2(kafka, conn):
    topic = kafka.create_topic()
    w = kp.Writer().i32(-1).i8(2)
    w.array([None], lambda ww, _: ww.string(topic, True).array(
        [None], lambda w3, _: w3.i32(0).i32(-1).i64(kp.LATEST).tags(), True).tags(), True).tags()
    r = conn.request(kp.LIST_OFFSETS, 7, w.getvalue(), header_version=2, response_header_version=1)
    r.i32()
    r.uvarint()                     # one topic
    assert r.string(True) == topic
    r.uvarint()                     # one partition
    assert (r.i32(), r.i16()) == (0, -1)


@pytest.mark.parametrize("policy,key,error", [
    ("compact", None, kp.INVALID_RECORD), ("compact, delete", None, kp.INVALID_RECORD),
    ("compact", b"", 0), ("delete", None, 0),
])
def test_produce_keyless_record_to_compacted_topic(kafka, conn, policy, key, error):
    topic = kafka.create_topic(config={"cleanup.policy": policy})
    res = kp.produce(conn, topic, 0, kp.record_batch([(b"k", b"a", []), (key, b"b", [])]))
    assert res["error_code"] == error
    assert len(kafka.pg.records(topic)) == (0 if error else 2)


def test_produce_keyless_records_listed_in_record_errors(kafka, conn):
    # LogValidator lists every keyless record of the batch, by its index,
    # and the partition's message shows the first three.
    topic = kafka.create_topic(config={"cleanup.policy": "compact"})
    recs = [(b"k", b"a", []), (None, b"b", []), (b"k", b"c", []), (None, b"d", []),
            (None, b"e", []), (None, b"f", [])]
    res = kp.produce(conn, topic, 0, kp.record_batch(recs), version=9)
    one = "Compacted topic cannot accept message without key in topic partition %s-0." % topic
    assert res["error_code"] == kp.INVALID_RECORD
    assert res["record_errors"] == [(i, one) for i in (1, 3, 4, 5)]
    assert res["error_message"] == (
        "One or more records have been rejected due to 4 record errors in total, and only "
        "showing the first three errors at most: [%s]" % ", ".join(
            "RecordError(batchIndex=%d, message='%s')" % (i, one) for i in (1, 3, 4)))
    assert kafka.pg.records(topic) == []


# --------------------------------------------------------------------------
# Values that must be refused before they reach a statement: Kafka's answer,
# no partition rows or records written, and no ERROR in the broker log.

def test_create_topics_too_many_partitions_in_one_request(kafka, broker, conn):
    mark = len(broker.log_text())
    small, big = kafka.new_topic_name(), kafka.new_topic_name()
    res = create_topics_raw(conn, 7, [{"name": small, "partitions": 2, "rf": 1},
                                      {"name": big, "partitions": 9999, "rf": 1}])
    assert [t["error_code"] for t in res] == [0, POLICY_VIOLATION], res
    assert kafka.partitions(small) == [0, 1]
    assert kafka.pg.sql("SELECT count(*) FROM kafka.partitions WHERE topic = %s"
                        % sql_literal(big)) == "0"
    assert " ERROR " not in broker.log_text()[mark:]


def test_create_partitions_too_many_added_in_one_request(kafka, broker, conn):
    topic = kafka.create_topic()
    mark = len(broker.log_text())
    (_, err, msg), = create_partitions_raw(conn, topic, 10002, None)
    assert err == POLICY_VIOLATION, msg
    assert kafka.partitions(topic) == [0]
    assert " ERROR " not in broker.log_text()[mark:]


def test_create_topics_number_config_with_nul_byte(kafka, broker, conn):
    mark = len(broker.log_text())
    t = create_one(conn, name=kafka.new_topic_name(), partitions=1, rf=1,
                   configs=[("retention.ms", "5\x00x")])
    assert t["error_code"] == INVALID_CONFIG, t
    assert " ERROR " not in broker.log_text()[mark:]


def test_produce_transactional_id_not_text(kafka, broker, conn):
    topic = kafka.create_topic()
    batch = bytearray(kp.record_batch([(None, b"t", [])], attributes=0x10))
    batch[43:51] = (5).to_bytes(8, "big")                       # producer_id
    batch[51:53] = (0).to_bytes(2, "big")                       # producer_epoch
    batch[53:57] = (0).to_bytes(4, "big")                       # base_sequence
    batch[17:21] = kp.crc32c(bytes(batch[21:])).to_bytes(4, "big")
    mark = len(broker.log_text())
    for txn_id in (b"\xff\xfe", b"a\x00b"):
        body = (kp.Writer().string(txn_id).i16(-1).i32(10000)
                .array([None], lambda w, _: w.string(topic).array(
                    [None], lambda ww, __: ww.i32(0).bytes_(bytes(batch)))).getvalue())
        r = conn.request(kp.PRODUCE, 8, body, timeout=20)
        (name, parts), = r.array(lambda rr: (rr.string(), rr.array(
            lambda p: (p.i32(), p.i16(), p.i64(), p.i64(), p.i64(),
                       p.array(lambda e: (e.i32(), e.string())), p.string()))))
        assert parts[0][1] == INVALID_TXN_STATE, parts
    assert kafka.pg.records(topic) == []
    assert " ERROR " not in broker.log_text()[mark:]
