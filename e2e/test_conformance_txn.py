"""
Protocol conformance of the transaction APIs: InitProducerId,
AddPartitionsToTxn (v0-3), AddOffsetsToTxn, EndTxn, TxnOffsetCommit,
DescribeTransactions and ListTransactions, with requests built by hand from
Kafka's message definitions and answered as Apache Kafka's broker answers
them (KafkaApis, TransactionCoordinator, TransactionMetadata,
TransactionStateManager, GroupCoordinatorService, OffsetMetadataManager).
One test per row of the "Transactions" table in docs/PROTOCOL.md.
"""

import pytest

import kafkaproto as kp
from conftest import sql_literal, unique
from test_transactions import describe_transactions, list_transactions

INIT_PRODUCER_ID = 22
ADD_PARTITIONS_TO_TXN = 24
ADD_OFFSETS_TO_TXN = 25
END_TXN = 26
TXN_OFFSET_COMMIT = 28
DESCRIBE_TRANSACTIONS = 65

UNKNOWN_TOPIC_OR_PARTITION = 3
TOPIC_AUTHORIZATION_FAILED = 29
INVALID_REQUEST = 42
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
CONCURRENT_TRANSACTIONS = 51
OPERATION_NOT_ATTEMPTED = 55
INVALID_GROUP_ID = 24
ILLEGAL_GENERATION = 22
PRODUCER_FENCED = 90
TRANSACTIONAL_ID_NOT_FOUND = 105

# Invalid UTF-8, an id no test starts a transaction under: Kafka (and
# pg_kafka) read it as "txn-\ufffd\ufffd", an unknown id.
NOT_TEXT = b"txn-\xff\xfe"


@pytest.fixture
def conn(kafka):
    with kp.Conn.to(kafka.bootstrap) as c:
        yield c


def call(conn, api_key, version, w, flexible_from):
    flex = version >= flexible_from
    if flex:
        w.tags()
    r = conn.request(api_key, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0)
    r.i32()  # throttle_time_ms
    return r


# --------------------------------------------------------------------------
# Requests (flexible from v2 for InitProducerId, v3 for the others).

def init_producer_id(conn, txn_id=None, timeout_ms=60000, producer_id=-1, epoch=-1,
                     version=4):
    """-> (error_code, producer_id, producer_epoch)"""
    w = kp.Writer().string(txn_id, version >= 2).i32(timeout_ms)
    if version >= 3:
        w.i64(producer_id).i16(epoch)
    r = call(conn, INIT_PRODUCER_ID, version, w, 2)
    return r.i16(), r.i64(), r.i16()


def add_partitions(conn, txn_id, pid, epoch, topics, version=3):
    """topics: [(name, [partitions])] -> {(topic, partition): error}"""
    flex = version >= 3

    def topic(ww, t):
        ww.string(t[0], flex).array(t[1], lambda w3, p: w3.i32(p), flex)
        if flex:
            ww.tags()

    w = kp.Writer().string(txn_id, flex).i64(pid).i16(epoch).array(topics, topic, flex)
    r = call(conn, ADD_PARTITIONS_TO_TXN, version, w, 3)
    out = {}

    def rtopic(rr):
        name = rr.string(flex)

        def part(r3):
            p, e = r3.i32(), r3.i16()
            if flex:
                r3.tags()
            out[(name, p)] = e

        rr.array(part, flex)
        if flex:
            rr.tags()

    r.array(rtopic, flex)
    return out


def add_offsets(conn, txn_id, pid, epoch, group, version=3):
    flex = version >= 3
    w = kp.Writer().string(txn_id, flex).i64(pid).i16(epoch).string(group, flex)
    return call(conn, ADD_OFFSETS_TO_TXN, version, w, 3).i16()


def end_txn(conn, txn_id, pid, epoch, commit, version=3):
    flex = version >= 3
    w = kp.Writer().string(txn_id, flex).i64(pid).i16(epoch).boolean(commit)
    return call(conn, END_TXN, version, w, 3).i16()


