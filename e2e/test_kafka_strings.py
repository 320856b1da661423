"""
Kafka strings and bytes round-trip byte for byte where Kafka accepts them:
offset metadata with a NUL byte (OffsetCommit, TxnOffsetCommit, OffsetFetch;
kafka.consumer_offsets.metadata is bytea), a group member's protocol
metadata and assignment (kept in the coordinator's memory), and record
header keys (stored as the wire bytes), and group ids and transactional
ids with a NUL byte or bytes that are not UTF-8 (kept in an internal form,
docs/GROUPS.md "Ids PostgreSQL text cannot hold"): ill-formed UTF-8 comes
back as U+FFFD, as from Kafka, whose broker decodes ids as Java strings.
"""

import pytest

import kafkaproto as kp
from conftest import sql_literal, unique, wait_for
from kmsg import call
from test_groups import flexible_request, join_group, offset_commit, sync_group

OFFSET_FETCH = 9
FIND_COORDINATOR = 10
LIST_GROUPS = 16
DESCRIBE_GROUPS = 15
DELETE_GROUPS = 42
DESCRIBE_TRANSACTIONS = 65
LIST_TRANSACTIONS = 66
NONE = 0
MEMBER_ID_REQUIRED = 79
GROUP_ID_NOT_FOUND = 69
REPL = "\ufffd".encode()

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



# ---- group and transactional ids, byte for byte -----------------------------
# Raw parsers: every id is read as bytes, never decoded, so that what the
# broker sent is what is compared.

def rstr(r, compact=True):
    n = r.uvarint() - 1 if compact else r.i16()
    return None if n < 0 else r.take(n)


def id_base(prefix):
    return unique(prefix).encode()


def list_groups_raw(conn):
    """ListGroups v4 -> {group id bytes: state}"""
    r = flexible_request(conn, LIST_GROUPS, 4,
                         lambda w: w.array([], lambda ww, s: ww.string(s, True), True), True)
    r.i32()
    assert r.i16() == NONE

    def group(rr):
        gid, _ptype, state = rstr(rr), rstr(rr), rstr(rr)
        rr.tags()
        return gid, state.decode()
    return dict(r.array(group, True))


def describe_groups_raw(conn, groups, members=None):
    """DescribeGroups v5 -> [(error, group id bytes, state)]; the client
    ids of the members are appended to members (a list) if given."""
    def fill(w):
        w.array(groups, lambda ww, g: ww.string(g, True), True)
        w.boolean(False)

    r = flexible_request(conn, DESCRIBE_GROUPS, 5, fill, True)
    r.i32()

    def member(rr):
        rstr(rr)
        rstr(rr)
        cid = rstr(rr)
        rstr(rr)
        if members is not None:
            members.append(cid)
        rr.bytes_(True)
        rr.bytes_(True)
        rr.tags()

    def grp(rr):
        err, gid, state = rr.i16(), rstr(rr), rstr(rr)
        rstr(rr)
        rstr(rr)
        rr.array(member, True)
        rr.i32()
        rr.tags()
        return err, gid, state.decode()
    return r.array(grp, True)


def delete_groups_raw(conn, groups):
    """DeleteGroups v2 -> [(group id bytes, error)]"""
    r = flexible_request(conn, DELETE_GROUPS, 2,
                         lambda w: w.array(groups, lambda ww, g: ww.string(g, True), True), True)
    r.i32()

    def res(rr):
        out = (rstr(rr), rr.i16())
        rr.tags()
        return out
    return r.array(res, True)


