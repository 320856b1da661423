"""
Protocol conformance of DescribeConfigs and of the data-path checks of
Produce, Fetch, ListOffsets and Metadata: unusual requests built by hand
from Kafka's message definitions, answered as Apache Kafka's broker answers
them (ConfigHelper, KafkaApis, ReplicaManager). One test per row of the
validation tables in docs/PROTOCOL.md.
"""

import pytest

import kafkaproto as kp
from test_conformance import conn, create_one  # noqa: F401  (conn: fixture)

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


def test_describe_configs_include_documentation(kafka, conn):
    # Each config's documentation when asked for, none otherwise.
    topic = kafka.create_topic()
    for rtype, name in [(TOPIC, topic), (BROKER, str(node_id(kafka)))]:
        with_docs = describe_one(conn, rtype, name, None, documentation=True)["configs"]
        assert with_docs and all(c["documentation"] for c in with_docs), with_docs
        without = describe_one(conn, rtype, name, None)["configs"]
        assert [c["documentation"] for c in without] == [None] * len(without)
    docs = {c["name"]: c["documentation"]
            for c in describe_one(conn, TOPIC, topic, None, documentation=True)["configs"]}
    assert "batch" in docs["max.message.bytes"]


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


# --------------------------------------------------------------------------
# Produce (KafkaApis.handleProduceRequest, ProduceRequest.validateRecords,
# ReplicaManager.appendToLocalLog)

INVALID_RECORD = 87
CORRUPT_MESSAGE = 2
INVALID_REQUIRED_ACKS = 21
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
RECORD_LIST_TOO_LARGE = 18
UNKNOWN_SERVER_ERROR = -1
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_ID = 100
INTERNAL_TOPICS = ["__consumer_offsets", "__transaction_state", "__share_group_state"]


def produce_req(conn, parts, version=8, acks=-1, transactional_id=None, client_id="pgk-e2e"):
    """parts: [(topic, partition, records bytes or None)], one topic entry
    each. -> [(topic, partition, error_code)] in answer order."""
    def part(w, p):
        w.i32(p[1]).bytes_(p[2])

    def top(w, p):
        w.string(p[0]).array([p], part)

    body = kp.Writer().string(transactional_id).i16(acks).i32(10000).array(parts, top).getvalue()
    corr = conn.next_corr
    conn.next_corr += 1
    conn.send_raw(kp.request_frame(kp.PRODUCE, version, corr, body, 1, client_id))
    data = conn.recv_frame(20)
    assert data is not None, "connection closed instead of an answer"
    r = kp.Reader(data)
    assert r.i32() == corr

    def rpart(rr):
        p = (rr.i32(), rr.i16())
        rr.i64(), rr.i64(), rr.i64()
        if version >= 8:
            rr.array(lambda e: (e.i32(), e.string()))
            rr.string()
        return p

    out = []
    for name, ps in r.array(lambda rr: (rr.string(), rr.array(rpart))):
        out.extend((name, p, e) for p, e in ps)
    return out


def one_batch(value=b"v"):
    return kp.record_batch([(None, value, [])])


def transactional_batch():
    batch = bytearray(kp.record_batch([(None, b"t", [])], attributes=0x10))
    batch[43:51] = (5).to_bytes(8, "big")                       # producer_id
    batch[51:53] = (0).to_bytes(2, "big")                       # producer_epoch
    batch[53:57] = (0).to_bytes(4, "big")                       # base_sequence
    batch[17:21] = kp.crc32c(bytes(batch[21:])).to_bytes(4, "big")
    return bytes(batch)


@pytest.mark.parametrize("name", ["a b", "", "..", "x" * 250])
def test_produce_invalid_topic_name_is_unknown(kafka, conn, name):
    assert produce_req(conn, [(name, 0, one_batch())]) == [(name, 0, UNKNOWN_TOPIC_OR_PARTITION)]


