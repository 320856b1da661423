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
    topic = kafka.create_topic()
    kafka.produce(topic, [{"value": b"v%d" % i, "timestamp": ts} for i, ts in enumerate(STAMPS)])
    return topic


@pytest.mark.parametrize("version", [1, 4, 7])
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


def test_max_timestamp(kafka, stamped_topic):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, kp.MAX_TIMESTAMP, version=7)
    assert res["error_code"] == 0, res
    assert (res["offset"], res["timestamp"]) == (1, BASE + 5000)


def test_unknown_topic_and_partition(kafka, stamped_topic):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 7, kp.LATEST, version=7)
        assert res["error_code"] == 3, res   # UNKNOWN_TOPIC_OR_PARTITION
        res = kp.list_offsets(c, "no-such-topic-" + stamped_topic, 0, kp.LATEST, version=7)
        assert res["error_code"] == 3, res


# Timestamps no record can reach: 2^62, Java's Long.MAX_VALUE (what
# offsetsForTimes callers send), and both sides of the broker's search bound.
BEYOND = [2**62, 2**63 - 1, 9223372036854001, 10**16]


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


def test_largest_searchable_timestamp(kafka, stamped_topic):
    """The bound itself still goes to PostgreSQL, and finds nothing."""
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, 9223372036854000, version=7)
    assert res["error_code"] == 0, res
    assert (res["offset"], res["timestamp"]) == (-1, -1)


def test_timestamp_beyond_every_record_unknown_partition(kafka, stamped_topic):
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 7, 2**63 - 1, version=7)
    assert res["error_code"] == 3, res   # UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.parametrize("ts", [-6, -100, -(2**62), -(2**63)])
def test_negative_timestamp_finds_the_first_record(kafka, stamped_topic, ts):
    """Kafka searches for the first record at or after any timestamp that
    is not one of its special values: every record is."""
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, ts, version=7)
    assert res["error_code"] == 0, res
    assert (res["offset"], res["timestamp"]) == (0, BASE)


def test_earliest_local_and_latest_tiered(kafka, stamped_topic):
    """Without tiered storage every record is local: EARLIEST_LOCAL (-4) is
    EARLIEST, and LATEST_TIERED (-5) finds nothing."""
    with kp.Conn.to(kafka.bootstrap) as c:
        res = kp.list_offsets(c, stamped_topic, 0, -4, version=7)
        assert res["error_code"] == 0, res
        assert res["offset"] == 0
        res = kp.list_offsets(c, stamped_topic, 0, -5, version=7)
        assert res["error_code"] == 0, res
        assert (res["offset"], res["timestamp"]) == (-1, -1)
