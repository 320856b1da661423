"""
Storage and retention (docs/OPERATIONS.md, "Storage and retention"), with the
clients: a topic with short retention loses its old records and consumers
reset per auto.offset.reset; retention.bytes; a compacted topic keeps the
latest value per key and loses its tombstones after delete.retention.ms;
DeleteTopics of a large topic returns at once while another topic is
produced to; one broker of two runs the job. The brokers here run the job
every 100 ms on a database of their own (the shared one has topics whose
records other tests expect to keep).
"""

import re
import threading
import time

import pytest
from confluent_kafka import KafkaError, OFFSET_BEGINNING, TopicPartition

from conftest import REPO, Broker, Kafka, SqlSession, _new_pg, unique, wait_for

INTERVAL = ["--log-retention-check-interval-ms", "100"]


@pytest.fixture(scope="module")
def own_pg():
    cluster = _new_pg()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def rkafka(own_pg, workdir):
    b = Broker(own_pg, workdir, INTERVAL + ["--log-maintenance-budget", "20000"])
    b.start()
    k = Kafka(b)
    yield k
    k.close()
    b.stop_checked()


def default_version():
    control = (REPO / "sql" / "pg_kafka.control").read_text()
    return re.search(r"^default_version\s*=\s*'([^']+)'", control, re.M).group(1)


def log_start(kafka, topic, partition=0):
    return int(kafka.pg.sql("SELECT log_start_offset FROM kafka.partitions WHERE topic = '%s'"
                            " AND partition = %d" % (topic, partition)))


def rows(kafka, topic):
    return int(kafka.pg.sql("SELECT count(*) FROM kafka.records WHERE topic = '%s'" % topic))


def read_from(kafka, topic, offset, reset, want, timeout=20):
    """Assign partition 0 at offset with auto.offset.reset=reset and read
    until `want` records came; returns their offsets."""
    c = kafka.consumer(**{"auto.offset.reset": reset})
    try:
        c.assign([TopicPartition(topic, 0, offset)])
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < want:
            assert time.monotonic() < deadline, "read %r of %d from %s" % (got, want, topic)
            m = c.poll(0.2)
            if m is None:
                continue
            assert not m.error(), m.error()
            got.append(m.offset())
        return got
    finally:
        c.close()


def test_short_retention_expires_old_records_and_consumers_reset(rkafka):
    topic = rkafka.create_topic(unique("ret"), config={"segment.ms": "200",
                                                       "retention.ms": "1500"})
    rkafka.produce(topic, [(b"k%d" % i, b"old-%d" % i) for i in range(10)])
    # within seconds the whole first segment has expired
    wait_for(lambda: log_start(rkafka, topic) == 10, 20, "the log start offset to pass 10")
    wait_for(lambda: rows(rkafka, topic) == 0, 20, "the expired rows to be deleted")
    assert rkafka.watermarks(topic) == (10, 10)
    assert "retention: %s-0 log start offset now 10" % topic in rkafka.broker.log_text()
    # The next records must outlive the reads below however slow the
    # machine: with 1.5 s they could expire before a consumer reaches them.
    rkafka.pg.sql("UPDATE kafka.topic_configs SET value = '3600000'"
                  " WHERE topic = '%s' AND name = 'retention.ms'" % topic)
    rkafka.produce(topic, [(b"k", b"new-%d" % i) for i in range(3)])
    # offset 0 is out of range: earliest resets to the log start, latest to the end
    assert read_from(rkafka, topic, 0, "earliest", 3) == [10, 11, 12]
    # latest: only what is produced after the reset, never 10 .. 12
    c = rkafka.consumer(**{"auto.offset.reset": "latest"})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        p = rkafka.producer()

        def first_message():
            p.produce(topic, key=b"k", value=b"later", partition=0)
            p.flush(10)
            m = c.poll(0.2)
            return m if m is not None and not m.error() else None
        assert wait_for(first_message, 20, "the latest consumer to get a record").offset() >= 13
    finally:
        c.close()
    # a consumer that sets no reset policy is told
    c = rkafka.consumer(**{"auto.offset.reset": "error"})
    try:
        c.assign([TopicPartition(topic, 0, 0)])

        def out_of_range():
            m = c.poll(0.2)
            return m is not None and m.error() is not None and \
                m.error().code() == KafkaError._AUTO_OFFSET_RESET
        wait_for(out_of_range, 20, "the consumer to report the offset out of range")
    finally:
        c.close()


