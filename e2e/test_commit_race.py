"""
A commit is valid when it is written, and one client's lock wait does not
stall the others.

1. The commit race (raw protocol): member A of a group commits under
   generation 1, but its commit waits behind A's own Produce to a partition
   whose row lock an application transaction holds (kafka.produce() in an
   open SQL transaction). Meanwhile A stops heartbeating and is expelled and
   B joins. B's generation is not handed out before A's commit is written,
   so B never reads the offset A's commit replaces as if it were final, and
   the committed offset ends as B's. Plain OffsetCommit and TxnOffsetCommit
   (where B's require_stable fetches answer UNSTABLE_OFFSET_COMMIT until A's
   transaction ends).

2. No head-of-line blocking: while an application transaction holds topic
   Y's partition lock through kafka.produce(), and a Produce to Y waits for
   it, producers to topic X on many connections (more than the pool has, so
   that some shared Y's PostgreSQL connection when connections were pinned)
   are answered while the lock is still held.
"""
import select

import pytest

import kafkaproto as kp
from conftest import SqlSession, sql_literal, unique, wait_for
from test_groups import describe_group, join_body, sync_group
from test_idempotence import init_producer_id
from test_transactions import offset_fetch_stable

OFFSET_COMMIT, JOIN_GROUP = 8, 11
ADD_OFFSETS_TO_TXN, END_TXN, TXN_OFFSET_COMMIT = 25, 26, 28
NONE, MEMBER_ID_REQUIRED, UNSTABLE_OFFSET_COMMIT = 0, 79, 88
ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID = 22, 25

# A's session is short so that its expiry comes soon; B's rebalance timeout
# is long enough to outlast the expiry.
SESSION_MS = 6000


def hold_partition_lock(pg, topic):
    """An application transaction that produced to the topic's partition 0
    and stays open: it holds that partition's row lock."""
    s = SqlSession(pg)
    assert s.run("BEGIN; SELECT 'held' FROM kafka.produce(%s, 'k', 'held', partition => 0);"
                 % sql_literal(topic)) == ["held"]
    return s


# docs/SQL.md, "Long transactions": broker statements waiting for a lock,
# and who holds it.
WAITING_BROKER_STATEMENTS = """
SELECT w.pid, now() - w.query_start AS waiting_for, w.query AS broker_statement,
       b.pid AS blocker, b.application_name, now() - b.xact_start AS blocker_open_for,
       b.state AS blocker_state, b.query AS blocker_last_statement
FROM pg_stat_activity w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocking(pid)
JOIN pg_stat_activity b ON b.pid = blocking.pid
WHERE w.application_name = 'pg_kafka' AND w.wait_event_type = 'Lock'
ORDER BY waiting_for DESC
"""


def broker_statements_waiting_for_locks(pg, for_ms=0):
    """How many broker statements have waited for a lock at least for_ms.
    The pool sends no new client's job behind a statement that has run for
    20 ms; the tests start their other clients after that."""
    return int(pg.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                      "'pg_kafka' AND wait_event_type = 'Lock' AND "
                      "now() - query_start >= interval '%d ms'" % for_ms))


def answered(conn):
    """Whether a response is ready on conn now (nothing is read)."""
    return bool(select.select([conn.sock], [], [], 0)[0])


def read_response(conn, corr, timeout=30, flexible=False):
    data = conn.recv_frame(timeout)
    assert data is not None, "broker closed the connection"
    r = kp.Reader(data)
    assert r.i32() == corr
    if flexible:
        r.tags()
    return r


def send_produce(conn, topic, value):
    body = kp.produce_body(3, topic, 0, kp.record_batch([(None, value, [])]))
    return conn.send(kp.PRODUCE, 3, body)


def read_produce(conn, corr, topic, timeout=30):
    return kp.decode_produce(read_response(conn, corr, timeout), 3)[(topic, 0)]


def send_offset_commit(conn, group, generation, member, topic, offset):
    """OffsetCommit v2 of one partition; read it with read_commit_errors."""
    w = kp.Writer().string(group).i32(generation).string(member).i64(-1)
    w.array([None], lambda ww, _: ww.string(topic).array(
        [None], lambda x, _p: x.i32(0).i64(offset).string(""), False))
    return conn.send(OFFSET_COMMIT, 2, w.getvalue())


