"""
Protocol conformance: unusual requests, built by hand from Kafka's message
definitions, answered as Apache Kafka's broker answers them (KafkaApis,
ReplicationControlManager, ControllerApis, LogValidator). One test per row
of the validation tables in docs/PROTOCOL.md.
"""

import pytest

import kafkaproto as kp

DELETE_TOPICS = 20
CREATE_PARTITIONS = 37

INVALID_REQUEST = 42
INVALID_CONFIG = 40
INVALID_REPLICATION_FACTOR = 38
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_TIMESTAMP = 32
UNSUPPORTED_COMPRESSION_TYPE = 76
UNKNOWN_TOPIC_OR_PARTITION = 3

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
