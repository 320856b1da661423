"""
Protocol conformance of the classic consumer-group APIs: unusual requests,
built by hand from Kafka's message definitions, answered as Apache Kafka's
broker answers them (KafkaApis, GroupCoordinatorService,
GroupMetadataManager, OffsetMetadataManager, ClassicGroup). One test per
row of the "Consumer groups" table in docs/PROTOCOL.md.
"""

import pytest

import kafkaproto as kp
from conftest import unique, wait_for
from test_groups import (DELETE_GROUPS, DESCRIBE_GROUPS, FENCED_INSTANCE_ID, GROUP_ID_NOT_FOUND,
                         GROUP_SUBSCRIBED_TO_TOPIC, ILLEGAL_GENERATION,
                         INCONSISTENT_GROUP_PROTOCOL, INVALID_GROUP_ID, INVALID_REQUEST,
                         JOIN_GROUP, MEMBER_ID_REQUIRED, NON_EMPTY_GROUP, NONE,
                         OFFSET_METADATA_TOO_LARGE, REBALANCE_IN_PROGRESS,
                         UNKNOWN_MEMBER_ID, UNKNOWN_TOPIC_OR_PARTITION, delete_groups,
                         describe_group, find_coordinator, flexible_request, heartbeat,
                         join_body, join_group, leave_group, list_groups, offset_commit,
                         offset_delete, offset_fetch_v1, offset_fetch_v8, sync_group)

INVALID_SESSION_TIMEOUT = 26
# READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: AclEntry's
# operations of a group, all allowed without an authorizer.
GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11)


@pytest.fixture
def conn(broker):
    with kp.Conn.to(broker.bootstrap, timeout=20) as c:
        yield c


def subscription(*topics):
    """ConsumerProtocolSubscription v0: the topics, no user data."""
    w = kp.Writer().i16(0)
    w.array(list(topics), lambda ww, t: ww.string(t))
    return w.bytes_(None).getvalue()


def stable_group(conn, group, protocols=None, protocol_type="consumer", instance=None):
    """A group whose one member synced generation 1: -> member id."""
    if instance is None:
        mid = join_group(conn, group, "", 4, protocols=protocols)["member_id"]
    else:
        mid = ""
    j = join_group_typed(conn, group, mid, 5, protocol_type, protocols, instance)
    assert (j["error"], j["generation"]) == (NONE, 1), j
    mid = j["member_id"]
    assert sync_group(conn, group, 1, mid, [(mid, b"a")], instance=instance,
                      version=5, protocol=(protocol_type, j["protocol"]))[0] == NONE
    return mid


def join_group_typed(conn, group, member_id, version, protocol_type, protocols=None,
                     instance=None):
    """join_group with another protocol type than "consumer"."""
    body = join_body(group, member_id, version, instance=instance, protocols=protocols)
    if protocol_type != "consumer":
        body = body.replace(kp.Writer().string("consumer").getvalue(),
                            kp.Writer().string(protocol_type).getvalue(), 1)
    r = conn.request(JOIN_GROUP, version, body)
    r.i32()
    out = {"error": r.i16(), "generation": r.i32(), "protocol": r.string(),
           "leader": r.string(), "member_id": r.string()}
    return out


def join_raw(conn, group, session_ms=6000, protocol_type="consumer", protocols=None,
             member_id="", version=5):
    """JoinGroup v5 with any protocol type and list: -> (error, member id)."""
    protocols = [("range", b"")] if protocols is None else protocols
    w = kp.Writer().string(group).i32(session_ms).i32(5000).string(member_id)
    w.string(None).string(protocol_type)
    w.array(protocols, lambda ww, p: ww.string(p[0]).bytes_(p[1]))
    r = conn.request(JOIN_GROUP, version, w.getvalue())
    r.i32()
    err, _gen = r.i16(), r.i32()
    r.string()
    r.string()
    return err, r.string()


# --------------------------------------------------------------------------
# FindCoordinator

@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_find_coordinator_share_key_type(conn, version):
    """Share coordinators (key type 2) exist from v6: below, INVALID_REQUEST."""
    (key, err, node, host, port), = find_coordinator(conn, version, ["s"], key_type=2)
    assert (err, node, host, port) == (INVALID_REQUEST, -1, "", -1)