def offset_fetch_v8_raw(conn, groups, topic):
    """OffsetFetch v8, partition 0 of topic for each group ->
    [(group id bytes, offset, error)]"""
    def fill(w):
        def grp(ww, g):
            ww.string(g, True)
            ww.array([topic], lambda x, t: x.string(t, True)
                     .array([0], lambda y, p: y.i32(p), True).tags(), True)
            ww.tags()
        w.array(groups, grp, True)
        w.boolean(False)

    r = flexible_request(conn, OFFSET_FETCH, 8, fill, True)
    r.i32()

    def grp(rr):
        gid = rstr(rr)
        offs = []

        def part(x):
            x.i32()
            offs.append(x.i64())
            x.i32()
            rstr(x)
            x.i16()
            x.tags()

        def top(x):
            rstr(x)
            x.array(part, True)
            x.tags()
        rr.array(top, True)
        err = rr.i16()
        rr.tags()
        return gid, offs[0] if offs else None, err
    return r.array(grp, True)


def find_coordinator_v4_raw(conn, keys, key_type):
    """FindCoordinator v4 -> [(key bytes, error)]"""
    def fill(w):
        w.i8(key_type)
        w.array(keys, lambda ww, k: ww.string(k, True), True)

    r = flexible_request(conn, FIND_COORDINATOR, 4, fill, True)
    r.i32()

    def coord(rr):
        key = rstr(rr)
        rr.i32()
        rstr(rr)
        rr.i32()
        err = rr.i16()
        rstr(rr)
        rr.tags()
        return key, err
    return r.array(coord, True)


def test_group_ids_with_nul_are_distinct_groups(kafka, conn, pg):
    topic = kafka.create_topic()
    base = id_base("gid-nul")
    one, two = base + b"\x00one", base + b"\x00two"
    assert find_coordinator_v4_raw(conn, [one, two], 0) == [(one, NONE), (two, NONE)]
    assert offset_commit(conn, one, {topic: [(0, 5, None)]}, version=2) == {(topic, 0): NONE}
    assert offset_commit(conn, two, {topic: [(0, 7, b"")]}, version=8) == {(topic, 0): NONE}
    assert offset_fetch_raw(conn, one, topic, 0)[:1] == (5,)
    assert offset_fetch_raw(conn, two, topic, 0)[:1] == (7,)
    assert offset_fetch_v8_raw(conn, [one, two], topic) == [(one, 5, NONE), (two, 7, NONE)]

    listed = list_groups_raw(conn)
    assert listed.get(one) == "Empty" and listed.get(two) == "Empty"
    assert not any(g.startswith(base) and g not in (one, two) for g in listed)
    assert describe_groups_raw(conn, [one, two]) == [(NONE, one, "Empty"), (NONE, two, "Empty")]

    # What SQL sees: the internal form, U+0000 written as U+E000 U+E001.
    rows = pg.rows("SELECT group_id, committed_offset FROM kafka.consumer_offsets"
                   " WHERE group_id LIKE %s ORDER BY 1" % sql_literal(base.decode() + "%"))
    assert [(g, int(o)) for g, o in rows] == [
        (base.decode() + "\ue000\ue001one", 5), (base.decode() + "\ue000\ue001two", 7)]

    assert delete_groups_raw(conn, [one]) == [(one, NONE)]
    assert offset_fetch_raw(conn, one, topic, 0)[:1] == (-1,)
    assert offset_fetch_raw(conn, two, topic, 0)[:1] == (7,)
    listed = list_groups_raw(conn)
    assert one not in listed and listed.get(two) == "Empty"
    assert delete_groups_raw(conn, [one]) == [(one, GROUP_ID_NOT_FOUND)]


def test_group_id_escape_code_point_is_its_own_group(kafka, conn):
    """U+E000, the escape of the internal form, is an ordinary character."""
    topic = kafka.create_topic()
    base = id_base("gid-esc")
    esc, nul = base + "\ue000\ue001".encode(), base + b"\x00"
    assert offset_commit(conn, esc, {topic: [(0, 3, None)]}) == {(topic, 0): NONE}
    assert offset_commit(conn, nul, {topic: [(0, 4, None)]}) == {(topic, 0): NONE}
    assert offset_fetch_v8_raw(conn, [esc, nul], topic) == [(esc, 3, NONE), (nul, 4, NONE)]
    listed = list_groups_raw(conn)
    assert esc in listed and nul in listed