def test_retention_bytes_keeps_the_newest_segments(rkafka):
    topic = rkafka.create_topic(unique("bytes"), config={"segment.bytes": "1000",
                                                         "retention.bytes": "3000"})
    # 134 bytes a record as the job counts them (32 + key 2 + value 100)
    rkafka.produce(topic, [(b"%02d" % (i % 100), b"x" * 100) for i in range(100)],
                   batch_num_messages=1)
    wait_for(lambda: log_start(rkafka, topic) > 0, 20, "retention.bytes to move the log start")
    wait_for(lambda: rows(rkafka, topic) == 100 - log_start(rkafka, topic), 20,
             "the rows below the log start to go")
    kept = 100 - log_start(rkafka, topic)
    # whole segments: at least retention.bytes, less than that plus a segment
    assert 3000 <= kept * 134 < 3000 + 1000 + 2 * 134, kept
    low, high = rkafka.watermarks(topic)
    assert (low, high) == (100 - kept, 100)
    assert read_from(rkafka, topic, OFFSET_BEGINNING, "earliest", kept) == list(range(low, 100))


def test_compacted_topic_keeps_the_latest_value_per_key(rkafka):
    topic = rkafka.create_topic(unique("compact"), config={
        "cleanup.policy": "compact", "segment.ms": "100", "delete.retention.ms": "1500"})
    sent = []
    for rnd in range(3):
        sent += [(b"key-%d" % k, b"value-%d-%d" % (k, rnd)) for k in range(5)]
    sent.append({"key": b"key-4", "value": None})  # tombstone
    rkafka.produce(topic, sent)
    # superseded records go: 4 latest values and the tombstone are left
    wait_for(lambda: rows(rkafka, topic) == 5, 20, "compaction to leave 5 records")
    got = rkafka.consume(topic, 5)
    assert [(r.key, r.value) for r in got] == \
        [(b"key-%d" % k, b"value-%d-2" % k) for k in range(4)] + [(b"key-4", None)]
    # offsets keep their gaps, the consumer reads across them
    assert [r.offset for r in got] == [10, 11, 12, 13, 15]
    # delete.retention.ms later the tombstone goes too
    wait_for(lambda: rows(rkafka, topic) == 4, 20, "the tombstone to be removed")
    got = rkafka.consume(topic, 4)
    assert [r.key for r in got] == [b"key-%d" % k for k in range(4)]
    assert rkafka.watermarks(topic) == (0, 16)
    assert "compaction: %s-0" % topic in rkafka.broker.log_text()


def test_delete_topics_returns_at_once_and_other_topics_keep_producing(rkafka):
    big = rkafka.create_topic(unique("big"))
    n = 200000
    rkafka.pg.sql("INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", value)"
                  " SELECT '%s', 0, o, now(), convert_to(repeat('v', 100), 'UTF8')"
                  " FROM generate_series(0, %d) o;"
                  " UPDATE kafka.partitions SET next_offset = %d WHERE topic = '%s'"
                  % (big, n - 1, n, big))
    other = rkafka.create_topic(unique("other"))
    t0 = time.monotonic()
    fs = rkafka.admin().delete_topics([big], operation_timeout=30)
    fs[big].result(timeout=30)
    took = time.monotonic() - t0
    # produce to the other topic while the rows are being removed (their
    # tables are detached and dropped whole, which may be done before the
    # first record is acknowledged)
    produced = 0
    while True:
        rkafka.produce(other, [(b"k", b"v%d" % produced)])
        produced += 1
        if rows(rkafka, big) == 0:
            break
        assert time.monotonic() - t0 < 120, "the deleted topic's rows are still there"
    assert rkafka.consume(other, produced)[-1].value == b"v%d" % (produced - 1)
    assert took < 5, took
    log = rkafka.broker.log_text()
    # its tables went whole (detached, then dropped), not row by row
    wait_for(lambda: "dropped the tables of deleted topic %s " % big in rkafka.broker.log_text(),
             20, "the drop to be logged")
    assert "records of deleted topic %s-0" % big not in log
    assert int(rkafka.pg.sql("SELECT count(*) FROM kafka.chunks WHERE topic = '%s'" % big)) == 0
    assert int(rkafka.pg.sql("SELECT count(*) FROM kafka.deleted_partitions")) == 0


