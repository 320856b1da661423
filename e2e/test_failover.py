"""PostgreSQL failover under a pg_kafka cluster, and leader epochs that mean
something (docs/OPERATIONS.md, "PostgreSQL failover"; docs/PROTOCOL.md).

A real primary and a real streaming standby (deploy/pgcluster.sh standby:
pg_basebackup -R, physical replication), brokers given a libpq multi-host
connection string with target_session_attrs=read-write. The primary is
stopped in immediate mode (what a crash leaves), the standby promoted, and
the brokers must find the new primary and keep serving:

- synchronous replication: every acknowledged record survives, and an
  idempotent producer (acks=all) and a consumer group carry on; the time
  to recover is printed;
- asynchronous replication with a standby that missed the tail: the new
  primary's log ends earlier, every leader epoch grew, and a client that
  read past the new end learns the truncation point from
  OffsetForLeaderEpoch instead of reading other records at the same
  offsets; the records written next carry the higher epoch.

And with the raw protocol: a leadership move bumps the epoch, and Fetch,
ListOffsets, Metadata and OffsetForLeaderEpoch agree on where each epoch
starts and ends. Last, the shadow forwarder re-creates its permanent slot,
which a promoted standby does not have (PostgreSQL 15), and its mirror
stays equal to the log.
"""

import threading
import time

import pytest
from confluent_kafka import Producer

import kafkaproto
from conftest import PgCluster, wait_for
from kmsg import call
from test_cluster import committed_consumer, cluster_args, same_view, view
from test_shadow import Shadow, mock  # noqa: F401  (fixture)
from test_shadow_history import assert_mirror_equal, new_topic
from test_shadow_history import produce as produce_sql

OFFSET_OUT_OF_RANGE = 1


class Standby(PgCluster):
    """A streaming standby of a PgCluster, made by pgcluster.sh standby."""

    def __init__(self, primary):
        super().__init__()
        self.primary = primary

    def init(self):
        self._pgcluster("standby", self.primary.port, self.data, self.port)
        self.start()

    def promote(self):
        self._pgcluster("promote", self.data)


class Replicated:
    """A primary and a standby, and the multi-host connection string that
    follows whichever of them accepts writes."""

    def __init__(self):
        self.primary = PgCluster()
        self.standby = None

    def init(self, synchronous):
        self.primary.init()
        self.standby = Standby(self.primary)
        self.standby.init()
        if synchronous:
            self.primary.sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
            self.primary.sql("SELECT pg_reload_conf()")
        want = "sync" if synchronous else "async"
        wait_for(lambda: self.primary.sql(
            "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'") == want,
            30, "the standby streaming (%s)" % want, 0.1)

    @property
    def conninfo(self):
        return ("host=127.0.0.1,127.0.0.1 port=%d,%d dbname=pg_kafka user=postgres "
                "target_session_attrs=read-write connect_timeout=2"
                % (self.primary.port, self.standby.port))

    def wait_replayed(self):
        lsn = self.primary.sql("SELECT pg_current_wal_lsn()")
        wait_for(lambda: self.standby.sql(
            "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn" % lsn) == "t",
            30, "the standby to replay up to %s" % lsn, 0.1)

    def destroy(self):
        if self.standby:
            self.standby.destroy()
        self.primary.destroy()


@pytest.fixture
def replicated():
    made = []

    def factory(synchronous):
        r = Replicated()
        made.append(r)
        r.init(synchronous)
        return r

    yield factory
    for r in made:
        r.destroy()


def batches(data):
    """(base_offset, partition_leader_epoch, [values]) per uncompressed
    record batch of a Fetch answer (a partial batch at the end ignored)."""
    out, pos, data = [], 0, data or b""
    while len(data) - pos >= 12:
        length = int.from_bytes(data[pos + 8:pos + 12], "big", signed=True)
        if 12 + length > len(data) - pos:
            break
        one = data[pos:pos + 12 + length]
        base = int.from_bytes(one[:8], "big", signed=True)
        epoch = int.from_bytes(one[12:16], "big", signed=True)
        out.append((base, epoch, [v for _, _, v in kafkaproto.decode_batches(one)]))
        pos += 12 + length
    return out


