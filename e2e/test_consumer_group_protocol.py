"""
The KIP-848 consumer group protocol with the raw protocol client (kmsg.py):
ConsumerGroupHeartbeat and ConsumerGroupDescribe as Kafka 4.x answers them,
the member epochs of OffsetCommit v9, ListGroups types, classic and consumer
groups of one id, and a group that survives a broker restart (its state is
in PostgreSQL).

The broker here has a short session timeout (group.consumer.*), so that a
member that stops heartbeating is removed within seconds.
"""

import struct
import uuid

import pytest

import kafkaproto as kp
import kmsg
from conftest import Broker, unique, wait_for
from test_acl import acl_broker, acl_pg  # noqa: F401 (fixtures)
from test_tls import certs  # noqa: F401 (fixture)
from kmsg import F, call

# Error codes, as Kafka names them.
NONE = 0
UNKNOWN_MEMBER_ID = 25
INCONSISTENT_GROUP_PROTOCOL = 23
GROUP_ID_NOT_FOUND = 69
FENCED_MEMBER_EPOCH = 110
UNSUPPORTED_ASSIGNOR = 112
STALE_MEMBER_EPOCH = 113
INVALID_REGULAR_EXPRESSION = 128

SESSION_MS = 3000
HEARTBEAT_MS = 500
PARTITIONS = 8

S, I16, I32 = "string", "int16", "int32"
LIST_GROUPS_RESP = [
    F("throttle_time_ms", I32, "1+"), F("error_code", I16),
    F("groups", "[]", fields=[F("group_id", S), F("protocol_type", S),
                              F("group_state", S, "4+"), F("group_type", S, "5+")])]
DELETE_GROUPS_RESP = [
    F("throttle_time_ms", I32),
    F("results", "[]", fields=[F("group_id", S), F("error_code", I16)])]
DESCRIBE_GROUPS_RESP = [
    F("throttle_time_ms", I32, "1+"),
    F("groups", "[]", fields=[
        F("error_code", I16), F("group_id", S), F("group_state", S), F("protocol_type", S),
        F("protocol_data", S),
        F("members", "[]", fields=[
            F("member_id", S), F("group_instance_id", S, "4+", nullable="4+"),
            F("client_id", S), F("client_host", S), F("member_metadata", "bytes"),
            F("member_assignment", "bytes")]),
        F("authorized_operations", I32, "3+", default=-2147483648)])]


@pytest.fixture(scope="module")
def cg_broker(pg, workdir):
    b = Broker(pg, workdir, [
        "--group-consumer-session-timeout-ms", str(SESSION_MS),
        "--group-consumer-min-session-timeout-ms", "1000",
        "--group-consumer-heartbeat-interval-ms", str(HEARTBEAT_MS),
        "--group-consumer-min-heartbeat-interval-ms", "100"])
    b.start()
    yield b
    b.stop_checked()


def conn(broker):
    return kp.Conn.to(broker.bootstrap)


def new_topic(broker, partitions=PARTITIONS):
    name = unique("cgp")
    with conn(broker) as c:
        assert kp.create_topics(c, [(name, partitions, 1, {})])[name][0] == NONE
        tid = kp.topic_id(c, name)
    return name, tid


def hb(c, group, member_id="", epoch=0, version=1, **kw):
    """A heartbeat; the nullable arrays are null (unchanged) unless given."""
    values = {"group_id": group, "member_id": member_id, "member_epoch": epoch,
              "subscribed_topic_names": None, "topic_partitions": None}
    values.update(kw)
    return call(c, 68, version, values)


def owned(resp):
    """{topic_id: sorted partitions} of a heartbeat's assignment, or None."""
    a = resp["assignment"]
    if a is None:
        return None
    return {t["topic_id"]: sorted(t["partitions"]) for t in a["topic_partitions"]}


def as_request(assignment):
    return [{"topic_id": t, "partitions": p} for t, p in sorted(assignment.items())]


