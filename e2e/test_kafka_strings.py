"""
Kafka strings and bytes round-trip byte for byte where Kafka accepts them:
offset metadata with a NUL byte (OffsetCommit, TxnOffsetCommit, OffsetFetch;
kafka.consumer_offsets.metadata is bytea), a group member's protocol
metadata and assignment (kept in the coordinator's memory), and record
header keys (stored as the wire bytes). Group ids and transactional ids
PostgreSQL text cannot hold are refused as documented in docs/GROUPS.md
(test_conformance_groups.py::test_join_group_id_postgresql_cannot_store,
test_conformance_txn.py::test_init_producer_id_transactional_id_not_text).
"""

import pytest

import kafkaproto as kp
from conftest import unique
from kmsg import call
from test_groups import join_group, offset_commit, sync_group

OFFSET_FETCH = 9
NONE = 0
MEMBER_ID_REQUIRED = 79

HELLO = b"Hello\x00world!"


@pytest.fixture
def conn(kafka):
    with kp.Conn.to(kafka.bootstrap) as c:
        yield c


def offset_fetch_raw(conn, group, topic, partition):
    """OffsetFetch v1 -> (offset, metadata bytes, error)."""
    w = kp.Writer().string(group)
    w.array([topic], lambda ww, t: ww.string(t).array([partition], lambda x, p: x.i32(p)))
    r = conn.request(OFFSET_FETCH, 1, w.getvalue())
    out = []

    def part(rr):
        p, off = rr.i32(), rr.i64()
        n = rr.i16()
        meta = rr.take(n) if n >= 0 else None
        out.append((off, meta, rr.i16()))
    r.array(lambda rr: (rr.string(), rr.array(part)))
    return out[0]


@pytest.mark.parametrize("metadata", [HELLO, b"\x00", b"caf\xc3\xa9 \xff\xfe"])
def test_offset_metadata_round_trips(kafka, conn, metadata):
    topic = kafka.create_topic()
    group = unique("strings")
    assert offset_commit(conn, group, {topic: [(0, 5, metadata)]}, version=2) == {
        (topic, 0): NONE}
    assert offset_fetch_raw(conn, group, topic, 0) == (5, metadata, NONE)
    # The flexible versions too.
    assert offset_commit(conn, group, {topic: [(0, 6, metadata)]}, version=8) == {
        (topic, 0): NONE}
    assert offset_fetch_raw(conn, group, topic, 0) == (6, metadata, NONE)


def test_transactional_offset_metadata_round_trips(kafka, conn):
    topic = kafka.create_topic()
    group, txn_id = unique("strings-g"), unique("strings-t")
    r = call(conn, 22, 4, {"transactional_id": txn_id})
    pid, epoch = r["producer_id"], r["producer_epoch"]
    assert call(conn, 25, 3, {"transactional_id": txn_id, "producer_id": pid,
                              "producer_epoch": epoch, "group_id": group})["error_code"] == NONE
    r = call(conn, 28, 3, {"transactional_id": txn_id, "group_id": group, "producer_id": pid,
                           "producer_epoch": epoch, "topics": [{"name": topic, "partitions": [
                               {"partition_index": 0, "committed_offset": 9,
                                "committed_metadata": HELLO}]}]})
    assert r["topics"][0]["partitions"][0]["error_code"] == NONE
    assert call(conn, 26, 3, {"transactional_id": txn_id, "producer_id": pid,
                              "producer_epoch": epoch, "committed": True})["error_code"] == NONE
    assert offset_fetch_raw(conn, group, topic, 0) == (9, HELLO, NONE)


def test_member_metadata_and_assignment_round_trip(kafka, conn):
    group = unique("strings-m")
    meta = b"\x00\x01" + HELLO + b"\xff\xfe\x00"
    protocols = [("range", meta)]
    r = join_group(conn, group, "", protocols=protocols)
    assert r["error"] == MEMBER_ID_REQUIRED
    r = join_group(conn, group, r["member_id"], protocols=protocols)
    assert r["error"] == NONE and r["leader"] == r["member_id"]
    assert [m for _, m in r["members"]] == [meta]
    assignment = b"\x00\x00" + HELLO + b"\xff"
    err, got = sync_group(conn, group, r["generation"], r["member_id"],
                          [(r["member_id"], assignment)])
    assert (err, got) == (NONE, assignment)


def test_header_keys_round_trip(kafka, conn):
    topic = kafka.create_topic()
    key = b"k\x00ey\xff"
    headers = [(key, b"v\x00"), (b"", None)]
    res = kp.produce(conn, topic, 0, kp.record_batch([(b"k", b"v", headers)]), version=9)
    assert res["error_code"] == NONE
    f = kp.fetch(conn, 12, topic, 0, 0, max_wait_ms=0)
    assert f["error_code"] == NONE
    assert record_headers(f["records"]) == [headers]


def record_headers(data):
    """The headers of each record in uncompressed v2 batches."""
    out = []
    r = kp.Reader(data or b"")
    while r.remaining() >= 12:
        r.i64()
        b = kp.Reader(r.take(r.i32()))
        b.take(4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4)
        for _ in range(b.i32()):
            rec = kp.Reader(b.take(b.varint()))
            rec.i8()
            rec.varint()
            rec.varint()
            for _ in range(2):  # key, value
                n = rec.varint()
                if n > 0:
                    rec.take(n)
            hs = []
            for _ in range(rec.varint()):
                hk = rec.take(rec.varint())
                n = rec.varint()
                hs.append((hk, rec.take(n) if n >= 0 else None))
            out.append(hs)
    return out
