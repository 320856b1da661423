"""
Committed offset expiry (docs/GROUPS.md, "When committed offsets expire"),
with a real client: a group that commits and leaves loses its offsets once
offsets.retention.minutes has passed, and is gone from ListGroups; a group
with a live member keeps the offsets of the topics it subscribes to; a
broker restart keeps the behaviour, since the times it needs (commit times,
"empty since") are in PostgreSQL. No test waits for a retention to pass:
each backdates the stored times by more than the default retention (7 days)
and waits for the next pass of the job, which runs every 100 ms here. The
broker has a database of its own.
"""

import time

import pytest
from confluent_kafka import OFFSET_INVALID, Consumer, TopicPartition

import kafkaproto as kp
from conftest import Broker, Kafka, _new_pg, sql_literal, unique, wait_for
from test_cluster import cluster_args, coordinator_of

CHECK = ["--offsets-retention-check-interval-ms", "100"]
OFFSET_COMMIT = 8


@pytest.fixture(scope="module")
def own_pg():
    cluster = _new_pg()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def ebroker(own_pg, workdir):
    b = Broker(own_pg, workdir, CHECK)
    b.start()
    yield b
    b.stop_checked()


@pytest.fixture
def ekafka(ebroker):
    k = Kafka(ebroker)
    yield k
    k.close()


def consumer(kafka, group, **extra):
    conf = kafka.conf(**{"group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "session.timeout.ms": 6000,
                         "heartbeat.interval.ms": 500})
    conf.update(extra)
    return Consumer(conf)


def consume_and_commit(kafka, group, topic, want, timeout=30):
    """Join group on topic, read `want` records, commit them; returns the
    consumer, still a member."""
    c = consumer(kafka, group)
    c.subscribe([topic])
    got = 0
    deadline = time.monotonic() + timeout
    while got < want:
        assert time.monotonic() < deadline, "%s read %d of %d" % (group, got, want)
        m = c.poll(0.2)
        if m is not None and not m.error():
            got += 1
    c.commit(asynchronous=False)
    return c


def pass_ran(kafka, topic):
    """Wait for a pass of the job that started after this call: a probe
    group's backdated offset expires in it."""
    probe = unique("probe")
    kafka.pg.sql("INSERT INTO kafka.consumer_offsets (group_id, topic, partition,"
                 " committed_offset, commit_timestamp)"
                 " VALUES (%s, %s, 0, 0, now() - interval '8 days')"
                 % (sql_literal(probe), sql_literal(topic)))
    wait_for(lambda: not stored_offsets(kafka.pg, probe), 20, "a pass of the offset expiry")


def committed(kafka, group, topic, partition=0):
    """The group's committed offset as a client reads it (OffsetFetch)."""
    c = consumer(kafka, group)
    try:
        return c.committed([TopicPartition(topic, partition)], timeout=20)[0].offset
    finally:
        c.close()


def listed_groups(kafka):
    """ListGroups, as kafka-consumer-groups --list shows it."""
    return {g.id for g in kafka.admin().list_groups(timeout=20)}


def backdate(pg, group, days=8, empty_days=None):
    """Move the group's commit times `days` back, and its empty-since
    `empty_days` (the same by default)."""
    g = sql_literal(group)
    pg.sql("UPDATE kafka.consumer_offsets SET commit_timestamp = now() - interval '%d days'"
           " WHERE group_id = %s" % (days, g))
    pg.sql("UPDATE kafka.group_membership SET since = now() - interval '%d days'"
           " WHERE group_id = %s" % (days if empty_days is None else empty_days, g))


def stored_offsets(pg, group):
    return {(t, int(p)) for t, p in pg.rows(
        "SELECT topic, partition FROM kafka.consumer_offsets WHERE group_id = %s"
        % sql_literal(group))}


def membership(pg, group):
    return pg.sql("SELECT has_members FROM kafka.group_membership WHERE group_id = %s"
                  % sql_literal(group))