class Member:
    """A consumer of the KIP-848 protocol that acknowledges what it is
    given, as the Java and librdkafka clients do."""

    def __init__(self, c, group, topic, instance_id=None, assignor=None):
        self.c = c
        self.group = group
        self.topic = topic
        self.instance_id = instance_id
        self.assignor = assignor
        self.member_id = str(uuid.uuid4())
        self.epoch = 0
        self.owned = {}
        self.last = None

    def join(self):
        r = hb(self.c, self.group, self.member_id, 0, instance_id=self.instance_id,
               rebalance_timeout_ms=30000, subscribed_topic_names=[self.topic],
               server_assignor=self.assignor, topic_partitions=[])
        return self._take(r)

    def beat(self):
        r = hb(self.c, self.group, self.member_id, self.epoch,
               topic_partitions=as_request(self.owned))
        return self._take(r)

    def leave(self, epoch=-1):
        return hb(self.c, self.group, self.member_id, epoch, instance_id=self.instance_id)

    def _take(self, r):
        self.last = r
        if r["error_code"] == NONE:
            self.epoch = r["member_epoch"]
            got = owned(r)
            if got is not None:
                self.owned = {t: p for t, p in got.items() if p}
        return r

    def partitions(self):
        return sorted(p for ps in self.owned.values() for p in ps)


def settle(members, want, rounds=40):
    """Heartbeat every member in turn until each owns want[i] partitions;
    no partition may ever be owned by two of them at once."""
    for _ in range(rounds):
        for m in members:
            r = m.beat()
            assert r["error_code"] == NONE, r
            seen = {}
            for x in members:
                for p in x.partitions():
                    assert p not in seen, "partition %d owned by two members" % p
                    seen[p] = x
        if sorted(len(m.partitions()) for m in members) == sorted(want):
            return
    pytest.fail("members own %s partitions, not %s" % (
        [len(m.partitions()) for m in members], want))


def describe(c, group):
    r = call(c, 69, 0, {"group_ids": [group], "include_authorized_operations": False})
    return r["groups"][0]


# ---- known bytes ------------------------------------------------------------

def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def cstr(s):
    """A compact string; None for null."""
    if s is None:
        return b"\x00"
    data = s.encode()
    return uvarint(len(data) + 1) + data


def test_known_request_bytes_v0_and_v1_decode(cg_broker):
    topic, tid = new_topic(cg_broker, 2)
    group = unique("cgp-bytes")
    # v0: group, member "" (the coordinator names it), epoch 0, no
    # instance, no rack, rebalance timeout 30000, one topic, assignor
    # "range", owned partitions: an empty array; no tagged fields.
    v0 = (cstr(group) + cstr("") + struct.pack(">i", 0) + cstr(None) + cstr(None)
          + struct.pack(">i", 30000) + uvarint(2) + cstr(topic) + cstr("range")
          + uvarint(1) + b"\x00")
    with conn(cg_broker) as c:
        r = c.request(68, 0, v0, header_version=2, response_header_version=1)
        r = kmsg.decode(kmsg.APIS[68].resp, 0, True, r)
        assert r["error_code"] == NONE, r
        assert r["member_id"] and len(r["member_id"]) == 22  # a base64 uuid
        assert r["member_epoch"] >= 1
        assert r["heartbeat_interval_ms"] == HEARTBEAT_MS
        assert owned(r) == {tid: [0, 1]}
    # v1: the client names the member; a regex field (null) follows the
    # topic names.
    group1 = unique("cgp-bytes1")
    mid = str(uuid.uuid4())
    v1 = (cstr(group1) + cstr(mid) + struct.pack(">i", 0) + cstr("inst-1") + cstr("rack-a")
          + struct.pack(">i", 45000) + uvarint(2) + cstr(topic) + cstr(None) + cstr(None)
          + uvarint(1) + b"\x00")
    with conn(cg_broker) as c:
        r = c.request(68, 1, v1, header_version=2, response_header_version=1)
        r = kmsg.decode(kmsg.APIS[68].resp, 1, True, r)
        assert r["error_code"] == NONE, r
        assert r["member_id"] == mid
        assert owned(r) == {tid: [0, 1]}
        g = describe(c, group1)
        assert g["error_code"] == NONE
        m = g["members"][0]
        assert (m["member_id"], m["instance_id"], m["rack_id"]) == (mid, "inst-1", "rack-a")
        assert m["subscribed_topic_names"] == [topic]
        assert g["assignor_name"] == "uniform"  # the default: none was named


# ---- reconciliation ------------------------------------------------------------