@pytest.mark.parametrize("version", [1, 3, 4])
def test_find_coordinator_unknown_key_type(conn, version):
    (key, err, node, host, port), = find_coordinator(conn, version, ["g"], key_type=5)
    assert (err, node, host, port) == (INVALID_REQUEST, -1, "", -1)


def test_find_coordinator_batched_keys(conn, broker):
    host, port = broker.bootstrap.rsplit(":", 1)
    got = find_coordinator(conn, 4, ["a", "", "a"], key_type=1)
    assert [(k, e, h, p) for k, e, _, h, p in got] == \
        [(k, NONE, host, int(port)) for k in ["a", "", "a"]]


# --------------------------------------------------------------------------
# JoinGroup

def test_join_group_empty_group_id(conn):
    assert join_group(conn, "", "", 4)["error"] == INVALID_GROUP_ID


def test_join_group_id_too_long_to_store(kafka, conn):
    """Kafka takes any string; a group id longer than kafka.consumer_offsets
    can index (over 1024 bytes) is refused up front, in Kafka's terms,
    rather than at its first commit."""
    group = b"g" * 1025
    assert join_group(conn, group, "", 4)["error"] == INVALID_GROUP_ID
    topic = kafka.create_topic()
    assert offset_commit(conn, group, {topic: [(0, 1, "")]}, version=8) == \
        {(topic, 0): INVALID_GROUP_ID}


@pytest.mark.parametrize("suffix", [b"\x00nul", b"\xff\xfe"])
def test_join_group_id_not_text_is_a_group(kafka, conn, suffix):
    """A NUL byte or bytes that are not UTF-8 make a group id like any
    other (test_kafka_strings.py has the round trips)."""
    group = unique("grp-bytes").encode() + suffix
    assert join_group(conn, group, "", 4)["error"] == MEMBER_ID_REQUIRED
    topic = kafka.create_topic()
    assert offset_commit(conn, group, {topic: [(0, 1, "")]}, version=8) == {(topic, 0): NONE}


@pytest.mark.parametrize("session_ms", [5999, 1800001])
def test_join_group_session_timeout_out_of_bounds(conn, session_ms):
    """group.min.session.timeout.ms (6 s) and .max (30 min), Kafka's defaults."""
    assert join_raw(conn, unique("grp-st"), session_ms=session_ms)[0] == INVALID_SESSION_TIMEOUT
    assert join_raw(conn, unique("grp-st"), session_ms=6000)[0] == MEMBER_ID_REQUIRED


def test_join_group_member_id_required_from_v4(conn):
    j = join_group(conn, unique("grp-req"), "", 4)
    assert (j["error"], j["generation"]) == (MEMBER_ID_REQUIRED, -1) and j["member_id"]
    j = join_group(conn, unique("grp-req"), "", 3)
    assert (j["error"], j["generation"]) == (NONE, 1)


def test_join_group_member_id_for_unknown_group(conn):
    j = join_group(conn, unique("grp-none"), "someone", 4)
    assert (j["error"], j["member_id"]) == (UNKNOWN_MEMBER_ID, "someone")


@pytest.mark.parametrize("protocol_type, protocols",
                         [("", [("range", b"")]), ("consumer", [])])
def test_join_group_empty_protocol_type_or_list(conn, protocol_type, protocols):
    err, mid = join_raw(conn, unique("grp-np"), protocol_type=protocol_type,
                        protocols=protocols)
    assert (err, mid) == (INCONSISTENT_GROUP_PROTOCOL, "")


def test_join_group_protocol_not_supported_by_the_group(conn):
    group = unique("grp-proto")
    stable_group(conn, group)
    assert join_raw(conn, group, protocol_type="connect")[0] == INCONSISTENT_GROUP_PROTOCOL
    assert join_raw(conn, group, protocols=[("sticky", b"")])[0] == \
        INCONSISTENT_GROUP_PROTOCOL


def test_join_group_unknown_member_of_known_group(conn):
    group = unique("grp-um")
    stable_group(conn, group)
    assert join_group(conn, group, "stranger", 4)["error"] == UNKNOWN_MEMBER_ID