def txn_offset_commit(conn, txn_id, group, pid, epoch, topics, version=3, generation=-1,
                      member=""):
    """topics: [(name, [(partition, offset)])] -> {(topic, partition): error}"""
    flex = version >= 3

    def part(ww, p):
        ww.i32(p[0]).i64(p[1])
        if version >= 2:
            ww.i32(-1)
        ww.string(None, flex)
        if flex:
            ww.tags()

    def topic(ww, t):
        ww.string(t[0], flex).array(t[1], part, flex)
        if flex:
            ww.tags()

    w = kp.Writer().string(txn_id, flex).string(group, flex).i64(pid).i16(epoch)
    if version >= 3:
        w.i32(generation).string(member, True).string(None, True)
    w.array(topics, topic, flex)
    r = call(conn, TXN_OFFSET_COMMIT, version, w, 3)
    out = {}

    def rtopic(rr):
        name = rr.string(flex)

        def rpart(r3):
            p, e = r3.i32(), r3.i16()
            if flex:
                r3.tags()
            out[(name, p)] = e

        rr.array(rpart, flex)
        if flex:
            rr.tags()

    r.array(rtopic, flex)
    return out


def new_txn(conn, prefix="conf"):
    """A transactional id initialized: (id, producer id, epoch)."""
    txn_id = unique(prefix)
    err, pid, epoch = init_producer_id(conn, txn_id)
    assert err == 0, err
    return txn_id, pid, epoch


# --------------------------------------------------------------------------
# InitProducerId

def test_init_producer_id_empty_transactional_id(conn):
    assert init_producer_id(conn, "") == (INVALID_REQUEST, -1, -1)


@pytest.mark.parametrize("pid,epoch", [(1000, -1), (-1, 0)])
def test_init_producer_id_producer_id_without_epoch(conn, pid, epoch):
    assert init_producer_id(conn, unique("conf"), producer_id=pid, epoch=epoch)[0] == \
        INVALID_REQUEST
    assert init_producer_id(conn, None, producer_id=pid, epoch=epoch)[0] == INVALID_REQUEST


@pytest.mark.parametrize("timeout", [0, -1, 900001])
def test_init_producer_id_transaction_timeout(conn, timeout):
    txn_id = unique("conf")
    assert init_producer_id(conn, txn_id, timeout_ms=timeout) == \
        (INVALID_TRANSACTION_TIMEOUT, -1, -1)
    # Nothing was created: the id is still unknown.
    assert describe_transactions(conn, [txn_id])[txn_id]["error_code"] == \
        TRANSACTIONAL_ID_NOT_FOUND
    assert init_producer_id(conn, txn_id, timeout_ms=900000)[0] == 0


def test_init_producer_id_transactional_id_not_text(conn):
    # Kafka keeps any id, and so does pg_kafka (in its internal form).
    for suffix in (b"\xff\xfe", b"\x00id"):
        err, pid, epoch = init_producer_id(conn, unique("tx-bytes").encode() + suffix)
        assert (err, epoch) == (0, 0) and pid >= 0


@pytest.mark.parametrize("version", [3, 4])
def test_init_producer_id_idempotent_ignores_given_producer(conn, version):
    # Without a transactional id the coordinator hands out a new id at
    # epoch 0 whatever id, epoch and timeout are sent.
    _, known, _ = init_producer_id(conn)
    for pid, epoch in [(known, 0), (known, 0), (987654321, 4)]:
        err, new, new_epoch = init_producer_id(conn, None, timeout_ms=-1, producer_id=pid,
                                               epoch=epoch, version=version)
        assert (err, new_epoch) == (0, 0) and new not in (-1, known, pid)