def test_two_members_split_then_a_third_joins_incrementally(cg_broker):
    topic, tid = new_topic(cg_broker)
    group = unique("cgp-split")
    with conn(cg_broker) as ca, conn(cg_broker) as cb, conn(cg_broker) as cc:
        a = Member(ca, group, topic)
        b = Member(cb, group, topic)
        assert a.join()["error_code"] == NONE
        settle([a], [8])
        assert b.join()["error_code"] == NONE
        # b gets nothing a still owns: a must revoke first.
        assert set(b.partitions()).isdisjoint(a.partitions())
        settle([a, b], [4, 4])
        c3 = Member(cc, group, topic)
        assert c3.join()["error_code"] == NONE
        settle([a, b, c3], [3, 3, 2])
        assert sorted(a.partitions() + b.partitions() + c3.partitions()) == list(range(8))
        g = describe(ca, group)
        assert g["group_state"] == "Stable"
        assert g["group_epoch"] == g["assignment_epoch"]
        assert {m["member_epoch"] for m in g["members"]} == {g["group_epoch"]}
        # A member leaves: the others take its partitions.
        assert c3.leave()["member_epoch"] == -1
        settle([a, b], [4, 4])


def test_fencing_and_unknown_member(cg_broker):
    topic, _ = new_topic(cg_broker, 2)
    group = unique("cgp-fence")
    with conn(cg_broker) as c:
        m = Member(c, group, topic)
        assert m.join()["error_code"] == NONE
        r = hb(c, group, m.member_id, m.epoch + 5, topic_partitions=as_request(m.owned))
        assert r["error_code"] == FENCED_MEMBER_EPOCH
        assert r["member_id"] is None and r["assignment"] is None
        r = hb(c, group, str(uuid.uuid4()), 3, topic_partitions=[])
        assert r["error_code"] == UNKNOWN_MEMBER_ID
        # An unknown group with an epoch other than 0.
        r = hb(c, unique("cgp-none"), str(uuid.uuid4()), 1, topic_partitions=[])
        assert r["error_code"] == UNKNOWN_MEMBER_ID


def test_unsupported_assignor(cg_broker):
    topic, _ = new_topic(cg_broker, 1)
    with conn(cg_broker) as c:
        r = Member(c, unique("cgp-asg"), topic, assignor="sticky").join()
        assert r["error_code"] == UNSUPPORTED_ASSIGNOR
        r = Member(c, unique("cgp-asg"), topic, assignor="range").join()
        assert r["error_code"] == NONE


def test_static_member_leaves_with_minus_two_and_rejoins(cg_broker):
    topic, tid = new_topic(cg_broker, 4)
    group = unique("cgp-static")
    with conn(cg_broker) as c:
        a = Member(c, group, topic, instance_id="host-a")
        b = Member(c, group, topic)
        a.join()
        b.join()
        settle([a, b], [2, 2])
        kept = a.partitions()
        r = a.leave(-2)
        assert (r["error_code"], r["member_epoch"]) == (NONE, -2)
        # The static member keeps its place (and partitions) until its
        # session times out.
        ids = [m["instance_id"] for m in describe(c, group)["members"]]
        assert "host-a" in ids
        a2 = Member(c, group, topic, instance_id="host-a")
        assert a2.join()["error_code"] == NONE
        settle([a2, b], [2, 2])
        assert a2.partitions() == kept
        members = describe(c, group)["members"]
        assert sorted(m["member_id"] for m in members) == sorted([a2.member_id, b.member_id])


def test_session_timeout_removes_a_silent_member(cg_broker):
    topic, _ = new_topic(cg_broker, 2)
    group = unique("cgp-session")
    with conn(cg_broker) as c:
        a = Member(c, group, topic)
        b = Member(c, group, topic)
        a.join()
        b.join()
        settle([a, b], [1, 1])
        # b stops heartbeating; a keeps going and ends up with both.
        def a_has_both():
            assert a.beat()["error_code"] == NONE
            return len(a.partitions()) == 2
        wait_for(a_has_both, 4 * SESSION_MS / 1000, "the silent member to be removed",
                 interval=HEARTBEAT_MS / 1000)
        assert [m["member_id"] for m in describe(c, group)["members"]] == [a.member_id]
        assert b.beat()["error_code"] == UNKNOWN_MEMBER_ID


# ---- ConsumerGroupDescribe -------------------------------------------------------

