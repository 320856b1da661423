"""
Transactions v2 (KIP-890 part 2) with the raw protocol (kmsg.py), since no
client here negotiates them (librdkafka and KafkaJS stay on AddPartitionsToTxn
and EndTxn v3 and below): ApiVersions finalizes transaction.version 2; a
producer writes with Produce v12 without AddPartitionsToTxn, commits offsets
with TxnOffsetCommit v5 without AddOffsetsToTxn, ends each transaction with EndTxn v5 and gets a new
epoch every time; a read_committed fetch sees what was committed and not
what was aborted; the old epoch is fenced; epochs running out give a new
producer id; brokers' AddPartitionsToTxn v4+ adds and verifies.
"""

import pytest

import kafkaproto as kp
from conftest import sql_literal, unique
from kmsg import call, send_request

PRODUCE, FETCH, INIT_PRODUCER_ID, ADD_PARTITIONS_TO_TXN = 0, 1, 22, 24
ADD_OFFSETS_TO_TXN, END_TXN, TXN_OFFSET_COMMIT = 25, 26, 28

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
OPERATION_NOT_ATTEMPTED = 55
PRODUCER_FENCED = 90
TRANSACTION_ABORTABLE = 120

ATTR_TRANSACTIONAL = 0x10
ATTR_CONTROL = 0x20


@pytest.fixture
def conn(kafka):
    with kp.Conn.to(kafka.bootstrap) as c:
        yield c


def txn_batch(pid, epoch, seq, values):
    """A transactional v2 record batch (uncompressed) of these values."""
    recs = b"".join(kp.encode_record(i, None, v) for i, v in enumerate(values))
    ts = 1700000000000
    after_crc = (kp.Writer().i16(ATTR_TRANSACTIONAL).i32(len(values) - 1).i64(ts).i64(ts)
                 .i64(pid).i16(epoch).i32(seq).i32(len(values)).raw(recs).getvalue())
    return (kp.Writer().i64(0).i32(4 + 1 + 4 + len(after_crc)).i32(-1).i8(2)
            .u32(kp.crc32c(after_crc)).raw(after_crc).getvalue())


def produce(conn, txn_id, topic, partition, pid, epoch, seq, values, version=12):
    body = {"transactional_id": txn_id, "acks": -1, "timeout_ms": 10000,
            "topic_data": [{"name": topic, "partition_data": [
                {"index": partition, "records": txn_batch(pid, epoch, seq, values)}]}]}
    r = send_request(conn, PRODUCE, version, body)
    return kp.decode_produce(r, version)[(topic, partition)]["error_code"]


def init_producer_id(conn, txn_id):
    r = call(conn, INIT_PRODUCER_ID, 5, {"transactional_id": txn_id})
    assert r["error_code"] == NONE
    return r["producer_id"], r["producer_epoch"]


def end_txn(conn, txn_id, pid, epoch, commit, version=5):
    r = call(conn, END_TXN, version, {"transactional_id": txn_id, "producer_id": pid,
                                      "producer_epoch": epoch, "committed": commit})
    return r["error_code"], r.get("producer_id"), r.get("producer_epoch")


def committed_view(data, aborted):
    """What a read_committed client keeps of fetched batches: records of
    aborted transactions (from their first offset to their abort marker)
    and control batches are dropped, as the Java consumer does."""
    out = []
    r = kp.Reader(data or b"")
    open_aborts = set()
    pending = sorted(aborted, key=lambda a: a[1])
    while r.remaining() >= 12:
        base = r.i64()
        b = kp.Reader(r.take(r.i32()))
        b.i32()
        b.i8()
        b.take(4)
        attributes = b.i16()
        b.i32()
        b.take(16)
        pid = b.i64()
        b.i16()
        b.i32()
        count = b.i32()
        while pending and pending[0][1] <= base:
            open_aborts.add(pending.pop(0)[0])
        if attributes & ATTR_CONTROL:
            open_aborts.discard(pid)
            continue
        if pid in open_aborts and attributes & ATTR_TRANSACTIONAL:
            continue
        for _ in range(count):
            rec = kp.Reader(b.take(b.varint()))
            rec.i8()
            rec.varint()
            rec.varint()
            klen = rec.varint()
            if klen >= 0:
                rec.take(klen)
            vlen = rec.varint()
            out.append(rec.take(vlen) if vlen >= 0 else None)
    return out