def test_produce_unknown_topic(kafka, conn):
    name = kafka.new_topic_name("nosuch")
    assert produce_req(conn, [(name, 0, one_batch())]) == [(name, 0, UNKNOWN_TOPIC_OR_PARTITION)]
    assert name not in kafka.topic_names()


@pytest.mark.parametrize("partition", [2, -1, 2**31 - 1])
def test_produce_partition_beyond_the_topic(kafka, conn, partition):
    topic = kafka.create_topic(partitions=2)
    assert produce_req(conn, [(topic, partition, one_batch())]) == \
        [(topic, partition, UNKNOWN_TOPIC_OR_PARTITION)]
    assert kafka.pg.records(topic) == []


def test_produce_empty_records(kafka, conn):
    topic = kafka.create_topic()
    assert produce_req(conn, [(topic, 0, b"")]) == [(topic, 0, INVALID_RECORD)]


def test_produce_null_records(kafka, conn):
    # Kafka dereferences the null records (ReplicaManager.handleProduceAppend)
    # and fails the request with UNKNOWN_SERVER_ERROR; pg_kafka refuses the
    # partition as a record set without a batch (docs/PROTOCOL.md).
    topic = kafka.create_topic()
    assert produce_req(conn, [(topic, 0, None)]) == [(topic, 0, INVALID_RECORD)]


@pytest.mark.parametrize("other", ["valid", "unknown", "invalid"])
@pytest.mark.parametrize("acks", [-1, 1, 5])
def test_produce_transactional_batch_without_transactional_id(kafka, conn, other, acks):
    topic = kafka.create_topic()
    txn_topic = {"valid": topic, "unknown": kafka.new_topic_name("nosuch"),
                 "invalid": "not valid"}[other]
    res = produce_req(conn, [(topic, 0, one_batch()), (txn_topic, 0, transactional_batch())],
                      acks=acks)
    assert [e for _, _, e in res] == [TRANSACTIONAL_ID_AUTHORIZATION_FAILED] * len(res)
    assert kafka.pg.records(topic) == []


def test_produce_to_internal_topic(fresh_pg, make_broker):
    # Its own cluster: the internal names stay out of the shared one.
    b = make_broker(fresh_pg)
    with kp.Conn.to(b.bootstrap) as c:
        for name in INTERNAL_TOPICS:
            assert create_one(c, name=name, partitions=1, rf=1)["error_code"] == 0
            ((err, n, _, internal, parts),) = metadata_req(c, [(name, NO_ID)])["topics"]
            assert (err, n, internal, parts) == (0, name, True, 1)
            assert produce_req(c, [(name, 0, one_batch())]) == [(name, 0, INVALID_TOPIC_EXCEPTION)]
            # validateRecords comes first
            assert produce_req(c, [(name, 0, b"")]) == [(name, 0, INVALID_RECORD)]
            assert produce_req(c, [(name, 0, one_batch())], client_id="__admin_client") == \
                [(name, 0, 0)]


def test_produce_to_missing_internal_topic(kafka, conn):
    assert produce_req(conn, [("__share_group_state", 0, one_batch())]) == \
        [("__share_group_state", 0, UNKNOWN_TOPIC_OR_PARTITION)]


def test_produce_batch_above_segment_bytes(kafka, conn):
    # UnifiedLog.append: a batch larger than a segment is refused whole
    # (RecordBatchTooLargeException); one that fits is stored.
    topic = kafka.create_topic(config={"segment.bytes": "300"})
    assert produce_req(conn, [(topic, 0, one_batch(b"v" * 400))]) == \
        [(topic, 0, RECORD_LIST_TOO_LARGE)]
    assert kafka.pg.records(topic) == []
    assert produce_req(conn, [(topic, 0, one_batch(b"v" * 100))]) == [(topic, 0, 0)]