def offset_for_epoch(conn, topic, partition, leader_epoch, current=-1, version=4):
    r = call(conn, 23, version, {"topics": [{"topic": topic, "partitions": [
        {"partition": partition, "leader_epoch": leader_epoch,
         "current_leader_epoch": current}]}]})
    p = r["topics"][0]["partitions"][0]
    return p["error_code"], p["leader_epoch"], p["end_offset"]


def leader_of(bootstrap, topic, partition):
    """(leader, epoch) of a partition in Metadata v7, or None on an error."""
    try:
        _, _, parts = view(bootstrap, topic)
    except (OSError, kafkaproto.ProtocolError, TimeoutError):
        return None
    err, leader, epoch = parts.get(partition, (-1, -1, -1))
    return None if err else (leader, epoch)


def committed(pg, group):
    return dict((int(a), int(b)) for a, b in pg.rows(
        "SELECT partition, committed_offset FROM kafka.consumer_offsets "
        "WHERE group_id = '%s'" % group))


# --------------------------------------------------------------------------

def test_leadership_move_bumps_epoch(fresh_pg, make_broker):
    """Broker 2 joining takes a partition over at a higher epoch; Fetch,
    ListOffsets, Metadata and OffsetForLeaderEpoch agree on where each
    epoch starts and ends."""
    topic = "fo_move"
    b1 = make_broker(fresh_pg, *cluster_args(1))
    fresh_pg.sql("SELECT kafka.create_topic('%s', 2)" % topic)
    wait_for(lambda: same_view({1: b1}, topic, [1], 2), 20, "broker 1 leading both partitions")
    before = {p: leader_of(b1.bootstrap, topic, p) for p in (0, 1)}
    with kafkaproto.Conn.to(b1.bootstrap) as c:
        for p in (0, 1):
            res = kafkaproto.produce(c, topic, p, kafkaproto.record_batch(
                [(None, b"old-%d" % i, ()) for i in range(3)]))
            assert res["error_code"] == 0, res

    b2 = make_broker(fresh_pg, *cluster_args(2))
    cluster = {1: b1, 2: b2}
    v = wait_for(lambda: same_view(cluster, topic, [1, 2], 2), 20, "leadership over 1 and 2")
    moved = next(p for p, (_, leader, _) in v[2].items() if leader == 2)
    e0 = before[moved][1]
    e1 = v[2][moved][2]
    assert e1 > e0, (before, v)

    with kafkaproto.Conn.to(b2.bootstrap) as c:
        res = kafkaproto.produce(c, topic, moved, kafkaproto.record_batch(
            [(None, b"new-%d" % i, ()) for i in range(2)]))
        assert res["error_code"] == 0, res
        f = kafkaproto.fetch(c, 16, topic, moved, 0, current_leader_epoch=e1)
        assert f["error_code"] == 0, f
        assert batches(f["records"]) == [(0, e0, [b"old-0", b"old-1", b"old-2"]),
                                         (3, e1, [b"new-0", b"new-1"])]
        # A fetch from inside the old epoch starts with it.
        f = kafkaproto.fetch(c, 16, topic, moved, 2)
        assert [(b, e) for b, e, _ in batches(f["records"])] == [(2, e0), (3, e1)]

        latest = kafkaproto.list_offsets(c, topic, moved, kafkaproto.LATEST)
        earliest = kafkaproto.list_offsets(c, topic, moved, kafkaproto.EARLIEST)
        newest = kafkaproto.list_offsets(c, topic, moved, kafkaproto.MAX_TIMESTAMP)
        assert (latest["offset"], latest["leader_epoch"]) == (5, e1)
        assert (earliest["offset"], earliest["leader_epoch"]) == (0, e0)
        # (both new records share one timestamp: the first of them)
        assert (newest["offset"], newest["leader_epoch"]) == (3, e1)

        assert offset_for_epoch(c, topic, moved, e0, current=e1) == (0, e0, 3)
        assert offset_for_epoch(c, topic, moved, e1, current=e1) == (0, e1, 5)
        assert offset_for_epoch(c, topic, moved, e1 + 1) == (0, -1, -1)
        assert offset_for_epoch(c, topic, moved, -1) == (0, -1, -1)

    # The partition that stayed on broker 1 kept its epoch and one batch.
    stayed = 1 - moved
    with kafkaproto.Conn.to(b1.bootstrap) as c:
        f = kafkaproto.fetch(c, 16, topic, stayed, 0)
        assert [(b, e) for b, e, _ in batches(f["records"])] == [(0, before[stayed][1])]
        assert offset_for_epoch(c, topic, stayed, before[stayed][1]) == (0, before[stayed][1], 3)