def test_high_rate_with_short_retention_drops_whole_chunks(rkafka):
    # Records expire as fast as they come: the partition's chunks are
    # created ahead of the producer and dropped whole once below the log
    # start, so the number of tables under the topic stays bounded, while a
    # producer and a consumer of another topic go on undisturbed.
    import threading
    topic = rkafka.create_topic(unique("churn"), config={"segment.ms": "200",
                                                         "retention.ms": "1000"})
    other = rkafka.create_topic(unique("calm"))
    stop = threading.Event()
    sent = [0]
    errors = []

    def produce():
        # paced at about 5,000 records/s: high for the 100 ms job, and the
        # same on a loaded machine as on an idle one
        p = rkafka.producer(**{"linger.ms": 20, "acks": "1"})
        try:
            while not stop.is_set():
                for i in range(500):
                    p.produce(topic, value=b"x" * 100, on_delivery=lambda e, m: e and errors.append(e))
                    sent[0] += 1
                p.poll(0)
                stop.wait(0.1)
        finally:
            p.flush(30)

    t = threading.Thread(target=produce)
    t.start()
    chunks_seen = []
    slowest = 0.0
    try:
        def dropped():
            return rkafka.broker.log_text().count("storage: dropped chunk ")

        deadline = time.monotonic() + 120
        n = 0
        while dropped() < 4:
            assert time.monotonic() < deadline, \
                "chunks dropped: %d, sent %d, chunks %r" % (dropped(), sent[0], chunks_seen[-5:])
            chunks_seen.append(int(rkafka.pg.sql(
                "SELECT count(*) FROM kafka.chunks WHERE topic = '%s' AND kind = 'chunk'" % topic)))
            # the other topic: produced to and read back, each within a bound
            t0 = time.monotonic()
            rkafka.produce(other, [(b"k", b"calm-%d" % n)])
            got = rkafka.consume(other, 1, offset=n, timeout=10)
            assert got[0].value == b"calm-%d" % n
            slowest = max(slowest, time.monotonic() - t0)
            n += 1
    finally:
        stop.set()
        t.join(60)
    assert not errors, errors[:3]
    # the tables under the topic stayed few: chunks are dropped as fast as
    # they are created
    assert max(chunks_seen) <= 8, chunks_seen
    assert slowest < 5, slowest
    log = rkafka.broker.log_text()
    assert "storage: new chunk kafka_chunks.records_" in log
    # what is left: the chunks from the one holding the log start offset on
    lo = int(rkafka.pg.sql("SELECT min(lo) FROM kafka.chunks WHERE topic = '%s'"
                           " AND kind = 'chunk'" % topic))
    assert lo > 0
    wait_for(lambda: int(rkafka.pg.sql(
        "SELECT count(*) FROM kafka.records r JOIN kafka.partitions p USING (topic, partition)"
        " WHERE r.topic = '%s' AND r.\"offset\" < p.log_start_offset" % topic)) == 0,
        30, "the rows below the log start to go")


def test_one_session_at_a_time(fresh_pg):
    # The job's advisory lock: while one session holds it (a broker's pass
    # in progress), another's call does nothing and returns no row.
    pg = fresh_pg
    pg.sql("SELECT kafka.create_topic('due', 1, '{\"retention.ms\": \"1000\"}');"
           " INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", value)"
           " VALUES ('due', 0, 0, now() - interval '1 hour', 'v');"
           " UPDATE kafka.partitions SET next_offset = 1 WHERE topic = 'due'")
    holder = SqlSession(pg)
    try:
        holder.run("BEGIN; SELECT pg_advisory_xact_lock(hashtext('pg_kafka maintenance'));")
        assert pg.sql("SELECT count(*) FROM kafka.run_maintenance()") == "0"
        assert pg.sql("SELECT log_start_offset FROM kafka.partitions WHERE topic = 'due'") == "0"
        holder.run("COMMIT;")
    finally:
        holder.close()
    assert pg.sql("SELECT action || ' ' || to_offset FROM kafka.run_maintenance()") == \
        "retention 1"