def test_join_group_fenced_static_member(conn):
    group = unique("grp-fence")
    stable_group(conn, group, instance="i-1")
    j = join_group(conn, group, "i-1-not-the-current-id", 5, instance="i-1")
    assert j["error"] == FENCED_INSTANCE_ID


# --------------------------------------------------------------------------
# SyncGroup

def test_sync_group_empty_group_id(conn):
    assert sync_group(conn, "", 1, "m")[0] == INVALID_GROUP_ID


def test_sync_group_unknown_group_or_member(conn):
    group = unique("grp-sync")
    assert sync_group(conn, unique("grp-none"), 1, "m")[0] == UNKNOWN_MEMBER_ID
    stable_group(conn, group)
    assert sync_group(conn, group, 1, "stranger")[0] == UNKNOWN_MEMBER_ID


def test_sync_group_illegal_generation(conn):
    group = unique("grp-sync")
    mid = stable_group(conn, group)
    assert sync_group(conn, group, 2, mid)[0] == ILLEGAL_GENERATION


@pytest.mark.parametrize("protocol", [(None, "range"), ("consumer", None), (None, None)])
def test_sync_group_v5_needs_protocol_type_and_name(conn, protocol):
    group = unique("grp-sync")
    mid = stable_group(conn, group)
    assert sync_group(conn, group, 1, mid, version=5, protocol=protocol)[0] == \
        INCONSISTENT_GROUP_PROTOCOL
    # Below v5 the fields do not exist.
    assert sync_group(conn, group, 1, mid, version=4)[0] == NONE


@pytest.mark.parametrize("protocol", [("connect", "range"), ("consumer", "sticky")])
def test_sync_group_v5_protocol_mismatch(conn, protocol):
    group = unique("grp-sync")
    mid = stable_group(conn, group)
    assert sync_group(conn, group, 1, mid, version=5, protocol=protocol)[0] == \
        INCONSISTENT_GROUP_PROTOCOL


def preparing_rebalance(broker, conn, group):
    """A Stable group that a newcomer's held JoinGroup moved to
    PreparingRebalance: -> (member id, the newcomer's connection)."""
    mid = stable_group(conn, group)
    newcomer = kp.Conn.to(broker.bootstrap, timeout=20)
    newcomer.send(JOIN_GROUP, 0, join_body(group, "", 0))
    wait_for(lambda: heartbeat(conn, group, 1, mid) == REBALANCE_IN_PROGRESS, 10,
             "the rebalance to start")
    return mid, newcomer


def test_sync_group_during_preparing_rebalance(broker, conn):
    group = unique("grp-sync")
    mid, newcomer = preparing_rebalance(broker, conn, group)
    try:
        assert sync_group(conn, group, 1, mid)[0] == REBALANCE_IN_PROGRESS
    finally:
        newcomer.close()


def test_sync_group_and_heartbeat_to_an_empty_group(conn):
    """Every member left: the group is Empty, nobody is a member."""
    group = unique("grp-empty")
    mid = stable_group(conn, group)
    assert leave_group(conn, group, [(mid, None)])[1][0][2] == NONE
    assert describe_group(conn, group)["state"] == "Empty"
    assert sync_group(conn, group, 1, mid)[0] == UNKNOWN_MEMBER_ID
    assert heartbeat(conn, group, 1, mid) == UNKNOWN_MEMBER_ID


def test_sync_group_fenced_static_member(conn):
    group = unique("grp-sync")
    stable_group(conn, group, instance="i-1")
    assert sync_group(conn, group, 1, "i-1-old", instance="i-1")[0] == FENCED_INSTANCE_ID


# --------------------------------------------------------------------------
# Heartbeat

def test_heartbeat_empty_group_id(conn):
    assert heartbeat(conn, "", 1, "m") == INVALID_GROUP_ID


def test_heartbeat_unknown_group_or_member(conn):
    group = unique("grp-hb")
    assert heartbeat(conn, unique("grp-none"), 1, "m") == UNKNOWN_MEMBER_ID
    stable_group(conn, group)
    assert heartbeat(conn, group, 1, "stranger") == UNKNOWN_MEMBER_ID