def test_consumer_group_describe(cg_broker):
    topic, tid = new_topic(cg_broker, 2)
    group = unique("cgp-desc")
    with conn(cg_broker) as c:
        m = Member(c, group, topic)
        m.join()
        settle([m], [2])
        r = call(c, 69, 0, {"group_ids": [group, unique("cgp-none")],
                            "include_authorized_operations": True})
        g, missing = r["groups"]
        assert (g["error_code"], g["group_id"], g["group_state"]) == (NONE, group, "Stable")
        assert g["group_epoch"] >= 1 and g["assignment_epoch"] == g["group_epoch"]
        assert g["assignor_name"] == "uniform"
        assert g["authorized_operations"] != -2147483648
        [mm] = g["members"]
        assert mm["member_id"] == m.member_id and mm["member_epoch"] == m.epoch
        assert mm["client_id"] == "pgk-e2e" and mm["client_host"].startswith("/127.0.0.1")
        want = [{"topic_id": tid, "topic_name": topic, "partitions": [0, 1]}]
        assert mm["assignment"]["topic_partitions"] == want
        assert mm["target_assignment"]["topic_partitions"] == want
        assert missing["error_code"] == GROUP_ID_NOT_FOUND
        assert missing["group_state"] == ""
        # v1 (Kafka 4.1) adds each member's type: 1, a consumer-protocol
        # member.
        r1 = call(c, 69, 1, {"group_ids": [group], "include_authorized_operations": False})
        [mm1] = r1["groups"][0]["members"]
        assert mm1["member_type"] == 1 and mm1["member_id"] == m.member_id
        assert mm["member_type"] == -1  # v0 has no such field: the default


# ---- offsets, ListGroups, classic groups -------------------------------------

def offset_commit(c, group, member_id, epoch, topic, partition=0, offset=1, version=9):
    """OffsetCommit v9, or v10 with topic the topic's id."""
    key = "topic_id" if version >= 10 else "name"
    r = kmsg.send_request(c, 8, version, {
        "group_id": group, "generation_id_or_member_epoch": epoch, "member_id": member_id,
        "topics": [{key: topic, "partitions": [
            {"partition_index": partition, "committed_offset": offset}]}]})
    (t,) = kmsg.decode(kmsg.OFFSET_COMMIT_RESP, version, True, r)["topics"]
    assert t[key] == topic
    return t["partitions"][0]["error_code"]


def test_offset_commit_checks_the_member_epoch(cg_broker):
    topic, _ = new_topic(cg_broker, 1)
    group = unique("cgp-commit")
    with conn(cg_broker) as c:
        m = Member(c, group, topic)
        m.join()
        settle([m], [1])
        assert offset_commit(c, group, m.member_id, m.epoch, topic) == NONE
        assert offset_commit(c, group, m.member_id, m.epoch + 1, topic) == STALE_MEMBER_EPOCH
        assert offset_commit(c, group, "nobody", m.epoch, topic) == UNKNOWN_MEMBER_ID


def offset_fetch(c, group, member_id, epoch, topic, version=9):
    """OffsetFetch v9 (or v10, topic the topic's id): (group error,
    committed offset of partition 0)."""
    key = "topic_id" if version >= 10 else "name"
    r = kmsg.send_request(c, 9, version, {"groups": [{
        "group_id": group, "member_id": member_id, "member_epoch": epoch,
        "topics": [{key: topic, "partition_indexes": [0]}]}]})
    g = kmsg.decode(kmsg.OFFSET_FETCH_RESP, version, True, r)["groups"][0]
    if g["error_code"]:
        return g["error_code"], None
    assert g["topics"][0][key] == topic
    return NONE, g["topics"][0]["partitions"][0]["committed_offset"]


def test_offset_fetch_v9_checks_the_member_epoch(cg_broker):
    topic, _ = new_topic(cg_broker, 1)
    group = unique("cgp-fetch")
    with conn(cg_broker) as c:
        m = Member(c, group, topic)
        m.join()
        settle([m], [1])
        assert offset_commit(c, group, m.member_id, m.epoch, topic, offset=5) == NONE
        assert offset_fetch(c, group, m.member_id, m.epoch, topic) == (NONE, 5)
        assert offset_fetch(c, group, m.member_id, m.epoch + 1, topic) == (STALE_MEMBER_EPOCH, None)
        assert offset_fetch(c, group, "nobody", m.epoch, topic) == (UNKNOWN_MEMBER_ID, None)
        # An admin client names no member: not checked.
        assert offset_fetch(c, group, None, -1, topic) == (NONE, 5)


