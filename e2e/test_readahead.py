"""
Fetch read-ahead: when a Fetch stops at its size limit, the broker reads the
next range at once and keeps it for the same connection's next Fetch. A
consumer must not be able to tell, except by speed: every answer holds
exactly the records asked for, seeking elsewhere reads from there, a consumer that has
caught up still long-polls for new records, and a deleted topic is not
served from what was read before the delete.
"""

import pytest

import kafkaproto as kp

N = 300
# About 20 records per answer: many consecutive fetches, each cut by size.
PART_MAX = 20000


def value(i):
    return b"%05d" % i + b"r" * 995


@pytest.fixture
def backlog(kafka):
    topic = kafka.create_topic()
    kafka.produce(topic, [(b"k%d" % i, value(i)) for i in range(N)])
    return topic


def read(conn, topic, offset, **kw):
    res = kp.fetch(conn, 11, topic, 0, offset, partition_max_bytes=PART_MAX, **kw)
    assert res["error_code"] == 0, res
    return [r for r in kp.decode_batches(res["records"]) if r[0] >= offset]


def expected(first, n):
    return [(i, b"k%d" % i, value(i)) for i in range(first, first + n)]


def test_consecutive_fetches_see_every_record_once(kafka, backlog):
    """One connection walks the whole backlog as a consumer catching up does:
    after the first answer, each Fetch asks for where the last one ended,
    which is what was read ahead."""
    with kp.Conn.to(kafka.bootstrap) as c:
        offset, fetches = 0, 0
        while offset < N:
            got = read(c, backlog, offset)
            assert got, "no progress at offset %d" % offset
            assert got == expected(offset, len(got))
            offset += len(got)
            fetches += 1
        assert fetches >= 10


def test_seeking_reads_from_the_new_offset(kafka, backlog):
    with kp.Conn.to(kafka.bootstrap) as c:
        first = read(c, backlog, 0)
        nxt = read(c, backlog, first[-1][0] + 1)
        assert nxt == expected(first[-1][0] + 1, len(nxt))
        # Back to the start, then far ahead: not where the last answer ended.
        again = read(c, backlog, 0)
        assert again and again == expected(0, len(again))
        far = read(c, backlog, 250)
        assert far == expected(250, len(far))
        after = read(c, backlog, far[-1][0] + 1)
        assert after and after == expected(far[-1][0] + 1, len(after))


def test_caught_up_consumer_long_polls_for_new_records(kafka, backlog):
    with kp.Conn.to(kafka.bootstrap, timeout=90) as c:
        offset = 0
        while offset < N:
            offset = read(c, backlog, offset)[-1][0] + 1
        corr = kp.send_fetch(c, 11, backlog, 0, N, max_wait_ms=60000, min_bytes=1,
                             partition_max_bytes=PART_MAX)
        kafka.produce(backlog, [(b"late", b"arrival")])
        res = kp.read_fetch(c, corr, 11, timeout=30)
        assert res["error_code"] == 0
        assert [r for r in kp.decode_batches(res["records"]) if r[0] >= N] == \
            [(N, b"late", b"arrival")]
        assert res["high_watermark"] == N + 1


def test_deleted_topic_is_not_served_from_read_ahead(kafka, backlog):
    with kp.Conn.to(kafka.bootstrap) as c:
        first = read(c, backlog, 0)
        # The broker is now reading the range after `first` for this
        # connection. Delete the topic through the same broker.
        fs = kafka.admin().delete_topics([backlog], operation_timeout=30)
        fs[backlog].result(timeout=30)
        res = kp.fetch(c, 11, backlog, 0, first[-1][0] + 1, partition_max_bytes=PART_MAX,
                       max_wait_ms=100)
        assert res["error_code"] == 3, res   # UNKNOWN_TOPIC_OR_PARTITION
        assert kp.decode_batches(res["records"]) == []
