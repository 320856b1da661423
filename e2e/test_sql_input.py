"""
Client-supplied values that would reach a PostgreSQL statement in a form it
cannot take (ids longer than an index entry can be, numbers past the range
of a column or an interval, extremes of every integer field, partitions
named twice) get Kafka's non-retriable answer, and the broker logs no
ERROR: every value is checked before the statement, or the statement's
failure is the request's error.
"""

import random
import string

import pytest

import kafkaproto as kp
from conftest import unique

ADD_PARTITIONS_TO_TXN = 24
ADD_OFFSETS_TO_TXN = 25
END_TXN = 26
TXN_OFFSET_COMMIT = 28
OFFSET_COMMIT = 8
OFFSET_FETCH = 9
JOIN_GROUP = 11
INIT_PRODUCER_ID = 22
DESCRIBE_GROUPS = 15
DELETE_GROUPS = 42
OFFSET_DELETE = 47
DESCRIBE_TRANSACTIONS = 65
LIST_TRANSACTIONS = 66

INVALID_PRODUCER_EPOCH = 47
INVALID_GROUP_ID = 24
GROUP_ID_NOT_FOUND = 69
INVALID_REQUEST = 42
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
TRANSACTIONAL_ID_NOT_FOUND = 105

INT16 = [-(2**15), -1, 2**15 - 1]
INT32 = [-(2**31), -1, 0, 2**31 - 1]
INT64 = [-(2**63), -1, 2**62, 2**63 - 1]


def long_id(n=5000):
    """An id no btree entry can hold: random letters do not compress."""
    rnd = random.Random(n)
    return "".join(rnd.choice(string.ascii_letters) for _ in range(n))


@pytest.fixture
def conn(kafka, broker):
    mark = len(broker.log_text())
    with kp.Conn.to(kafka.bootstrap) as c:
        yield c
    new = broker.log_text()[mark:]
    assert " ERROR " not in new, new


# --------------------------------------------------------------------------
# Requests (non-flexible versions unless the API has none).

def init_producer_id(c, txn_id, timeout_ms=60000):
    w = kp.Writer().string(txn_id).i32(timeout_ms)
    r = c.request(INIT_PRODUCER_ID, 1, w.getvalue())
    r.i32()
    return r.i16(), r.i64(), r.i16()


def add_offsets_to_txn(c, txn_id, pid, epoch, group):
    w = kp.Writer().string(txn_id).i64(pid).i16(epoch).string(group)
    r = c.request(ADD_OFFSETS_TO_TXN, 1, w.getvalue())
    r.i32()
    return r.i16()


def end_txn(c, txn_id, pid, epoch, commit):
    w = kp.Writer().string(txn_id).i64(pid).i16(epoch).boolean(commit)
    r = c.request(END_TXN, 1, w.getvalue())
    r.i32()
    return r.i16()


def add_partitions_to_txn(c, txn_id, pid, epoch, parts):
    """parts: [(topic, partition)] in order -> [error] in the same order."""
    w = kp.Writer().string(txn_id).i64(pid).i16(epoch)
    w.array([(t, p) for t, p in parts],
            lambda ww, tp: ww.string(tp[0]).array([tp[1]], lambda w3, p: w3.i32(p)))
    r = c.request(ADD_PARTITIONS_TO_TXN, 1, w.getvalue())
    r.i32()
    out = []
    r.array(lambda rr: (rr.string(), rr.array(lambda r3: out.append((r3.i32(), r3.i16())))))
    return [e for _, e in out]


def txn_offset_commit(c, txn_id, group, pid, epoch, parts):
    """parts: [(topic, partition, offset, leader_epoch)] -> [error]."""
    w = kp.Writer().string(txn_id).string(group).i64(pid).i16(epoch)

    def top(ww, p):
        ww.string(p[0]).array([p], lambda w3, q: w3.i32(q[1]).i64(q[2]).i32(q[3]).string(""))

    w.array(parts, top)
    r = c.request(TXN_OFFSET_COMMIT, 2, w.getvalue())
    r.i32()
    out = []
    r.array(lambda rr: (rr.string(), rr.array(lambda r3: out.append((r3.i32(), r3.i16())))))
    return [e for _, e in out]


def offset_commit(c, group, parts, generation=-1, member=""):
    """v2, a simple commit; parts: [(topic, partition, offset)] -> [error]."""
    w = kp.Writer().string(group).i32(generation).string(member).i64(-1)

    def top(ww, p):
        ww.string(p[0]).array([p], lambda w3, q: w3.i32(q[1]).i64(q[2]).string(""))

    w.array(parts, top)
    r = c.request(OFFSET_COMMIT, 2, w.getvalue())
    out = []
    r.array(lambda rr: (rr.string(), rr.array(lambda r3: out.append((r3.i32(), r3.i16())))))
    return [e for _, e in out]