def test_heartbeat_illegal_generation(conn):
    group = unique("grp-hb")
    mid = stable_group(conn, group)
    assert heartbeat(conn, group, 0, mid) == ILLEGAL_GENERATION


def test_heartbeat_during_preparing_rebalance(broker, conn):
    group = unique("grp-hb")
    mid, newcomer = preparing_rebalance(broker, conn, group)
    try:
        assert heartbeat(conn, group, 1, mid) == REBALANCE_IN_PROGRESS
    finally:
        newcomer.close()


def test_heartbeat_fenced_static_member(conn):
    group = unique("grp-hb")
    stable_group(conn, group, instance="i-1")
    assert heartbeat(conn, group, 1, "i-1-old", instance="i-1") == FENCED_INSTANCE_ID
    assert heartbeat(conn, group, 1, "i-1-old", instance="i-2") == UNKNOWN_MEMBER_ID


# --------------------------------------------------------------------------
# LeaveGroup

def test_leave_group_empty_group_id(conn):
    assert leave_group(conn, "", [("m", None)]) == (INVALID_GROUP_ID, [])


def test_leave_group_unknown_group(conn):
    group = unique("grp-none")
    assert leave_group(conn, group, [("m", None), ("", "i")]) == \
        (NONE, [("m", None, UNKNOWN_MEMBER_ID), ("", "i", UNKNOWN_MEMBER_ID)])
    # v0-2 carry the member's error at the top.
    w = kp.Writer().string(group).string("m")
    r = conn.request(13, 1, w.getvalue())
    r.i32()
    assert r.i16() == UNKNOWN_MEMBER_ID


def test_leave_group_empty_member_list(conn):
    group = unique("grp-leave")
    stable_group(conn, group)
    assert leave_group(conn, group, []) == (NONE, [])


def test_leave_group_pending_member(conn):
    """A member id handed out with MEMBER_ID_REQUIRED may leave before it
    joins with it."""
    group = unique("grp-leave")
    mid = join_group(conn, group, "", 4)["member_id"]
    assert leave_group(conn, group, [(mid, None)]) == (NONE, [(mid, None, NONE)])
    assert join_group(conn, group, mid, 4)["error"] == UNKNOWN_MEMBER_ID


def test_leave_group_fenced_static_member(conn):
    group = unique("grp-leave")
    stable_group(conn, group, instance="i-1")
    top, res = leave_group(conn, group, [("i-1-old", "i-1")])
    assert (top, [e for _, _, e in res]) == (NONE, [FENCED_INSTANCE_ID])


# --------------------------------------------------------------------------
# OffsetCommit

@pytest.mark.parametrize("version", [8, 9])
def test_offset_commit_generation_for_unknown_group(kafka, conn, version):
    """Below v9, ILLEGAL_GENERATION; GROUP_ID_NOT_FOUND from v9
    (OffsetMetadataManager.validateOffsetCommit). A simple commit
    (generation -1) still creates the group."""
    topic = kafka.create_topic()
    want = ILLEGAL_GENERATION if version < 9 else GROUP_ID_NOT_FOUND
    assert offset_commit(conn, unique("grp-none"), {topic: [(0, 1, "")]}, version=version,
                         generation=1, member_id="m") == {(topic, 0): want}
    assert offset_commit(conn, unique("grp-none"), {topic: [(0, 1, "")]}, version=version,
                         generation=-1) == {(topic, 0): NONE}


def test_offset_commit_and_fetch_v9_classic_group(kafka, conn):
    """v9 on a classic group: the member's generation is its epoch, and
    OffsetFetch's member id and epoch are not checked (ClassicGroup
    .validateOffsetFetch looks only for a dead group)."""
    topic = kafka.create_topic()
    group = unique("grp-v9")
    mid = stable_group(conn, group)
    assert offset_commit(conn, group, {topic: [(0, 7, "m9")]}, version=9, generation=1,
                         member_id=mid) == {(topic, 0): NONE}
    assert offset_commit(conn, group, {topic: [(0, 8, "")]}, version=9, generation=2,
                         member_id=mid) == {(topic, 0): ILLEGAL_GENERATION}
    for member in [(None, -1), (mid, 1), ("someone-else", 42)]:
        assert offset_fetch_v8(conn, {group: {topic: [0]}}, version=9, member=member) == \
            {group: (NONE, {(topic, 0): (7, "m9", NONE)})}
    # A group that does not exist: no offsets, no error, whatever member.
    absent = unique("grp-none")
    assert offset_fetch_v8(conn, {absent: {topic: [0]}}, version=9, member=("x", 3)) == \
        {absent: (NONE, {(topic, 0): (-1, "", NONE)})}