def fetch(conn, topic, partition, isolation_level):
    return kp.fetch(conn, 12, topic, partition, 0, isolation_level=isolation_level,
                    max_wait_ms=0)


def test_api_versions_serve_transactions_v2(conn):
    err, apis = kp.api_versions(conn, 3)
    assert err == 0
    assert apis[END_TXN][1] == 5 and apis[ADD_PARTITIONS_TO_TXN][1] == 5
    assert apis[TXN_OFFSET_COMMIT][1] == 5 and apis[INIT_PRODUCER_ID][1] == 5
    assert apis[ADD_OFFSETS_TO_TXN][1] == 4 and apis[PRODUCE][1] >= 12
    r = call(conn, 18, 4)
    fin = {f["name"]: f["max_version_level"] for f in r["finalized_features"]}
    assert fin["transaction.version"] == 2


def test_round_trip_without_add_partitions(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    txn_id, group = unique("tv2"), unique("g")
    pid, epoch = init_producer_id(conn, txn_id)

    # Produce v12 adds the partitions: no AddPartitionsToTxn.
    assert produce(conn, txn_id, topic, 0, pid, epoch, 0, [b"c1", b"c2"]) == NONE
    assert produce(conn, txn_id, topic, 1, pid, epoch, 0, [b"c3"]) == NONE
    # While it is open, read_committed stops at its first record.
    f = fetch(conn, topic, 0, 1)
    assert f["high_watermark"] == 2 and f["last_stable_offset"] == 0
    # TxnOffsetCommit v5 adds the group itself (v4 needs AddOffsetsToTxn).
    def commit_offset(version):
        r = call(conn, TXN_OFFSET_COMMIT, version, {
            "transactional_id": txn_id, "group_id": group, "producer_id": pid,
            "producer_epoch": epoch, "topics": [{"name": topic, "partitions": [
                {"partition_index": 0, "committed_offset": 2, "committed_metadata": "m"}]}]})
        return r["topics"][0]["partitions"][0]["error_code"]
    assert commit_offset(4) == INVALID_TXN_STATE
    assert commit_offset(5) == NONE

    # EndTxn v5 commits and gives the next epoch.
    assert end_txn(conn, txn_id, pid, epoch, True) == (NONE, pid, epoch + 1)
    # Its retry (the answer lost) gets the same answer; the other outcome is refused.
    assert end_txn(conn, txn_id, pid, epoch, True) == (NONE, pid, epoch + 1)
    assert end_txn(conn, txn_id, pid, epoch, False)[0] == INVALID_TXN_STATE
    assert kafka.pg.rows("SELECT committed_offset, convert_from(metadata, 'UTF8')"
                         " FROM kafka.consumer_offsets"
                         " WHERE group_id = %s" % sql_literal(group)) == [["2", "m"]]
    # A late write of the ended transaction is fenced.
    assert produce(conn, txn_id, topic, 0, pid, epoch, 2, [b"late"]) == INVALID_PRODUCER_EPOCH
    epoch += 1

    # An aborted transaction, then a committed one, each ending with a bump.
    assert produce(conn, txn_id, topic, 0, pid, epoch, 0, [b"a1"]) == NONE
    assert produce(conn, txn_id, topic, 1, pid, epoch, 0, [b"a2"]) == NONE
    assert end_txn(conn, txn_id, pid, epoch, False) == (NONE, pid, epoch + 1)
    epoch += 1
    assert produce(conn, txn_id, topic, 0, pid, epoch, 0, [b"c4"]) == NONE
    assert end_txn(conn, txn_id, pid, epoch, True) == (NONE, pid, epoch + 1)
    # EndTxn with an epoch older than the last one: fenced.
    assert end_txn(conn, txn_id, pid, epoch - 1, True)[0] == PRODUCER_FENCED

    for partition, committed, everything in [
            (0, [b"c1", b"c2", b"c4"], [b"c1", b"c2", b"a1", b"c4"]),
            (1, [b"c3"], [b"c3", b"a2"])]:
        f = fetch(conn, topic, partition, 1)
        assert f["error_code"] == NONE
        assert f["last_stable_offset"] == f["high_watermark"]
        assert [a[0] for a in f["aborted"]] == [pid]
        assert committed_view(f["records"], f["aborted"]) == committed
        u = fetch(conn, topic, partition, 0)
        assert [v for _, _, v in kp.decode_batches(u["records"])
                if v in everything] == everything


def test_end_txn_v5_abort_without_transaction_and_epoch_exhaustion(kafka, conn):
    txn_id = unique("tv2x")
    pid, epoch = init_producer_id(conn, txn_id)
    # Commit with nothing ongoing is refused; abort bumps the epoch.
    assert end_txn(conn, txn_id, pid, epoch, True)[0] == INVALID_TXN_STATE
    assert end_txn(conn, txn_id, pid, epoch, False) == (NONE, pid, epoch + 1)
    # Another producer id: INVALID_PRODUCER_ID_MAPPING.
    assert end_txn(conn, txn_id, pid + 1000, epoch + 1, False)[0] == \
        INVALID_PRODUCER_ID_MAPPING
    # At the last epoch, EndTxn gives a new producer id at epoch 0, and
    # its retry the same.
    kafka.pg.sql("UPDATE kafka.transactions SET producer_epoch = 32766"
                 " WHERE transactional_id = %s" % sql_literal(txn_id))
    err, new_pid, new_epoch = end_txn(conn, txn_id, pid, 32766, False)
    assert err == NONE and new_pid != pid and new_epoch == 0
    assert end_txn(conn, txn_id, pid, 32766, False) == (NONE, new_pid, 0)
    # EndTxn v4 keeps the epoch.
    topic = kafka.create_topic()
    assert produce(conn, txn_id, topic, 0, new_pid, 0, 0, [b"x"]) == NONE
    assert end_txn(conn, txn_id, new_pid, 0, True, version=4) == (NONE, -1, -1)
    assert kafka.pg.rows("SELECT producer_epoch FROM kafka.transactions"
                         " WHERE transactional_id = %s" % sql_literal(txn_id)) == [["0"]]


def test_add_partitions_v4_batch_add_and_verify(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    t1, t2 = unique("tv2a"), unique("tv2b")
    pid1, e1 = init_producer_id(conn, t1)
    pid2, e2 = init_producer_id(conn, t2)

    def txn(tid, pid, epoch, verify, parts, name=topic):
        return {"transactional_id": tid, "producer_id": pid, "producer_epoch": epoch,
                "verify_only": verify, "topics": [{"name": name, "partitions": parts}]}

    def errors(r):
        return {x["transactional_id"]: [(p["partition_index"], p["partition_error_code"])
                                        for t in x["topic_results"]
                                        for p in t["results_by_partition"]]
                for x in r["results_by_transaction"]}

    r = call(conn, ADD_PARTITIONS_TO_TXN, 5, {"transactions": [
        txn(t1, pid1, e1, False, [0]), txn(t2, pid2, e2, True, [0, 1])]})
    assert r["error_code"] == NONE
    assert errors(r) == {t1: [(0, NONE)], t2: [(0, TRANSACTION_ABORTABLE),
                                               (1, TRANSACTION_ABORTABLE)]}
    r = call(conn, ADD_PARTITIONS_TO_TXN, 4, {"transactions": [
        txn(t1, pid1, e1, True, [0, 1]), txn(t2, pid2, e2 + 1, True, [0]),
        txn(unique("none"), pid1, e1, True, [0])]})
    assert list(errors(r).values()) == [[(0, NONE), (1, TRANSACTION_ABORTABLE)],
                                        [(0, PRODUCER_FENCED)],
                                        [(0, INVALID_PRODUCER_ID_MAPPING)]]
    # A partition that does not exist fails the transaction's others.
    r = call(conn, ADD_PARTITIONS_TO_TXN, 5, {"transactions": [
        {"transactional_id": t1, "producer_id": pid1, "producer_epoch": e1,
         "verify_only": False, "topics": [{"name": topic, "partitions": [1]},
                                          {"name": unique("nope"), "partitions": [0]}]}]})
    assert errors(r) == {t1: [(1, OPERATION_NOT_ATTEMPTED), (0, UNKNOWN_TOPIC_OR_PARTITION)]}
    # What was added is in the transaction that the v3 form also sees.
    assert kafka.pg.rows("SELECT topic, partition FROM kafka.txn_partitions"
                         " WHERE transactional_id = %s" % sql_literal(t1)) == [[topic, "0"]]