def offset_fetch(c, group, topic, partitions):
    """v1 -> [(partition, offset, error)]."""
    w = kp.Writer().string(group)
    w.array([topic], lambda ww, t: ww.string(t).array(partitions, lambda w3, p: w3.i32(p)))
    r = c.request(OFFSET_FETCH, 1, w.getvalue())
    out = []
    r.array(lambda rr: (rr.string(), rr.array(
        lambda r3: out.append((r3.i32(), r3.i64(), r3.string(), r3.i16())))))
    return [(p, o, e) for p, o, _, e in out]


def describe_groups(c, groups):
    w = kp.Writer().array(groups, lambda ww, g: ww.string(g))
    r = c.request(DESCRIBE_GROUPS, 0, w.getvalue())
    out = []
    r.array(lambda rr: out.append((rr.i16(), rr.string(), rr.string(), rr.string(),
                                   rr.string(), rr.array(lambda r3: None))))
    return [(e, s) for e, _, s, _, _, _ in out]


def delete_groups(c, groups):
    w = kp.Writer().array(groups, lambda ww, g: ww.string(g))
    r = c.request(DELETE_GROUPS, 0, w.getvalue())
    r.i32()
    return r.array(lambda rr: (rr.string(), rr.i16()))


def offset_delete(c, group, topic, partitions):
    w = kp.Writer().string(group)
    w.array([topic], lambda ww, t: ww.string(t).array(partitions, lambda w3, p: w3.i32(p)))
    r = c.request(OFFSET_DELETE, 0, w.getvalue())
    err = r.i16()
    r.i32()
    out = []
    r.array(lambda rr: (rr.string(), rr.array(lambda r3: out.append((r3.i32(), r3.i16())))))
    return err, [e for _, e in out]


def join_group(c, group):
    """v0 -> error."""
    w = kp.Writer().string(group).i32(30000).string("").string("consumer")
    w.array([("range", b"")], lambda ww, p: ww.string(p[0]).bytes_(p[1]))
    r = c.request(JOIN_GROUP, 0, w.getvalue())
    return r.i16()


def list_transactions(c, duration_ms, states=(), pids=()):
    """v1 (flexible) -> (error, [transactional_id])."""
    w = kp.Writer()
    w.array(list(states), lambda ww, s: ww.string(s, True), True)
    w.array(list(pids), lambda ww, p: ww.i64(p), True)
    w.i64(duration_ms).tags()
    r = c.request(LIST_TRANSACTIONS, 1, w.getvalue(), header_version=2,
                  response_header_version=1)
    r.i32()
    err = r.i16()
    r.array(lambda rr: (rr.string(True), rr.tags()), True)
    ids = r.array(lambda rr: (rr.string(True), rr.i64(), rr.string(True), rr.tags())[0], True)
    return err, ids


def describe_transactions(c, ids):
    w = kp.Writer().array(ids, lambda ww, i: ww.string(i, True), True).tags()
    r = c.request(DESCRIBE_TRANSACTIONS, 0, w.getvalue(), header_version=2,
                  response_header_version=1)
    r.i32()

    def state(rr):
        e = rr.i16()
        rr.string(True), rr.string(True), rr.i32(), rr.i64(), rr.i64(), rr.i16()
        rr.array(lambda r3: (r3.string(True), r3.array(lambda r4: r4.i32(), True),
                             r3.tags()), True)
        rr.tags()
        return e

    return r.array(state, True)


def ongoing(c, topic, group=None):
    """A transactional id with an ongoing transaction on topic-0 (and the
    group added, if given) -> (id, pid, epoch)."""
    tid = unique("txn")
    err, pid, epoch = init_producer_id(c, tid)
    assert err == 0
    assert add_partitions_to_txn(c, tid, pid, epoch, [(topic, 0)]) == [0]
    if group is not None:
        assert add_offsets_to_txn(c, tid, pid, epoch, group) == 0
    return tid, pid, epoch


# --------------------------------------------------------------------------
# Ids longer than a primary key entry can hold.

def test_long_transactional_id(conn):
    assert init_producer_id(conn, long_id())[0] == INVALID_REQUEST
    # Under the bound: stored as any other.
    assert init_producer_id(conn, long_id(1000))[0] == 0


def test_long_group_id_offset_commit(conn, topic):
    assert offset_commit(conn, long_id(), [(topic, 0, 5)]) == [INVALID_GROUP_ID]
    assert offset_commit(conn, long_id(1000), [(topic, 0, 5)]) == [0]
    assert offset_fetch(conn, long_id(1000), topic, [0]) == [(0, 5, 0)]
    # Ids that cannot be stored have nothing stored: read and deleted as such.
    assert offset_fetch(conn, long_id(), topic, [0]) == [(0, -1, 0)]
    assert describe_groups(conn, [long_id()]) == [(0, "Dead")]
    assert delete_groups(conn, [long_id()]) == [(long_id(), GROUP_ID_NOT_FOUND)]
    assert offset_delete(conn, long_id(), topic, [0]) == (GROUP_ID_NOT_FOUND, [])


def test_long_group_id_join(conn):
    """A group that could never commit is refused when it joins."""
    assert join_group(conn, long_id()) == INVALID_GROUP_ID