def test_offsets_v10_by_topic_id_check_the_member_epoch(cg_broker):
    """v10 names the topic by id; the member and its epoch are checked as
    at v9, for both APIs."""
    topic, tid = new_topic(cg_broker, 1)
    group = unique("cgp-v10")
    with conn(cg_broker) as c:
        m = Member(c, group, topic)
        m.join()
        settle([m], [1])

        def commit(member_id, epoch, offset):
            return offset_commit(c, group, member_id, epoch, tid, offset=offset, version=10)

        def fetch(member_id, epoch):
            return offset_fetch(c, group, member_id, epoch, tid, version=10)

        assert commit(m.member_id, m.epoch, 7) == NONE
        assert commit(m.member_id, m.epoch + 1, 8) == STALE_MEMBER_EPOCH
        assert commit("nobody", m.epoch, 8) == UNKNOWN_MEMBER_ID
        assert fetch(m.member_id, m.epoch) == (NONE, 7)
        assert fetch(m.member_id, m.epoch + 1) == (STALE_MEMBER_EPOCH, None)
        assert fetch("nobody", m.epoch) == (UNKNOWN_MEMBER_ID, None)
        assert offset_fetch(c, group, m.member_id, m.epoch, topic) == (NONE, 7)


def test_regex_subscription(cg_broker):
    prefix = unique("cgprx")
    with conn(cg_broker) as c:
        for suffix, parts in (("-a", 2), ("-b", 1)):
            assert kp.create_topics(c, [(prefix + suffix, parts, 1, {})])[prefix + suffix][0] == NONE
        ids = {kp.topic_id(c, prefix + s): s for s in ("-a", "-b")}
        group, mid = unique("cgp-rx"), str(uuid.uuid4())
        r = hb(c, group, mid, 0, rebalance_timeout_ms=30000,
               subscribed_topic_regex=prefix + "-.*", topic_partitions=[])
        assert r["error_code"] == NONE, r
        state = {"epoch": r["member_epoch"], "owned": owned(r) or {}}

        # Topics created within the last second may not be in the
        # coordinator's topic image yet (GROUPS.md): heartbeat until they are.
        def assigned():
            r = hb(c, group, mid, state["epoch"], topic_partitions=as_request(state["owned"]))
            assert r["error_code"] == NONE, r
            state["epoch"] = r["member_epoch"]
            if owned(r) is not None:
                state["owned"] = owned(r)
            return {ids[t]: p for t, p in state["owned"].items() if p} == {"-a": [0, 1], "-b": [0]}
        wait_for(assigned, 10, "the regex's topics to be assigned", interval=0.2)
        r = hb(c, unique("cgp-rx"), str(uuid.uuid4()), 0, rebalance_timeout_ms=30000,
               subscribed_topic_regex="(unclosed", topic_partitions=[])
        assert r["error_code"] == INVALID_REGULAR_EXPRESSION


def list_groups(c, types=(), states=()):
    r = kmsg.send_request(c, 16, 5, {"states_filter": list(states), "types_filter": list(types)})
    r = kmsg.decode(LIST_GROUPS_RESP, 5, True, r)
    assert r["error_code"] == NONE
    return {g["group_id"]: (g["protocol_type"], g["group_state"], g["group_type"])
            for g in r["groups"]}


def join_classic(c, group, with_member=False):
    """A classic JoinGroup v3 (no MEMBER_ID_REQUIRED round): its error (and
    the member id given)."""
    r = kmsg.send_request(c, 11, 3, {
        "group_id": group, "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000,
        "member_id": "", "protocol_type": "consumer",
        "protocols": [{"name": "range", "metadata": b"\x00\x00\x00\x00\x00\x00\x00\x00"}]})
    r.i32()
    err = r.i16()
    if not with_member:
        return err
    r.i32()  # generation
    r.string()  # protocol name
    r.string()  # leader
    return err, r.string()