def test_a_log_start_move_does_not_queue_producers(fresh_pg):
    # A producer holds its partition's row until it commits. The job's
    # move of the log start skips such a row (the next pass moves it), so
    # that the partition's next producers do not queue behind the pass;
    # only once more records lie below the new log start than above it
    # does the move wait its turn.
    pg = fresh_pg

    def log_start(name):
        return pg.sql("SELECT log_start_offset FROM kafka.partitions WHERE topic = '%s'" % name)

    def topic(name, old, new):
        # the old records in a segment of their own, which the newer ones
        # roll; retention set once the segments are there
        pg.sql("SELECT kafka.create_topic('%s', 1, '{\"retention.ms\": \"-1\","
               " \"segment.ms\": \"1\"}');"
               " INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", value)"
               " SELECT '%s', 0, o, now() - interval '1 hour', 'v' FROM generate_series(0, %d) o;"
               " UPDATE kafka.partitions SET next_offset = %d WHERE topic = '%s'"
               % (name, name, old - 1, old, name))
        # a pass makes their segment, one at least segment.ms later rolls it
        pg.sql("SELECT count(*) FROM kafka.run_maintenance()")
        wait_for(lambda: pg.sql("SELECT count(*) FROM kafka.run_maintenance();"
                                " SELECT count(*) FROM kafka.segments"
                                " WHERE topic = '%s' AND rolled" % name) == "0\n1",
                 20, "the old records' segment rolled")
        pg.sql("INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", value)"
               " SELECT '%s', 0, o, now(), 'v' FROM generate_series(%d, %d) o;"
               " UPDATE kafka.partitions SET next_offset = %d WHERE topic = '%s';"
               % (name, old, old + new - 1, old + new, name))
        pg.sql("SELECT count(*) FROM kafka.run_maintenance();"
               " UPDATE kafka.topic_configs SET value = '1000'"
               " WHERE topic = '%s' AND name = 'retention.ms'" % name)
        assert log_start(name) == "0"

    topic("ahead", 3, 7)  # 3 records expire, 7 stay
    producer = SqlSession(pg)
    try:
        producer.run("BEGIN; UPDATE kafka.partitions SET next_offset = next_offset"
                     " WHERE topic = 'ahead';")
        # the pass returns without waiting for the producer's commit
        assert pg.sql("SELECT count(*) FROM kafka.run_maintenance()"
                      " WHERE action = 'retention'") == "0"
        assert log_start("ahead") == "0"
        producer.run("COMMIT;")
        assert pg.sql("SELECT action || ' ' || to_offset FROM kafka.run_maintenance()"
                      " WHERE action = 'retention'") == "retention 3"

        topic("behind", 8, 2)  # 8 expire, 2 stay: the move waits
        producer.run("BEGIN; UPDATE kafka.partitions SET next_offset = next_offset"
                     " WHERE topic = 'behind';")
        got = []
        job = threading.Thread(target=lambda: got.append(pg.sql(
            "SELECT action || ' ' || to_offset FROM kafka.run_maintenance()"
            " WHERE action = 'retention'")))
        job.start()
        wait_for(lambda: pg.sql("SELECT count(*) FROM pg_stat_activity"
                                " WHERE wait_event_type = 'Lock'"
                                " AND query LIKE '%run_maintenance%'") == "1",
                 20, "the pass waiting for the producer")
        assert log_start("behind") == "0"
        producer.run("COMMIT;")
        job.join(30)
        assert got == ["retention 8"]
        assert log_start("behind") == "8"
    finally:
        producer.close()


def test_the_job_runs_on_one_broker_and_survives_a_restart(fresh_pg, make_broker):
    a = make_broker(fresh_pg, *INTERVAL)
    b = make_broker(fresh_pg, *INTERVAL)
    ka = Kafka(a)
    try:
        topic = ka.create_topic(unique("shared"), config={"segment.ms": "100",
                                                         "retention.ms": "500"})
        ka.produce(topic, [(b"k", b"v%d" % i) for i in range(5)])
        wait_for(lambda: log_start(ka, topic) == 5, 20, "retention on one of the brokers")
        wait_for(lambda: rows(ka, topic) == 0, 20, "the rows to go")
        line = "retention: %s-0 log start offset now 5" % topic
        assert (line in a.log_text()) + (line in b.log_text()) == 1
        # after a restart (the other broker gone) the job carries on
        b.stop()
        a.restart()
        ka.produce(topic, [(b"k", b"w%d" % i) for i in range(5)])
        wait_for(lambda: log_start(ka, topic) == 10, 20, "retention after the restart")
        assert "retention: %s-0 log start offset now 10" % topic in a.log_text()
    finally:
        ka.close()


