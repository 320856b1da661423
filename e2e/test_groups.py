"""
Consumer groups end to end: real group consumers of confluent-kafka
(librdkafka), kafka-python and KafkaJS against the broker's group
coordinator, the admin calls of each client, and the wire protocol itself.

Every group member runs in its own process (members must be killable, and
a kafka-python consumer blocks in its poll while a rebalance waits for the
others) and reports what happens to it as JSON lines: assignments,
revocations and the records it consumed, printed before their offsets are
committed synchronously. So a member that stops cleanly has committed
everything it printed, and the tests can count every record's deliveries.

Session timeouts are 6 s (the broker's minimum, as Kafka's) with 500 ms
heartbeats, so a killed member is noticed within seconds.
"""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import kafkaproto as kp
from conftest import Kafka, sql_literal, unique, wait_for

JS = Path(__file__).resolve().parent / "js"
SESSION_MS = 6000

# API keys and error codes used here (names as in the Kafka protocol).
OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN_GROUP = 8, 9, 10, 11
HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, DESCRIBE_GROUPS, LIST_GROUPS = 12, 13, 14, 15, 16
DELETE_GROUPS, OFFSET_DELETE = 42, 47
NONE, UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE = 0, 3, 12
ILLEGAL_GENERATION, INVALID_GROUP_ID, UNKNOWN_MEMBER_ID = 22, 24, 25
REBALANCE_IN_PROGRESS, INVALID_REQUEST, NON_EMPTY_GROUP = 27, 42, 68
GROUP_ID_NOT_FOUND, MEMBER_ID_REQUIRED, FENCED_INSTANCE_ID = 69, 79, 82
GROUP_SUBSCRIBED_TO_TOPIC, INCONSISTENT_GROUP_PROTOCOL = 86, 23

# --------------------------------------------------------------------------
# Group members in child processes.

# One Python group member (confluent-kafka or kafka-python); see the module
# docstring. Configuration comes as one JSON argument.
MEMBER_PY = r'''
import json, signal, sys

cfg = json.loads(sys.argv[1])
stop = []
signal.signal(signal.SIGTERM, lambda *args: stop.append(True))


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


topic = cfg["topic"]
if cfg["client"] == "confluent":
    from confluent_kafka import Consumer, KafkaException
    conf = {"bootstrap.servers": cfg["bootstrap"], "group.id": cfg["group"],
            "client.id": cfg["client_id"], "broker.address.family": "v4",
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": cfg["session_ms"], "heartbeat.interval.ms": 500,
            "max.poll.interval.ms": 10000, "topic.metadata.refresh.interval.ms": 2000,
            "partition.assignment.strategy": cfg["assignor"]}
    if cfg.get("instance"):
        conf["group.instance.id"] = cfg["instance"]
    c = Consumer(conf)

    def on_assign(consumer, parts):
        out({"event": "assign", "partitions": sorted(p.partition for p in parts)})

    def on_revoke(consumer, parts):
        out({"event": "revoke", "partitions": sorted(p.partition for p in parts)})

    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop:
        msgs = c.consume(100, 0.2)
        recs = [[m.partition(), m.offset(), m.value().decode()] for m in msgs if not m.error()]
        errors = [str(m.error()) for m in msgs if m.error()]
        if errors:
            out({"event": "consumer_error", "errors": errors})
        if recs:
            out({"event": "records", "records": recs})
            try:
                c.commit(asynchronous=False)
            except KafkaException as e:
                out({"event": "commit_error", "error": str(e)})
    c.close()
else:
    from kafka import ConsumerRebalanceListener, KafkaConsumer

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            out({"event": "revoke", "partitions": sorted(tp.partition for tp in revoked)})

        def on_partitions_assigned(self, assigned):
            out({"event": "assign", "partitions": sorted(tp.partition for tp in assigned)})

    c = KafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"],
                      client_id=cfg["client_id"], auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=cfg["session_ms"],
                      heartbeat_interval_ms=500, max_poll_interval_ms=10000,
                      metadata_max_age_ms=2000)
    c.subscribe([topic], listener=Listener())
    while not stop:
        batches = c.poll(200)
        recs = [[m.partition, m.offset, m.value.decode()]
                for msgs in batches.values() for m in msgs]
        if recs:
            out({"event": "records", "records": recs})
            try:
                c.commit()
            except Exception as e:
                out({"event": "commit_error", "error": repr(e)})
    c.close()
out({"event": "closed"})
'''