def test_init_producer_id_other_producer_or_epoch_is_fenced(conn):
    txn_id, pid, epoch = new_txn(conn)
    assert init_producer_id(conn, txn_id, producer_id=pid + 1, epoch=epoch) == \
        (PRODUCER_FENCED, -1, -1)
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=epoch + 5) == \
        (PRODUCER_FENCED, -1, -1)
    assert init_producer_id(conn, txn_id, producer_id=pid + 1, epoch=epoch, version=3) == \
        (INVALID_PRODUCER_EPOCH, -1, -1)
    # The current producer id and epoch: the next epoch.
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=epoch) == (0, pid, epoch + 1)


@pytest.mark.parametrize("expected", [False, True])
def test_init_producer_id_epoch_exhausted_rotates_producer_id(kafka, conn, expected):
    # At epoch 32766 (Short.MaxValue - 1) the epochs are exhausted: the
    # next InitProducerId gets a new producer id at epoch 0
    # (TransactionMetadata.prepareProducerIdRotation).
    txn_id, pid, _ = new_txn(conn)
    kafka.pg.sql("UPDATE kafka.transactions SET producer_epoch = 32766"
                 " WHERE transactional_id = %s" % sql_literal(txn_id))
    given = dict(producer_id=pid, epoch=32766) if expected else {}
    err, new, epoch = init_producer_id(conn, txn_id, **given)
    assert (err, epoch) == (0, 0) and new not in (-1, pid)
    # The old id is fenced.
    assert end_txn(conn, txn_id, pid, 32766, False) == INVALID_PRODUCER_ID_MAPPING


def test_init_producer_id_retry_with_previous_epoch(conn):
    # A bump whose answer was lost: the retry carries the epoch before it
    # and gets the current epoch back, not bumped again
    # (TransactionMetadata.prepareIncrementProducerEpoch, lastProducerEpoch).
    txn_id, pid, epoch = new_txn(conn)
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=epoch) == (0, pid, epoch + 1)
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=epoch) == (0, pid, epoch + 1)
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=epoch + 1) == (0, pid, epoch + 2)
    # Neither the current epoch nor the one before it.
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=epoch) == \
        (PRODUCER_FENCED, -1, -1)
    # Without an expected epoch the last one is forgotten.
    assert init_producer_id(conn, txn_id) == (0, pid, epoch + 3)
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=epoch + 2) == \
        (PRODUCER_FENCED, -1, -1)


def test_init_producer_id_retry_after_producer_id_rotation(kafka, conn):
    # After epochs ran out the previous producer id with its exhausted epoch
    # is a retry of the rotation (TransactionCoordinator.isValidProducerId):
    # it gets the new id at epoch 0 again.
    txn_id, pid, _ = new_txn(conn)
    kafka.pg.sql("UPDATE kafka.transactions SET producer_epoch = 32766"
                 " WHERE transactional_id = %s" % sql_literal(txn_id))
    err, new, epoch = init_producer_id(conn, txn_id, producer_id=pid, epoch=32766)
    assert (err, epoch) == (0, 0) and new != pid
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=32766) == (0, new, 0)
    assert init_producer_id(conn, txn_id, producer_id=pid, epoch=5) == (PRODUCER_FENCED, -1, -1)


def test_init_producer_id_new_transactional_id_with_producer_id(conn):
    # A new id has no epoch yet, so any producer id and epoch are accepted
    # (TransactionCoordinator.isValidProducerId) and it starts at epoch 0.
    err, pid, epoch = init_producer_id(conn, unique("conf"), producer_id=123456789, epoch=7)
    assert (err, epoch) == (0, 0) and pid not in (-1, 123456789)