def test_group_id_not_utf8_comes_back_as_replacement(kafka, conn):
    topic = kafka.create_topic()
    base = id_base("gid-bad")
    sent, kafkas = base + b"\xff\xc0\x80x", base + REPL * 3 + b"x"
    assert offset_commit(conn, sent, {topic: [(0, 11, None)]}) == {(topic, 0): NONE}
    # Kafka's broker reads both as the same Java string: the same group.
    assert offset_fetch_v8_raw(conn, [sent, kafkas], topic) == [
        (kafkas, 11, NONE), (kafkas, 11, NONE)]
    assert list_groups_raw(conn).get(kafkas) == "Empty"
    assert describe_groups_raw(conn, [sent]) == [(NONE, kafkas, "Empty")]
    assert find_coordinator_v4_raw(conn, [sent], 0) == [(kafkas, NONE)]
    assert delete_groups_raw(conn, [sent]) == [(kafkas, NONE)]


def describe_transactions_raw(conn, ids):
    """DescribeTransactions v0 -> [(error, id bytes, state, {topic: [partitions]})]"""
    r = flexible_request(conn, DESCRIBE_TRANSACTIONS, 0,
                         lambda w: w.array(ids, lambda ww, i: ww.string(i, True), True), True)
    r.i32()

    def topic(rr):
        name = rstr(rr).decode()
        parts = rr.array(lambda x: x.i32(), True)
        rr.tags()
        return name, sorted(parts)

    def state(rr):
        err, tid, st = rr.i16(), rstr(rr), rstr(rr).decode()
        rr.i32()
        rr.i64()
        rr.i64()
        rr.i16()
        topics = dict(rr.array(topic, True))
        rr.tags()
        return err, tid, st, topics
    return r.array(state, True)


def list_transactions_raw(conn):
    """ListTransactions v0 -> {id bytes: state}"""
    def fill(w):
        w.array([], lambda ww, s: ww.string(s, True), True)
        w.array([], lambda ww, p: ww.i64(p), True)

    r = flexible_request(conn, LIST_TRANSACTIONS, 0, fill, True)
    r.i32()
    assert r.i16() == NONE
    r.array(lambda rr: rstr(rr), True)

    def state(rr):
        tid = rstr(rr)
        rr.i64()
        st = rstr(rr).decode()
        rr.tags()
        return tid, st
    return dict(r.array(state, True))


@pytest.mark.parametrize("suffix,back", [(b"\x00t", b"\x00t"), (b"\xfe\x00", REPL + b"\x00")])
def test_transactional_id_round_trips(kafka, conn, suffix, back):
    topic = kafka.create_topic()
    base = id_base("tid")
    txn, kafkas = base + suffix, base + back
    assert find_coordinator_v4_raw(conn, [txn], 1) == [(kafkas, NONE)]
    r = call(conn, 22, 4, {"transactional_id": txn})
    assert r["error_code"] == NONE
    pid, epoch = r["producer_id"], r["producer_epoch"]
    r = call(conn, 24, 3, {"v3_and_below_transactional_id": txn,
                           "v3_and_below_producer_id": pid,
                           "v3_and_below_producer_epoch": epoch,
                           "v3_and_below_topics": [{"name": topic, "partitions": [0]}]})
    assert [p["partition_error_code"] for t in r["results_by_topic_v3_and_below"]
            for p in t["results_by_partition"]] == [NONE]
    # Kafka's string is what it describes, whichever bytes name it.
    assert describe_transactions_raw(conn, [kafkas]) == [(NONE, kafkas, "Ongoing", {topic: [0]})]
    assert list_transactions_raw(conn).get(kafkas) == "Ongoing"
    assert call(conn, 26, 3, {"transactional_id": txn, "producer_id": pid,
                              "producer_epoch": epoch, "committed": True})["error_code"] == NONE
    (got,) = describe_transactions_raw(conn, [txn])
    assert got[:3] == (NONE, kafkas, "CompleteCommit")
    assert list_transactions_raw(conn).get(kafkas) == "CompleteCommit"
    # A different id after the NUL is a different transactional id.
    (other,) = describe_transactions_raw(conn, [base + b"\x00u"])
    assert other[:2] == (105, base + b"\x00u")  # TRANSACTIONAL_ID_NOT_FOUND


