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
