"""
Topic ids (KIP-516) across the APIs that carry them, on a raw socket:
Metadata v12-v13 by id, DeleteTopics v6 by id, and Fetch v13+ reading a
topic by the id Metadata gave, each answering UNKNOWN_TOPIC_ID (100) for an
id no topic has, as Kafka does. Fetch's own cases are in test_fetch.py.
"""

import pytest

import kafkaproto as kp
from test_conformance import delete_topics_raw

UNKNOWN_TOPIC_ID = 100
UNKNOWN = bytes(range(1, 17))


@pytest.mark.parametrize("version", [12, 13])
def test_metadata_by_id_and_by_name(kafka, version):
    topic = kafka.create_topic(partitions=3)
    with kp.Conn.to(kafka.bootstrap) as c:
        by_name = kp.metadata(c, names=[topic], version=version)
        assert by_name["error_code"] == 0
        (t,) = by_name["topics"]
        assert (t["error_code"], t["name"], t["partitions"]) == (0, topic, [0, 1, 2])
        tid = t["topic_id"]
        assert tid != bytes(16)

        # By id: the name comes back with it. An unknown id: 100, no name.
        res = kp.metadata(c, ids=[tid, UNKNOWN], version=version)
        assert res["error_code"] == 0
        got = sorted((x["error_code"], x["name"] or "", x["topic_id"], len(x["partitions"]))
                     for x in res["topics"])
        assert got == sorted([(0, topic, tid, 3), (UNKNOWN_TOPIC_ID, "", UNKNOWN, 0)])

        everything = kp.metadata(c, version=version)
        assert (topic, tid) in {(x["name"], x["topic_id"]) for x in everything["topics"]}


def test_delete_topics_by_id(kafka):
    """By id: the topic goes; an unknown id, or the id of a topic deleted
    since (and created again under the same name), is UNKNOWN_TOPIC_ID and
    deletes nothing. A Fetch by the old id is UNKNOWN_TOPIC_ID too."""
    topic = kafka.create_topic()
    kafka.produce(topic, [(b"k", b"v")])
    with kp.Conn.to(kafka.bootstrap) as c:
        old = kp.topic_id(c, topic)
        assert kp.fetch(c, 13, old, 0, 0, max_wait_ms=100)["error_code"] == 0
        assert delete_topics_raw(c, [(None, UNKNOWN)]) == [(None, UNKNOWN, UNKNOWN_TOPIC_ID)]
        assert delete_topics_raw(c, [(None, old)]) == [(topic, old, 0)]
        assert topic not in kafka.topic_names()
        assert kp.fetch(c, 13, old, 0, 0, max_wait_ms=100)["error_code"] == UNKNOWN_TOPIC_ID

        kafka.create_topic(topic)
        new = kp.topic_id(c, topic)
        assert new not in (None, old)
        assert delete_topics_raw(c, [(None, old)]) == [(None, old, UNKNOWN_TOPIC_ID)]
        assert topic in kafka.topic_names()
        assert kp.fetch(c, 17, new, 0, 0, max_wait_ms=100)["error_code"] == 0


@pytest.mark.parametrize("version", [12, 13])
def test_produce_v12_v13(kafka, version):
    """v12 names topics as before; v13 by id, the answer by id too. An id
    no topic has is UNKNOWN_TOPIC_ID; so is the old id of a topic created
    again under the same name, and nothing is written to the new topic."""
    topic = kafka.create_topic(partitions=2)
    batch = kp.record_batch([(b"k", b"by %d" % version)])
    with kp.Conn.to(kafka.bootstrap) as c:
        tid = kp.topic_id(c, topic)
        res = kp.produce(c, topic, 1, batch, version=version)
        assert (res["error_code"], res["base_offset"]) == (0, 0), res
        assert kp.produce(c, topic, 7, batch, version=version)["error_code"] == 3
        got = kp.fetch(c, 13, tid, 1, 0, max_wait_ms=100)
        assert kp.decode_batches(got["records"]) == [(0, b"k", b"by %d" % version)]
        if version < 13:
            return
        assert kp.produce(c, UNKNOWN, 0, batch, version=13)["error_code"] == UNKNOWN_TOPIC_ID
        assert kp.produce(c, bytes(16), 0, batch, version=13)["error_code"] == UNKNOWN_TOPIC_ID

        kafka.admin().delete_topics([topic], operation_timeout=30)[topic].result(30)
        kafka.create_topic(topic, partitions=2)
        new = kp.topic_id(c, topic)
        for _ in range(2):   # the old id's name remembered, then forgotten
            assert kp.produce(c, tid, 1, batch, version=13)["error_code"] == UNKNOWN_TOPIC_ID
        got = kp.fetch(c, 13, new, 1, 0, max_wait_ms=100)
        assert (got["error_code"], got["high_watermark"]) == (0, 0)
        assert kp.produce(c, new, 1, batch, version=13)["base_offset"] == 0