def test_kafka_python_group_ids_with_nul(kafka):
    """A real client: two kafka-python consumers whose group ids differ only
    after a NUL join, consume and commit as two groups; the admin client
    lists and reads them back."""
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    topic = kafka.create_topic()
    base = unique("kp-gid")
    one, two = base + "\0one", base + "\0two"
    p = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    for i in range(3):
        p.send(topic, b"v%d" % i, partition=0)
    p.flush()
    p.close()

    tp = TopicPartition(topic, 0)
    c = KafkaConsumer(topic, bootstrap_servers=kafka.bootstrap, group_id=one,
                      enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        got = []
        wait_for(lambda: got.extend(r for rs in c.poll(timeout_ms=500).values()
                                    for r in rs) or len(got) >= 3, 60,
                 "the group with a NUL in its id consumes 3 records")
        c.commit()
        assert c.committed(tp) == 3
    finally:
        c.close()
    c = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=two,
                      enable_auto_commit=False)
    try:
        c.assign([tp])
        c.commit({tp: OffsetAndMetadata(1, "")})
        assert c.committed(tp) == 1
    finally:
        c.close()

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        listed = {g for g, _ in admin.list_consumer_groups()}
        assert {one, two} <= listed
        assert admin.list_consumer_group_offsets(one)[tp].offset == 3
        assert admin.list_consumer_group_offsets(two)[tp].offset == 1
        (desc,) = admin.describe_consumer_groups([one])
        assert desc.group == one
    finally:
        admin.close()



def test_client_id_round_trips(kafka, conn, pg):
    """The request header's client id is an id too: a group member's client
    id comes back as Kafka would send it, and a client-id quota entity is
    stored in the same internal form the broker compares it in."""
    cid = unique("cli").encode() + b"\x00x\xff"
    kafkas = cid[:-1] + REPL
    conn.client_id = cid
    group = unique("strings-cid")
    r = join_group(conn, group, "")
    assert r["error"] == MEMBER_ID_REQUIRED
    assert join_group(conn, group, r["member_id"])["error"] == NONE
    members = []
    assert describe_groups_raw(conn, [group], members)[0][:2] == (NONE, group.encode())
    assert members == [kafkas]

    ent = [{"entity_type": "client-id", "entity_name": cid}]
    r = call(conn, 49, 1, {"entries": [{"entity": ent, "ops": [
        {"key": "consumer_byte_rate", "value": 1000.0}]}]})
    assert [e["error_code"] for e in r["entries"]] == [NONE]
    try:
        internal = cid[:-3].decode() + "\ue000\ue001x\ufffd"
        assert pg.rows("SELECT client_id FROM kafka.client_quotas WHERE client_id LIKE %s"
                       % sql_literal(cid[:-3].decode() + "%")) == [[internal]]
        r = call(conn, 48, 1, {"components": [
            {"entity_type": "client-id", "match_type": 0, "match": cid}], "strict": True})
        assert [(x["entity_type"], x["entity_name"]) for e in r["entries"]
                for x in e["entity"]] == [("client-id", kafkas.decode())]
    finally:
        call(conn, 49, 1, {"entries": [{"entity": ent, "ops": [
            {"key": "consumer_byte_rate", "remove": True}]}]})


def test_describe_configs_group_id_with_nul(conn):
    from test_conformance_data import describe_configs_raw
    group = unique("cfg-gid").encode() + b"\x00x"
    (res,) = describe_configs_raw(conn, [(32, group, None)])
    assert (res["error_code"], res["type"], res["name"].encode()) == (NONE, 32, group)
    assert res["configs"]