def test_offset_commit_simple_commit_to_group_with_members(kafka, conn):
    topic = kafka.create_topic()
    group = unique("grp-oc")
    stable_group(conn, group)
    assert offset_commit(conn, group, {topic: [(0, 1, "")]}, version=8) == \
        {(topic, 0): UNKNOWN_MEMBER_ID}


def test_offset_commit_during_completing_rebalance(kafka, conn):
    topic = kafka.create_topic()
    group = unique("grp-oc")
    mid = join_group(conn, group, "", 4)["member_id"]
    assert join_group(conn, group, mid, 4)["generation"] == 1  # not synced yet
    assert offset_commit(conn, group, {topic: [(0, 1, "")]}, version=8, generation=1,
                         member_id=mid) == {(topic, 0): REBALANCE_IN_PROGRESS}


def test_offset_commit_during_preparing_rebalance(broker, kafka, conn):
    """A member of the current generation may still commit while the group
    waits for its members to rejoin."""
    topic = kafka.create_topic()
    group = unique("grp-oc")
    mid, newcomer = preparing_rebalance(broker, conn, group)
    try:
        assert offset_commit(conn, group, {topic: [(0, 4, "")]}, version=8, generation=1,
                             member_id=mid) == {(topic, 0): NONE}
    finally:
        newcomer.close()


def commit_v8_static(conn, group, generation, member_id, instance, topic):
    def fill(w):
        w.string(group, True).i32(generation).string(member_id, True).string(instance, True)

        def topic_(ww, name):
            ww.string(name, True)
            ww.array([0], lambda x, p: x.i32(p).i64(1).i32(-1).string("", True).tags(), True)
            ww.tags()
        w.array([topic], topic_, True)
    r = flexible_request(conn, 8, 8, fill, True)
    r.i32()
    r.uvarint()
    r.string(True)
    r.uvarint()
    r.i32()
    return r.i16()


def test_offset_commit_fenced_static_member(kafka, conn):
    topic = kafka.create_topic()
    group = unique("grp-oc")
    mid = stable_group(conn, group, instance="i-1")
    assert commit_v8_static(conn, group, 1, "i-1-old", "i-1", topic) == FENCED_INSTANCE_ID
    assert commit_v8_static(conn, group, 1, mid, "i-2", topic) == UNKNOWN_MEMBER_ID
    assert commit_v8_static(conn, group, 1, mid, "i-1", topic) == NONE


def test_offset_commit_metadata_length_in_utf16_units(kafka, conn):
    """offset.metadata.max.bytes (4096) counts the Java string's chars."""
    topic = kafka.create_topic(partitions=4)
    group = unique("grp-oc")
    res = offset_commit(conn, group, {topic: [(0, 1, "x" * 4096), (1, 1, "x" * 4097),
                                              (2, 1, "\u00e9" * 4096),
                                              (3, 1, "\U0001F600" * 2049)]}, version=8)
    assert res == {(topic, 0): NONE, (topic, 1): OFFSET_METADATA_TOO_LARGE,
                   (topic, 2): NONE, (topic, 3): OFFSET_METADATA_TOO_LARGE}
    got = offset_fetch_v1(conn, group, {topic: [2]})
    assert got == {(topic, 2): (1, "\u00e9" * 4096, NONE)}


def test_offset_commit_unknown_partition_before_group_error(kafka, conn):
    """KafkaApis drops unknown partitions before the coordinator sees the
    commit: they are UNKNOWN_TOPIC_OR_PARTITION whatever the group says."""
    topic = kafka.create_topic()
    group = unique("grp-oc")
    stable_group(conn, group)
    res = offset_commit(conn, group, {topic: [(0, 1, ""), (5, 1, "")],
                                      "no-such-topic": [(0, 1, "")],
                                      "bad/name": [(0, 1, "")]}, version=8,
                        generation=7, member_id="stranger")
    assert res == {(topic, 0): UNKNOWN_MEMBER_ID, (topic, 5): UNKNOWN_TOPIC_OR_PARTITION,
                   ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION,
                   ("bad/name", 0): UNKNOWN_TOPIC_OR_PARTITION}