@pytest.mark.parametrize("acks", [2, -2])
def test_produce_bad_acks_after_topic_and_batch_checks(kafka, conn, acks):
    topic = kafka.create_topic(partitions=4)
    short_length = kp.Writer().i64(0).i32(5).raw(bytes(5)).getvalue()
    res = produce_req(conn, [(topic, 0, one_batch()), ("not valid", 0, one_batch()),
                             (topic, 1, b""), (topic, 2, one_batch() + one_batch()),
                             (topic, 3, short_length)],
                      acks=acks)
    assert sorted(res) == sorted([(topic, 0, INVALID_REQUIRED_ACKS),
                                  ("not valid", 0, UNKNOWN_TOPIC_OR_PARTITION),
                                  (topic, 1, INVALID_RECORD), (topic, 2, INVALID_RECORD),
                                  (topic, 3, CORRUPT_MESSAGE)])
    assert kafka.pg.records(topic) == []


def test_produce_missing_partition_answered_before_its_batch(kafka, conn):
    # KafkaApis looks the partition up before any check of its batch: a
    # corrupt batch to a partition that does not exist is
    # UNKNOWN_TOPIC_OR_PARTITION; to one that exists, CORRUPT_MESSAGE.
    topic = kafka.create_topic()
    bad = bytearray(one_batch())
    bad[-1] ^= 0xFF                                    # the CRC no longer matches
    missing = kafka.new_topic_name("nosuch")
    assert produce_req(conn, [(missing, 0, bytes(bad)), (topic, 5, bytes(bad)),
                              (topic, 0, bytes(bad))]) == [
        (missing, 0, UNKNOWN_TOPIC_OR_PARTITION), (topic, 5, UNKNOWN_TOPIC_OR_PARTITION),
        (topic, 0, CORRUPT_MESSAGE)]
    assert kafka.pg.records(topic) == []


def test_produce_bad_acks_to_an_unknown_topic(kafka, conn):
    name = kafka.new_topic_name("nosuch")
    assert produce_req(conn, [(name, 0, one_batch())], acks=2) == \
        [(name, 0, UNKNOWN_TOPIC_OR_PARTITION)]


# --------------------------------------------------------------------------
# Fetch (KafkaApis.handleFetchRequest, ReplicaManager.readFromLog)

def fetch_one(conn, topic, partition, offset, version=12, max_wait_ms=0, min_bytes=1):
    """-> (partition error, high watermark, records bytes)"""
    flex = version >= 12
    body = kp.fetch_body(version, topic, partition, offset, max_wait_ms=max_wait_ms,
                         min_bytes=min_bytes)
    r = conn.request(kp.FETCH, version, body, header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=20)
    r.i32()
    if version >= 7:
        assert r.i16() == 0
        r.i32()

    def aborted(rr):
        rr.i64(), rr.i64()
        if flex:
            rr.tags()

    def rpart(rr):
        index, err, hw = rr.i32(), rr.i16(), rr.i64()
        rr.i64()
        if version >= 5:
            rr.i64()
        rr.array(aborted, flex)
        if version >= 11:
            rr.i32()
        records = rr.bytes_(flex)
        if flex:
            rr.tags()
        assert index == partition
        return (err, hw, records)

    def rtop(rr):
        name = rr.string(flex)
        ps = rr.array(rpart, flex)
        if flex:
            rr.tags()
        assert name == topic
        return ps

    (ps,) = r.array(rtop, flex)
    (p,) = ps
    return p


@pytest.mark.parametrize("version", [4, 12])
def test_fetch_invalid_or_unknown_topic(kafka, conn, version):
    for name in ["a b", "..", kafka.new_topic_name("nosuch")]:
        assert fetch_one(conn, name, 0, 0, version)[0] == UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.parametrize("partition", [2, -1])