def test_empty_groups_change_protocol(cg_broker):
    """An empty classic group becomes a consumer group on a join, and an
    empty consumer group a classic group; offsets stay with the id."""
    topic, _ = new_topic(cg_broker, 1)
    group = unique("cgp-convert")
    with conn(cg_broker) as c:
        err, member = join_classic(c, group, with_member=True)
        assert err == NONE
        r = kmsg.send_request(c, 13, 0, {"group_id": group, "member_id": member})
        assert r.i16() == NONE  # LeaveGroup v0: the classic group is Empty
        assert offset_commit(c, group, "", -1, topic, offset=3) == NONE
        # A heartbeat other than a join does not convert it.
        assert hb(c, group, str(uuid.uuid4()), 1)["error_code"] == GROUP_ID_NOT_FOUND
        m = Member(c, group, topic)
        assert m.join()["error_code"] == NONE
        assert list_groups(c)[group][2] == "consumer"
        assert offset_fetch(c, group, m.member_id, m.epoch, topic) == (NONE, 3)
        assert m.leave()["error_code"] == NONE
        assert join_classic(c, group) == NONE
        assert list_groups(c)[group][2] == "classic"
        assert describe(c, group)["error_code"] == GROUP_ID_NOT_FOUND


def test_list_groups_types_and_classic_groups_of_the_same_id(cg_broker):
    topic, _ = new_topic(cg_broker, 1)
    group = unique("cgp-types")
    classic = unique("cgp-classic")
    with conn(cg_broker) as c, conn(cg_broker) as c2:
        m = Member(c, group, topic)
        m.join()
        settle([m], [1])
        assert join_classic(c2, classic) == NONE
        all_groups = list_groups(c)
        assert all_groups[group] == ("consumer", "Stable", "consumer")
        assert all_groups[classic][2] == "classic"
        assert group in list_groups(c, types=["Consumer"])
        assert classic not in list_groups(c, types=["consumer"])
        assert group not in list_groups(c, types=["classic"])
        assert group in list_groups(c, states=["stable"], types=["consumer"])
        assert group not in list_groups(c, states=["empty"])
        # A classic JoinGroup for a consumer group with members, and a
        # heartbeat for a classic group with members.
        assert join_classic(c2, group) == INCONSISTENT_GROUP_PROTOCOL
        r = Member(c, classic, topic).join()
        assert r["error_code"] == GROUP_ID_NOT_FOUND
        # DescribeGroups (classic) says Dead for a consumer group.
        r = kmsg.send_request(c, 15, 5, {"groups": [group]})
        g = kmsg.decode(DESCRIBE_GROUPS_RESP, 5, True, r)["groups"][0]
        assert (g["error_code"], g["group_state"]) == (NONE, "Dead")
        # Once empty, the consumer group can be deleted.
        assert m.leave()["error_code"] == NONE
        r = kmsg.send_request(c, 42, 2, {"groups_names": [group]})
        res = kmsg.decode(DELETE_GROUPS_RESP, 2, True, r)["results"]
        assert [(x["group_id"], x["error_code"]) for x in res] == [(group, NONE)]
        assert describe(c, group)["error_code"] == GROUP_ID_NOT_FOUND


# ---- restart -------------------------------------------------------------------

def test_broker_restart_keeps_epochs_and_assignment(cg_broker):
    topic, tid = new_topic(cg_broker, 4)
    group = unique("cgp-restart")
    with conn(cg_broker) as c:
        a = Member(c, group, topic)
        b = Member(c, group, topic)
        a.join()
        b.join()
        settle([a, b], [2, 2])
        before = describe(c, group)
    cg_broker.restart()
    with conn(cg_broker) as c:
        after = describe(c, group)
        for k in ("group_state", "group_epoch", "assignment_epoch", "assignor_name"):
            assert after[k] == before[k], k
        key = lambda g: sorted((m["member_id"], m["member_epoch"],
                                str(m["assignment"]), str(m["target_assignment"]))
                               for m in g["members"])
        assert key(after) == key(before)
        # The members carry on where they were.
        a.c = b.c = c
        ra, rb = a.beat(), b.beat()
        assert (ra["error_code"], rb["error_code"]) == (NONE, NONE)
        assert (ra["member_epoch"], rb["member_epoch"]) == (before["group_epoch"],) * 2


# ---- several brokers -----------------------------------------------------------

NOT_COORDINATOR = 16