def test_offset_commit_unknown_partition_before_metadata_length(kafka, conn):
    topic = kafka.create_topic()
    group = unique("grp-oc")
    long = "x" * 4097
    # With a partition to write, and without.
    res = offset_commit(conn, group, {topic: [(0, 2, ""), (1, 1, long)],
                                      "no-such-topic": [(0, 1, long)]}, version=8)
    assert res == {(topic, 0): NONE, (topic, 1): UNKNOWN_TOPIC_OR_PARTITION,
                   ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION}
    res = offset_commit(conn, group, {topic: [(0, 3, long), (2, 1, long)]}, version=8)
    assert res == {(topic, 0): OFFSET_METADATA_TOO_LARGE, (topic, 2): UNKNOWN_TOPIC_OR_PARTITION}
    assert offset_fetch_v1(conn, group, {topic: [0]}) == {(topic, 0): (2, "", NONE)}


@pytest.mark.parametrize("metadata", [b"Hello\x00world!", b"a\xffb"])
def test_offset_commit_metadata_any_bytes(kafka, conn, metadata):
    """Kafka stores any Java string (a NUL byte included; bytes that are
    not UTF-8 decode to U+FFFD); pg_kafka stores the bytes as sent
    (kafka.consumer_offsets.metadata is bytea) and gives them back."""
    topic = kafka.create_topic()
    group = unique("grp-oc")
    res = offset_commit(conn, group, {topic: [(0, 1, metadata)],
                                      "no-such-topic": [(0, 1, metadata)]}, version=8)
    assert res == {(topic, 0): NONE, ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION}
    assert kafka.pg.rows("SELECT encode(metadata, 'hex') FROM kafka.consumer_offsets"
                         " WHERE group_id = '%s'" % group) == [[metadata.hex()]]


def test_offset_commit_empty_group_id_is_a_group(kafka, conn):
    """Only a null group id is refused; "" is a group like any other."""
    topic = kafka.create_topic()
    assert offset_commit(conn, "", {topic: [(0, 3, "")]}, version=8) == {(topic, 0): NONE}
    assert offset_fetch_v1(conn, "", {topic: [0]}) == {(topic, 0): (3, "", NONE)}
    assert delete_groups(conn, [""]) == {"": NONE}


# --------------------------------------------------------------------------
# OffsetFetch

def test_offset_fetch_unknown_group(kafka, conn):
    topic = kafka.create_topic()
    group = unique("grp-none")
    assert offset_fetch_v1(conn, group, {topic: [0], "no-such-topic": [0]}) == \
        {(topic, 0): (-1, "", NONE), ("no-such-topic", 0): (-1, "", NONE)}
    assert offset_fetch_v8(conn, {group: None}) == {group: (NONE, {})}


# --------------------------------------------------------------------------
# DescribeGroups

def test_describe_groups_unknown_group_is_dead(conn):
    for group in [unique("grp-none"), ""]:
        g = describe_group(conn, group)
        assert (g["error"], g["group"], g["state"], g["protocol_type"], g["members"]) == \
            (NONE, group, "Dead", "", [])
        assert g["ops"] == GROUP_OPERATIONS


def test_describe_groups_authorized_operations_not_asked(conn):
    """Without include_authorized_operations: INT32_MIN, Kafka's default."""
    group = unique("grp-desc")
    stable_group(conn, group)

    def fill(w):
        w.array([group], lambda ww, g: ww.string(g, True), True)
        w.boolean(False)
    r = flexible_request(conn, DESCRIBE_GROUPS, 5, fill, True)
    r.i32()
    r.uvarint()  # one group
    assert (r.i16(), r.string(True), r.string(True)) == (NONE, group, "Stable")
    r.string(True)
    r.string(True)
    for _ in range(r.uvarint() - 1):  # members
        for _ in range(4):
            r.string(True)
        r.bytes_(True)
        r.bytes_(True)
        r.tags()
    assert r.i32() == -2**31


