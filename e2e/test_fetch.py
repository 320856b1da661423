"""
Fetch on a raw socket: offsets, high watermark, last stable offset and log
start offset as a consumer sees them; out-of-range and unknown partitions;
long polls that a new record completes; size limits that still return the
first batch; and a log start offset moved by a DBA in SQL.
"""

import time

import pytest

import kafkaproto as kp

VERSIONS = [4, 7, 11, 12, 13, 17]


@pytest.fixture
def five(kafka):
    topic = kafka.create_topic()
    kafka.produce(topic, [(b"k%d" % i, b"v%d" % i) for i in range(5)])
    return topic


@pytest.mark.parametrize("version", VERSIONS)
def test_fetch_from_start_and_middle(kafka, five, version):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.fetch(c, version, five, 0, 0)
        assert (res["top_error_code"], res["error_code"]) == (0, 0), res
        assert res["high_watermark"] == 5
        assert res["last_stable_offset"] == 5
        if version >= 5:
            assert res["log_start_offset"] == 0
        assert kp.decode_batches(res["records"]) == [(i, b"k%d" % i, b"v%d" % i) for i in range(5)]

        res = kp.fetch(c, version, five, 0, 3)
        assert res["error_code"] == 0
        # Whole batches come back: records before the fetch offset may be
        # included, and the client skips them; 3 and 4 must be there.
        recs = [r for r in kp.decode_batches(res["records"]) if r[0] >= 3]
        assert recs == [(3, b"k3", b"v3"), (4, b"k4", b"v4")]


@pytest.mark.parametrize("version", [4, 12, 13, 17])
def test_fetch_at_end_out_of_range_and_unknown(kafka, five, version):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.fetch(c, version, five, 0, 5, max_wait_ms=100)
        assert res["error_code"] == 0 and res["high_watermark"] == 5
        assert kp.decode_batches(res["records"]) == []

        res = kp.fetch(c, version, five, 0, 6, max_wait_ms=100)
        assert res["error_code"] == 1, res          # OFFSET_OUT_OF_RANGE

        res = kp.fetch(c, version, five, 9, 0, max_wait_ms=100)
        assert res["error_code"] == 3, res          # UNKNOWN_TOPIC_OR_PARTITION

        # From v13 the topic is an id, and an id no topic has is
        # UNKNOWN_TOPIC_ID (100).
        res = kp.fetch(c, version, "missing-" + five, 0, 0, max_wait_ms=100)
        assert res["error_code"] == (100 if version >= 13 else 3), res


@pytest.mark.parametrize("version", [4, 12, 17])
def test_long_poll_is_completed_by_a_new_record(kafka, five, version):
    with kp.Conn.to(kafka.bootstrap, timeout=90) as c:
        corr = kp.send_fetch(c, version, five, 0, 5, max_wait_ms=60000, min_bytes=1)
        kafka.produce(five, [(b"late", b"arrival")])
        # Answered because the record arrived, long before max_wait_ms.
        res = kp.read_fetch(c, corr, version, timeout=30)
        assert res["error_code"] == 0
        assert kp.decode_batches(res["records"]) == [(5, b"late", b"arrival")]
        assert res["high_watermark"] == 6


def test_long_poll_expires_empty(kafka, five):
    with kp.Conn.to(kafka.bootstrap) as c:
        start = time.monotonic()
        res = kp.fetch(c, 11, five, 0, 5, max_wait_ms=300, min_bytes=1)
        assert res["error_code"] == 0 and kp.decode_batches(res["records"]) == []
        # It did wait (not an immediate empty answer that would make
        # consumers spin), but answered once max_wait_ms passed.
        assert time.monotonic() - start >= 0.25


@pytest.mark.parametrize("limit", ["partition", "response"])
def test_size_limits_still_return_the_first_batch(kafka, limit):
    topic = kafka.create_topic()
    kafka.produce(topic, [(b"a", b"x" * 5000)], **{"linger.ms": 0})
    kafka.produce(topic, [(b"b", b"y" * 5000)], **{"linger.ms": 0})
    kw = {"partition_max_bytes": 10} if limit == "partition" else {"max_bytes": 10}
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.fetch(c, 11, topic, 0, 0, **kw)
    assert res["error_code"] == 0
    recs = kp.decode_batches(res["records"])
    # At least the first batch, so that a consumer always makes progress,
    # and not much beyond the limit.
    assert recs[:1] == [(0, b"a", b"x" * 5000)]
    assert len(res["records"]) < 10000


