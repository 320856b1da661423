"""Several brokers on one database as one Kafka cluster (docs/OPERATIONS.md,
"Running a cluster"): every broker answers the same live brokers, controller
and partition leaders; groups and transactional ids have one coordinator;
a broker that dies, or that cannot reach PostgreSQL, is out within its
session timeout and clients carry on through the others."""

import json
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

import kafkaproto
from conftest import BROKER_BIN, Broker, free_port, wait_for
from test_chaos import ProxiedPg, StreamProxy

SESSION_MS = 3000
HEARTBEAT_MS = 300
NOT_LEADER_OR_FOLLOWER = 6
FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75


def cluster_args(node, rack=None):
    args = ["--node-id", str(node), "--broker-session-timeout-ms", str(SESSION_MS),
            "--broker-heartbeat-interval-ms", str(HEARTBEAT_MS)]
    if rack:
        args += ["--broker-rack", rack]
    return args


def start_cluster(make_broker, pg, nodes=(1, 2, 3)):
    return {n: make_broker(pg, *cluster_args(n)) for n in nodes}


def view(bootstrap, topic):
    """Metadata v7 from one broker: (brokers {id: "host:port"}, controller,
    {partition: (error, leader, epoch)})."""
    w = kafkaproto.Writer()
    w.array([topic], lambda ww, t: ww.string(t, False), False)
    w.boolean(False)  # allow_auto_topic_creation
    with kafkaproto.Conn.to(bootstrap) as c:
        r = c.request(kafkaproto.METADATA, 7, w.getvalue())
    r.i32()  # throttle

    def broker(rr):
        b = (rr.i32(), rr.string(False), rr.i32())
        rr.string(False)
        return b

    brokers = {b[0]: "%s:%d" % (b[1], b[2]) for b in r.array(broker, False)}
    r.string(False)  # cluster id
    controller = r.i32()
    parts = {}

    def part(rr):
        err, index, leader, epoch = rr.i16(), rr.i32(), rr.i32(), rr.i32()
        rr.array(lambda x: x.i32(), False)
        rr.array(lambda x: x.i32(), False)
        rr.array(lambda x: x.i32(), False)
        parts[index] = (err, leader, epoch)

    def top(rr):
        rr.i16()
        rr.string(False)
        rr.boolean()
        rr.array(part, False)

    r.array(top, False)
    return brokers, controller, parts


def same_view(cluster, topic, live, partitions):
    """Every broker of live answers the same brokers (exactly live), the
    same controller and the same leaders, all of them live."""
    views = []
    for n in live:
        try:
            views.append(view(cluster[n].bootstrap, topic))
        except (OSError, kafkaproto.ProtocolError, TimeoutError):
            return None
    first = views[0]
    if any(v != first for v in views) or set(first[0]) != set(live):
        return None
    if len(first[2]) != partitions or any(p[0] or p[1] not in live for p in first[2].values()):
        return None
    return first


def kill(b):
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(10)
    Broker.live.remove(b)
    b.proc = None


def create_topic(pg, name, partitions):
    pg.sql("SELECT kafka.create_topic('%s', %d)" % (name, partitions))