def test_describe_groups_authorized_operations(conn):
    group = unique("grp-desc")
    stable_group(conn, group)
    g = describe_group(conn, group)
    assert (g["error"], g["state"], g["ops"]) == (NONE, "Stable", GROUP_OPERATIONS)


# --------------------------------------------------------------------------
# ListGroups

def test_list_groups_states_filter_trimmed_any_case(conn):
    group = unique("grp-list")
    stable_group(conn, group)
    for states in [["STABLE"], [" stable "], ["\tStable"]]:
        err, groups = list_groups(conn, 4, states=states)
        assert err == NONE and group in {g["group"] for g in groups}, states
    err, groups = list_groups(conn, 4, states=["no-such-state"])
    assert (err, groups) == (NONE, [])


def test_list_groups_types_filter(conn):
    group = unique("grp-list")
    stable_group(conn, group)
    for types, listed in [(["CLASSIC"], True), ([" classic"], False),
                          (["consumer"], False), (["unknown"], False)]:
        err, groups = list_groups(conn, 5, types=types)
        assert err == NONE and (group in {g["group"] for g in groups}) == listed, types


# --------------------------------------------------------------------------
# DeleteGroups

def test_delete_groups_non_empty_group(conn):
    group = unique("grp-del")
    stable_group(conn, group)
    assert delete_groups(conn, [group]) == {group: NON_EMPTY_GROUP}


def test_delete_groups_unknown_group(conn):
    group = unique("grp-none")
    assert delete_groups(conn, [group]) == {group: GROUP_ID_NOT_FOUND}


def test_delete_groups_group_named_twice(kafka, conn):
    topic = kafka.create_topic()
    group = unique("grp-del")
    assert offset_commit(conn, group, {topic: [(0, 1, "")]}) == {(topic, 0): NONE}

    def fill(w):
        w.array([group, group], lambda ww, g: ww.string(g, True), True)
    r = flexible_request(conn, DELETE_GROUPS, 2, fill, True)
    r.i32()

    def res(rr):
        g, e = rr.string(True), rr.i16()
        rr.tags()
        return g, e
    assert r.array(res, True) == [(group, NONE)]


# --------------------------------------------------------------------------
# OffsetDelete

def test_offset_delete_empty_group_id(kafka, conn):
    assert offset_delete(conn, "", {"t": [0]}) == (INVALID_GROUP_ID, {})


def test_offset_delete_unknown_group(kafka, conn):
    topic = kafka.create_topic()
    assert offset_delete(conn, unique("grp-none"), {topic: [0]}) == (GROUP_ID_NOT_FOUND, {})


def test_offset_delete_subscribed_topic(kafka, conn):
    topic, other = kafka.create_topic(), kafka.create_topic()
    group = unique("grp-od")
    stable_group(conn, group, protocols=[("range", subscription(topic, "no-such-topic"))])
    # An unknown partition is UNKNOWN_TOPIC_OR_PARTITION, subscribed or not:
    # KafkaApis drops it before the coordinator looks at subscriptions.
    top, res = offset_delete(conn, group, {topic: [0, 3], other: [0], "no-such-topic": [0]})
    assert (top, res) == (NONE, {(topic, 0): GROUP_SUBSCRIBED_TO_TOPIC,
                                 (topic, 3): UNKNOWN_TOPIC_OR_PARTITION, (other, 0): NONE,
                                 ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION})


def test_offset_delete_active_group_of_another_protocol_type(kafka, conn):
    topic = kafka.create_topic()
    group = unique("grp-od")
    stable_group(conn, group, protocol_type="connect")
    assert offset_delete(conn, group, {topic: [0]}) == (NON_EMPTY_GROUP, {})


def test_offset_delete_partition_without_offset(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    group = unique("grp-od")
    assert offset_commit(conn, group, {topic: [(0, 1, "")]}) == {(topic, 0): NONE}
    assert offset_delete(conn, group, {topic: [0, 1]}) == \
        (NONE, {(topic, 0): NONE, (topic, 1): NONE})