def read_commit_errors(conn, corr, flexible=False, timeout=30):
    r = read_response(conn, corr, timeout, flexible)
    if flexible:
        r.i32()  # throttle_time_ms
    errors = []

    def part(x):
        x.i32()
        errors.append(x.i16())
        if flexible:
            x.tags()

    def top(rr):
        rr.string(flexible)
        rr.array(part, flexible)
        if flexible:
            rr.tags()
    r.array(top, flexible)
    return errors


def commit(conn, group, generation, member, topic, offset):
    (err,) = read_commit_errors(conn, send_offset_commit(conn, group, generation, member,
                                                         topic, offset))
    return err


def send_txn_offset_commit(conn, txn_id, group, pid, epoch, generation, member, topic, offset):
    """TxnOffsetCommit v3 (flexible) of one partition."""
    w = (kp.Writer().string(txn_id, True).string(group, True).i64(pid).i16(epoch)
         .i32(generation).string(member, True).string(None, True))
    w.array([None], lambda ww, _: ww.string(topic, True).array(
        [None], lambda x, _p: x.i32(0).i64(offset).i32(-1).string("", True).tags(), True)
        .tags(), True)
    w.tags()
    return conn.send(TXN_OFFSET_COMMIT, 3, w.getvalue(), header_version=2)


def txn_call(conn, api_key, body):
    """AddOffsetsToTxn / EndTxn v1: the error code."""
    r = conn.request(api_key, 1, body)
    r.i32()  # throttle_time_ms
    return r.i16()


def join(conn, group, member):
    """Send JoinGroup v4; returns its correlation id."""
    return conn.send(JOIN_GROUP, 4, join_body(group, member, 4, session_ms=SESSION_MS,
                                              rebalance_ms=60000))


def read_join(conn, corr, timeout=30):
    r = read_response(conn, corr, timeout)
    r.i32()  # throttle_time_ms
    out = {"error": r.i16(), "generation": r.i32()}
    r.string()  # protocol
    out["leader"] = r.string()
    out["member_id"] = r.string()
    return out


def join_as_new(conn, group):
    """The v4 member id dance, then the join: -> (member_id, corr)."""
    j = read_join(conn, join(conn, group, ""))
    assert j["error"] == MEMBER_ID_REQUIRED
    return j["member_id"], join(conn, group, j["member_id"])


def stored_offset(pg, group, topic):
    return pg.sql("SELECT committed_offset FROM kafka.consumer_offsets WHERE group_id = %s "
                  "AND topic = %s AND partition = 0" % (sql_literal(group), sql_literal(topic)))