def test_one_view_and_node_id_guard(fresh_pg, make_broker, workdir):
    cluster = start_cluster(make_broker, fresh_pg)
    create_topic(fresh_pg, "cl_view", 8)
    v = wait_for(lambda: same_view(cluster, "cl_view", [1, 2, 3], 8), 20,
                 "one view of 3 brokers from every broker")
    brokers, controller, parts = v
    assert controller == 1
    assert brokers == {n: b.bootstrap for n, b in cluster.items()}
    # Leadership is spread: every broker leads some of the 8 partitions.
    assert Counter(p[1] for p in parts.values()).keys() == {1, 2, 3}

    # A second live broker with node id 2 refuses to start, saying why.
    port_args = ["--listen", "127.0.0.1:%d" % free_port()]
    proc = subprocess.run([str(BROKER_BIN), "--pg", fresh_pg.conninfo, *port_args,
                           *cluster_args(2)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=30, cwd=str(workdir))
    out = proc.stdout.decode()
    assert proc.returncode == 1, out
    assert "node id 2 is held by another live broker" in out

    # A clean stop gives the lease back at once; a broker rejoining takes
    # back a share of leadership, with epochs that only grew.
    epochs = {p: e for p, (_, _, e) in parts.items()}
    cluster[3].stop_checked()
    v2 = wait_for(lambda: same_view(cluster, "cl_view", [1, 2], 8), 10,
                  "leadership over brokers 1 and 2 after broker 3 left")
    assert all(v2[2][p][2] >= epochs[p] for p in epochs)
    assert all(v2[2][p][2] > epochs[p] for p in epochs if parts[p][1] == 3)
    cluster[3].start()
    v3 = wait_for(lambda: same_view(cluster, "cl_view", [1, 2, 3], 8), 20,
                  "broker 3 back in the view")
    assert 3 in {p[1] for p in v3[2].values()}
    assert all(v3[2][p][2] >= v2[2][p][2] for p in epochs)

    # The wrong broker, and stale or future epochs, answer as Kafka does.
    moved = next(p for p, (_, leader, e) in v3[2].items() if e > 0)
    _, leader, epoch = v3[2][moved]
    other = next(n for n in cluster if n != leader)
    rows_before = fresh_pg.rows("SELECT next_offset FROM kafka.partitions "
                                "WHERE topic = 'cl_view' AND partition = %d" % moved)
    with kafkaproto.Conn.to(cluster[other].bootstrap) as c:
        res = kafkaproto.produce(c, "cl_view", moved,
                                 kafkaproto.record_batch([(None, b"x", ())]), version=3)
        assert res["error_code"] == NOT_LEADER_OR_FOLLOWER, res
        # From Produce v10 the answer names the leader and its address
        # (KIP-951), as Fetch does from v16.
        host, port = cluster[leader].bootstrap.rsplit(":", 1)
        res = kafkaproto.produce(c, "cl_view", moved,
                                 kafkaproto.record_batch([(None, b"x", ())]), version=10)
        assert res["error_code"] == NOT_LEADER_OR_FOLLOWER, res
        assert res["current_leader"] == (leader, epoch), res
        assert [e[:3] for e in res["node_endpoints"]] == [(leader, host, int(port))], res
        f = kafkaproto.fetch(c, 16, "cl_view", moved, 0)
        assert f["error_code"] == NOT_LEADER_OR_FOLLOWER, f
        assert f["current_leader"] == (leader, epoch), f
        assert [e[:3] for e in f["node_endpoints"]] == [(leader, host, int(port))], f
    assert fresh_pg.rows("SELECT next_offset FROM kafka.partitions "
                         "WHERE topic = 'cl_view' AND partition = %d" % moved) == rows_before
    with kafkaproto.Conn.to(cluster[leader].bootstrap) as c:
        for asked, code in ((epoch - 1, FENCED_LEADER_EPOCH), (epoch + 1, UNKNOWN_LEADER_EPOCH),
                            (epoch, 0), (-1, 0)):
            f = kafkaproto.fetch(c, 16, "cl_view", moved, 0, current_leader_epoch=asked)
            assert f["error_code"] == code, (asked, f)


def committed_consumer(bootstrap, group, topic, sink, stop, errors):
    """A group member that commits each record's offset synchronously after
    taking it: sink gets (partition, offset, value) per record taken."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                  "partition.assignment.strategy": "range",
                  "topic.metadata.refresh.interval.ms": 1000})
    assigned = []

    def on_assign(consumer, parts):
        assigned.append(sorted(p.partition for p in parts))

    c.subscribe([topic], on_assign=on_assign)
    try:
        while not stop.is_set():
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    errors.append(str(m.error()))
                continue
            sink.append((m.partition(), m.offset(), m.value()))
            while not stop.is_set():
                try:
                    c.commit(offsets=[TopicPartition(topic, m.partition(), m.offset() + 1)],
                             asynchronous=False)
                    break
                except Exception as e:  # coordinator moving: try again
                    errors.append("commit: %s" % e)
                    time.sleep(0.1)
    finally:
        c.close()
    return assigned


@pytest.mark.e2e_timeout(300)
def test_group_and_producer_survive_broker_kill(fresh_pg, make_broker):
    cluster = start_cluster(make_broker, fresh_pg)
    topic, group = "cl_fail", "cl_fail_group"
    create_topic(fresh_pg, topic, 8)
    wait_for(lambda: same_view(cluster, topic, [1, 2, 3], 8), 20, "one view")

    stop = threading.Event()
    sinks = [[], []]
    errors = []
    assignments = [[], []]

    def member(i, bootstrap):
        assignments[i] = committed_consumer(bootstrap, group, topic, sinks[i], stop, errors)

    members = [threading.Thread(target=member, args=(0, cluster[2].bootstrap)),
               threading.Thread(target=member, args=(1, cluster[3].bootstrap))]
    for t in members:
        t.start()

    # The producer bootstraps to broker 1, the members to 2 and 3.
    acked = {}
    p = Producer({"bootstrap.servers": cluster[1].bootstrap, "enable.idempotence": True,
                  "acks": "all", "linger.ms": 5, "message.timeout.ms": 60000,
                  "topic.metadata.refresh.interval.ms": 1000})

    first_ack_after = {}  # partition -> first acknowledgement after the kill
    kill_time = [None]

    def on_delivery(err, msg):
        if err is None:
            acked[msg.value()] = (msg.partition(), msg.offset())
            if kill_time[0] is not None:
                first_ack_after.setdefault(msg.partition(), time.monotonic() - kill_time[0])

    seq = [0]

    def produce(n):
        for _ in range(n):
            v = b"v%06d" % seq[0]
            p.produce(topic, v, key=v, on_delivery=on_delivery)
            seq[0] += 1
            p.poll(0)
            time.sleep(0.002)

    try:
        produce(400)
        p.flush(30)
        wait_for(lambda: len(sinks[0]) + len(sinks[1]) >= 400, 60,
                 "the group to take the first 400 records")
        # Two members, 8 partitions: 4 each, all different.
        split = [set(p for p, _, _ in s) for s in sinks]
        assert len(split[0]) == 4 and len(split[1]) == 4 and not split[0] & split[1], split

        # Kill the group's coordinator (it also leads some partitions).
        groups = AdminClient({"bootstrap.servers": cluster[1].bootstrap}).list_groups(
            group, timeout=10)
        coord = groups[0].broker.id
        assert coord in cluster
        _, _, parts = view(cluster[1].bootstrap, topic)
        assert any(leader == coord for _, leader, _ in parts.values())
        t_kill = time.monotonic()
        kill_time[0] = t_kill
        kill(cluster[coord])
        alive = [n for n in cluster if n != coord]
        produce(400)
        wait_for(lambda: p.poll(0.05) is not None and len(first_ack_after) == 8, 60,
                 "records acknowledged on every partition after the kill")
        recovery_produce = max(first_ack_after.values())
        consumed_before = len(sinks[0]) + len(sinks[1])
        wait_for(lambda: len(sinks[0]) + len(sinks[1]) > consumed_before, 60,
                 "a record consumed after the kill")
        recovery_consume = time.monotonic() - t_kill
        assert p.flush(60) == 0
        wait_for(lambda: set(acked) <= {v for s in sinks for _, _, v in s}, 90,
                 "every acknowledged record consumed")
        print("\nrecovery after SIGKILL of broker %d: every partition acknowledging again "
              "after %.2fs, the group consuming again after %.2fs" % (
                  coord, recovery_produce, recovery_consume))
        wait_for(lambda: same_view(cluster, topic, alive, 8), 20, "one view of the survivors")
    finally:
        stop.set()
        for t in members:
            t.join(30)

    taken = Counter(v for s in sinks for _, _, v in s)
    assert set(acked) <= set(taken)
    # A record is taken twice only if its commit was cut by the failover:
    # at most one per partition.
    dups = [v for v, k in taken.items() if k > 1]
    print("records acknowledged %d, taken %d, taken twice %d" % (
        len(acked), sum(taken.values()), len(dups)))
    assert len(dups) <= 8, dups[:20]
    # The committed positions cover everything acknowledged.
    ends = {}
    for v, (part, off) in acked.items():
        ends[part] = max(ends.get(part, 0), off + 1)
    c = Consumer({"bootstrap.servers": cluster[alive[0]].bootstrap, "group.id": group})
    try:
        got = c.committed([TopicPartition(topic, i) for i in range(8)], timeout=20)
    finally:
        c.close()
    for tp in got:
        assert tp.offset >= ends.get(tp.partition, 0), (tp, ends)


def test_broker_cut_off_from_postgresql(fresh_pg, make_broker):
    """A broker that cannot renew its lease stops serving (its clients are
    disconnected) and the others take its partitions over."""
    proxy = StreamProxy(fresh_pg.port)
    try:
        cluster = {1: make_broker(fresh_pg, *cluster_args(1)),
                   2: make_broker(fresh_pg, *cluster_args(2)),
                   3: make_broker(ProxiedPg(fresh_pg, proxy), *cluster_args(3))}
        topic = "cl_cut"
        create_topic(fresh_pg, topic, 6)
        wait_for(lambda: same_view(cluster, topic, [1, 2, 3], 6), 20, "one view")
        acked = []
        p = Producer({"bootstrap.servers": cluster[3].bootstrap, "acks": "all",
                      "enable.idempotence": True, "linger.ms": 5,
                      "topic.metadata.refresh.interval.ms": 1000,
                      "message.timeout.ms": 60000})

        def cb(err, msg):
            if err is None:
                acked.append(msg.value())

        for i in range(60):
            p.produce(topic, b"a%d" % i, key=b"%d" % i, on_delivery=cb)
        assert p.flush(30) == 0

        t_cut = time.monotonic()
        proxy.stall()
        # Broker 3 fences itself: it closes connections instead of answering.
        def fenced():
            try:
                with kafkaproto.Conn.to(cluster[3].bootstrap, timeout=2) as c:
                    kafkaproto.api_versions(c, 0)
                return False
            except (OSError, kafkaproto.ProtocolError, TimeoutError):
                return True
        wait_for(fenced, SESSION_MS / 1000 * 4, "broker 3 to stop serving")
        fenced_after = time.monotonic() - t_cut
        assert fenced_after >= SESSION_MS / 1000 * 0.8
        wait_for(lambda: same_view(cluster, topic, [1, 2], 6), 20,
                 "brokers 1 and 2 leading everything")
        for i in range(60):
            p.produce(topic, b"b%d" % i, key=b"%d" % i, on_delivery=cb)
        assert p.flush(60) == 0
        assert len(acked) == 120
        print("\nbroker 3 stopped serving %.2fs after it was cut off" % fenced_after)
        assert "could not renew its lease" in cluster[3].log_text()
    finally:
        proxy.resume()
        wait_for(lambda: "holds its lease again" in cluster[3].log_text()
                 or cluster[3].proc is None, 30, "broker 3 serving again")
        proxy.close()


def coordinator_of(pg, key):
    """The node coordinating key, as the brokers place it: Java's hashCode
    to one of 50 partitions, then over the live brokers in leadership order."""
    h = 0
    for ch in key.encode():
        h = (h * 31 + ch) & 0xFFFFFFFF
    if h >= 1 << 31:
        h -= 1 << 32
    a = 0 if h == -(1 << 31) else abs(h)
    live = [int(r[0]) for r in pg.rows("SELECT node_id FROM kafka.live_brokers() ORDER BY place")]
    return live[(a % 50) % len(live)]


def test_end_txn_wakes_read_committed_fetch_on_another_broker(fresh_pg, make_broker):
    cluster = start_cluster(make_broker, fresh_pg)
    topic = "cl_markers"
    create_topic(fresh_pg, topic, 1)
    _, _, parts = wait_for(lambda: same_view(cluster, topic, [1, 2, 3], 1), 20, "one view")
    leader = parts[0][1]
    txn_id = next(t for t in ("cl-tx-%d" % i for i in range(100))
                  if coordinator_of(fresh_pg, t) != leader)
    coord = coordinator_of(fresh_pg, txn_id)
    c = Consumer({"bootstrap.servers": cluster[leader].bootstrap, "group.id": "cl_markers_g",
                  "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                  "fetch.wait.max.ms": 10000, "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    c.poll(1.0)  # connected and long-polling
    p = Producer({"bootstrap.servers": cluster[coord].bootstrap, "transactional.id": txn_id})
    try:
        p.init_transactions(30)
        p.begin_transaction()
        for i in range(5):
            p.produce(topic, b"m%d" % i)
        p.flush(30)
        time.sleep(0.5)  # the fetch is waiting again: the records are not committed
        t0 = time.monotonic()
        p.commit_transaction(30)
        got = []
        while len(got) < 5 and time.monotonic() - t0 < 30:
            m = c.poll(0.1)
            if m is not None and not m.error():
                got.append(m.value())
        waited = time.monotonic() - t0
    finally:
        c.close()
    assert got == [b"m%d" % i for i in range(5)]
    print("\nread_committed records arrived %.2fs after EndTxn on broker %d "
          "(fetch led by broker %d, max wait 10s)" % (waited, coord, leader))
    assert waited < 5, waited


@pytest.mark.e2e_timeout(300)
def test_transactional_loop_survives_coordinator_kill(fresh_pg, make_broker):
    """consume-transform-produce with exactly-once output while the broker
    coordinating the transactional id dies."""
    cluster = start_cluster(make_broker, fresh_pg)
    src, dst, group = "cl_src", "cl_dst", "cl_eos"
    create_topic(fresh_pg, src, 4)
    create_topic(fresh_pg, dst, 4)
    wait_for(lambda: same_view(cluster, src, [1, 2, 3], 4) and
             same_view(cluster, dst, [1, 2, 3], 4), 20, "one view")
    txn_id = "cl-eos-1"
    coord = coordinator_of(fresh_pg, txn_id)
    other = next(n for n in cluster if n != coord)
    n_in = 300
    p0 = Producer({"bootstrap.servers": cluster[other].bootstrap, "enable.idempotence": True})
    for i in range(n_in):
        p0.produce(src, b"in%05d" % i, key=b"%d" % i)
    assert p0.flush(30) == 0

    cons = Consumer({"bootstrap.servers": cluster[other].bootstrap, "group.id": group,
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "isolation.level": "read_committed", "session.timeout.ms": 6000})
    prod = Producer({"bootstrap.servers": cluster[other].bootstrap, "transactional.id": txn_id,
                     "transaction.timeout.ms": 20000, "message.timeout.ms": 20000})
    prod.init_transactions(30)
    cons.subscribe([src])
    done = 0
    killed_at = None
    recovered = None
    aborts = 0
    deadline = time.monotonic() + 180
    try:
        while done < n_in and time.monotonic() < deadline:
            msgs = cons.consume(20, 1.0)
            msgs = [m for m in msgs if not m.error()]
            if not msgs:
                continue
            try:
                prod.begin_transaction()
                for m in msgs:
                    prod.produce(dst, b"out-" + m.value(), key=m.key())
                prod.send_offsets_to_transaction(
                    cons.position(cons.assignment()), cons.consumer_group_metadata(), 30)
                prod.commit_transaction(30)
                done += len(msgs)
                if killed_at is not None and recovered is None:
                    recovered = time.monotonic() - killed_at
            except Exception as e:
                err = e.args[0] if e.args else None
                if err is not None and hasattr(err, "fatal") and err.fatal():
                    raise
                aborts += 1
                try:
                    prod.abort_transaction(30)
                except Exception:
                    pass
                # Rewind to the committed positions and take them again.
                committed = cons.committed(cons.assignment(), timeout=30)
                for tp in committed:
                    cons.seek(TopicPartition(src, tp.partition,
                                             tp.offset if tp.offset >= 0 else 0))
            if killed_at is None and done >= n_in // 3:
                killed_at = time.monotonic()
                kill(cluster[coord])
    finally:
        cons.close()
    assert done >= n_in, (done, aborts)
    assert recovered is not None
    print("\ntransactional loop: coordinator broker %d killed, next commit %.2fs later, "
          "%d aborted attempts" % (coord, recovered, aborts))
    alive = [n for n in cluster if n != coord]
    out = Consumer({"bootstrap.servers": cluster[alive[0]].bootstrap, "group.id": "cl_eos_check",
                    "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
    out.subscribe([dst])
    seen = Counter()
    t0 = time.monotonic()
    try:
        while sum(seen.values()) < n_in and time.monotonic() - t0 < 60:
            m = out.poll(0.5)
            if m is not None and not m.error():
                seen[m.value()] += 1
    finally:
        out.close()
    assert set(seen) == {b"out-in%05d" % i for i in range(n_in)}
    assert all(k == 1 for k in seen.values()), [v for v, k in seen.items() if k > 1][:10]


def test_kcat_sees_one_cluster(fresh_pg, make_broker):
    """kcat bootstrapped to any broker lists the same brokers and leaders,
    produces through the leaders and reads everything back through
    another broker."""
    cluster = start_cluster(make_broker, fresh_pg)
    topic = "cl_kcat"
    create_topic(fresh_pg, topic, 8)
    wait_for(lambda: same_view(cluster, topic, [1, 2, 3], 8), 20, "one view")

    def kcat(*args, input=None):
        r = subprocess.run(["kcat", *args], input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        return r.stdout

    views = []
    for n in cluster:
        md = json.loads(kcat("-L", "-J", "-b", cluster[n].bootstrap, "-t", topic))
        brokers = sorted((b["id"], b["name"]) for b in md["brokers"])
        leaders = sorted((p["partition"], p["leader"]) for p in md["topics"][0]["partitions"])
        views.append((brokers, leaders))
    assert all(v == views[0] for v in views)
    assert [b[0] for b in views[0][0]] == [1, 2, 3]
    assert {leader for _, leader in views[0][1]} == {1, 2, 3}

    data = "".join("k%d:v%d\n" % (i, i) for i in range(200)).encode()
    kcat("-P", "-b", cluster[1].bootstrap, "-t", topic, "-K:", "-X", "acks=all", input=data)
    out = kcat("-C", "-b", cluster[3].bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", "%k:%s\\n")
    got = sorted(out.decode().split())
    assert got == sorted("k%d:v%d" % (i, i) for i in range(200))
    per_partition = fresh_pg.rows("SELECT count(DISTINCT partition) FROM kafka.records "
                                  "WHERE topic = 'cl_kcat'")
    assert int(per_partition[0][0]) > 1


def test_kafka_python_group_over_two_brokers(fresh_pg, make_broker):
    """Two kafka-python members of one group, bootstrapped to different
    brokers, meet at one coordinator and split 8 partitions 4/4."""
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.errors import CommitFailedError
    cluster = start_cluster(make_broker, fresh_pg)
    topic, group = "cl_kpy", "cl_kpy_group"
    create_topic(fresh_pg, topic, 8)
    wait_for(lambda: same_view(cluster, topic, [1, 2, 3], 8), 20, "one view")
    prod = KafkaProducer(bootstrap_servers=cluster[3].bootstrap, acks="all")
    for i in range(400):
        prod.send(topic, key=b"%d" % i, value=b"kp%d" % i)
    prod.flush(30)
    prod.close()

    got = [[], []]
    parts = [set(), set()]
    stop = threading.Event()
    errors = []

    def member(i, bootstrap):
        try:
            c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                              auto_offset_reset="earliest", enable_auto_commit=False,
                              session_timeout_ms=10000, heartbeat_interval_ms=500)
            while not stop.is_set():
                for tp, msgs in c.poll(200).items():
                    got[i].extend(m.value for m in msgs)
                try:
                    c.commit()
                except CommitFailedError:
                    pass  # a rebalance came first: the records come again
                parts[i] = {tp.partition for tp in c.assignment()}
            c.close()
        except Exception as e:  # reported by the test thread
            errors.append(repr(e))

    threads = [threading.Thread(target=member, args=(0, cluster[1].bootstrap)),
               threading.Thread(target=member, args=(1, cluster[2].bootstrap))]
    for t in threads:
        t.start()
    # The assignments as they were when both held 4: once the test stops
    # them, the member that closes first leaves the group and the other
    # may take all 8 before it notices.
    split = []

    def both_consuming():
        if errors:
            return True
        if len(got[0]) + len(got[1]) >= 400 and len(parts[0]) == 4 and len(parts[1]) == 4:
            split[:] = [set(parts[0]), set(parts[1])]
            return True
        return False

    try:
        wait_for(both_consuming, 90, "both members consuming 4 partitions each")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors
    assert len(split[0]) == 4 and len(split[1]) == 4 and not split[0] & split[1], split
    taken = Counter(got[0] + got[1])
    assert set(taken) == {b"kp%d" % i for i in range(400)}
    # A rebalance while a member had records not yet committed hands them
    # to the other member again (at-least-once, as with Kafka).
    dups = [v for v, k in taken.items() if k > 1]
    assert len(dups) <= 8 * 20, dups[:10]


def test_kafkajs_group_over_two_brokers(fresh_pg, make_broker):
    """Two KafkaJS members of one group, bootstrapped to different brokers,
    end up with 4 of 8 partitions each and read every record."""
    import shutil
    from pathlib import Path
    if shutil.which("node") is None:
        pytest.fail("node is not installed")
    js = Path(__file__).resolve().parent / "js"
    cluster = start_cluster(make_broker, fresh_pg)
    topic, group = "cl_kjs", "cl_kjs_group"
    create_topic(fresh_pg, topic, 8)
    wait_for(lambda: same_view(cluster, topic, [1, 2, 3], 8), 20, "one view")
    p = Producer({"bootstrap.servers": cluster[3].bootstrap, "acks": "all"})
    for i in range(400):
        p.produce(topic, b"j%d" % i, key=b"%d" % i)
    assert p.flush(30) == 0

    assigned = [None, None]
    values = []
    errors = []
    procs = []

    def reader(i, proc):
        for line in proc.stdout:
            ev = json.loads(line)
            if ev["event"] == "assign":
                assigned[i] = ev["partitions"]
            elif ev["event"] == "records":
                values.extend(r[2] for r in ev["records"])
            elif ev["event"] == "error":
                errors.append(ev["error"])

    readers = []
    for i, n in enumerate((1, 2)):
        job = {"bootstrap": cluster[n].bootstrap, "topic": topic, "groupId": group,
               "clientId": "cl-kjs-%d" % i}
        proc = subprocess.Popen(["node", str(js / "group_consume.js"), json.dumps(job)],
                                cwd=str(js), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        procs.append(proc)
        t = threading.Thread(target=reader, args=(i, proc), daemon=True)
        t.start()
        readers.append(t)
    try:
        wait_for(lambda: errors or (assigned[0] is not None and assigned[1] is not None and
                                    len(assigned[0]) == 4 and len(assigned[1]) == 4 and
                                    set(values) >= {"j%d" % i for i in range(400)}), 120,
                 "two KafkaJS members with 4 partitions each, every record read")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert not errors, errors
    assert not set(assigned[0]) & set(assigned[1])
    dups = [v for v, k in Counter(values).items() if k > 1]
    assert len(dups) <= 8, dups[:10]