def test_group_moves_with_its_coordinator(fresh_pg, make_broker):
    """Two brokers on one database: the group's coordinator answers, the
    other says NOT_COORDINATOR; when the coordinator is killed, the other
    broker becomes the coordinator, loads the group from PostgreSQL, and
    the members carry on with their epochs and partitions."""
    from test_cluster import cluster_args, coordinator_of, create_topic, kill
    extra = ["--group-consumer-heartbeat-interval-ms", str(HEARTBEAT_MS),
             "--group-consumer-min-heartbeat-interval-ms", "100"]
    brokers = {n: make_broker(fresh_pg, *cluster_args(n), *extra) for n in (1, 2)}
    wait_for(lambda: fresh_pg.sql("SELECT count(*) FROM kafka.live_brokers()") == "2", 30,
             "both brokers live")
    topic = unique("cgp-move")
    create_topic(fresh_pg, topic, 4)
    group = unique("cgp-move")
    owner = coordinator_of(fresh_pg, group)
    other = 3 - owner

    def coordinator_seen_by(n):
        with conn(brokers[n]) as c:
            r = kmsg.send_request(c, 10, 3, {"key": group, "key_type": 0})
            r.i32()
            return r.i16() == NONE and (r.string(True), r.i32())[1] == owner
    wait_for(lambda: all(coordinator_seen_by(n) for n in (1, 2)), 30,
             "both brokers to place the group on node %d" % owner)
    with conn(brokers[owner]) as c, conn(brokers[other]) as o:
        a = Member(c, group, topic)
        b = Member(c, group, topic)
        wait_for(lambda: a.join()["error_code"] == NONE, 30, "the coordinator to answer")
        assert b.join()["error_code"] == NONE
        settle([a, b], [2, 2])
        assert hb(o, group, a.member_id, a.epoch)["error_code"] == NOT_COORDINATOR
        before = {m.member_id: (m.epoch, m.partitions()) for m in (a, b)}
        kill(brokers[owner])
        a.c = b.c = o

        def moved():
            r = a.beat()
            assert r["error_code"] in (NONE, NOT_COORDINATOR), r
            return r["error_code"] == NONE
        wait_for(moved, 30, "the other broker to coordinate the group",
                 interval=HEARTBEAT_MS / 1000)
        assert b.beat()["error_code"] == NONE
        assert {m.member_id: (m.epoch, m.partitions()) for m in (a, b)} == before


# ---- authorization -------------------------------------------------------------

GROUP_AUTHORIZATION_FAILED = 30
TOPIC_AUTHORIZATION_FAILED = 29


