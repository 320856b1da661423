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