@pytest.mark.e2e_timeout(300)
@pytest.mark.parametrize("outage", ["prompt", "past_the_lease"])
def test_sync_failover_keeps_every_acknowledged_record(replicated, make_broker, outage):
    """prompt: the standby is promoted at once; past_the_lease: only once
    both brokers have fenced themselves (they could not renew their
    leases), so they must also take their leases back on the new primary."""
    rep = replicated(synchronous=True)
    topic, group = "fo_sync", "fo_sync_group"
    cluster = {n: make_broker(rep, *cluster_args(n)) for n in (1, 2)}
    rep.primary.sql("SELECT kafka.create_topic('%s', 4)" % topic)
    wait_for(lambda: same_view(cluster, topic, [1, 2], 4), 20, "one view of 2 brokers")
    epochs_before = {p: e for p, (_, _, e) in view(cluster[1].bootstrap, topic)[2].items()}

    stop = threading.Event()
    consumed, errors = [], []
    member = threading.Thread(target=committed_consumer,
                              args=(cluster[2].bootstrap, group, topic, consumed, stop, errors))
    member.start()

    acked = {}
    kill = {"at": None, "promoted": None, "first_ack": None}
    bootstrap = ",".join(b.bootstrap for b in cluster.values())
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 5, "message.timeout.ms": 120000,
                  "topic.metadata.refresh.interval.ms": 1000})

    sent_at = {}

    def on_delivery(err, msg):
        if err is None:
            acked[msg.value()] = (msg.partition(), msg.offset())
            # Recovered: a record sent after the primary was stopped is
            # acknowledged.
            if (kill["at"] is not None and kill["first_ack"] is None
                    and sent_at[msg.value()] >= kill["at"]):
                kill["first_ack"] = time.monotonic()

    produced = [0]
    producing = threading.Event()

    def produce_loop():
        while not producing.is_set():
            v = b"v%06d" % produced[0]
            sent_at[v] = time.monotonic()
            try:
                p.produce(topic, v, key=v, on_delivery=on_delivery)
            except BufferError:
                p.poll(0.1)
                continue
            produced[0] += 1
            p.poll(0.002)
        p.flush(120)

    producer = threading.Thread(target=produce_loop)
    producer.start()
    try:
        wait_for(lambda: len(acked) >= 300 and len(consumed) >= 100, 60,
                 "300 records acknowledged and 100 consumed before the failover")

        rep.primary.stop("immediate")
        kill["at"] = time.monotonic()
        acked_at_kill = len(acked)
        if outage == "past_the_lease":
            for b in cluster.values():
                wait_for(lambda: "could not renew its lease" in b.log_text(), 30,
                         "broker %s to fence itself" % b.bootstrap, 0.1)
        rep.standby.promote()
        kill["promoted"] = time.monotonic()
        wait_for(lambda: len(acked) >= acked_at_kill + 300, 120,
                 "300 more records acknowledged after the failover", 0.1)
        producing.set()
        producer.join(150)
        assert not producer.is_alive()
        assert produced[0] == len(acked), "%d produced, %d acknowledged" % (
            produced[0], len(acked))

        wait_for(lambda: set(acked) <= {v for _, _, v in consumed}, 120,
                 "the group to consume every acknowledged record", 0.2)
        ends = {}
        for part, off in acked.values():
            ends[part] = max(ends.get(part, 0), off + 1)
        # The group's commits reach the new primary too.
        wait_for(lambda: committed(rep.standby, group) == ends, 60,
                 "the group's commits of every record on the new primary", 0.2)
    finally:
        producing.set()
        stop.set()
        producer.join(150)
        member.join(30)

    # Every acknowledged record is on the promoted standby, once, where
    # its acknowledgement said (idempotence held across the failover).
    rows = rep.standby.rows("SELECT partition, \"offset\", value FROM kafka.records "
                            "WHERE topic = '%s'" % topic)
    stored = {}
    for part, off, value in rows:
        v = bytes.fromhex(value[2:]) if value.startswith("\\x") else value.encode()
        assert v not in stored, "%r stored twice" % v
        stored[v] = (int(part), int(off))
    assert stored == acked
    # A new timeline: every leader epoch grew.
    epochs_after = {p: e for p, (_, _, e) in view(cluster[1].bootstrap, topic)[2].items()}
    assert all(epochs_after[p] > epochs_before[p] for p in epochs_before), (
        epochs_before, epochs_after)
    print("\nfailover (synchronous standby, %s): %d records acknowledged before, %d after; "
          "the standby was promoted %.2f s after the stop; the first record sent after the primary stopped was "
          "acknowledged %.2f s after the stop, %.2f s after the promotion returned" % (
              outage, acked_at_kill, len(acked) - acked_at_kill, kill["promoted"] - kill["at"],
              kill["first_ack"] - kill["at"], kill["first_ack"] - kill["promoted"]))


