"""
ListOffsets on a raw socket, including MAX_TIMESTAMP (-3, v7 only), which
none of the installed clients can ask for.
"""

import pytest

import kafkaproto as kp

BASE = 1_650_000_000_000
STAMPS = [BASE, BASE + 5000, BASE + 1000, BASE + 3000]


@pytest.fixture
def stamped_topic(kafka):
    # Kept forever: records stamped 2022 would expire under the default
    # retention.ms (7 days) at the next storage pass of any broker.
    topic = kafka.create_topic(config={"retention.ms": "-1"})
    kafka.produce(topic, [{"value": b"v%d" % i, "timestamp": ts} for i, ts in enumerate(STAMPS)])
    return topic


@pytest.mark.parametrize("version", [1, 4, 7, 10])
def test_earliest_latest_and_by_timestamp(kafka, stamped_topic, version):
    with kp.Conn.to(kafka.bootstrap) as c:
        def lookup(ts):
            res = kp.list_offsets(c, stamped_topic, 0, ts, version=version)
            assert res["error_code"] == 0, res
            return res["offset"], res["timestamp"]

        assert lookup(kp.EARLIEST)[0] == 0
        assert lookup(kp.LATEST)[0] == len(STAMPS)
        # First offset whose timestamp is at or after the target.
        assert lookup(BASE + 500) == (1, BASE + 5000)
        assert lookup(BASE) == (0, BASE)
        assert lookup(BASE + 5001) == (-1, -1)


@pytest.mark.parametrize("version", [7, 10])
def test_max_timestamp(kafka, stamped_topic, version):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, kp.MAX_TIMESTAMP, version=version)
    assert res["error_code"] == 0, res
    assert (res["offset"], res["timestamp"]) == (1, BASE + 5000)


@pytest.mark.parametrize("version", [8, 9, 10])
def test_earliest_local_and_latest_tiered(kafka, pg, stamped_topic, version):
    """Nothing is tiered: EARLIEST_LOCAL (-4, v8+) is the log start offset
    as EARLIEST is, and LATEST_TIERED (-5, v9+) is offset -1, epoch -1, as
    Kafka answers for a topic without remote storage; before v9, -5 is
    UNSUPPORTED_VERSION."""
    pg.sql("UPDATE kafka.partitions SET log_start_offset = 2"
           " WHERE topic = '%s' AND partition = 0" % stamped_topic)
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, -4, version=version)
        assert (res["error_code"], res["offset"], res["timestamp"],
                res["leader_epoch"]) == (0, 2, -1, 0), res
        res = kp.list_offsets(c, stamped_topic, 0, -5, version=version)
        if version < 9:
            assert res["error_code"] == kp.UNSUPPORTED_VERSION, res
        else:
            assert (res["error_code"], res["offset"], res["timestamp"],
                    res["leader_epoch"]) == (0, -1, -1, -1), res
        res = kp.list_offsets(c, stamped_topic, 9, -4, version=version)
        assert res["error_code"] == 3, res


def test_unknown_topic_and_partition(kafka, stamped_topic):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 7, kp.LATEST, version=7)
        assert res["error_code"] == 3, res   # UNKNOWN_TOPIC_OR_PARTITION
        res = kp.list_offsets(c, "no-such-topic-" + stamped_topic, 0, kp.LATEST, version=7)
        assert res["error_code"] == 3, res


# Timestamps no record can reach (past PostgreSQL's last timestamptz,
# 9224318015999999 ms): 2^62, Java's Long.MAX_VALUE (what offsetsForTimes
# callers send), and just past that last millisecond.
BEYOND = [2**62, 2**63 - 1, 9224318016000000, 10**16]
# Timestamps the broker's statement cannot express but a record can have.
SEARCH_MAX = 9223372036854000
STORED_MAX = 9224318015999999


@pytest.mark.parametrize("version", [1, 4, 7])
@pytest.mark.parametrize("ts", BEYOND)
def test_timestamp_beyond_every_record(kafka, broker, stamped_topic, version, ts):
    logged = len(broker.log_text())
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, ts, version=version)
    assert res["error_code"] == 0, res
    assert (res["offset"], res["timestamp"]) == (-1, -1)
    new = broker.log_text()[logged:]
    assert " ERROR " not in new and "out of range" not in new, new


@pytest.mark.parametrize("ts", [SEARCH_MAX, SEARCH_MAX + 1, STORED_MAX])
def test_largest_timestamps_find_nothing(kafka, broker, stamped_topic, ts):
    """At and past the statement's bound, up to the last time a record can
    have: nothing found, no SQL error."""
    logged = len(broker.log_text())
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, ts, version=7)
    assert res["error_code"] == 0, res
    assert (res["offset"], res["timestamp"]) == (-1, -1)
    assert " ERROR " not in broker.log_text()[logged:]


def test_record_past_the_statements_bound(kafka):
    """A record whose time the statement cannot express (year 292 million
    and later) is still found by a search for it, and only by searches at
    or before its time."""
    topic = kafka.create_topic()
    far = [SEARCH_MAX + 1000, SEARCH_MAX + 5000]
    kafka.produce(topic, [{"value": b"near", "timestamp": BASE}] +
                  [{"value": b"far%d" % i, "timestamp": ts} for i, ts in enumerate(far)])
    with kp.Conn.to(kafka.bootstrap) as c:
        def lookup(ts):
            res = kp.list_offsets(c, topic, 0, ts, version=7)
            assert res["error_code"] == 0, res
            return res["offset"], res["timestamp"]

        assert lookup(BASE + 1) == (1, far[0])
        assert lookup(SEARCH_MAX + 1) == (1, far[0])
        assert lookup(far[0]) == (1, far[0])
        assert lookup(far[1] + 1) == (-1, -1)
        assert lookup(kp.MAX_TIMESTAMP) == (2, far[1])


def test_timestamp_beyond_every_record_unknown_partition(kafka, stamped_topic):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 7, 2**63 - 1, version=7)
    assert res["error_code"] == 3, res   # UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.parametrize("ts,version", [(-4, 7), (-5, 7), (-5, 8), (-6, 7), (-6, 10),
                                        (-100, 10), (-(2**62), 7), (-(2**63), 10)])
def test_negative_timestamp_is_unsupported_version(kafka, stamped_topic, ts, version):
    """A negative timestamp that is not one of Kafka's special values for
    the version (-4 needs v8, -5 v9) is UNSUPPORTED_VERSION
    (ReplicaManager.isListOffsetsTimestampUnsupported)."""
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, ts, version=version)
    assert res["error_code"] == kp.UNSUPPORTED_VERSION, res
    assert (res["offset"], res["timestamp"]) == (-1, -1)