def test_offsets_of_a_group_that_left_expire_and_the_group_is_gone(ekafka):
    topic = ekafka.create_topic(unique("exp"))
    group = unique("left")
    ekafka.produce(topic, [(None, b"v%d" % i) for i in range(5)])
    c = consume_and_commit(ekafka, group, topic, 5)
    assert membership(ekafka.pg, group) == "t"
    c.close()  # LeaveGroup: the group is empty from now
    wait_for(lambda: membership(ekafka.pg, group) == "f", 20, "the group's empty-since")
    assert committed(ekafka, group, topic) == 5
    assert group in listed_groups(ekafka)
    # committed 8 days ago, but empty for 2 days only: the later counts
    backdate(ekafka.pg, group, days=8, empty_days=2)
    pass_ran(ekafka, topic)
    assert stored_offsets(ekafka.pg, group) == {(topic, 0)}
    backdate(ekafka.pg, group)
    wait_for(lambda: not stored_offsets(ekafka.pg, group), 20, "the offsets to expire")
    wait_for(lambda: group not in listed_groups(ekafka), 20, "the group to leave ListGroups")
    assert committed(ekafka, group, topic) == OFFSET_INVALID
    log = ekafka.broker.log_text()
    assert "offset expiry: 1 committed offsets of 1 groups expired: %s (1, group gone)" % group \
        in log
    assert membership(ekafka.pg, group) == ""


def test_a_group_with_a_live_member_keeps_its_subscribed_offsets(ekafka):
    topic, other = ekafka.create_topic(unique("sub")), ekafka.create_topic(unique("unsub"))
    group = unique("live")
    ekafka.produce(topic, [(None, b"v%d" % i) for i in range(3)])
    c = consume_and_commit(ekafka, group, topic, 3)
    try:
        # an offset on a topic no member subscribes to (a previous subscription)
        c.commit(offsets=[TopicPartition(other, 0, 7)], asynchronous=False)
        assert stored_offsets(ekafka.pg, group) == {(topic, 0), (other, 0)}
        backdate(ekafka.pg, group)
        wait_for(lambda: stored_offsets(ekafka.pg, group) == {(topic, 0)}, 20,
                 "the unsubscribed topic's offset to expire")
        assert "%s (1)" % group in ekafka.broker.log_text()
        # the subscribed one stays, pass after pass; the group stays listed
        pass_ran(ekafka, topic)
        pass_ran(ekafka, topic)
        assert stored_offsets(ekafka.pg, group) == {(topic, 0)}
        assert group in listed_groups(ekafka)
        assert c.committed([TopicPartition(topic, 0)], timeout=20)[0].offset == 3
    finally:
        c.close()


def offset_commit_v2(conn, group, topic, partition, offset, retention_ms):
    """A simple OffsetCommit v2 with a retention time; returns the error."""
    w = kp.Writer().string(group).i32(-1).string("").i64(retention_ms)
    w.array([topic], lambda ww, t: ww.string(t).array(
        [partition], lambda www, p: www.i32(p).i64(offset).string("")))
    r = conn.request(OFFSET_COMMIT, 2, w.getvalue())
    errors = []
    r.array(lambda rr: (rr.string(), rr.array(lambda x: (x.i32(), errors.append(x.i16())))))
    return errors[0]


def test_offset_commit_v2_retention_time_is_honoured(ekafka):
    topic = ekafka.create_topic(unique("v2"))
    short, kept = unique("short"), unique("kept")
    with kp.Conn("127.0.0.1", ekafka.broker.port) as conn:
        assert offset_commit_v2(conn, short, topic, 0, 4, 500) == 0
        assert offset_commit_v2(conn, kept, topic, 0, 4, -1) == 0
    wait_for(lambda: not stored_offsets(ekafka.pg, short), 20,
             "the offset committed with 500 ms of retention to expire")
    assert stored_offsets(ekafka.pg, kept) == {(topic, 0)}
    assert ekafka.pg.sql("SELECT expire_timestamp IS NULL FROM kafka.consumer_offsets"
                         " WHERE group_id = %s" % sql_literal(kept)) == "t"