def test_long_group_id_in_transaction(conn, topic):
    tid, pid, epoch = ongoing(conn, topic)
    assert add_offsets_to_txn(conn, tid, pid, epoch, long_id()) == INVALID_GROUP_ID
    assert txn_offset_commit(conn, tid, long_id(), pid, epoch,
                             [(topic, 0, 1, -1)]) == [INVALID_GROUP_ID]
    assert end_txn(conn, tid, pid, epoch, False) == 0


def test_long_ids_looked_up(conn):
    assert describe_transactions(conn, [long_id()]) == [TRANSACTIONAL_ID_NOT_FOUND]
    assert end_txn(conn, long_id(), 1, 0, True) == INVALID_PRODUCER_ID_MAPPING


# --------------------------------------------------------------------------
# Integer extremes.

@pytest.mark.parametrize("duration", [2**31, 10**13, 10**15, 2**62, 2**63 - 1])
def test_list_transactions_duration_beyond_any_time(conn, topic, duration):
    """Kafka lists what has been ongoing for longer than the filter: for a
    duration longer than anything can have run, nothing."""
    tid, pid, epoch = ongoing(conn, topic)
    err, ids = list_transactions(conn, duration, states=["Ongoing"])
    assert (err, ids) == (0, [])
    err, ids = list_transactions(conn, -1, states=["Ongoing"])
    assert err == 0 and tid in ids
    assert end_txn(conn, tid, pid, epoch, False) == 0


@pytest.mark.parametrize("pid", INT64)
@pytest.mark.parametrize("epoch", INT16)
def test_producer_id_and_epoch_extremes(conn, topic, pid, epoch):
    tid, real_pid, real_epoch = ongoing(conn, topic, group="g-" + unique())
    fenced = (INVALID_PRODUCER_ID_MAPPING, INVALID_PRODUCER_EPOCH)
    assert add_partitions_to_txn(conn, tid, pid, epoch, [(topic, 0)])[0] in fenced
    assert add_offsets_to_txn(conn, tid, pid, epoch, "g") in fenced
    assert txn_offset_commit(conn, tid, "g", pid, epoch, [(topic, 0, 1, -1)])[0] in fenced
    assert end_txn(conn, tid, pid, epoch, True) in fenced
    err, ids = list_transactions(conn, -1, pids=[pid])
    assert err == 0 and tid not in ids
    assert end_txn(conn, tid, real_pid, real_epoch, False) == 0


@pytest.mark.parametrize("timeout", INT32)
def test_transaction_timeout_extremes(conn, timeout):
    """None of them is in 1..transaction.max.timeout.ms."""
    assert init_producer_id(conn, unique("txn"), timeout)[0] == INVALID_TRANSACTION_TIMEOUT


@pytest.mark.parametrize("offset", INT64)
@pytest.mark.parametrize("leader_epoch", INT32)
def test_offset_extremes(conn, topic, offset, leader_epoch):
    group = unique("g")
    assert offset_commit(conn, group, [(topic, 0, offset)]) == [0]
    assert offset_fetch(conn, group, topic, [0]) == [(0, offset, 0)]
    tid, pid, epoch = ongoing(conn, topic, group=group)
    assert txn_offset_commit(conn, tid, group, pid, epoch,
                             [(topic, 0, offset, leader_epoch)]) == [0]
    assert end_txn(conn, tid, pid, epoch, True) == 0
    assert offset_fetch(conn, group, topic, [0]) == [(0, offset, 0)]


@pytest.mark.parametrize("partition", [-(2**31), -1, 2**31 - 1])
def test_partition_extremes(conn, topic, partition):
    group = unique("g")
    unknown = 3
    assert offset_commit(conn, group, [(topic, partition, 1)]) == [unknown]
    assert offset_fetch(conn, group, topic, [partition]) == [(partition, -1, 0)]
    # The simple commit made the group known, as in Kafka.
    assert offset_delete(conn, group, topic, [partition]) == (0, [unknown])
    tid, pid, epoch = ongoing(conn, topic, group=group)
    assert txn_offset_commit(conn, tid, group, pid, epoch,
                             [(topic, partition, 1, -1)]) == [unknown]
    assert add_partitions_to_txn(conn, tid, pid, epoch, [(topic, partition)]) == [unknown]
    assert end_txn(conn, tid, pid, epoch, False) == 0


# --------------------------------------------------------------------------
# The same partition twice in one request: one row, the last value wins.

def test_same_partition_twice(conn, topic):
    group = unique("g")
    assert offset_commit(conn, group, [(topic, 0, 3), (topic, 0, 4)]) == [0, 0]
    assert offset_fetch(conn, group, topic, [0, 0]) == [(0, 4, 0), (0, 4, 0)]
    tid, pid, epoch = ongoing(conn, topic, group=group)
    assert add_partitions_to_txn(conn, tid, pid, epoch, [(topic, 0), (topic, 0)]) == [0, 0]
    assert txn_offset_commit(conn, tid, group, pid, epoch,
                             [(topic, 0, 7, -1), (topic, 0, 8, -1)]) == [0, 0]
    assert end_txn(conn, tid, pid, epoch, True) == 0
    assert offset_fetch(conn, group, topic, [0]) == [(0, 8, 0)]