def test_log_start_offset_moved_in_sql(kafka, pg, five):
    pg.sql("BEGIN; UPDATE kafka.partitions SET log_start_offset = 2 WHERE topic = '%s'; "
           "DELETE FROM kafka.records WHERE topic = '%s' AND \"offset\" < 2; COMMIT" % (five, five))
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.fetch(c, 11, five, 0, 0)
        assert res["error_code"] == 1, res   # below the log start: OFFSET_OUT_OF_RANGE
        assert res["log_start_offset"] == 2 or res["log_start_offset"] == -1
        res = kp.fetch(c, 11, five, 0, 2)
        assert res["error_code"] == 0 and res["log_start_offset"] == 2
        assert [r[0] for r in kp.decode_batches(res["records"]) if r[0] >= 2] == [2, 3, 4]
        assert kp.list_offsets(c, five, 0, kp.EARLIEST)["offset"] == 2
    assert kafka.watermarks(five) == (2, 5)
    got = kafka.consume(five, 3)
    assert [r.offset for r in got] == [2, 3, 4]


@pytest.mark.parametrize("version", [13, 17])
def test_fetch_by_id_unknown_or_recreated(kafka, version):
    """v13+: topics by id. The zero id and an id no topic has answer
    UNKNOWN_TOPIC_ID; so does the id of a topic deleted and created again
    under the same name (the new topic has a new id), while the new id
    reads the new topic. A partition beyond the topic stays
    UNKNOWN_TOPIC_OR_PARTITION."""
    name = kafka.create_topic()
    kafka.produce(name, [(b"old", b"first life")])
    with kp.Conn.to(kafka.bootstrap) as c:
        old_id = kp.topic_id(c, name)
        assert old_id and old_id != bytes(16)
        res = kp.fetch(c, version, old_id, 0, 0, max_wait_ms=100)
        assert res["error_code"] == 0 and res["topic"] == old_id
        assert kp.decode_batches(res["records"]) == [(0, b"old", b"first life")]

        res = kp.fetch(c, version, old_id, 3, 0, max_wait_ms=100)
        assert res["error_code"] == 3, res
        for bad in (bytes(16), bytes(range(16))):
            res = kp.fetch(c, version, bad, 0, 0, max_wait_ms=100)
            assert (res["error_code"], res["topic"]) == (100, bad), res

        # The broker knows the old id's name; the topic of that name now
        # has another id. Asked twice: once with the name remembered, once
        # after the broker has forgotten it.
        kafka.admin().delete_topics([name], operation_timeout=30)[name].result(30)
        kafka.create_topic(name)
        kafka.produce(name, [(b"new", b"second life")])
        new_id = kp.topic_id(c, name)
        assert new_id not in (None, old_id)
        for _ in range(2):
            res = kp.fetch(c, version, old_id, 0, 0, max_wait_ms=100)
            assert res["error_code"] == 100, res
        res = kp.fetch(c, version, new_id, 0, 0, max_wait_ms=100)
        assert res["error_code"] == 0, res
        assert kp.decode_batches(res["records"]) == [(0, b"new", b"second life")]


@pytest.mark.parametrize("version", [12, 14, 15, 16, 17])
def test_fetch_from_a_follower_names_the_leader(kafka, five, version):
    """A follower (replica_id, from v15 in the ReplicaState tag) is not a
    replica of this broker's partitions: NOT_LEADER_OR_FOLLOWER (6). From
    v16 the answer names the leader, this broker with epoch 0, and its
    address, as KafkaApis does for that error."""
    with kp.Conn.to(kafka.bootstrap) as c:
        (node_id, host, port), = kp.metadata(c, names=[five])["brokers"]
        res = kp.fetch(c, version, five, 0, 0, max_wait_ms=100, replica_id=7)
        assert res["error_code"] == 6, res
        if version < 16:
            assert res["current_leader"] is None and res["node_endpoints"] == []
        else:
            assert res["current_leader"] == (node_id, 0)
            assert res["node_endpoints"] == [(node_id, host, port, None)]
        # A consumer (no ReplicaState) is served, without leader hints.
        res = kp.fetch(c, version, five, 0, 0, max_wait_ms=100)
        assert (res["error_code"], res["current_leader"], res["node_endpoints"]) == (0, None, [])
