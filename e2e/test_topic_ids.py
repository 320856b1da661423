"""
Topic ids (KIP-516) across the APIs that carry them, on a raw socket:
Metadata v12-v13 by id, DeleteTopics v6 by id, Fetch v13+ reading a
topic by the id Metadata gave, and OffsetCommit/OffsetFetch v10, each
answering UNKNOWN_TOPIC_ID (100) for an id no topic has, as Kafka does.
Fetch's own cases are in test_fetch.py; the member epoch checks of v10 in
test_consumer_group_protocol.py.
"""

import pytest

import kafkaproto as kp
import kmsg
from conftest import unique
from test_conformance import delete_topics_raw

UNKNOWN_TOPIC_ID = 100
UNKNOWN = bytes(range(1, 17))


def offset_commit(c, version, group, topics):
    """A simple commit (no member): topics [(name or id, [(partition,
    offset)])] -> [(name or id, [(partition, error)])]."""
    key = "topic_id" if version >= 10 else "name"
    r = kmsg.send_request(c, 8, version, {"group_id": group, "topics": [
        {key: t, "partitions": [{"partition_index": p, "committed_offset": o,
                                 "committed_metadata": "m%d" % o} for p, o in parts]}
        for t, parts in topics]})
    res = kmsg.decode(kmsg.OFFSET_COMMIT_RESP, version, True, r)
    return [(t[key], [(p["partition_index"], p["error_code"]) for p in t["partitions"]])
            for t in res["topics"]]


def offset_fetch(c, version, group, topics):
    """One group's offsets, topics [(name or id, [partition])] or None (all):
    (group error, [(name or id, [(partition, offset, metadata, error)])])."""
    key = "topic_id" if version >= 10 else "name"
    want = None if topics is None else [{key: t, "partition_indexes": ps} for t, ps in topics]
    r = kmsg.send_request(c, 9, version, {"groups": [{"group_id": group, "topics": want}]})
    (g,) = kmsg.decode(kmsg.OFFSET_FETCH_RESP, version, True, r)["groups"]
    return g["error_code"], [
        (t[key], [(p["partition_index"], p["committed_offset"], p["metadata"], p["error_code"])
                  for p in t["partitions"]])
        for t in g["topics"]]


def test_offsets_v10_by_topic_id(kafka):
    """A commit at v10 names the topic by id and the answer does too; what
    it stored reads back by name at v9 and by id at v10."""
    topic = kafka.create_topic(partitions=2)
    group = unique("v10")
    with kp.Conn.to(kafka.bootstrap) as c:
        tid = kp.topic_id(c, topic)
        assert offset_commit(c, 10, group, [(tid, [(0, 5), (1, 9)])]) == [(tid, [(0, 0), (1, 0)])]
        assert offset_fetch(c, 9, group, [(topic, [0, 1])]) == (
            0, [(topic, [(0, 5, "m5", 0), (1, 9, "m9", 0)])])
        assert offset_fetch(c, 10, group, [(tid, [1, 0])]) == (
            0, [(tid, [(1, 9, "m9", 0), (0, 5, "m5", 0)])])
        # A partition the topic lacks, as by name.
        assert offset_commit(c, 10, group, [(tid, [(7, 1)])]) == [(tid, [(7, 3)])]


def test_offsets_v10_unknown_topic_id(kafka):
    """An id no topic has (the zero id included): UNKNOWN_TOPIC_ID for each
    of its partitions, the other topics of the request as usual; nothing
    is stored."""
    topic = kafka.create_topic()
    group = unique("v10u")
    with kp.Conn.to(kafka.bootstrap) as c:
        tid = kp.topic_id(c, topic)
        got = offset_commit(c, 10, group, [(UNKNOWN, [(0, 1), (1, 1)]), (tid, [(0, 4)]),
                                           (bytes(16), [(0, 1)])])
        assert got == [(UNKNOWN, [(0, UNKNOWN_TOPIC_ID), (1, UNKNOWN_TOPIC_ID)]),
                       (tid, [(0, 0)]), (bytes(16), [(0, UNKNOWN_TOPIC_ID)])]
        got = offset_fetch(c, 10, group, [(UNKNOWN, [0]), (tid, [0])])
        assert got == (0, [(UNKNOWN, [(0, -1, "", UNKNOWN_TOPIC_ID)]), (tid, [(0, 4, "m4", 0)])])
        assert offset_fetch(c, 10, group, None) == (0, [(tid, [(0, 4, "m4", 0)])])


def test_offset_fetch_all_v10_answers_topic_ids(kafka):
    """Null topics at v10: every committed offset of the group, each topic
    by its id; at v9 the same offsets by name."""
    a, b = kafka.create_topic(partitions=2), kafka.create_topic()
    group = unique("v10all")
    with kp.Conn.to(kafka.bootstrap) as c:
        ida, idb = kp.topic_id(c, a), kp.topic_id(c, b)
        assert offset_commit(c, 9, group, [(a, [(1, 3)]), (b, [(0, 2)])]) == [
            (a, [(1, 0)]), (b, [(0, 0)])]
        assert offset_commit(c, 10, group, [(ida, [(0, 6)])]) == [(ida, [(0, 0)])]
        err, topics = offset_fetch(c, 10, group, None)
        assert err == 0
        assert sorted(topics) == sorted([(ida, [(0, 6, "m6", 0), (1, 3, "m3", 0)]),
                                         (idb, [(0, 2, "m2", 0)])])
        err, topics = offset_fetch(c, 9, group, None)
        assert err == 0
        assert sorted(topics) == sorted([(a, [(0, 6, "m6", 0), (1, 3, "m3", 0)]),
                                         (b, [(0, 2, "m2", 0)])])


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


def test_offsets_v10_old_id_of_a_topic_created_again(kafka):
    """The id of a topic deleted and created again under the same name (the
    broker has seen the old id) is UNKNOWN_TOPIC_ID: nothing is committed
    to, or read from, the new topic by it."""
    topic = kafka.create_topic()
    group = unique("v10old")
    with kp.Conn.to(kafka.bootstrap) as c:
        old = kp.topic_id(c, topic)
        assert offset_commit(c, 10, group, [(old, [(0, 1)])]) == [(old, [(0, 0)])]
        kafka.admin().delete_topics([topic], operation_timeout=30)[topic].result(30)
        kafka.create_topic(topic)
        new = kp.topic_id(c, topic)
        assert new not in (None, old)
        assert offset_commit(c, 10, group, [(new, [(0, 3)])]) == [(new, [(0, 0)])]
        assert offset_commit(c, 10, group, [(old, [(0, 8)])]) == [(old, [(0, UNKNOWN_TOPIC_ID)])]
        assert offset_fetch(c, 10, group, [(old, [0]), (new, [0])]) == (
            0, [(old, [(0, -1, "", UNKNOWN_TOPIC_ID)]), (new, [(0, 3, "m3", 0)])])
