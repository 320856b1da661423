"""
Bad input on raw sockets (kafkaproto.py): malformed frames close the
connection, semantically bad requests get the Kafka error code the Java
broker would return, nothing bad is stored, and after every case a separate,
ordinary client can still produce and consume.
"""

import random
import socket
import struct

import pytest

import kafkaproto as kp
from conftest import unique, wait_for


def host_port(broker):
    host, port = broker.bootstrap.rsplit(":", 1)
    return host, int(port)


def connect(broker, timeout=10):
    mark = len(broker.log_text())
    c = kp.Conn(*host_port(broker), timeout=timeout)
    c.log_mark = mark   # log lines about this connection come after this
    return c


def assert_closed(conn, what, timeout=10, broker=None):
    """The broker closes the connection; given the broker, also check that
    it logged exactly one line about closing this connection."""
    assert conn.wait_closed(timeout), "broker kept the connection open after %s" % what
    if broker is not None:
        needle = "closing connection from %s:" % conn.local_addr

        def lines():
            text = broker.log_text()[conn.log_mark:]
            return [line for line in text.splitlines() if needle in line]

        wait_for(lambda: lines(), 5, "a log line saying why %s was closed" % conn.local_addr)
        assert len(lines()) == 1, lines()


def assert_nothing_stored(pg, topic):
    assert pg.sql("SELECT count(*) FROM kafka.records WHERE topic = '%s'" % topic) == "0"


# --------------------------------------------------------------------------
# Frames that cannot be parsed.

