"""Several brokers on one database as one Kafka cluster (docs/OPERATIONS.md,
"Running a cluster"): every broker answers the same live brokers, controller
and partition leaders; groups and transactional ids have one coordinator;
a broker that dies, or that cannot reach PostgreSQL, is out within its
session timeout and clients carry on through the others."""

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

    def on_delivery(err, msg):
        if err is None:
            acked[msg.value()] = (msg.partition(), msg.offset())

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
        kill(cluster[coord])
        alive = [n for n in cluster if n != coord]
        base = len(acked)
        produce(400)
        wait_for(lambda: len(acked) >= base + 1, 60, "a record acknowledged after the kill")
        recovery_produce = time.monotonic() - t_kill
        consumed_before = len(sinks[0]) + len(sinks[1])
        wait_for(lambda: len(sinks[0]) + len(sinks[1]) > consumed_before, 60,
                 "a record consumed after the kill")
        recovery_consume = time.monotonic() - t_kill
        assert p.flush(60) == 0
        wait_for(lambda: set(acked) <= {v for s in sinks for _, _, v in s}, 90,
                 "every acknowledged record consumed")
        print("\nrecovery after SIGKILL of broker %d: first produce ack %.2fs, first "
              "record consumed %.2fs" % (coord, recovery_produce, recovery_consume))
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