@pytest.mark.e2e_timeout(240)
@pytest.mark.parametrize("member", [True, False], ids=["cluster_member", "alone"])
def test_lost_tail_truncates_through_offset_for_leader_epoch(replicated, make_broker, member):
    """member: a broker with a node.id (its heartbeat checks the timeline);
    alone: one without (it checks the timeline after reconnecting)."""
    rep = replicated(synchronous=False)
    topic = "fo_tail"
    b = make_broker(rep, *(cluster_args(1) if member else []))
    rep.primary.sql("SELECT kafka.create_topic('%s', 1)" % topic)
    wait_for(lambda: leader_of(b.bootstrap, topic, 0), 20, "a leader for %s" % topic)

    def produce(c, values):
        res = kafkaproto.produce(c, topic, 0, kafkaproto.record_batch(
            [(None, v, ()) for v in values]))
        assert res["error_code"] == 0, res
        return res

    with kafkaproto.Conn.to(b.bootstrap) as c:
        produce(c, [b"kept-%d" % i for i in range(5)])
    rep.wait_replayed()
    # The standby stops receiving; five more records reach the primary only.
    rep.standby.stop()
    with kafkaproto.Conn.to(b.bootstrap) as c:
        produce(c, [b"lost-%d" % i for i in range(5)])
        f = kafkaproto.fetch(c, 16, topic, 0, 0)
        seen = batches(f["records"])
    old_epoch = seen[-1][1]
    assert [v for _, _, vs in seen for v in vs] == (
        [b"kept-%d" % i for i in range(5)] + [b"lost-%d" % i for i in range(5)])
    assert {e for _, e, _ in seen} == {old_epoch}
    # This client has read up to offset 10 under old_epoch.

    rep.primary.stop("immediate")
    rep.standby.start()
    rep.standby.promote()

    # A producer writes again as soon as the broker reaches the new primary,
    # before any heartbeat: its records (offsets 5 and 6, where the lost
    # ones were) must not count in the epoch the client read under.
    def produce_again():
        try:
            with kafkaproto.Conn.to(b.bootstrap) as c:
                res = kafkaproto.produce(c, topic, 0, kafkaproto.record_batch(
                    [(None, b"new-0", ()), (None, b"new-1", ())]))
        except (OSError, kafkaproto.ProtocolError, TimeoutError):
            return None
        return res if res["error_code"] == 0 else None
    res = wait_for(produce_again, 60, "a produce accepted by the new primary", 0.02)
    assert res["base_offset"] == 5, res
    leader = wait_for(lambda: (lambda x: x if x and x[1] > old_epoch else None)(
        leader_of(b.bootstrap, topic, 0)), 60, "a higher leader epoch after the failover", 0.1)
    new_epoch = leader[1]

    with kafkaproto.Conn.to(b.bootstrap) as c:
        # The epoch this client read under ends at 5, where the new
        # records begin: it truncates there rather than take them for the
        # ones it read at the same offsets.
        assert offset_for_epoch(c, topic, 0, old_epoch, current=new_epoch) == (0, old_epoch, 5)
        assert offset_for_epoch(c, topic, 0, new_epoch, current=new_epoch) == (0, new_epoch, 7)
        # Its position (10) is past the new end.
        f = kafkaproto.fetch(c, 16, topic, 0, 10, current_leader_epoch=new_epoch)
        assert (f["error_code"], f["high_watermark"]) == (OFFSET_OUT_OF_RANGE, 7), f
        f = kafkaproto.fetch(c, 16, topic, 0, 0, current_leader_epoch=new_epoch)
        got = batches(f["records"])
        assert [(base, e) for base, e, _ in got] == [(0, old_epoch), (5, new_epoch)]
        assert got[1][2] == [b"new-0", b"new-1"]
        latest = kafkaproto.list_offsets(c, topic, 0, kafkaproto.LATEST)
        assert (latest["offset"], latest["leader_epoch"]) == (7, new_epoch)