GARBAGE = {
    "http": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "negative-size": b"\xff\xff\xff\xfe" + b"garbage",
    "empty-frame": struct.pack(">i", 0),
    "header-cut-short": struct.pack(">i", 5) + b"\x00\x03\x00\x01\x00",
    "tls-client-hello": bytes.fromhex("16030100a5010000a10303") + bytes(160),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_closes_connection(kafka, broker, name):
    with connect(broker) as c:
        c.send_raw(GARBAGE[name])
        assert_closed(c, name, broker=broker)
    kafka.assert_healthy()


def test_random_garbage_then_eof(kafka, broker):
    rnd = random.Random(20240601)
    for _ in range(5):
        blob = bytes(rnd.getrandbits(8) for _ in range(4096))
        with connect(broker) as c:
            try:
                c.send_raw(blob)
                c.sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                continue  # already closed on us: fine
            assert_closed(c, "random bytes and EOF")
    kafka.assert_healthy()


@pytest.mark.parametrize("size", [100 * 1024 * 1024 + 1, 0x7FFFFFFF])
def test_oversized_frame_closes_without_reading_it(kafka, broker, size):
    with connect(broker) as c:
        # Only the size and a few bytes: the broker must not wait for the rest.
        c.send_raw(struct.pack(">i", size) + kp.request_header(kp.METADATA, 1, 1))
        assert_closed(c, "a %d-byte frame size" % size, broker=broker)
    kafka.assert_healthy()


def test_max_request_bytes_flag(pg, make_broker, kafka):
    b = make_broker(pg, "--max-request-bytes", "2048")
    topic = kafka.create_topic()
    small = kp.record_batch([(b"k", b"x" * 100, [])])
    big = kp.record_batch([(b"k", b"x" * 4000, [])])
    with connect(b) as c:
        assert kp.produce(c, topic, 0, small)["error_code"] == 0
    with connect(b) as c:
        c.send(kp.PRODUCE, 3, kp.produce_body(3, topic, 0, big))
        assert_closed(c, "a frame above --max-request-bytes", broker=b)
    assert [r["value"] for r in pg.records(topic)] == [b"x" * 100]


def test_truncated_frame_then_close(kafka, broker):
    whole = kp.request_frame(kp.METADATA, 1, 7, kp.Writer().i32(-1).getvalue())
    for cut in (1, 3, 4, 6, len(whole) - 1):
        s = socket.create_connection(host_port(broker), timeout=10)
        s.sendall(whole[:cut])
        s.close()
    # Same, but with the declared size larger than what follows, then EOF.
    with connect(broker) as c:
        c.send_raw(struct.pack(">i", 100) + b"\x00\x03\x00\x01" + b"\x00" * 6)
        c.sock.shutdown(socket.SHUT_WR)
        assert_closed(c, "a truncated frame and EOF")
    kafka.assert_healthy()


def test_truncated_body_inside_complete_frame(kafka, broker, topic):
    # A Produce v3 request whose topic array claims entries that are not there.
    body = kp.Writer().string(None).i16(-1).i32(10000).i32(5).getvalue()
    with connect(broker) as c:
        c.send(kp.PRODUCE, 3, body)
        assert_closed(c, "a Produce body cut short", broker=broker)
    # A string length running past the end of the frame.
    body = kp.Writer().string(None).i16(-1).i32(10000).i32(1).i16(300).raw(b"abc").getvalue()
    with connect(broker) as c:
        c.send(kp.PRODUCE, 3, body)
        assert_closed(c, "a string longer than the frame", broker=broker)
    kafka.assert_healthy()


# --------------------------------------------------------------------------
# Well-formed frames the broker does not implement.

@pytest.mark.parametrize("api_key,version", [(9999, 0), (-1, 0), (kp.FETCH, 99),
                                             (kp.PRODUCE, 2), (kp.METADATA, 200)])
def test_unsupported_api_or_version_closes_connection(kafka, broker, api_key, version):
    with connect(broker) as c:
        # A healthy request first: the connection is fine until the bad one.
        err, _ = kp.api_versions(c, 0)
        assert err == 0
        c.send(api_key, version, b"\x00" * 16)
        assert_closed(c, "api_key %d version %d" % (api_key, version), broker=broker)
    kafka.assert_healthy()


def test_api_versions_above_supported_falls_back(kafka, broker):
    with connect(broker) as c:
        corr = c.send(kp.API_VERSIONS, 99, kp.api_versions_body(3), header_version=2)
        data = c.recv_frame()
        assert data is not None, "broker closed the connection instead of answering"
        r = kp.Reader(data)
        assert r.i32() == corr
        err, apis = kp.decode_api_versions(r, 0)   # v0 body, whatever was asked
        assert err == kp.UNSUPPORTED_VERSION
        assert kp.PRODUCE in apis and kp.API_VERSIONS in apis
        lo, hi = apis[kp.API_VERSIONS]
        assert lo == 0 and hi >= 3
        # The client then retries with a supported version on the same connection.
        err3, apis3 = kp.api_versions(c, hi)
        assert err3 == 0 and apis3 == apis
    kafka.assert_healthy()


# --------------------------------------------------------------------------
# Record batches.

RECORDS = [(b"key-0", b"value-0", [("h", b"1")]), (None, b"value-1", []), (b"key-2", None, [])]


@pytest.mark.parametrize("version", [3, 9])
def test_valid_handmade_batch_is_accepted(kafka, broker, pg, version):
    """The control for the corruption tests: the same batch, unmodified."""
    topic = kafka.create_topic()
    with connect(broker) as c:
        res = kp.produce(c, topic, 0, kp.record_batch(RECORDS), version=version)
    assert res["error_code"] == 0 and res["base_offset"] == 0
    got = kafka.consume(topic, 3)
    assert [(r.key, r.value, r.headers) for r in got] == RECORDS
    assert [(r["key"], r["value"]) for r in pg.records(topic)] == [(k, v) for k, v, _ in RECORDS]


@pytest.mark.parametrize("where", ["record", "crc", "attributes"])
@pytest.mark.parametrize("version", [3, 9])
def test_corrupt_crc_is_refused(kafka, broker, pg, version, where):
    topic = kafka.create_topic()
    batch = bytearray(kp.record_batch(RECORDS))
    pos = {"record": len(batch) - 3, "crc": 17, "attributes": 22}[where]
    batch[pos] ^= 0x01
    with connect(broker) as c:
        res = kp.produce(c, topic, 0, bytes(batch), version=version)
        assert res["error_code"] == kp.CORRUPT_MESSAGE, res
        # The connection stays usable after a refused batch.
        res = kp.produce(c, topic, 0, kp.record_batch([(b"k", b"good", [])]), version=version)
        assert res["error_code"] == 0 and res["base_offset"] == 0
    assert [r["value"] for r in pg.records(topic)] == [b"good"]
    kafka.assert_healthy()


@pytest.mark.parametrize("magic", [0, 1])
def test_legacy_message_set_is_refused(kafka, broker, pg, topic, magic):
    with connect(broker) as c:
        res = kp.produce(c, topic, 0, kp.legacy_message_set(b"k", b"old format", magic))
    assert res["error_code"] == kp.INVALID_RECORD, res
    assert_nothing_stored(pg, topic)
    kafka.assert_healthy()


def test_batch_length_beyond_records_field(kafka, broker, pg, topic):
    batch = bytearray(kp.record_batch(RECORDS))
    struct.pack_into(">i", batch, 8, len(batch) + 1000)   # batch_length too large
    with connect(broker) as c:
        c.send(kp.PRODUCE, 3, kp.produce_body(3, topic, 0, bytes(batch)))
        data = c.recv_frame()
        if data is not None:   # an error answer is fine, so is closing
            r = kp.Reader(data)
            r.i32()
            res = kp.decode_produce(r, 3)[(topic, 0)]
            assert res["error_code"] in (kp.CORRUPT_MESSAGE, kp.INVALID_RECORD), res
    assert_nothing_stored(pg, topic)
    kafka.assert_healthy()


# --------------------------------------------------------------------------
# CreateTopics validation.

@pytest.mark.parametrize("name", ["a b", "..", ".", "", "x" * 250, "bad/name", "caf\u00e9"])
def test_invalid_topic_names(kafka, broker, pg, name):
    good = unique("valid-neighbour")
    with connect(broker) as c:
        res = kp.create_topics(c, [(name, 1, 1, {}), (good, 1, 1, {})])
    assert res[name][0] == kp.INVALID_TOPIC_EXCEPTION, res
    assert res[good][0] == 0, res   # errors are per topic
    assert pg.sql("SELECT count(*) FROM kafka.topics WHERE name = %s" % _lit(name)) == "0"
    kafka.wait_partitions(good, 1)
    kafka.assert_healthy()


@pytest.mark.parametrize("partitions", [0, -2, -100])
def test_invalid_partition_counts(kafka, broker, pg, partitions):
    name = unique("parts")
    with connect(broker) as c:
        res = kp.create_topics(c, [(name, partitions, 1, {})])
    assert res[name][0] == kp.INVALID_PARTITIONS, res
    assert pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%s'" % name) == "0"
    kafka.assert_healthy()


def test_minus_one_means_broker_default(kafka, broker, pg):
    """-1 partitions / replication factor is "the broker default" (KIP-464).
    Java brokers apply it in every CreateTopics version (only the Java
    client refuses to send it below v4), and KafkaJS, which speaks v0-v3,
    sends -1 whenever the caller leaves the numbers out."""
    name = unique("defaults")
    with connect(broker) as c:
        res = kp.create_topics(c, [(name, -1, -1, {})])
    assert res[name][0] == 0, res
    assert pg.sql("SELECT partitions FROM kafka.topics WHERE name = '%s'" % name) == "1"
    kafka.wait_partitions(name, 1)


def test_existing_topic(kafka, broker, topic):
    with connect(broker) as c:
        res = kp.create_topics(c, [(topic, 3, 1, {})])
        assert res[topic][0] == kp.TOPIC_ALREADY_EXISTS, res
        res = kp.create_topics(c, [(topic, 3, 1, {})], validate_only=True)
        assert res[topic][0] == kp.TOPIC_ALREADY_EXISTS, res
    assert kafka.partitions(topic) == [0]   # unchanged
    kafka.assert_healthy()


def _lit(s):
    return "'" + s.replace("'", "''") + "'"


# --------------------------------------------------------------------------
# Produce requests a broker refuses per partition.

def test_batch_above_topic_max_message_bytes(kafka, broker, pg):
    topic = kafka.create_topic(config={"max.message.bytes": "1000"})
    with connect(broker) as c:
        res = kp.produce(c, topic, 0, kp.record_batch([(b"k", b"z" * 2000, [])]))
        assert res["error_code"] == 10, res   # MESSAGE_TOO_LARGE
        res = kp.produce(c, topic, 0, kp.record_batch([(b"k", b"small", [])]))
        assert res["error_code"] == 0, res
    assert [r["value"] for r in pg.records(topic)] == [b"small"]
    kafka.assert_healthy()


def test_produce_to_unknown_partition_or_topic(kafka, broker, pg, topic):
    batch = kp.record_batch([(b"k", b"v", [])])
    with connect(broker) as c:
        assert kp.produce(c, topic, 7, batch)["error_code"] == 3   # UNKNOWN_TOPIC_OR_PARTITION
        assert kp.produce(c, topic, -1, batch)["error_code"] == 3
    assert_nothing_stored(pg, topic)
    kafka.assert_healthy()