def test_list_offsets_by_timestamp_uses_the_segments(rkafka):
    # segments of about two records each; the search starts at the first
    # segment whose newest record is recent enough, and finds the same
    # offsets as a scan would
    topic = rkafka.create_topic(unique("times"), config={"segment.bytes": "100",
                                                         "retention.ms": "-1"})
    base = int(time.time() * 1000) - 60000
    stamps = [base + 1000 * i for i in range(10)]
    rkafka.produce(topic, [{"key": b"k", "value": b"v" * 20, "timestamp": ts} for ts in stamps],
                   batch_num_messages=1)
    wait_for(lambda: rkafka.pg.sql("SELECT coalesce(max(last_offset), -1) FROM kafka.segments"
                                   " WHERE topic = '%s'" % topic) == "9", 20,
             "the segments to cover the records")
    assert int(rkafka.pg.sql("SELECT count(*) FROM kafka.segments WHERE topic = '%s'"
                             % topic)) >= 4
    c = rkafka.consumer()
    try:
        for want, ts in [(0, base - 5), (0, stamps[0]), (3, stamps[3]), (4, stamps[3] + 1),
                         (9, stamps[9]), (-1, stamps[9] + 1)]:
            got = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)[0]
            assert got.offset == want, (ts - base, got.offset, want)
    finally:
        c.close()


def test_broker_defaults_apply_and_are_described(fresh_pg, make_broker):
    # log.retention.ms is the default of topics that do not set retention.ms:
    # DescribeConfigs says so, and the job applies it
    from confluent_kafka.admin import ConfigResource
    b = make_broker(fresh_pg, *INTERVAL, "--log-retention-ms", "700", "--log-roll-ms", "100")
    k = Kafka(b)
    try:
        topic = k.create_topic(unique("dflt"), config={"max.compaction.lag.ms": "60000"})
        res = ConfigResource(ConfigResource.Type.TOPIC, topic)
        got = k.admin().describe_configs([res])[res].result(timeout=30)
        assert got["retention.ms"].value == "700"
        assert got["segment.ms"].value == "100"
        assert got["max.compaction.lag.ms"].value == "60000"
        k.produce(topic, [(b"k", b"v%d" % i) for i in range(3)])
        wait_for(lambda: log_start(k, topic) == 3, 20, "the broker default retention")
    finally:
        k.close()


