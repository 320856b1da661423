"""
Protocol conformance of DescribeConfigs and of the data-path checks of
Produce, Fetch, ListOffsets and Metadata: unusual requests built by hand
from Kafka's message definitions, answered as Apache Kafka's broker answers
them (ConfigHelper, KafkaApis, ReplicaManager). One test per row of the
validation tables in docs/PROTOCOL.md.
"""

import pytest

import kafkaproto as kp
from test_conformance import conn  # noqa: F401  (fixture)

DESCRIBE_CONFIGS = 32

INVALID_REQUEST = 42
INVALID_TOPIC_EXCEPTION = 17
UNKNOWN_TOPIC_OR_PARTITION = 3

TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS, GROUP = 2, 4, 8, 16, 32
SOURCE_DYNAMIC_TOPIC = 1
SOURCE_STATIC_BROKER = 4
SOURCE_DEFAULT = 5
SOURCE_DYNAMIC_BROKER_LOGGER = 6

KAFKA_INVALID_REQUEST_MESSAGE = (
    "This most likely occurs because of a request being malformed by the client library or "
    "the message was sent to an incompatible broker. See the broker logs for more details.")


# --------------------------------------------------------------------------
# DescribeConfigs (ConfigHelper.handleDescribeConfigsRequest)

def describe_configs_raw(conn, resources, version=4, synonyms=False, documentation=False):
    """resources: [(type, name, keys or None)] -> list of result dicts."""
    flex = version >= 4

    def key(w, k):
        w.string(k, flex)

    def res(w, r):
        w.i8(r[0]).string(r[1], flex)
        if r[2] is None:
            w.uvarint(0) if flex else w.i32(-1)
        else:
            w.array(r[2], key, flex)
        if flex:
            w.tags()

    w = kp.Writer().array(resources, res, flex).boolean(synonyms)
    if version >= 3:
        w.boolean(documentation)
    if flex:
        w.tags()
    r = conn.request(DESCRIBE_CONFIGS, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=20)
    r.i32()

    def synonym(rr):
        s = (rr.string(flex), rr.string(flex), rr.i8())
        if flex:
            rr.tags()
        return s

    def config(rr):
        c = {"name": rr.string(flex), "value": rr.string(flex), "read_only": rr.boolean(),
             "source": rr.i8(), "is_sensitive": rr.boolean(), "synonyms": rr.array(synonym, flex)}
        if version >= 3:
            c["type"] = rr.i8()
            c["documentation"] = rr.string(flex)
        if flex:
            rr.tags()
        return c

    def result(rr):
        o = {"error_code": rr.i16(), "error_message": rr.string(flex), "type": rr.i8(),
             "name": rr.string(flex), "configs": rr.array(config, flex)}
        if flex:
            rr.tags()
        return o

    out = r.array(result, flex)
    if flex:
        r.tags()
    return out


def describe_one(conn, rtype, name, keys=None, **kw):
    (res,) = describe_configs_raw(conn, [(rtype, name, keys)], **kw)
    assert res["type"] == rtype and res["name"] == name, res
    return res


def node_id(kafka):
    (nid,) = kafka.admin().list_topics(timeout=10).brokers
    return nid


@pytest.mark.parametrize("bad_type", [0, 1, 3, 64, -1])
def test_describe_configs_unknown_resource_type_fails_every_resource(kafka, conn, bad_type):
    topic = kafka.create_topic()
    res = describe_configs_raw(conn, [(TOPIC, topic, None), (bad_type, "x", None),
                                      (BROKER, "", None)])
    assert [(r["type"], r["name"]) for r in res] == [(TOPIC, topic), (bad_type, "x"), (BROKER, "")]
    for r in res:
        assert r["error_code"] == INVALID_REQUEST, r
        assert r["error_message"] == KAFKA_INVALID_REQUEST_MESSAGE
        assert r["configs"] == []