def test_fetch_partition_beyond_the_topic(kafka, conn, partition):
    topic = kafka.create_topic(partitions=2)
    assert fetch_one(conn, topic, partition, 0)[0] == UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.parametrize("offset,error", [(-1, OFFSET_OUT_OF_RANGE), (-2, OFFSET_OUT_OF_RANGE),
                                          (0, 0), (2, 0), (3, OFFSET_OUT_OF_RANGE),
                                          (2**63 - 1, OFFSET_OUT_OF_RANGE)])
def test_fetch_offset_out_of_range(kafka, conn, offset, error):
    topic = kafka.create_topic()
    kp.produce(conn, topic, 0, kp.record_batch([(None, b"a", []), (None, b"b", [])]))
    err, hw, records = fetch_one(conn, topic, 0, offset)
    assert (err, hw) == (error, 2)
    if offset == 2:
        assert not records


def test_fetch_negative_max_wait_answers_at_once(kafka, conn):
    topic = kafka.create_topic()
    # min_bytes 1 on an empty partition: only max_wait_ms <= 0 answers
    # before a record arrives (ReplicaManager.fetchMessages).
    assert fetch_one(conn, topic, 0, 0, max_wait_ms=-1)[:2] == (0, 0)


# --------------------------------------------------------------------------
# ListOffsets (KafkaApis.handleListOffsetRequest, ReplicaManager.fetchOffset)

def list_offsets_one(conn, topic, partition, version=7):
    flex = version >= 6

    def part(w, _):
        w.i32(partition)
        if version >= 4:
            w.i32(-1)
        w.i64(-1)
        if flex:
            w.tags()

    def top(w, _):
        w.string(topic, flex).array([None], part, flex)
        if flex:
            w.tags()

    w = kp.Writer().i32(-1)
    if version >= 2:
        w.i8(0)
    w.array([None], top, flex)
    if flex:
        w.tags()
    r = conn.request(kp.LIST_OFFSETS, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=20)
    if version >= 2:
        r.i32()

    def rpart(rr):
        p = (rr.i32(), rr.i16())
        rr.i64(), rr.i64()
        if version >= 4:
            rr.i32()
        if flex:
            rr.tags()
        return p

    def rtop(rr):
        t = (rr.string(flex), rr.array(rpart, flex))
        if flex:
            rr.tags()
        return t

    ((name, ((index, err),)),) = r.array(rtop, flex)
    assert (name, index) == (topic, partition)
    return err


@pytest.mark.parametrize("version", [1, 7])
def test_list_offsets_invalid_or_unknown_topic(kafka, conn, version):
    for name in ["a b", "..", kafka.new_topic_name("nosuch")]:
        assert list_offsets_one(conn, name, 0, version) == UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.parametrize("partition", [2, -1])
def test_list_offsets_partition_beyond_the_topic(kafka, conn, partition):
    topic = kafka.create_topic(partitions=2)
    assert list_offsets_one(conn, topic, partition) == UNKNOWN_TOPIC_OR_PARTITION


# --------------------------------------------------------------------------
# Metadata (KafkaApis.handleTopicMetadataRequest, getTopicMetadata)

NO_ID = bytes(16)