def test_expiry_after_a_restart(ekafka, ebroker):
    topic = ekafka.create_topic(unique("rst"))
    gone, crashed = unique("gone"), unique("crashed")
    ekafka.produce(topic, [(None, b"v")])
    consume_and_commit(ekafka, gone, topic, 1).close()
    wait_for(lambda: membership(ekafka.pg, gone) == "f", 20, "the group's empty-since")
    consume_and_commit(ekafka, crashed, topic, 1).close()
    wait_for(lambda: membership(ekafka.pg, crashed) == "f", 20, "the group's empty-since")
    ekafka.close()
    ebroker.stop_checked()
    backdate(ebroker.pg, gone)
    backdate(ebroker.pg, crashed)
    # as a broker killed before its last member left leaves it: the stored
    # membership says the group has members
    ebroker.pg.sql("UPDATE kafka.group_membership SET has_members = true"
                   " WHERE group_id = %s" % sql_literal(crashed))
    ebroker.start()
    wait_for(lambda: not stored_offsets(ebroker.pg, gone), 20, "the offsets to expire")
    k = Kafka(ebroker)
    try:
        wait_for(lambda: gone not in listed_groups(k), 20, "the group to leave ListGroups")
        # the other is empty from the first pass after the restart, so its
        # offsets stay a retention longer
        wait_for(lambda: membership(ebroker.pg, crashed) == "f", 20,
                 "the group's empty-since after the restart")
        assert committed(k, crashed, topic) == 1
        assert crashed in listed_groups(k)
        backdate(ebroker.pg, crashed)
        wait_for(lambda: crashed not in listed_groups(k), 20, "the group to expire")
        assert committed(k, crashed, topic) == OFFSET_INVALID
    finally:
        k.close()


def test_each_broker_expires_the_groups_it_coordinates(fresh_pg, make_broker):
    """Two brokers on one database: only a group's coordinator knows its
    members, so only it judges the group's offsets. Were the other broker to
    judge them, it would take the group for one without members and expire
    its subscribed topic's offset too."""
    brokers = {n: make_broker(fresh_pg, *CHECK, *cluster_args(n)) for n in (1, 2)}
    wait_for(lambda: fresh_pg.sql("SELECT count(*) FROM kafka.live_brokers()") == "2", 20,
             "both brokers live")
    k = Kafka(brokers[1])
    try:
        topic, other = k.create_topic(unique("clu")), k.create_topic(unique("clx"))
        k.produce(topic, [(None, b"v%d" % i) for i in range(2)])
        group = next(g for g in (unique("clg") for _ in range(200))
                     if coordinator_of(fresh_pg, g) == 1)
        c = consume_and_commit(k, group, topic, 2)
        try:
            c.commit(offsets=[TopicPartition(other, 0, 1)], asynchronous=False)
            backdate(fresh_pg, group)
            wait_for(lambda: stored_offsets(fresh_pg, group) == {(topic, 0)}, 20,
                     "the coordinator to expire the unsubscribed offset")
            # passes of the other broker after the backdate leave the rest
            for _ in range(2):
                probe = next(g for g in (unique("probe") for _ in range(200))
                             if coordinator_of(fresh_pg, g) == 2)
                fresh_pg.sql("INSERT INTO kafka.consumer_offsets (group_id, topic, partition,"
                             " committed_offset, commit_timestamp)"
                             " VALUES (%s, %s, 0, 0, now() - interval '8 days')"
                             % (sql_literal(probe), sql_literal(topic)))
                wait_for(lambda: not stored_offsets(fresh_pg, probe), 20,
                         "a pass of broker 2")
                assert probe in brokers[2].log_text()
            assert stored_offsets(fresh_pg, group) == {(topic, 0)}
            assert group in brokers[1].log_text()
            assert group not in brokers[2].log_text()
        finally:
            c.close()
    finally:
        k.close()


def test_delete_groups_removes_the_stored_membership(ekafka):
    from kafka import KafkaAdminClient
    from kafka.errors import NoError

    topic = ekafka.create_topic(unique("del"))
    group = unique("deleted")
    ekafka.produce(topic, [(None, b"v")])
    consume_and_commit(ekafka, group, topic, 1).close()
    wait_for(lambda: membership(ekafka.pg, group) == "f", 20, "the group's empty-since")
    admin = KafkaAdminClient(bootstrap_servers=ekafka.bootstrap)
    try:
        ((gid, err),) = admin.delete_consumer_groups([group])
        assert (gid, err) == (group, NoError)
    finally:
        admin.close()
    assert membership(ekafka.pg, group) == ""
    assert not stored_offsets(ekafka.pg, group)