def race(kafka, transactional):
    """The scenario of the module docstring; returns B's stable fetches."""
    pg = kafka.pg
    topic, locked = kafka.create_topic(), kafka.create_topic()
    group = unique("race")
    lock = None
    with kp.Conn.to(kafka.bootstrap, timeout=30) as a, \
            kp.Conn.to(kafka.bootstrap, timeout=30) as a_work, \
            kp.Conn.to(kafka.bootstrap, timeout=30) as b, \
            kp.Conn.to(kafka.bootstrap, timeout=30) as admin:
        # The group has committed 50; A is its only member, generation 1.
        assert commit(admin, group, -1, "", topic, 50) == NONE
        member_a, corr = join_as_new(a, group)
        ja = read_join(a, corr)
        assert (ja["error"], ja["generation"], ja["leader"]) == (NONE, 1, member_a)
        assert sync_group(a, group, 1, member_a, [(member_a, b"p0")]) == (NONE, b"p0")
        if transactional:
            txn_id = unique("race-txn")
            err, pid, epoch = init_producer_id(a_work, 1, transactional_id=txn_id)
            assert err == NONE
            assert txn_call(a_work, ADD_OFFSETS_TO_TXN, kp.Writer().string(txn_id).i64(pid)
                            .i16(epoch).string(group).getvalue()) == NONE

        # A's Produce waits for the application's lock; A's commit of 100
        # under generation 1 waits behind it, on A's connection.
        lock = hold_partition_lock(pg, locked)
        try:
            produce_corr = send_produce(a_work, locked, b"from-a")
            wait_for(lambda: broker_statements_waiting_for_locks(pg) >= 1, 10,
                     "A's Produce to wait for the partition lock")
            if transactional:
                commit_corr = send_txn_offset_commit(a_work, txn_id, group, pid, epoch, 1,
                                                     member_a, topic, 100)
            else:
                commit_corr = send_offset_commit(a_work, group, 1, member_a, topic, 100)

            # A stops heartbeating; B joins. Once A is expelled the rebalance
            # is due, but generation 2 waits for A's commit to be written.
            member_b, b_corr = join_as_new(b, group)
            wait_for(lambda: [m["member_id"] for m in describe_group(admin, group)["members"]]
                     == [member_b], SESSION_MS / 1000 + 20, "A to be expelled")
            assert not answered(b), "generation 2 was handed out before A's commit was written"
            assert not answered(a_work)
        finally:
            lock.run("ROLLBACK;")
            lock.close()

        # The stall ends: A's Produce, then A's commit, which was valid when
        # it was written.
        assert read_produce(a_work, produce_corr, locked)["error_code"] == NONE
        assert read_commit_errors(a_work, commit_corr, flexible=transactional) == [NONE]
        jb = read_join(b, b_corr)
        assert (jb["error"], jb["generation"], jb["leader"]) == (NONE, 2, member_b)
        assert sync_group(b, group, 2, member_b, [(member_b, b"p0")]) == (NONE, b"p0")

        # B reads where to start: never 50, which A's commit replaced.
        fetches = []
        err, res = offset_fetch_stable(b, group, topic, [0])
        fetches.append(res[0])
        if transactional:
            # A's offset is pending until its transaction ends.
            assert (err, res[0][1]) == (NONE, UNSTABLE_OFFSET_COMMIT)
            assert txn_call(a_work, END_TXN, kp.Writer().string(txn_id).i64(pid).i16(epoch)
                            .boolean(True).getvalue()) == NONE
            err, res = offset_fetch_stable(b, group, topic, [0])
            fetches.append(res[0])
        assert (err, fetches[-1]) == (NONE, (100, NONE))

        # B processes from 100 and commits 200; A's generation is over.
        assert commit(b, group, 2, member_b, topic, 200) == NONE
        assert commit(a, group, 1, member_a, topic, 300) in (ILLEGAL_GENERATION,
                                                              UNKNOWN_MEMBER_ID)
        assert stored_offset(pg, group, topic) == "200"
        return fetches


@pytest.mark.e2e_timeout(90)
def test_plain_commit_cannot_land_after_its_member_is_gone(kafka):
    fetches = race(kafka, transactional=False)
    assert fetches == [(100, NONE)]


@pytest.mark.e2e_timeout(90)
def test_transactional_commit_cannot_land_after_its_member_is_gone(kafka):
    fetches = race(kafka, transactional=True)
    assert all(f != (50, NONE) for f in fetches)
    assert fetches[0][1] == UNSTABLE_OFFSET_COMMIT


@pytest.mark.e2e_timeout(90)
def test_locked_partition_does_not_stall_other_clients(kafka):
    pg = kafka.pg
    x, y = kafka.create_topic(), kafka.create_topic()
    # More clients than the pool has connections, all connected before the
    # lock, so that with connections pinned per client some share the
    # connection of the Produce that will wait.
    conns = [kp.Conn.to(kafka.bootstrap, timeout=30) for _ in range(13)]
    y_conn, x_conns = conns[0], conns[1:]
    lock = None
    try:
        for c in conns:
            kp.api_versions(c, 0)
        lock = hold_partition_lock(pg, y)
        y_corr = send_produce(y_conn, y, b"waits")
        wait_for(lambda: broker_statements_waiting_for_locks(pg, 100) >= 1, 10,
                 "the Produce to Y to wait for the partition lock")
        # Every producer to X is answered while Y's lock is held.
        for rnd in range(5):
            corrs = [send_produce(c, x, b"x-%d" % rnd) for c in x_conns]
            for c, corr in zip(x_conns, corrs):
                assert read_produce(c, corr, x, timeout=8)["error_code"] == NONE
        assert not answered(y_conn)
        # The query of SQL.md names the waiting broker statement and the
        # application transaction that blocks it.
        rows = pg.rows(WAITING_BROKER_STATEMENTS)
        assert len(rows) == 1 and rows[0][4] == "psql" and rows[0][6] == "idle in transaction"
        assert "kafka.produce" in rows[0][7]
        lock.run("ROLLBACK;")
        assert read_produce(y_conn, y_corr, y)["error_code"] == NONE
        assert len(pg.records(x)) == 5 * len(x_conns)
        assert [r["value"] for r in pg.records(y)] == [b"waits"]
    finally:
        if lock:
            lock.close()
        for c in conns:
            c.close()