def test_authorization(acl_broker, certs):  # noqa: F811
    """READ on the group and DESCRIBE on each topic subscribed by name for a
    heartbeat; DESCRIBE on the group and on every assigned topic for
    ConsumerGroupDescribe (KAFKA-18813), as Kafka 4.0."""
    from kafka.admin import ACLOperation, ACLResourcePatternType, ResourceType
    from test_acl import ALICE, admin, allow, create
    from test_tls import tls_conn
    b = acl_broker()
    group, rx_group = unique("cgp-acl"), unique("cgp-acl-rx")
    public, secret = unique("cgp-pub"), unique("cgp-sec")
    with conn(b) as su:  # the PLAINTEXT client is a super user
        for t in (public, secret):
            assert kp.create_topics(su, [(t, 1, 1, {})])[t][0] == NONE
    adm = admin(b)
    try:
        create(adm,
               allow(ALICE, ACLOperation.READ, ResourceType.GROUP, group),
               allow(ALICE, ACLOperation.DESCRIBE, ResourceType.GROUP, group),
               allow(ALICE, ACLOperation.READ, ResourceType.GROUP, rx_group),
               allow(ALICE, ACLOperation.DESCRIBE, ResourceType.TOPIC, public))
    finally:
        adm.close()
    alice = tls_conn(b.ssl_port, certs / "ca.pem", certs / "alice.pem", certs / "alice.key")
    with alice, conn(b) as su:
        def join(c, g, topics):
            return hb(c, g, str(uuid.uuid4()), 0, rebalance_timeout_ms=30000,
                      subscribed_topic_names=topics, topic_partitions=[])
        # The ACLs reach the broker through PostgreSQL: wait for them.
        wait_for(lambda: join(alice, group, [public])["error_code"] == NONE, 30,
                 "alice's ACLs to be in force")
        assert join(alice, unique("cgp-other"), [public])["error_code"] == GROUP_AUTHORIZATION_FAILED
        r = join(alice, group, [public, secret])
        assert r["error_code"] == TOPIC_AUTHORIZATION_FAILED and r["member_id"] is None
        assert describe(alice, group)["error_code"] == NONE
        # A member of the super user's takes the secret topic into the group.
        assert join(su, group, [secret])["error_code"] == NONE
        g = describe(alice, group)
        assert (g["error_code"], g["members"], g["group_state"]) == (
            TOPIC_AUTHORIZATION_FAILED, [], "")
        assert describe(su, group)["error_code"] == NONE
        # A regex resolves to the topics its member may DESCRIBE: alice's
        # matches both topics and is assigned only the public one, while a
        # super user's member of the same group gets the secret one.
        pub_id, sec_id = kp.topic_id(su, public), kp.topic_id(su, secret)
        group = rx_group
        r = hb(alice, group, str(uuid.uuid4()), 0, rebalance_timeout_ms=30000,
               subscribed_topic_regex="cgp-(pub|sec).*", topic_partitions=[])
        assert r["error_code"] == NONE, r
        m = {"id": r["member_id"], "epoch": r["member_epoch"], "owned": owned(r) or {}}

        def alice_assignment():
            x = hb(alice, group, m["id"], m["epoch"],
                   topic_partitions=as_request(m["owned"]))
            assert x["error_code"] == NONE, x
            m["epoch"] = x["member_epoch"]
            if owned(x) is not None:
                m["owned"] = {t: p for t, p in owned(x).items() if p}
            return m["owned"]
        wait_for(lambda: alice_assignment() == {pub_id: [0]}, 30,
                 "alice's regex member to own the public topic")
        s = hb(su, group, str(uuid.uuid4()), 0, rebalance_timeout_ms=30000,
               subscribed_topic_regex="cgp-(pub|sec).*", topic_partitions=[])
        assert s["error_code"] == NONE and owned(s) in (None, {}, {sec_id: [0]}), s
        g = describe(su, group)
        alice_target = [mm for mm in g["members"] if mm["member_id"] == m["id"]][0]
        assert [t["topic_name"] for t in alice_target["target_assignment"]["topic_partitions"]] \
            == [public], alice_target


def test_txn_offset_commit_checks_the_member_epoch(cg_broker):
    """TxnOffsetCommit for a consumer group: the member's id and epoch as
    Kafka's ConsumerGroup.validateOffsetCommit checks a transactional
    commit, with v5 (the group joins the transaction by itself) and with v4
    after AddOffsetsToTxn."""
    topic, _ = new_topic(cg_broker, 1)
    group = unique("cgp-txn")
    txn_id = unique("cgp-txn")
    with conn(cg_broker) as c:
        m = Member(c, group, topic)
        m.join()
        settle([m], [1])
        r = call(c, 22, 5, {"transactional_id": txn_id, "transaction_timeout_ms": 60000})
        assert r["error_code"] == NONE
        pid, pepoch = r["producer_id"], r["producer_epoch"]
        # A transactional write opens the transaction (Produce v12 adds
        # its partition); the group is checked within it.
        from test_txn_v2 import produce
        assert produce(c, txn_id, topic, 0, pid, pepoch, 0, [b"x"]) == NONE

        def commit(member_id, epoch, version=5):
            r = call(c, 28, version, {
                "transactional_id": txn_id, "group_id": group, "producer_id": pid,
                "producer_epoch": pepoch, "generation_id": epoch, "member_id": member_id,
                "topics": [{"name": topic, "partitions": [
                    {"partition_index": 0, "committed_offset": 1}]}]})
            return r["topics"][0]["partitions"][0]["error_code"]
        assert commit("nobody", m.epoch) == UNKNOWN_MEMBER_ID
        assert commit(m.member_id, m.epoch + 1) == STALE_MEMBER_EPOCH
        assert commit(m.member_id, m.epoch) == NONE
        # v4: AddOffsetsToTxn added the group (the v5 commit above did).
        r = call(c, 25, 4, {"transactional_id": txn_id, "producer_id": pid,
                            "producer_epoch": pepoch, "group_id": group})
        assert r["error_code"] == NONE
        assert commit(m.member_id, m.epoch + 1, 4) == STALE_MEMBER_EPOCH
        assert commit(m.member_id, m.epoch, 4) == NONE