@pytest.mark.parametrize("with_partition", [True, False])
def test_init_producer_id_ongoing_transaction_is_aborted(kafka, conn, with_partition):
    # Kafka fences the epoch, aborts and answers CONCURRENT_TRANSACTIONS;
    # the client's retry bumps the epoch again.
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    if with_partition:
        assert add_partitions(conn, txn_id, pid, epoch, [(topic, [0])]) == {(topic, 0): 0}
    else:
        assert add_offsets(conn, txn_id, pid, epoch, unique("g")) == 0
    assert init_producer_id(conn, txn_id) == (CONCURRENT_TRANSACTIONS, -1, -1)
    # Until the retry: CompleteAbort at the fenced epoch, and the start time
    # of the transaction that was aborted.
    d = describe_transactions(conn, [txn_id])[txn_id]
    assert (d["state"], d["producer_epoch"], d["topics"]) == ("CompleteAbort", epoch + 1, {})
    assert d["start_time_ms"] > 0
    # The old producer is fenced already.
    assert end_txn(conn, txn_id, pid, epoch, True) == PRODUCER_FENCED
    assert init_producer_id(conn, txn_id) == (0, pid, epoch + 2)


# --------------------------------------------------------------------------
# AddPartitionsToTxn

def test_add_partitions_unknown_transactional_id(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    assert add_partitions(conn, unique("none"), 5, 0, [(topic, [0, 1])]) == \
        {(topic, 0): INVALID_PRODUCER_ID_MAPPING, (topic, 1): INVALID_PRODUCER_ID_MAPPING}


def test_add_partitions_transactional_id_not_text(kafka, conn):
    topic = kafka.create_topic(partitions=1)
    assert add_partitions(conn, NOT_TEXT, 5, 0, [(topic, [0])]) == \
        {(topic, 0): INVALID_PRODUCER_ID_MAPPING}


@pytest.mark.parametrize("version,fenced", [(3, PRODUCER_FENCED), (2, PRODUCER_FENCED),
                                            (1, INVALID_PRODUCER_EPOCH),
                                            (0, INVALID_PRODUCER_EPOCH)])
def test_add_partitions_other_producer_or_epoch(kafka, conn, version, fenced):
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    assert add_partitions(conn, txn_id, pid + 1, epoch, [(topic, [0])], version) == \
        {(topic, 0): INVALID_PRODUCER_ID_MAPPING}
    assert add_partitions(conn, txn_id, pid, epoch + 1, [(topic, [0])], version) == \
        {(topic, 0): fenced}


def test_add_partitions_unknown_partition_fails_all(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    txn_id, pid, epoch = new_txn(conn)
    assert add_partitions(conn, txn_id, pid, epoch, [(topic, [0, 7]), ("no-such-" + topic, [0])]) \
        == {(topic, 0): OPERATION_NOT_ATTEMPTED, (topic, 7): UNKNOWN_TOPIC_OR_PARTITION,
            ("no-such-" + topic, 0): UNKNOWN_TOPIC_OR_PARTITION}
    assert describe_transactions(conn, [txn_id])[txn_id]["state"] == "Empty"


def test_add_partitions_none_makes_the_transaction_ongoing(conn):
    # No partitions: an empty answer, and the transaction is Ongoing
    # (TransactionMetadata.prepareAddPartitions with an empty set).
    txn_id, pid, epoch = new_txn(conn)
    assert add_partitions(conn, txn_id, pid, epoch, []) == {}
    d = describe_transactions(conn, [txn_id])[txn_id]
    assert (d["state"], d["topics"]) == ("Ongoing", {}) and d["start_time_ms"] > 0
    assert end_txn(conn, txn_id, pid, epoch, True) == 0


def test_add_partitions_empty_transactional_id(kafka, conn):
    topic = kafka.create_topic(partitions=2)
    assert add_partitions(conn, "", 5, 0, [(topic, [0, 1])]) == \
        {(topic, 0): INVALID_REQUEST, (topic, 1): INVALID_REQUEST}


def test_add_partitions_partition_checked_before_transactional_id(kafka, conn):
    # KafkaApis checks the partitions before the coordinator sees the id.
    topic = kafka.create_topic(partitions=1)
    for txn_id in ("", NOT_TEXT):
        assert add_partitions(conn, txn_id, 5, 0, [(topic, [0, 3])]) == \
            {(topic, 0): OPERATION_NOT_ATTEMPTED, (topic, 3): UNKNOWN_TOPIC_OR_PARTITION}


@pytest.mark.parametrize("internal", ["__consumer_offsets", "__transaction_state"])
def test_add_partitions_internal_topic(kafka, conn, internal):
    # Internal topics are left out of the topics a client may write
    # (KafkaApis filters them before authorizing).
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    assert add_partitions(conn, txn_id, pid, epoch, [(topic, [0]), (internal, [0])]) == \
        {(topic, 0): OPERATION_NOT_ATTEMPTED, (internal, 0): TOPIC_AUTHORIZATION_FAILED}


# --------------------------------------------------------------------------
# AddOffsetsToTxn

def test_add_offsets_transactional_id_checks(conn):
    txn_id, pid, epoch = new_txn(conn)
    group = unique("g")
    assert add_offsets(conn, "", pid, epoch, group) == INVALID_REQUEST
    assert add_offsets(conn, unique("none"), pid, epoch, group) == INVALID_PRODUCER_ID_MAPPING
    assert add_offsets(conn, NOT_TEXT, pid, epoch, group) == INVALID_PRODUCER_ID_MAPPING
    assert add_offsets(conn, txn_id, pid + 1, epoch, group) == INVALID_PRODUCER_ID_MAPPING


@pytest.mark.parametrize("version,fenced", [(3, PRODUCER_FENCED), (2, PRODUCER_FENCED),
                                            (1, INVALID_PRODUCER_EPOCH),
                                            (0, INVALID_PRODUCER_EPOCH)])
def test_add_offsets_other_epoch(conn, version, fenced):
    txn_id, pid, epoch = new_txn(conn)
    assert add_offsets(conn, txn_id, pid, epoch + 1, unique("g"), version) == fenced
    assert add_offsets(conn, txn_id, pid, epoch, unique("g"), version) == 0


def test_add_offsets_empty_group_id(conn):
    # The transaction coordinator does not check the group id.
    txn_id, pid, epoch = new_txn(conn)
    assert add_offsets(conn, txn_id, pid, epoch, "") == 0


# --------------------------------------------------------------------------
# EndTxn

def test_end_txn_transactional_id_checks(conn):
    txn_id, pid, epoch = new_txn(conn)
    assert end_txn(conn, "", pid, epoch, True) == INVALID_REQUEST
    assert end_txn(conn, unique("none"), pid, epoch, True) == INVALID_PRODUCER_ID_MAPPING
    assert end_txn(conn, NOT_TEXT, pid, epoch, True) == INVALID_PRODUCER_ID_MAPPING
    assert end_txn(conn, txn_id, pid + 1, epoch, True) == INVALID_PRODUCER_ID_MAPPING


@pytest.mark.parametrize("version,fenced", [(3, PRODUCER_FENCED), (2, PRODUCER_FENCED),
                                            (1, INVALID_PRODUCER_EPOCH),
                                            (0, INVALID_PRODUCER_EPOCH)])
def test_end_txn_other_epoch(conn, version, fenced):
    txn_id, pid, epoch = new_txn(conn)
    assert end_txn(conn, txn_id, pid, epoch + 1, False, version) == fenced


@pytest.mark.parametrize("commit", [True, False])
def test_end_txn_without_transaction(conn, commit):
    txn_id, pid, epoch = new_txn(conn)
    assert end_txn(conn, txn_id, pid, epoch, commit) == INVALID_TXN_STATE


@pytest.mark.parametrize("commit", [True, False])
def test_end_txn_after_completion(kafka, conn, commit):
    # The same outcome again is a retry (no error); the other one is
    # INVALID_TXN_STATE.
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    assert add_partitions(conn, txn_id, pid, epoch, [(topic, [0])]) == {(topic, 0): 0}
    assert end_txn(conn, txn_id, pid, epoch, commit) == 0
    assert end_txn(conn, txn_id, pid, epoch, commit) == 0
    assert end_txn(conn, txn_id, pid, epoch, not commit) == INVALID_TXN_STATE


# --------------------------------------------------------------------------
# TxnOffsetCommit

def test_txn_offset_commit_group_not_in_transaction(kafka, conn):
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    group = unique("g")
    assert txn_offset_commit(conn, txn_id, group, pid, epoch, [(topic, [(0, 5)])]) == \
        {(topic, 0): INVALID_TXN_STATE}
    assert add_offsets(conn, txn_id, pid, epoch, group) == 0
    assert txn_offset_commit(conn, txn_id, group, pid, epoch, [(topic, [(0, 5)])]) == \
        {(topic, 0): 0}


def test_txn_offset_commit_v3_generation_for_a_group_the_coordinator_lacks(kafka, conn):
    # OffsetMetadataManager: a group the coordinator does not have takes a
    # commit without a generation (a simple group), and refuses one with a
    # generation >= 0 (ILLEGAL_GENERATION): a member of a group that is
    # gone must not commit.
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    group = unique("g")
    assert add_offsets(conn, txn_id, pid, epoch, group) == 0
    assert txn_offset_commit(conn, txn_id, group, pid, epoch, [(topic, [(0, 5)])],
                             generation=3, member="m-1") == {(topic, 0): ILLEGAL_GENERATION}
    assert txn_offset_commit(conn, txn_id, group, pid, epoch, [(topic, [(0, 5)])],
                             generation=-1) == {(topic, 0): 0}


@pytest.mark.parametrize("version,fenced", [(3, PRODUCER_FENCED), (2, PRODUCER_FENCED),
                                            (1, INVALID_PRODUCER_EPOCH),
                                            (0, INVALID_PRODUCER_EPOCH)])
def test_txn_offset_commit_producer_checks(kafka, conn, version, fenced):
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    group = unique("g")
    parts = [(topic, [(0, 5)])]
    assert txn_offset_commit(conn, unique("none"), group, pid, epoch, parts, version) == \
        {(topic, 0): INVALID_PRODUCER_ID_MAPPING}
    assert txn_offset_commit(conn, NOT_TEXT, group, pid, epoch, parts, version) == \
        {(topic, 0): INVALID_PRODUCER_ID_MAPPING}
    assert txn_offset_commit(conn, txn_id, group, pid + 1, epoch, parts, version) == \
        {(topic, 0): INVALID_PRODUCER_ID_MAPPING}
    assert txn_offset_commit(conn, txn_id, group, pid, epoch + 1, parts, version) == \
        {(topic, 0): fenced}
    assert txn_offset_commit(conn, "", group, pid, epoch, parts, version) == \
        {(topic, 0): INVALID_REQUEST}


def test_txn_offset_commit_unknown_partition_checked_first(kafka, conn):
    # KafkaApis answers the partitions that do not exist and sends the
    # others on; they get the coordinator's answer.
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    group = unique("g")
    parts = [(topic, [(0, 5), (9, 5)]), ("no-such-" + topic, [(0, 5)])]
    missing = {(topic, 9): UNKNOWN_TOPIC_OR_PARTITION,
               ("no-such-" + topic, 0): UNKNOWN_TOPIC_OR_PARTITION}
    for tid, grp, error in [(unique("none"), group, INVALID_PRODUCER_ID_MAPPING),
                            (txn_id, "", INVALID_GROUP_ID),
                            (txn_id, group, INVALID_TXN_STATE)]:
        assert txn_offset_commit(conn, tid, grp, pid, epoch, parts) == \
            {**missing, (topic, 0): error}
    assert add_offsets(conn, txn_id, pid, epoch, group) == 0
    assert txn_offset_commit(conn, txn_id, group, pid, epoch, parts) == \
        {**missing, (topic, 0): 0}


def test_txn_offset_commit_empty_group_id_checked_first(kafka, conn):
    # GroupCoordinatorService refuses "" before the transaction is verified.
    topic = kafka.create_topic(partitions=1)
    txn_id, pid, epoch = new_txn(conn)
    for tid in (txn_id, "", unique("none")):
        assert txn_offset_commit(conn, tid, "", pid, epoch, [(topic, [(0, 5)])]) == \
            {(topic, 0): INVALID_GROUP_ID}


# --------------------------------------------------------------------------
# DescribeTransactions

def test_describe_transactions_empty_and_unknown_ids(conn):
    missing = unique("none")
    d = describe_transactions(conn, ["", missing])
    assert d[""]["error_code"] == INVALID_REQUEST
    assert d[missing]["error_code"] == TRANSACTIONAL_ID_NOT_FOUND


def test_describe_transactions_id_not_text_and_repeated(conn):
    # Every id asked is answered, in order, a repeated one as often as
    # asked; an unknown one (here not UTF-8) is not found.
    txn_id, pid, _ = new_txn(conn)
    w = kp.Writer().array([txn_id, NOT_TEXT, txn_id], lambda ww, i: ww.string(i, True), True)
    r = call(conn, DESCRIBE_TRANSACTIONS, 0, w, 0)

    def state(rr):
        err, tid = rr.i16(), rr.string(True)
        rr.string(True), rr.i32(), rr.i64()
        got_pid = rr.i64()
        rr.i16()
        rr.array(lambda t: (t.string(True), t.array(lambda x: x.i32(), True), t.tags()), True)
        rr.tags()
        return err, tid, got_pid

    assert r.array(state, True) == [
        (0, txn_id, pid),
        (TRANSACTIONAL_ID_NOT_FOUND, NOT_TEXT.decode("utf-8", "replace"), -1),
        (0, txn_id, pid)]


def test_describe_transactions_empty_state(conn):
    txn_id, pid, epoch = new_txn(conn)
    d = describe_transactions(conn, [txn_id])[txn_id]
    assert (d["error_code"], d["state"], d["producer_id"], d["producer_epoch"],
            d["start_time_ms"], d["topics"]) == (0, "Empty", pid, epoch, -1, {})


# --------------------------------------------------------------------------
# ListTransactions

def test_list_transactions_unknown_state_filter_listed_once(conn):
    err, unknown, txns = list_transactions(conn, states=["Bogus", "Ongoing", "Bogus"])
    assert (err, unknown) == (0, ["Bogus"])


def test_list_transactions_state_names_without_transactions(conn):
    # Kafka's other states are known names: not reported as unknown.
    new_txn(conn)
    names = ["PrepareCommit", "PrepareAbort", "PrepareEpochFence", "Dead"]
    assert list_transactions(conn, states=names) == (0, [], {})


def test_list_transactions_duration_filter_keeps_empty(kafka, conn):
    # An Empty transaction has start time -1, so it passes any duration
    # filter below the current time (TransactionStateManager).
    topic = kafka.create_topic(partitions=1)
    empty, epid, _ = new_txn(conn)
    ongoing, pid, epoch = new_txn(conn)
    assert add_partitions(conn, ongoing, pid, epoch, [(topic, [0])]) == {(topic, 0): 0}
    _, _, txns = list_transactions(conn, producer_ids=[epid, pid], duration_ms=3600_000)
    assert txns == {empty: (epid, "Empty")}
    _, _, txns = list_transactions(conn, producer_ids=[epid, pid], duration_ms=0)
    assert txns == {empty: (epid, "Empty"), ongoing: (pid, "Ongoing")}
    # A duration longer than the time since 1970 keeps nothing.
    _, _, txns = list_transactions(conn, producer_ids=[epid, pid], duration_ms=2**62)
    assert txns == {}