def test_upgrade_from_0_7_keeps_records_groups_and_transactions(fresh_pg, make_broker):
    # A 0.7 database with records, a group's committed offset and an aborted
    # transaction, updated in place to 0.8, and with records in more topics
    # to 0.9 (kafka.records becomes partitioned: every record is moved);
    # then the clients read it all back and the storage job works on it.
    pg = fresh_pg
    pg.sql("DROP EXTENSION pg_kafka; CREATE EXTENSION pg_kafka VERSION '0.7'")
    pg.sql("SELECT kafka.create_topic('legacy', 1, '{\"retention.ms\": \"-1\"}');"
           " SELECT count(*) FROM (SELECT kafka.produce('legacy', 'k' || i, 'v' || i, partition => 0)"
           "  FROM generate_series(0, 5) i) p;"
           " INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset)"
           "  VALUES ('legacy-group', 'legacy', 0, 2);"
           # offsets 6 and 7: an aborted transaction's records, 8 its marker
           " INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", key, value)"
           "  VALUES ('legacy', 0, 6, now(), 'x', 'aborted'), ('legacy', 0, 7, now(), 'x', 'aborted');"
           " INSERT INTO kafka.txn_batches (topic, partition, base_offset, last_offset,"
           "  producer_id, producer_epoch, control) VALUES ('legacy', 0, 6, 7, 77, 0, NULL),"
           "  ('legacy', 0, 8, 8, 77, 0, 0);"
           " INSERT INTO kafka.aborted_txns VALUES ('legacy', 0, 77, 6, 8);"
           " UPDATE kafka.partitions SET next_offset = 9 WHERE topic = 'legacy'")
    pg.sql("ALTER EXTENSION pg_kafka UPDATE TO '0.8'")
    assert pg.sql("SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka'") == "0.8"
    # 0.8: a topic of three partitions, one with its log start moved (the
    # rows below it are no longer records), and a deleted topic whose rows
    # the 0.8 job had not deleted yet
    pg.sql("SELECT kafka.create_topic('legacy-many', 3, '{\"retention.ms\": \"-1\"}');"
           " SELECT count(*) FROM (SELECT kafka.produce('legacy-many', 'k' || i, 'v' || i,"
           "  partition => i % 3) FROM generate_series(0, 899) i) p;"
           " UPDATE kafka.partitions SET log_start_offset = 100"
           "  WHERE topic = 'legacy-many' AND partition = 2;"
           " SELECT kafka.create_topic('legacy-gone', 1);"
           " SELECT count(*) FROM (SELECT kafka.produce('legacy-gone', 'k', 'v', partition => 0)"
           "  FROM generate_series(0, 9) i) p;"
           " SELECT kafka.delete_topic('legacy-gone')")
    before = pg.sql("SELECT string_agg(format('%s/%s/%s/%s/%s', r.topic, r.partition, r.\"offset\","
                    " md5(r.value), r.timestamp_ms), ','"
                    " ORDER BY r.topic, r.partition, r.\"offset\")"
                    " FROM kafka.records r JOIN kafka.partitions p USING (topic, partition)"
                    " WHERE r.\"offset\" >= p.log_start_offset")
    # to the version this tree's broker is built for (its statements use
    # what each version adds)
    pg.sql("ALTER EXTENSION pg_kafka UPDATE")
    assert pg.sql("SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka'") == \
        default_version()
    after = pg.sql("SELECT string_agg(format('%s/%s/%s/%s/%s', r.topic, r.partition, r.\"offset\","
                   " md5(r.value), r.timestamp_ms), ','"
                   " ORDER BY r.topic, r.partition, r.\"offset\") FROM kafka.records r")
    assert after == before
    assert len(after.split(",")) == 8 + 900 - 100
    assert pg.sql("SELECT relkind FROM pg_class WHERE oid = 'kafka.records'::regclass") == "p"
    # every row sits in a chunk of its partition, none in a DEFAULT leaf
    assert pg.sql("SELECT count(*) FROM kafka.records r JOIN kafka.chunks c"
                  " ON c.table_name = r.tableoid::regclass::text"
                  " OR 'kafka_chunks.' || c.table_name = r.tableoid::regclass::text"
                  " WHERE c.kind = 'chunk'") == str(8 + 900 - 100)
    b = make_broker(pg, *INTERVAL)
    k = Kafka(b)
    try:
        got = k.consume("legacy-many", 800, partitions=(0, 1, 2))
        assert sorted((r.partition, r.offset) for r in got) == \
            [(p, o) for p in (0, 1) for o in range(300)] + [(2, o) for o in range(100, 300)]
        assert all(r.value == b"v%d" % (r.offset * 3 + r.partition) for r in got)
        got = k.consume("legacy", 8, **{"isolation.level": "read_uncommitted"})
        assert [(r.offset, r.value) for r in got] == \
            [(i, b"v%d" % i) for i in range(6)] + [(6, b"aborted"), (7, b"aborted")]
        # read_committed skips the aborted transaction
        got = k.consume("legacy", 6, **{"isolation.level": "read_committed"})
        assert [r.offset for r in got] == list(range(6))
        # the group resumes at its committed offset
        c = k.consumer(**{"group.id": "legacy-group", "isolation.level": "read_committed"})
        try:
            c.subscribe(["legacy"])
            first = wait_for(lambda: (lambda m: m if m is not None and not m.error() else None)(
                c.poll(0.2)), 30, "the group's first record")
            assert first.offset() == 2
        finally:
            c.close()
        # the job covers the old records with segments, and retention
        # (now turned on) trims them and their transaction
        wait_for(lambda: pg.sql("SELECT coalesce(max(last_offset), -1) FROM kafka.segments"
                                " WHERE topic = 'legacy'") == "8", 20, "segments over 0.7's records")
        pg.sql("UPDATE kafka.topic_configs SET value = '1' WHERE topic = 'legacy'"
               " AND name = 'retention.ms'")
        wait_for(lambda: log_start(k, "legacy") == 9, 20, "retention of the old records")
        wait_for(lambda: pg.sql("SELECT (SELECT count(*) FROM kafka.records WHERE topic = 'legacy')"
                                " + (SELECT count(*) FROM kafka.txn_batches WHERE topic = 'legacy')"
                                " + (SELECT count(*) FROM kafka.aborted_txns WHERE topic = 'legacy')")
                 == "0", 20, "the records and their transaction to go")
    finally:
        k.close()