class Member:
    """A group member process and what it reported so far."""

    def __init__(self, client, bootstrap, topic, group, name, workdir, instance=None,
                 assignor="range", session_ms=SESSION_MS):
        self.client = client
        self.name = name
        self.events = []
        self.lock = threading.Lock()
        self.stderr_path = Path(workdir) / ("member-%s-%s.log" % (name, unique("")))
        if client == "kafkajs":
            job = {"bootstrap": bootstrap, "topic": topic, "groupId": group, "clientId": name,
                   "sessionTimeout": session_ms, "heartbeatInterval": 500,
                   "rebalanceTimeout": 10000}
            cmd = ["node", str(JS / "group_consume.js"), json.dumps(job)]
        else:
            cfg = {"client": client, "bootstrap": bootstrap, "topic": topic, "group": group,
                   "client_id": name, "instance": instance, "assignor": assignor,
                   "session_ms": session_ms}
            cmd = [sys.executable, "-c", MEMBER_PY, json.dumps(cfg)]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err, cwd=str(JS))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "noise", "line": line.decode(errors="replace")}
            ev["t"] = time.monotonic()
            with self.lock:
                self.events.append(ev)

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def assignment(self):
        """Current partitions: assignments add, revocations remove (this
        works for eager and cooperative rebalancing alike)."""
        parts = set()
        for ev in self.snapshot():
            if ev["event"] == "assign":
                parts = set(ev["partitions"]) if self.client == "kafkajs" else \
                    parts | set(ev["partitions"])
            elif ev["event"] == "revoke":
                parts -= set(ev["partitions"])
        return parts

    def rebalance_events(self):
        return [ev for ev in self.snapshot() if ev["event"] in ("assign", "revoke")]

    def records(self):
        return [tuple(r) for ev in self.snapshot() if ev["event"] == "records"
                for r in ev["records"]]

    def values(self):
        return [r[2] for r in self.records()]

    def problems(self):
        return [ev for ev in self.snapshot()
                if ev["event"] in ("error", "consumer_error", "commit_error")]

    def alive(self):
        return self.proc.poll() is None

    def describe(self):
        return "%s member %s: events %s\nstderr: %s" % (
            self.client, self.name, json.dumps(self.snapshot()[-15:]),
            self.stderr_path.read_bytes().decode(errors="replace")[-3000:])

    def wait(self, cond, timeout, what):
        try:
            return wait_for(cond, timeout, what, 0.05)
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, self.describe()))

    def stop(self, timeout=30):
        """SIGTERM: the member finishes its batch, commits, leaves the group."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        self.reader.join(5)
        assert any(ev["event"] == "closed" for ev in self.snapshot()), self.describe()

    def kill(self):
        """SIGKILL: gone without a word; only its session timeout tells."""
        self.proc.kill()
        self.proc.wait(10)
        self.reader.join(5)

    def ensure_dead(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def members(workdir):
    """Factory for Member processes; they are killed when the test ends."""
    made = []

    def factory(*args, **kwargs):
        m = Member(*args, workdir=workdir, **kwargs)
        made.append(m)
        return m

    yield factory
    for m in made:
        m.ensure_dead()


@pytest.fixture(scope="module")
def node_ready():
    if not (JS / "node_modules" / "kafkajs").is_dir():
        res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        assert res.returncode == 0, res.stdout.decode(errors="replace")


def node(script, job, timeout=120):
    res = subprocess.run(["node", str(JS / script), json.dumps(job)], cwd=JS,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    lines = res.stdout.decode().strip().splitlines()
    assert lines, "node %s printed nothing:\n%s" % (script, res.stderr.decode()[-3000:])
    out = json.loads(lines[-1])
    assert out["ok"], "node %s failed: %s" % (script, out.get("error"))
    return out["result"]


def produce(kafka, topic, start, count, partitions=8):
    """Records "<topic-free label>-<n>" for n in [start, start+count), spread
    round-robin over the partitions; returns their values."""
    values = ["r%d" % n for n in range(start, start + count)]
    kafka.produce(topic, [{"value": v.encode(), "partition": n % partitions}
                          for n, v in zip(range(start, start + count), values)], acks="all")
    return values


def seen_all(ms, values):
    got = set()
    for m in ms:
        got.update(m.values())
    return set(values) <= got


def deliveries(ms):
    counts = {}
    for m in ms:
        for v in m.values():
            counts[v] = counts.get(v, 0) + 1
    return counts


def split_evenly(a, b, n=8):
    pa, pb = a.assignment(), b.assignment()
    return len(pa) == n // 2 and len(pb) == n // 2 and pa | pb == set(range(n))


def committed_offsets(pg, group):
    return {(t, int(p)): int(o) for t, p, o in pg.rows(
        "SELECT topic, partition, committed_offset FROM kafka.consumer_offsets "
        "WHERE group_id = %s" % sql_literal(group))}


def wait_committed(pg, group, topic, offsets, timeout=30):
    """Wait until the group's committed offsets on topic are `offsets`
    ({partition: offset}), every partition and no other."""
    want = {(topic, p): o for p, o in offsets.items()}
    wait_for(lambda: committed_offsets(pg, group) == want, timeout,
             "group %s to commit %s" % (group, offsets))


def wait_stable(bootstrap, group, members, timeout=30):
    """Wait until the coordinator has the group Stable with `members`
    members, each with an assignment (every SyncGroup answered)."""
    def stable():
        with kp.Conn.to(bootstrap, timeout=10) as c:
            g = describe_group(c, group)
        return (g["state"] == "Stable" and len(g["members"]) == members
                and all(m["assignment"] for m in g["members"]))
    wait_for(stable, timeout, "group %s to be Stable with %d members" % (group, members), 0.2)


# --------------------------------------------------------------------------
# Members of every client: share, hand over, take over.

CLIENTS = ["confluent", "kafka-python", "kafkajs"]


@pytest.mark.parametrize("client", CLIENTS)
def test_group_share_leave_and_takeover(kafka, pg, members, node_ready, client):
    topic = kafka.create_topic(partitions=8)
    group = unique("grp-" + client)
    boot = kafka.bootstrap

    # One member consumes everything.
    batch1 = produce(kafka, topic, 0, 40)
    a = members(client, boot, topic, group, "a")
    a.wait(lambda: a.assignment() == set(range(8)), 30, "a to own all 8 partitions")
    a.wait(lambda: seen_all([a], batch1), 30, "a to consume the first batch")

    # A second member: each gets half.
    b = members(client, boot, topic, group, "b")
    a.wait(lambda: split_evenly(a, b), 30, "a and b to split the 8 partitions 4/4")
    batch2 = produce(kafka, topic, 40, 40)
    a.wait(lambda: seen_all([a, b], batch2), 30, "a and b to consume the second batch")
    assert {r[0] for r in b.records()} == b.assignment()

    # b leaves cleanly: a takes over everything at once.
    b.stop()
    a.wait(lambda: a.assignment() == set(range(8)), 15, "a to own all 8 after b left")
    batch3 = produce(kafka, topic, 80, 40)
    a.wait(lambda: seen_all([a], batch3), 30, "a to consume the third batch")

    # c joins, consumes its share, and is killed: a takes over within the
    # session timeout.
    c = members(client, boot, topic, group, "c")
    a.wait(lambda: split_evenly(a, c), 30, "a and c to split the partitions")
    batch4 = produce(kafka, topic, 120, 40)
    a.wait(lambda: seen_all([a, c], batch4), 30, "a and c to consume the fourth batch")
    assert c.values(), "c consumed nothing of its half"
    # c's last commit is in: every partition is committed at its end.
    wait_committed(pg, group, topic, {p: 20 for p in range(8)})
    c.kill()
    # c's session expires (it never left): a takes over.
    a.wait(lambda: a.assignment() == set(range(8)), SESSION_MS / 1000 + 10,
           "a to take over c's partitions")
    batch5 = produce(kafka, topic, 160, 40)
    a.wait(lambda: seen_all([a], batch5), 30, "a to consume the fifth batch")
    a.stop()

    everyone = [a, b, c]
    counts = deliveries(everyone)
    every = batch1 + batch2 + batch3 + batch4 + batch5
    assert set(every) <= set(counts), "records never delivered"
    # Commits and clean hand-overs: nothing was delivered twice.
    twice = sorted(v for v in every if counts[v] != 1)
    assert not twice, "delivered more than once: %s" % twice[:20]
    for m in everyone:
        assert not m.problems(), m.describe()
    # What the group committed is where it stopped: the end of every partition.
    assert committed_offsets(pg, group) == {(topic, p): 25 for p in range(8)}


# --------------------------------------------------------------------------
# Static membership, cooperative rebalancing, restarts.

def test_static_member_restart_keeps_assignment(kafka, members):
    topic = kafka.create_topic(partitions=8)
    group = unique("grp-static")
    boot = kafka.bootstrap
    a = members("confluent", boot, topic, group, "static-a", instance="instance-a")
    b = members("confluent", boot, topic, group, "static-b", instance="instance-b")
    a.wait(lambda: split_evenly(a, b), 30, "the static members to split 4/4")
    wait_stable(boot, group, 2)
    a_parts, b_events = a.assignment(), len(b.rebalance_events())

    # a dies and comes back with the same group.instance.id, well within
    # its session timeout: it gets its partitions back, b sees nothing.
    a.kill()
    a2 = members("confluent", boot, topic, group, "static-a2", instance="instance-a")
    a2.wait(lambda: a2.assignment(), 15, "the restarted static member to get partitions")
    assert a2.assignment() == a_parts
    values = produce(kafka, topic, 0, 40)
    a2.wait(lambda: seen_all([a2, b], values), 30, "both to consume")
    assert len(b.rebalance_events()) == b_events, "b rebalanced: %s" % b.rebalance_events()
    assert {v for v in a2.values()} == {v for v in values if int(v[1:]) % 8 in a_parts}


def test_cooperative_sticky_revokes_only_moved_partitions(kafka, members):
    topic = kafka.create_topic(partitions=8)
    group = unique("grp-coop")
    boot = kafka.bootstrap
    before = produce(kafka, topic, 0, 40)
    a = members("confluent", boot, topic, group, "coop-a", assignor="cooperative-sticky")
    a.wait(lambda: a.assignment() == set(range(8)), 30, "a to own all 8")
    a.wait(lambda: seen_all([a], before), 30, "a to consume")
    b = members("confluent", boot, topic, group, "coop-b", assignor="cooperative-sticky")
    a.wait(lambda: split_evenly(a, b), 30, "a and b to split 4/4")
    after = produce(kafka, topic, 40, 40)
    a.wait(lambda: seen_all([a, b], after), 30, "a and b to consume")

    # KIP-429: a gave up exactly the four partitions that moved, in one
    # revocation, and kept consuming the other four throughout.
    revoked = [ev["partitions"] for ev in a.rebalance_events() if ev["event"] == "revoke"]
    assert revoked == [sorted(b.assignment())], a.rebalance_events()
    assert not [ev for ev in b.rebalance_events() if ev["event"] == "revoke"]
    counts = deliveries([a, b])
    assert all(counts[v] == 1 for v in before + after)


def create_topic_when_ready(k, partitions):
    """A broker just started may answer before its PostgreSQL connections
    are up (retriable errors): retry the creation until it goes through."""
    name = k.new_topic_name()

    def attempt():
        try:
            return k.create_topic(name, partitions=partitions)
        except Exception as e:
            if name in k.topic_names():
                return name
            print("create_topic: %s; retrying" % e)
            return None
    return wait_for(attempt, 30, "the new broker to create a topic", 0.2)


def test_offsets_survive_broker_restart(pg, make_broker, members):
    broker = make_broker(pg)
    k = Kafka(broker)
    topic = create_topic_when_ready(k, 4)
    group, live_group = unique("grp-restart"), unique("grp-live")
    first = produce(k, topic, 0, 40, partitions=4)

    # One group consumes and stops; another stays connected across the restart.
    m = members("confluent", broker.bootstrap, topic, group, "before")
    m.wait(lambda: seen_all([m], first), 30, "the first batch to be consumed")
    m.stop()
    live = members("kafka-python", broker.bootstrap, topic, live_group, "live")
    live.wait(lambda: seen_all([live], first), 30, "the live member to consume")
    assert committed_offsets(pg, group) == {(topic, p): 10 for p in range(4)}
    # The live member's commits are in before the broker goes.
    wait_committed(pg, live_group, topic, {p: 10 for p in range(4)})

    broker.restart()
    second = produce(k, topic, 40, 20, partitions=4)

    # A new member resumes from the committed offsets.
    m2 = members("confluent", broker.bootstrap, topic, group, "after")
    m2.wait(lambda: seen_all([m2], second), 30, "the second batch after the restart")
    # Within a partition records arrive in offset order, so a record of the
    # first batch read again would have come before the second batch.
    assert sorted(m2.values()) == sorted(second), "re-read records from before the restart"
    m2.stop()
    # The live member rejoined on its own (its old generation died with the
    # broker) and went on from its committed offsets: nothing of the first
    # batch again. What it fetched before it noticed may come twice, since
    # that commit was refused (ILLEGAL_GENERATION), as with any lost
    # coordinator.
    live.wait(lambda: seen_all([live], second), 60, "the live member after the restart")
    counts = deliveries([live])
    assert all(counts[v] == 1 for v in first), live.describe()
    live.stop()
    assert committed_offsets(pg, group) == {(topic, p): 15 for p in range(4)}


# --------------------------------------------------------------------------
# Admin calls of the three clients.

def test_admin_calls_describe_list_delete(kafka, pg, members, node_ready):
    from confluent_kafka import TopicPartition as CTopicPartition
    from kafka import KafkaAdminClient
    from kafka.errors import GroupIdNotFoundError, NoError, NonEmptyGroupError

    topic = kafka.create_topic(partitions=8)
    group = unique("grp-admin")
    values = produce(kafka, topic, 0, 16)
    a = members("confluent", kafka.bootstrap, topic, group, "admin-a")
    b = members("confluent", kafka.bootstrap, topic, group, "admin-b")
    a.wait(lambda: split_evenly(a, b) and seen_all([a, b], values), 30, "a stable group")
    wait_stable(kafka.bootstrap, group, 2)
    wait_committed(pg, group, topic, {p: 2 for p in range(8)})

    # confluent-kafka: ListGroups + DescribeGroups.
    (g,) = kafka.admin().list_groups(group, timeout=10)
    assert (g.id, g.state, g.protocol_type, g.protocol) == (group, "Stable", "consumer", "range")
    assert sorted(mem.client_id for mem in g.members) == ["admin-a", "admin-b"]
    assert all(topic.encode() in mem.metadata and mem.assignment for mem in g.members)
    assert group in {x.id for x in kafka.admin().list_groups(timeout=10)}

    # kafka-python.
    kp_admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        assert (group, "consumer") in kp_admin.list_consumer_groups()
        (d,) = kp_admin.describe_consumer_groups([group])
        assert (d.group, d.state, d.protocol_type, d.protocol) == \
            (group, "Stable", "consumer", "range")
        owned = sorted(p for mem in d.members
                       for t, ps in mem.member_assignment.assignment if t == topic for p in ps)
        assert owned == list(range(8))
        assert sorted(len(mem.member_assignment.partitions()) for mem in d.members) == [4, 4]
        offsets = kp_admin.list_consumer_group_offsets(group)
        assert {tp.partition: om.offset for tp, om in offsets.items()} == \
            {p: 2 for p in range(8)}
        ((gid, err),) = kp_admin.delete_consumer_groups([group])
        assert err is NonEmptyGroupError

        # KafkaJS.
        js = node("group_admin.js", {"bootstrap": kafka.bootstrap, "steps": [
            {"op": "describeGroups", "args": [[group]]},
            {"op": "listGroups"},
            {"op": "fetchOffsets", "args": [{"groupId": group, "topics": [topic]}]},
        ]})
        assert all(step["ok"] for step in js), js
        (jd,) = js[0]["value"]["groups"]
        assert (jd["groupId"], jd["state"], jd["protocolType"], jd["protocol"]) == \
            (group, "Stable", "consumer", "range")
        assert sorted(mem["clientId"] for mem in jd["members"]) == ["admin-a", "admin-b"]
        assert {"groupId": group, "protocolType": "consumer"} in js[1]["value"]["groups"]
        (jo,) = [x["partitions"] for x in js[2]["value"] if x["topic"] == topic]
        assert sorted((p["partition"], p["offset"]) for p in jo) == [(p, "2") for p in range(8)]

        # Everyone leaves: Empty, and then it can be deleted.
        a.stop()
        b.stop()
        (g,) = kafka.admin().list_groups(group, timeout=10)
        assert (g.state, g.members) == ("Empty", [])
        # KafkaJS sets offsets by running a consumer of the group itself.
        js = node("group_admin.js", {"bootstrap": kafka.bootstrap, "steps": [
            {"op": "setOffsets", "args": [{"groupId": group, "topic": topic, "partitions": [
                {"partition": p, "offset": "1"} for p in range(8)]}]},
            {"op": "fetchOffsets", "args": [{"groupId": group, "topics": [topic]}]},
        ]})
        assert js[0]["ok"], js
        assert {p["offset"] for p in js[1]["value"][0]["partitions"]} == {"1"}
        c = kafka.consumer(**{"group.id": group})
        try:
            got = c.committed([CTopicPartition(topic, p) for p in range(8)], timeout=10)
            assert [tp.offset for tp in got] == [1] * 8
        finally:
            c.close()
        assert kp_admin.delete_consumer_groups([group]) == [(group, NoError)]
        (d,) = kp_admin.describe_consumer_groups([group])
        assert (d.state, d.members) == ("Dead", [])
        assert group not in {x.id for x in kafka.admin().list_groups(timeout=10)}
        assert committed_offsets(pg, group) == {}
        assert kp_admin.delete_consumer_groups([group]) == [(group, GroupIdNotFoundError)]
    finally:
        kp_admin.close()


# --------------------------------------------------------------------------
# The wire protocol: versions the clients above do not use, and error codes.

def flexible_request(conn, key, version, fill, flex):
    w = kp.Writer()
    fill(w)
    if flex:
        w.tags()
    return conn.request(key, version, w.getvalue(), header_version=2 if flex else 1,
                        response_header_version=1 if flex else 0)


def join_body(group, member_id, version=4, instance=None, protocols=None,
              session_ms=SESSION_MS, rebalance_ms=5000):
    flex = version >= 6
    protocols = protocols or [("range", b"\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff")]
    w = kp.Writer().string(group, flex).i32(session_ms)
    if version >= 1:
        w.i32(rebalance_ms)
    w.string(member_id, flex)
    if version >= 5:
        w.string(instance, flex)
    w.string("consumer", flex)

    def proto(ww, p):
        ww.string(p[0], flex).bytes_(p[1], flex)
        if flex:
            ww.tags()
    w.array(protocols, proto, flex)
    if version >= 8:
        w.string(None, flex)
    if flex:
        w.tags()
    return w.getvalue()


def join_group(conn, group, member_id, version=4, **kwargs):
    flex = version >= 6
    r = conn.request(JOIN_GROUP, version, join_body(group, member_id, version, **kwargs),
                     header_version=2 if flex else 1, response_header_version=1 if flex else 0)
    if version >= 2:
        r.i32()
    out = {"error": r.i16(), "generation": r.i32()}
    if version >= 7:
        out["protocol_type"] = r.string(flex)
    out["protocol"] = r.string(flex)
    out["leader"] = r.string(flex)
    if version >= 9:
        out["skip"] = r.boolean()
    out["member_id"] = r.string(flex)

    def member(rr):
        mid = rr.string(flex)
        if version >= 5:
            rr.string(flex)
        meta = rr.bytes_(flex)
        if flex:
            rr.tags()
        return mid, meta
    out["members"] = r.array(member, flex)
    return out


def send_sync_group(conn, group, generation, member_id, assignments=(), instance=None,
                    version=3, protocol=("consumer", "range")):
    """Send a SyncGroup; return its correlation id (read_sync_group reads
    the answer)."""
    flex = version >= 4
    w = kp.Writer()
    w.string(group, flex).i32(generation).string(member_id, flex).string(instance, flex)
    if version >= 5:
        w.string(protocol[0], flex).string(protocol[1], flex)

    def assignment(ww, a):
        ww.string(a[0], flex).bytes_(a[1], flex)
        if flex:
            ww.tags()
    w.array(list(assignments), assignment, flex)
    if flex:
        w.tags()
    return conn.send(SYNC_GROUP, version, w.getvalue(), header_version=2 if flex else 1)


def read_sync_group(conn, corr, version=3, timeout=10.0):
    flex = version >= 4
    data = conn.recv_frame(timeout)
    if data is None:
        raise kp.ProtocolError("broker closed the connection instead of answering")
    r = kp.Reader(data)
    assert r.i32() == corr
    if flex:
        r.tags()
    return parse_sync_group(r, version)


def sync_group(conn, group, generation, member_id, assignments=(), instance=None, version=3,
               protocol=("consumer", "range")):
    corr = send_sync_group(conn, group, generation, member_id, assignments, instance, version,
                           protocol)
    return read_sync_group(conn, corr, version)


def parse_sync_group(r, version):
    flex = version >= 4
    r.i32()
    err = r.i16()
    if version >= 5:
        r.string(flex)
        r.string(flex)
    return err, r.bytes_(flex)


def heartbeat(conn, group, generation, member_id, instance=None, version=3):
    flex = version >= 4

    def fill(w):
        w.string(group, flex).i32(generation).string(member_id, flex).string(instance, flex)

    r = flexible_request(conn, HEARTBEAT, version, fill, flex)
    r.i32()
    return r.i16()


def leave_group(conn, group, members_, version=3):
    flex = version >= 4

    def fill(w):
        w.string(group, flex)

        def member(ww, m):
            ww.string(m[0], flex).string(m[1], flex)
            if version >= 5:
                ww.string("the test is done", flex)
            if flex:
                ww.tags()
        w.array(members_, member, flex)

    r = flexible_request(conn, LEAVE_GROUP, version, fill, flex)
    r.i32()
    top = r.i16()

    def member_resp(rr):
        m = (rr.string(flex), rr.string(flex), rr.i16())
        if flex:
            rr.tags()
        return m
    return top, r.array(member_resp, flex)


def offset_commit(conn, group, topics, version=2, generation=-1, member_id=""):
    """topics: {name: [(partition, offset, metadata)]} -> {(name, p): error}"""
    flex = version >= 8

    def fill(w):
        w.string(group, flex)
        w.i32(generation).string(member_id, flex)
        if version >= 7:
            w.string(None, flex)
        if 2 <= version <= 4:
            w.i64(-1)

        def topic(ww, item):
            name, parts = item
            ww.string(name, flex)

            def part(www, p):
                www.i32(p[0]).i64(p[1])
                if version >= 6:
                    www.i32(-1)
                www.string(p[2], flex)
                if flex:
                    www.tags()
            ww.array(parts, part, flex)
            if flex:
                ww.tags()
        w.array(list(topics.items()), topic, flex)

    r = flexible_request(conn, OFFSET_COMMIT, version, fill, flex)
    if version >= 3:
        r.i32()
    out = {}

    def topic_resp(rr):
        name = rr.string(flex)

        def part(rrr):
            p, e = rrr.i32(), rrr.i16()
            if flex:
                rrr.tags()
            out[(name, p)] = e
        rr.array(part, flex)
        if flex:
            rr.tags()
    r.array(topic_resp, flex)
    return out


def offset_fetch_v1(conn, group, topics, version=1):
    """-> {(topic, partition): (offset, metadata, error)}"""
    w = kp.Writer().string(group)
    w.array(list(topics.items()), lambda ww, t: ww.string(t[0]).array(t[1], lambda x, p: x.i32(p)))
    r = conn.request(OFFSET_FETCH, version, w.getvalue())
    out = {}

    def topic(rr):
        name = rr.string()

        def part(rrr):
            p, off, meta, err = rrr.i32(), rrr.i64(), rrr.string(), rrr.i16()
            out[(name, p)] = (off, meta, err)
        rr.array(part)
    r.array(topic)
    return out


def offset_fetch_v8(conn, groups, version=8, member=(None, -1)):
    """groups: {group: {topic: [p]} or None} -> {group: (error, {(t, p): (offset, meta, err)})}
    v9 sends member (member_id, member_epoch) with every group."""
    def fill(w):
        def group(ww, item):
            gid, topics = item
            ww.string(gid, True)
            if version >= 9:
                ww.string(member[0], True).i32(member[1])
            ww.array(None if topics is None else list(topics.items()),
                     lambda x, t: x.string(t[0], True)
                     .array(t[1], lambda y, p: y.i32(p), True).tags(), True)
            ww.tags()
        w.array(list(groups.items()), group, True)
        w.boolean(False)

    r = flexible_request(conn, OFFSET_FETCH, version, fill, True)
    r.i32()
    out = {}

    def group_resp(rr):
        gid = rr.string(True)
        offs = {}

        def topic(rrr):
            name = rrr.string(True)

            def part(x):
                p, off = x.i32(), x.i64()
                x.i32()  # committed_leader_epoch
                meta, err = x.string(True), x.i16()
                x.tags()
                offs[(name, p)] = (off, meta, err)
            rrr.array(part, True)
            rrr.tags()
        rr.array(topic, True)
        err = rr.i16()
        rr.tags()
        out[gid] = (err, offs)
    r.array(group_resp, True)
    return out


def list_groups(conn, version=4, states=(), types=()):
    def fill(w):
        if version >= 4:
            w.array(list(states), lambda ww, s: ww.string(s, True), True)
        if version >= 5:
            w.array(list(types), lambda ww, s: ww.string(s, True), True)

    r = flexible_request(conn, LIST_GROUPS, version, fill, True)
    r.i32()
    err = r.i16()

    def group(rr):
        g = {"group": rr.string(True), "protocol_type": rr.string(True)}
        if version >= 4:
            g["state"] = rr.string(True)
        if version >= 5:
            g["type"] = rr.string(True)
        rr.tags()
        return g
    return err, r.array(group, True)


def describe_group(conn, group):
    def fill(w):
        w.array([group], lambda ww, g: ww.string(g, True), True)
        w.boolean(True)

    r = flexible_request(conn, DESCRIBE_GROUPS, 5, fill, True)
    r.i32()

    def member(rr):
        m = {"member_id": rr.string(True), "instance": rr.string(True),
             "client_id": rr.string(True), "host": rr.string(True),
             "metadata": rr.bytes_(True), "assignment": rr.bytes_(True)}
        rr.tags()
        return m

    def grp(rr):
        g = {"error": rr.i16(), "group": rr.string(True), "state": rr.string(True),
             "protocol_type": rr.string(True), "protocol": rr.string(True),
             "members": rr.array(member, True), "ops": rr.i32()}
        rr.tags()
        return g
    (g,) = r.array(grp, True)
    return g


def delete_groups(conn, groups):
    def fill(w):
        w.array(groups, lambda ww, g: ww.string(g, True), True)

    r = flexible_request(conn, DELETE_GROUPS, 2, fill, True)
    r.i32()

    def res(rr):
        g, e = rr.string(True), rr.i16()
        rr.tags()
        return g, e
    return dict(r.array(res, True))


def offset_delete(conn, group, topics):
    w = kp.Writer().string(group)
    w.array(list(topics.items()),
            lambda ww, t: ww.string(t[0]).array(t[1], lambda x, p: x.i32(p)))
    r = conn.request(OFFSET_DELETE, 0, w.getvalue())
    top = r.i16()
    r.i32()
    out = {}

    def topic(rr):
        name = rr.string()

        def part(rrr):
            p, e = rrr.i32(), rrr.i16()
            out[(name, p)] = e
        rr.array(part)
    r.array(topic)
    return top, out


def find_coordinator(conn, version, keys, key_type=0):
    flex = version >= 3

    def fill(w):
        if version <= 3:
            w.string(keys[0], flex)
        if version >= 1:
            w.i8(key_type)
        if version >= 4:
            w.array(keys, lambda ww, k: ww.string(k, True), True)

    r = flexible_request(conn, FIND_COORDINATOR, version, fill, flex)
    if version >= 1:
        r.i32()
    if version <= 3:
        err = r.i16()
        if version >= 1:
            r.string(flex)
        return [(keys[0], err, r.i32(), r.string(flex), r.i32())]

    def coord(rr):
        c = (rr.string(True), None, rr.i32(), rr.string(True), rr.i32())
        err = rr.i16()
        rr.string(True)
        rr.tags()
        return (c[0], err, c[2], c[3], c[4])
    return r.array(coord, True)


def test_find_coordinator_versions(broker):
    host, port = broker.bootstrap.rsplit(":", 1)
    with kp.Conn.to(broker.bootstrap) as c:
        assert find_coordinator(c, 0, ["g"]) == [("g", NONE, 1, host, int(port))]
        assert find_coordinator(c, 3, ["g"]) == [("g", NONE, 1, host, int(port))]
        got = find_coordinator(c, 4, ["g1", "g2"])
        assert got == [("g1", NONE, 1, host, int(port)), ("g2", NONE, 1, host, int(port))]
        assert find_coordinator(c, 4, ["t"], key_type=2)[0][1] == INVALID_REQUEST
        assert find_coordinator(c, 2, ["g"], key_type=7)[0][1:3] == (INVALID_REQUEST, -1)


def test_join_sync_heartbeat_leave_on_the_wire(broker):
    group = unique("grp-wire")
    with kp.Conn.to(broker.bootstrap, timeout=20) as c1, \
            kp.Conn.to(broker.bootstrap, timeout=20) as c2:
        assert join_group(c1, "", "", 4)["error"] == INVALID_GROUP_ID
        # v4+: the first JoinGroup only hands out a member id.
        j = join_group(c1, group, "", 4)
        assert (j["error"], j["generation"]) == (MEMBER_ID_REQUIRED, -1)
        assert j["member_id"].startswith("pgk-e2e-")
        m1 = j["member_id"]
        j = join_group(c1, group, m1, 4)
        assert (j["error"], j["generation"], j["leader"], j["protocol"]) == \
            (NONE, 1, m1, "range")
        assert [m for m, _ in j["members"]] == [m1]
        assert sync_group(c1, group, 1, m1, [(m1, b"assignment-1")]) == (NONE, b"assignment-1")
        assert heartbeat(c1, group, 1, m1) == NONE
        assert heartbeat(c1, group, 2, m1) == ILLEGAL_GENERATION
        assert heartbeat(c1, group, 1, "nobody") == UNKNOWN_MEMBER_ID
        assert heartbeat(c1, "no-such-group", 1, m1) == UNKNOWN_MEMBER_ID
        assert sync_group(c1, group, 0, m1)[0] == ILLEGAL_GENERATION

        # v0 (no rebalance timeout, no member id dance): a second member
        # joins; its JoinGroup is held until the first rejoins.
        result = {}
        t = threading.Thread(target=lambda: result.update(join_group(c2, group, "", 0)))
        t.start()
        wait_for(lambda: heartbeat(c1, group, 1, m1) == REBALANCE_IN_PROGRESS, 10,
                 "the rebalance to start")
        j1 = join_group(c1, group, m1, 7)
        t.join(10)
        m2 = result["member_id"]
        assert (j1["error"], j1["generation"], j1["protocol_type"]) == (NONE, 2, "consumer")
        assert sorted(m for m, _ in j1["members"]) == sorted([m1, m2])
        assert (result["error"], result["generation"], result["leader"], result["members"]) == \
            (NONE, 2, m1, [])
        # The follower's SyncGroup waits for the leader's: it is not answered
        # while the leader has not synced, and its answer carries what the
        # leader's SyncGroup assigned.
        corr = send_sync_group(c2, group, 2, m2)
        with pytest.raises(TimeoutError):
            c2.recv_frame(timeout=0.3)
        assert sync_group(c1, group, 2, m1, [(m1, b"a1"), (m2, b"a2")]) == (NONE, b"a1")
        assert read_sync_group(c2, corr) == (NONE, b"a2")

        g = describe_group(c1, group)
        assert (g["error"], g["state"], g["protocol_type"], g["protocol"]) == \
            (NONE, "Stable", "consumer", "range")
        assert sorted((m["member_id"], m["client_id"], m["assignment"]) for m in g["members"]) == \
            sorted([(m1, "pgk-e2e", b"a1"), (m2, "pgk-e2e", b"a2")])
        assert g["ops"] == (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11)

        # LeaveGroup v3: several members at once, each with its own answer.
        top, res = leave_group(c1, group, [(m2, None), ("stranger", None), ("", "no-instance")])
        assert top == NONE
        assert [e for _, _, e in res] == [NONE, UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID]
        assert heartbeat(c1, group, 2, m1) == REBALANCE_IN_PROGRESS
        assert join_group(c1, group, m1, 9)["generation"] == 3
        # The Java client's flexible versions.
        assert sync_group(c1, group, 3, m1, [(m1, b"x")], version=5) == (NONE, b"x")
        assert sync_group(c1, group, 3, m1, version=5, protocol=("consumer", "sticky"))[0] == \
            INCONSISTENT_GROUP_PROTOCOL
        assert heartbeat(c1, group, 3, m1, version=4) == NONE
        assert heartbeat(c1, group, 2, m1, version=4) == ILLEGAL_GENERATION
        assert leave_group(c1, group, [(m1, None)], version=5)[1][0][2] == NONE
        assert describe_group(c1, group)["state"] == "Empty"


def test_static_members_on_the_wire(broker):
    group = unique("grp-wire-static")
    with kp.Conn.to(broker.bootstrap, timeout=20) as c:
        j = join_group(c, group, "", 5, instance="i-1")
        assert j["error"] == NONE and j["member_id"].startswith("i-1-")
        old = j["member_id"]
        assert sync_group(c, group, 1, old, [(old, b"mine")], instance="i-1") == (NONE, b"mine")
        # The same instance again (a restart): a new id, same generation,
        # the stored assignment; the old id is fenced.
        j = join_group(c, group, "", 5, instance="i-1")
        assert (j["error"], j["generation"]) == (NONE, 1)
        assert j["member_id"] != old
        assert sync_group(c, group, 1, j["member_id"], instance="i-1") == (NONE, b"mine")
        assert heartbeat(c, group, 1, old, instance="i-1") == FENCED_INSTANCE_ID
        assert heartbeat(c, group, 1, j["member_id"], instance="i-1") == NONE
        g = describe_group(c, group)
        assert [(m["member_id"], m["instance"]) for m in g["members"]] == [(j["member_id"], "i-1")]
        # An administrator removes it by instance id.
        assert leave_group(c, group, [("", "i-1")])[1][0][2] == NONE
        assert describe_group(c, group)["state"] == "Empty"


def test_list_groups_with_filters(kafka, broker):
    topic = kafka.create_topic()
    stable, empty = unique("grp-stable"), unique("grp-empty")
    with kp.Conn.to(broker.bootstrap, timeout=20) as c:
        mid = join_group(c, stable, "", 4)["member_id"]
        join_group(c, stable, mid, 4)
        sync_group(c, stable, 1, mid)
        assert offset_commit(c, empty, {topic: [(0, 0, "")]}) == {(topic, 0): NONE}
        err, groups = list_groups(c, 3)
        names = {g["group"] for g in groups}
        assert err == NONE and {stable, empty} <= names
        err, groups = list_groups(c, 4, states=["stable"])
        assert stable in {g["group"] for g in groups}
        assert empty not in {g["group"] for g in groups}
        assert all(g["state"] == "Stable" for g in groups)
        err, groups = list_groups(c, 4, states=["Empty", "Dead"])
        assert empty in {g["group"] for g in groups} and stable not in {g["group"] for g in groups}
        # Consumer groups (KIP-848) only; other tests' may be there.
        err, groups = list_groups(c, 5, types=["consumer"])
        assert not {stable, empty} & {g["group"] for g in groups}
        assert {g["type"] for g in groups} <= {"consumer"}
        err, groups = list_groups(c, 5, types=["Classic"])
        assert {stable, empty} <= {g["group"] for g in groups}
        assert {g["type"] for g in groups} == {"classic"}
        assert describe_group(c, unique("grp-none"))["state"] == "Dead"


def test_offset_commit_fetch_errors_and_deleted_topics(kafka, pg, broker):
    topic = kafka.create_topic(partitions=2)
    group, other = unique("grp-offsets"), unique("grp-offsets2")
    with kp.Conn.to(broker.bootstrap, timeout=20) as c:
        # kafka-python's versions: OffsetCommit v2, OffsetFetch v1.
        res = offset_commit(c, group, {topic: [(0, 5, "meta-0"), (1, 7, None), (2, 1, "")],
                                       "no-such-topic": [(0, 1, "")],
                                       "bad/name": [(0, 1, "")]})
        assert res == {(topic, 0): NONE, (topic, 1): NONE, (topic, 2): UNKNOWN_TOPIC_OR_PARTITION,
                       ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION,
                       ("bad/name", 0): UNKNOWN_TOPIC_OR_PARTITION}
        assert offset_commit(c, group, {topic: [(0, 6, "x" * 4097)]}, version=8) == \
            {(topic, 0): OFFSET_METADATA_TOO_LARGE}
        # A generation for a group the coordinator does not know (from
        # before a restart); a member it does not know.
        assert offset_commit(c, unique("grp-gone"), {topic: [(0, 6, "")]}, version=8,
                             generation=3, member_id="m") == {(topic, 0): ILLEGAL_GENERATION}
        assert offset_commit(c, group, {topic: [(0, 6, "")]}, version=8, generation=3,
                             member_id="m") == {(topic, 0): UNKNOWN_MEMBER_ID}
        assert offset_commit(c, other, {topic: [(1, 3, "other")]}, version=8) == \
            {(topic, 1): NONE}
        got = offset_fetch_v1(c, group, {topic: [0, 1, 2], "no-such-topic": [0]})
        assert got == {(topic, 0): (5, "meta-0", NONE), (topic, 1): (7, "", NONE),
                       (topic, 2): (-1, "", NONE), ("no-such-topic", 0): (-1, "", NONE)}
        # v0 tells unknown partitions apart, as Kafka's ZooKeeper version did.
        got = offset_fetch_v1(c, group, {topic: [0, 2]}, version=0)
        assert got == {(topic, 0): (5, "meta-0", NONE),
                       (topic, 2): (-1, "", UNKNOWN_TOPIC_OR_PARTITION)}
        # v8: several groups, one of them for every committed offset.
        got = offset_fetch_v8(c, {group: None, other: {topic: [0, 1]}})
        assert got[group] == (NONE, {(topic, 0): (5, "meta-0", NONE), (topic, 1): (7, "", NONE)})
        assert got[other] == (NONE, {(topic, 0): (-1, "", NONE), (topic, 1): (3, "other", NONE)})
        assert committed_offsets(pg, group) == {(topic, 0): 5, (topic, 1): 7}

        # OffsetDelete and DeleteGroups.
        top, res = offset_delete(c, other, {topic: [1], "no-such-topic": [0]})
        assert (top, res) == \
            (NONE, {(topic, 1): NONE, ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION})
        assert offset_delete(c, unique("grp-never"), {topic: [0]})[0] == GROUP_ID_NOT_FOUND
        assert offset_delete(c, "", {topic: [0]})[0] == INVALID_GROUP_ID
        never = unique("grp-never")
        assert delete_groups(c, [other, never]) == {other: NONE, never: GROUP_ID_NOT_FOUND}
        assert delete_groups(c, [other])[other] == GROUP_ID_NOT_FOUND

    # A deleted topic takes its committed offsets along.
    fs = kafka.admin().delete_topics([topic], operation_timeout=30)
    fs[topic].result(30)
    assert committed_offsets(pg, group) == {}
    with kp.Conn.to(broker.bootstrap, timeout=20) as c:
        assert offset_fetch_v1(c, group, {topic: [0]}) == {(topic, 0): (-1, "", NONE)}
        assert offset_commit(c, group, {topic: [(0, 1, "")]}) == \
            {(topic, 0): UNKNOWN_TOPIC_OR_PARTITION}


def test_offset_delete_refuses_subscribed_topics(kafka, broker, members):
    topic = kafka.create_topic(partitions=2)
    unrelated = kafka.create_topic(partitions=1)
    group = unique("grp-od")
    values = produce(kafka, topic, 0, 4, partitions=2)
    m = members("confluent", kafka.bootstrap, topic, group, "od")
    m.wait(lambda: seen_all([m], values), 30, "the member to consume")
    with kp.Conn.to(broker.bootstrap, timeout=20) as c:
        assert offset_commit(c, group, {unrelated: [(0, 1, "")]}, version=8,
                             generation=-1) == {(unrelated, 0): UNKNOWN_MEMBER_ID}
        top, res = offset_delete(c, group, {topic: [0], unrelated: [0]})
        assert (top, res) == (NONE, {(topic, 0): GROUP_SUBSCRIBED_TO_TOPIC, (unrelated, 0): NONE})
        assert delete_groups(c, [group]) == {group: NON_EMPTY_GROUP}
    m.stop()
    with kp.Conn.to(broker.bootstrap, timeout=20) as c:
        assert offset_delete(c, group, {topic: [0]}) == (NONE, {(topic, 0): NONE})
        assert delete_groups(c, [group]) == {group: NONE}
        assert describe_group(c, group)["state"] == "Dead"


def test_held_requests_with_disconnects_and_shutdown(pg, make_broker):
    broker = make_broker(pg)
    group = unique("grp-held")
    c1 = kp.Conn.to(broker.bootstrap, timeout=20)
    m1 = join_group(c1, group, "", 4)["member_id"]
    assert join_group(c1, group, m1, 4, rebalance_ms=60000)["generation"] == 1
    assert sync_group(c1, group, 1, m1)[0] == NONE
    # Newcomers whose JoinGroups are held (m1 never rejoins): one goes away
    # while held, one is still waiting when the broker stops.
    gone = kp.Conn.to(broker.bootstrap)
    gone.send(JOIN_GROUP, 0, join_body(group, "", 0))
    wait_for(lambda: heartbeat(c1, group, 1, m1) == REBALANCE_IN_PROGRESS, 10, "a rebalance")
    gone.close()
    before = {m["member_id"] for m in describe_group(c1, group)["members"]}
    waiting = kp.Conn.to(broker.bootstrap)
    waiting.send(JOIN_GROUP, 0, join_body(group, "", 0))
    # The coordinator holds it: a member it did not have before.
    wait_for(lambda: {m["member_id"] for m in describe_group(c1, group)["members"]} - before,
             10, "the second newcomer to join")
    assert heartbeat(c1, group, 1, m1) == REBALANCE_IN_PROGRESS
    # Shutdown does not wait for the rebalance (60 s, longer than stop()
    # waits) nor leak the requests.
    assert broker.stop(timeout=20) == []
    assert waiting.wait_closed(5)
    waiting.close()
    c1.close()



def test_rebalance_timeout_removes_member_that_does_not_rejoin(broker):
    """max.poll.interval.ms: a member that heartbeats but does not rejoin a
    rebalance within the rebalance timeout is removed."""
    group = unique("grp-slow")
    with kp.Conn.to(broker.bootstrap, timeout=20) as c1, \
            kp.Conn.to(broker.bootstrap, timeout=20) as c2:
        m1 = join_group(c1, group, "", 4)["member_id"]
        join_group(c1, group, m1, 4, rebalance_ms=2000)
        assert sync_group(c1, group, 1, m1)[0] == NONE
        m2 = join_group(c2, group, "", 4)["member_id"]
        result = {}
        started = time.monotonic()
        t = threading.Thread(target=lambda: result.update(
            join_group(c2, group, m2, 4, rebalance_ms=2000)))
        t.start()
        # m1 keeps heartbeating, so its session never expires, but it
        # never rejoins.
        answers = []
        while t.is_alive() and time.monotonic() - started < 10:
            answers.append(heartbeat(c1, group, 1, m1))
            time.sleep(0.3)  # m1's heartbeat interval
        t.join(1)
        assert not t.is_alive(), "m2's JoinGroup is still held"
        # While the rebalance waited for m1 it was told to rejoin; it was
        # removed only when the rebalance timed out (its session, 6 s, was
        # kept alive by the heartbeats), and never came back.
        assert REBALANCE_IN_PROGRESS in answers
        assert set(answers) <= {NONE, REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID}
        first = answers.index(REBALANCE_IN_PROGRESS)
        assert UNKNOWN_MEMBER_ID not in answers[:first]
        if UNKNOWN_MEMBER_ID in answers:
            gone = answers.index(UNKNOWN_MEMBER_ID)
            assert set(answers[gone:]) == {UNKNOWN_MEMBER_ID}
        assert (result["error"], result["generation"], result["leader"]) == (NONE, 2, m2)
        assert [m for m, _ in result["members"]] == [m2]
        assert heartbeat(c1, group, 1, m1) == UNKNOWN_MEMBER_ID
        assert heartbeat(c1, group, 2, m1) == UNKNOWN_MEMBER_ID