@pytest.mark.parametrize("name,message", [
    ("", "Topic name is invalid: the empty string is not allowed"),
    (".", "Topic name is invalid: '.' is not allowed"),
    ("..", "Topic name is invalid: '..' is not allowed"),
    ("a" * 250, "Topic name is invalid: the length of '%s' is longer than the max allowed "
                "length 249" % ("a" * 250)),
    ("a b", "Topic name is invalid: 'a b' contains one or more characters other than ASCII "
            "alphanumerics, '.', '_' and '-'"),
])
def test_describe_configs_invalid_topic_name(conn, name, message):
    res = describe_one(conn, TOPIC, name)
    assert (res["error_code"], res["error_message"], res["configs"]) == \
        (INVALID_TOPIC_EXCEPTION, message, [])


def test_describe_configs_unknown_topic(kafka, conn):
    res = describe_one(conn, TOPIC, kafka.new_topic_name("nosuch"))
    assert (res["error_code"], res["error_message"], res["configs"]) == \
        (UNKNOWN_TOPIC_OR_PARTITION, None, [])


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_describe_configs_null_or_empty_keys_list_every_config(kafka, conn, version):
    topic = kafka.create_topic(config={"retention.ms": "1000"})
    every = describe_one(conn, TOPIC, topic, None, version=version)
    empty = describe_one(conn, TOPIC, topic, [], version=version)
    assert every["error_code"] == 0 and len(every["configs"]) > 5
    assert empty == every
    by_name = {c["name"]: c for c in every["configs"]}
    assert by_name["retention.ms"]["value"] == "1000"
    assert by_name["retention.ms"]["source"] == SOURCE_DYNAMIC_TOPIC
    assert by_name["cleanup.policy"]["source"] == SOURCE_DEFAULT
    assert all(not c["read_only"] and not c["is_sensitive"] for c in every["configs"])


def test_describe_configs_unknown_keys_left_out(kafka, conn):
    topic = kafka.create_topic()
    res = describe_one(conn, TOPIC, topic, ["no.such.config", "cleanup.policy"])
    assert res["error_code"] == 0
    assert [c["name"] for c in res["configs"]] == ["cleanup.policy"]
    res = describe_one(conn, TOPIC, topic, ["no.such.config"])
    assert (res["error_code"], res["configs"]) == (0, [])


def test_describe_configs_same_resource_twice_answered_twice(kafka, conn):
    topic = kafka.create_topic()
    res = describe_configs_raw(conn, [(TOPIC, topic, ["cleanup.policy"]),
                                      (TOPIC, topic, ["retention.ms"])])
    assert [(r["name"], r["error_code"], [c["name"] for c in r["configs"]]) for r in res] == \
        [(topic, 0, ["cleanup.policy"]), (topic, 0, ["retention.ms"])]


def test_describe_configs_topic_synonyms(kafka, conn):
    topic = kafka.create_topic(config={"cleanup.policy": "compact", "retention.ms": "1000"})
    keys = ["cleanup.policy", "retention.ms", "segment.bytes", "segment.ms"]
    res = describe_one(conn, TOPIC, topic, keys, synonyms=True)
    syn = {c["name"]: c["synonyms"] for c in res["configs"]}
    assert syn == {
        "cleanup.policy": [("cleanup.policy", "compact", SOURCE_DYNAMIC_TOPIC),
                           ("log.cleanup.policy", "delete", SOURCE_DEFAULT)],
        "retention.ms": [("retention.ms", "1000", SOURCE_DYNAMIC_TOPIC)],
        "segment.bytes": [("log.segment.bytes", "1073741824", SOURCE_DEFAULT)],
        "segment.ms": [],
    }
    res = describe_one(conn, TOPIC, topic, keys, synonyms=False)
    assert all(c["synonyms"] == [] for c in res["configs"])