@pytest.mark.e2e_timeout(240)
def test_shadow_forwarder_recreates_its_slot_on_the_new_primary(replicated, mock, workdir):
    """The forwarder's permanent slot is not on a promoted standby
    (PostgreSQL 15 has no failover slots). Given the multi-host connection
    string, the forwarder reconnects to the new primary, creates its slot
    there, copies from the tables what the external cluster lacks, and
    streams again: the mirror ends equal to the new primary's log."""
    rep = replicated(synchronous=True)
    nparts = 2
    topic, slot = new_topic(rep.primary, mock, "fosh", nparts)
    produce_sql(rep.primary, topic, nparts, 0, 999)
    shadow = Shadow(rep, mock, workdir, slot, "--include", topic)
    try:
        shadow.start()
        wait_for(lambda: "streaming slot" in shadow.log(), 60, "the forwarder to stream")
        # Acknowledged by the synchronous standby, maybe not yet forwarded.
        produce_sql(rep.primary, topic, nparts, 1000, 1999)
        rep.primary.stop("immediate")
        rep.standby.promote()
        produce_sql(rep.standby, topic, nparts, 2000, 2999)
        wait_for(lambda: shadow.log().count("created slot %s" % slot) == 2, 60,
                 "the forwarder to create its slot on the new primary", 0.1)
        assert rep.standby.sql("SELECT count(*) FROM pg_replication_slots "
                               "WHERE slot_name = '%s' AND NOT temporary" % slot) == "1"
        produce_sql(rep.standby, topic, nparts, 3000, 3499)
        assert_mirror_equal(rep.standby, mock, topic, nparts, shadow)
        shadow.stop()
        shadow.check_sanitizer()
    finally:
        if shadow.proc and shadow.proc.poll() is None:
            shadow.kill()