def metadata_req(conn, topics, version=12, auto_create=False):
    """topics: [(name or None, topic id bytes)] (ids sent from v10), or None
    for every topic. -> {"brokers": n, "controller": id, "topics":
    [(error, name, topic id, is_internal, partition count)]}"""
    flex = version >= 9

    def top(w, t):
        if version >= 10:
            w.raw(t[1])
        w.string(t[0], flex)
        if flex:
            w.tags()

    w = kp.Writer()
    if topics is None:
        w.uvarint(0) if flex else w.i32(-1)
    else:
        w.array(topics, top, flex)
    if version >= 4:
        w.boolean(auto_create)
    if 8 <= version <= 10:
        w.boolean(False)
    if version >= 8:
        w.boolean(False)
    if flex:
        w.tags()
    r = conn.request(kp.METADATA, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=20)
    if version >= 3:
        r.i32()

    def broker(rr):
        rr.i32(), rr.string(flex), rr.i32()
        if version >= 1:
            rr.string(flex)
        if flex:
            rr.tags()

    brokers = r.array(broker, flex)
    if version >= 2:
        r.string(flex)
    controller = r.i32() if version >= 1 else None

    def part(rr):
        rr.i16(), rr.i32(), rr.i32()
        if version >= 7:
            rr.i32()
        rr.array(lambda r3: r3.i32(), flex)
        rr.array(lambda r3: r3.i32(), flex)
        if version >= 5:
            rr.array(lambda r3: r3.i32(), flex)
        if flex:
            rr.tags()

    def topic(rr):
        err, name = rr.i16(), rr.string(flex)
        tid = rr.take(16) if version >= 10 else None
        internal = rr.boolean() if version >= 1 else False
        parts = rr.array(part, flex)
        if version >= 8:
            rr.i32()
        if flex:
            rr.tags()
        return (err, name, tid, internal, len(parts))

    out = r.array(topic, flex)
    return {"brokers": len(brokers), "controller": controller, "topics": out}


def topic_id_of(conn, name):
    ((err, n, tid, _, _),) = metadata_req(conn, [(name, NO_ID)])["topics"]
    assert (err, n) == (0, name)
    return tid


@pytest.mark.parametrize("auto_create", [False, True])
@pytest.mark.parametrize("name", ["a b", "..", "x" * 250])
def test_metadata_invalid_topic_name(kafka, conn, name, auto_create):
    ((err, n, _, _, parts),) = metadata_req(conn, [(name, NO_ID)], auto_create=auto_create)["topics"]
    assert (err, n, parts) == (INVALID_TOPIC_EXCEPTION, name, 0)


@pytest.mark.parametrize("version", [10, 11])
def test_metadata_topic_id_before_v12_is_invalid_request(kafka, conn, version):
    topic = kafka.create_topic()
    tid = topic_id_of(conn, topic)
    other = kafka.create_topic()
    res = metadata_req(conn, [(other, NO_ID), (topic, tid)], version=version)
    # MetadataRequest.getErrorResponse: every topic of the request, nothing else.
    assert res["brokers"] == 0 and res["controller"] == -1
    assert res["topics"] == [(INVALID_REQUEST, other, NO_ID, False, 0),
                             (INVALID_REQUEST, topic, tid, False, 0)]


@pytest.mark.parametrize("version", [10, 11])
def test_metadata_null_name_before_v12_is_invalid_request(kafka, conn, version):
    topic = kafka.create_topic()
    tid = topic_id_of(conn, topic)
    res = metadata_req(conn, [(None, tid)], version=version)
    assert res["topics"] == [(INVALID_REQUEST, "", tid, False, 0)]


def test_metadata_v12_ids_win_over_names(kafka, conn):
    a, b, c = kafka.create_topic(), kafka.create_topic(), kafka.create_topic()
    aid, bid = topic_id_of(conn, a), topic_id_of(conn, b)
    # b's id under a's name: answered by the id; c, named without an id,
    # is left out once any topic is given by id.
    res = metadata_req(conn, [(a, bid), (None, aid), (c, NO_ID)])
    assert sorted(res["topics"]) == sorted([(0, b, bid, False, 1), (0, a, aid, False, 1)])


def test_metadata_v12_unknown_topic_id(kafka, conn):
    unknown = bytes(range(1, 17))
    res = metadata_req(conn, [(None, unknown)])
    assert res["topics"] == [(UNKNOWN_TOPIC_ID, None, unknown, False, 0)]


@pytest.mark.parametrize("name", INTERNAL_TOPICS)
def test_metadata_internal_topic_names(kafka, conn, name):
    # Not created here; Kafka marks the answer internal all the same.
    ((err, n, _, internal, _),) = metadata_req(conn, [(name, NO_ID)])["topics"]
    assert (err, n, internal) == (UNKNOWN_TOPIC_OR_PARTITION, name, True)