@pytest.mark.parametrize("version", [3, 4])
def test_describe_configs_config_type(kafka, conn, version):
    topic = kafka.create_topic()
    res = describe_one(conn, TOPIC, topic, None, version=version)
    types = {c["name"]: c["type"] for c in res["configs"]}
    # ConfigType: BOOLEAN 1, STRING 2, INT 3, LONG 5, LIST 7.
    assert types["unclean.leader.election.enable"] == 1
    assert types["compression.type"] == 2
    assert types["segment.bytes"] == 3
    assert types["retention.ms"] == 5
    assert types["cleanup.policy"] == 7


def test_describe_configs_broker_default_resource_is_empty(conn):
    res = describe_one(conn, BROKER, "")
    assert (res["error_code"], res["error_message"], res["configs"]) == (0, None, [])


@pytest.mark.parametrize("fmt", ["%d", "+%d", "0%d"])
def test_describe_configs_broker_id_parsed_as_an_int(kafka, conn, fmt):
    name = fmt % node_id(kafka)
    res = describe_one(conn, BROKER, name)
    assert res["error_code"] == 0 and res["configs"], res
    by_name = {c["name"]: c for c in res["configs"]}
    assert by_name["broker.id"]["value"] == str(node_id(kafka))
    assert by_name["broker.id"]["source"] == SOURCE_STATIC_BROKER


@pytest.mark.parametrize("name", ["x", " 1", "1 ", "-", "99999999999"])
@pytest.mark.parametrize("rtype", [BROKER, BROKER_LOGGER])
def test_describe_configs_broker_id_not_an_int(conn, rtype, name):
    res = describe_one(conn, rtype, name)
    assert (res["error_code"], res["error_message"], res["configs"]) == \
        (INVALID_REQUEST, "Broker id must be an integer, but it is: " + name, [])


@pytest.mark.parametrize("rtype,expected", [(BROKER, "%d or empty string,"),
                                            (BROKER_LOGGER, "%d")])
def test_describe_configs_other_broker_id(kafka, conn, rtype, expected):
    other = str(node_id(kafka) + 1)
    res = describe_one(conn, rtype, other)
    assert (res["error_code"], res["error_message"], res["configs"]) == \
        (INVALID_REQUEST, "Unexpected broker id, expected %s but received %s"
         % (expected % node_id(kafka), other), [])


def test_describe_configs_broker_logger(kafka, conn):
    res = describe_one(conn, BROKER_LOGGER, "")
    assert (res["error_code"], res["error_message"]) == \
        (INVALID_REQUEST, "Broker id must not be empty")
    res = describe_one(conn, BROKER_LOGGER, str(node_id(kafka)))
    assert res["error_code"] == 0
    (root,) = res["configs"]
    # The e2e broker runs with --log-level debug.
    assert (root["name"], root["value"], root["source"], root["read_only"]) == \
        ("root", "DEBUG", SOURCE_DYNAMIC_BROKER_LOGGER, False)


def test_describe_configs_client_metrics(conn):
    res = describe_one(conn, CLIENT_METRICS, "")
    assert (res["error_code"], res["error_message"]) == \
        (INVALID_REQUEST, "Client metrics subscription name must not be empty")
    res = describe_one(conn, CLIENT_METRICS, "any-subscription")
    assert (res["error_code"], res["error_message"], res["configs"]) == (0, None, [])


def test_describe_configs_group(conn):
    res = describe_one(conn, GROUP, "")
    assert (res["error_code"], res["error_message"]) == \
        (INVALID_REQUEST, "Group name must not be empty")
    res = describe_one(conn, GROUP, "any-group", synonyms=True)
    assert res["error_code"] == 0
    by_name = {c["name"]: c for c in res["configs"]}
    assert by_name["consumer.session.timeout.ms"]["value"] == "45000"
    assert by_name["consumer.heartbeat.interval.ms"]["value"] == "5000"
    for c in res["configs"]:
        assert (c["source"], c["read_only"], c["type"]) == (SOURCE_DEFAULT, False, 3)
        assert c["synonyms"] == [(c["name"], c["value"], SOURCE_DEFAULT)]
