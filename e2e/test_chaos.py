"""
Fault injection: producers of every client family at acks=all keep writing
while PostgreSQL, the network between the broker and PostgreSQL, or the
broker itself fails, and afterwards

- every acknowledged record is stored at the offset it was acknowledged
  with, with its key and value;
- the idempotent producers wrote no record twice;
- the broker serves again by itself: every producer gets new records
  acknowledged after the fault, with nobody restarting anything by hand
  (except after the broker's own SIGKILL, where the test starts it again,
  as a supervisor would).

The producers, each on a partition of its own:

| name            | client                        | idempotent |
|-----------------|-------------------------------|------------|
| confluent-idem  | confluent-kafka (librdkafka)  | yes        |
| confluent       | confluent-kafka (librdkafka)  | no         |
| kafka-python    | kafka-python 2.0              | no (it has no idempotence) |
| kafkajs-idem    | KafkaJS 2.2 (node, js/chaos_produce.js) | yes |

Each fault is triggered by progress (every producer has records
acknowledged), lasts until the broker or the producers have felt it (a
condition, never a fixed time), and is followed by progress again.

The full suite runs with `make chaos` (PGK_CHAOS=1), which prints a table
of records sent, acknowledged and found per fault and producer (the rows
are appended to the file PGK_CHAOS_REPORT names). `make test` runs only
test_smoke_broker_kill, one fast fault with the confluent-kafka producers.
"""

import errno
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import Broker, Kafka, make_tmpdir, tail, wait_for

JS = Path(__file__).resolve().parent / "js"
# kafka-python logs every failed batch at WARNING: the table counts them.
logging.getLogger("kafka").setLevel(logging.ERROR)
FULL = bool(os.environ.get("PGK_CHAOS"))
full_only = pytest.mark.skipif(not FULL, reason="fault injection suite: run it with make chaos")

PROGRESS = 30       # records each producer gets acknowledged before and after a fault
FAULT_DEADLINE = 45  # seconds a fault may take to be felt, or to heal

# --------------------------------------------------------------------------
# A byte-stream proxy between the broker and PostgreSQL.


class StreamProxy:
    """A TCP proxy on loopback that forwards bytes both ways (any protocol:
    here PostgreSQL's) and can stall every connection (hold the bytes,
    keep the sockets) or cut them (close both sides). New connections are
    accepted throughout; while stalled they are held too."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.cond = threading.Condition()
        self.pairs = []
        self.stalled = False
        self.held = 0       # chunks that arrived while stalled
        self.cuts = 0
        self.closed = False
        self.thread = threading.Thread(target=self._accept_loop, daemon=True,
                                       name="pgproxy-accept")
        self.thread.start()

    def stall(self):
        with self.cond:
            self.stalled = True
            self.held = 0

    def resume(self):
        with self.cond:
            self.stalled = False
            self.cond.notify_all()

    def cut(self):
        with self.cond:
            for pair in self.pairs:
                self._close_pair(pair)
            self.cuts += len(self.pairs)
            self.pairs = []

    def close(self):
        with self.cond:
            self.closed = True
            self.stalled = False
            self.cond.notify_all()
        self.cut()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)

    @staticmethod
    def _close_pair(pair):
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            pair = [client, upstream]
            with self.cond:
                if self.closed:
                    self._close_pair(pair)
                    return
                self.pairs.append(pair)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(pair, src, dst), daemon=True,
                                 name="pgproxy-pump").start()

    def _pump(self, pair, src, dst):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            with self.cond:
                if self.stalled:
                    self.held += 1
                while self.stalled and not self.closed:
                    self.cond.wait(1.0)
                if pair not in self.pairs:
                    break
            try:
                dst.sendall(data)
            except OSError:
                break
        with self.cond:
            if pair in self.pairs:
                self.pairs.remove(pair)
        self._close_pair(pair)


class ProxiedPg:
    """A PgCluster seen through a StreamProxy: the same cluster, but its
    conninfo (what the broker connects to) names the proxy."""

    def __init__(self, pg, proxy):
        self._pg = pg
        self._proxy = proxy

    @property
    def conninfo(self):
        return "host=127.0.0.1 port=%d dbname=pg_kafka user=postgres" % self._proxy.port

    def __getattr__(self, name):
        return getattr(self._pg, name)


# --------------------------------------------------------------------------
# Producers that keep writing until told to stop, and remember what they sent
# and what was acknowledged (value -> offset).


class Producer:
    idempotent = False

    def __init__(self, name, bootstrap, topic, partition):
        self.name = name
        self.bootstrap = bootstrap
        self.topic = topic
        self.partition = partition
        self.lock = threading.Lock()
        self.sent = []        # values, in the order they were handed to the client
        self.acks = {}        # value -> acknowledged offset
        self.failed = []      # (value, error) of deliveries that failed
        self.stopping = threading.Event()
        self.thread = None
        self.crash = None

    # Thread-safe views.
    def counts(self):
        with self.lock:
            return len(self.sent), len(self.acks)

    def acked(self):
        return self.counts()[1]

    def _sent(self, value):
        with self.lock:
            self.sent.append(value)

    def _acked(self, value, offset):
        with self.lock:
            self.acks[value] = offset

    def _failed(self, value, error):
        with self.lock:
            self.failed.append((value, str(error)))

    def start(self):
        self.thread = threading.Thread(target=self._guarded, daemon=True, name=self.name)
        self.thread.start()
        return self

    def _guarded(self):
        try:
            self.run()
        except Exception as e:  # reported by stop()
            self.crash = e

    def stop(self, timeout=90):
        """Stop producing and wait for the outstanding deliveries; returns a
        list of problems."""
        self.stopping.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            return ["%s did not stop within %ss (%s)" % (self.name, timeout, self.state())]
        if self.crash is not None:
            return ["%s crashed: %r" % (self.name, self.crash)]
        return []

    def state(self):
        sent, acked = self.counts()
        return "sent %d, acked %d, failed %d" % (sent, acked, len(self.failed))

    def value(self, n):
        return "%s-%d" % (self.name, n)


class ConfluentProducer(Producer):
    def __init__(self, name, bootstrap, topic, partition, idempotent):
        super().__init__(name, bootstrap, topic, partition)
        self.idempotent = idempotent
        self.req_timeouts = 0  # requests librdkafka gave up waiting for (its statistics)

    def _stats(self, text):
        stats = json.loads(text)
        self.req_timeouts = sum(b.get("req_timeouts", 0) for b in stats["brokers"].values())

    def run(self):
        from confluent_kafka import Producer as CProducer
        # A 5 s request timeout, so that a stall makes librdkafka give up on
        # requests whose outcome it cannot know, and send them again.
        p = CProducer({"bootstrap.servers": self.bootstrap, "broker.address.family": "v4",
                       "acks": "all", "enable.idempotence": self.idempotent,
                       "linger.ms": 5, "message.timeout.ms": 120000,
                       "request.timeout.ms": 5000, "socket.timeout.ms": 30000,
                       "retry.backoff.ms": 200, "statistics.interval.ms": 200,
                       "stats_cb": self._stats})

        def on_delivery(err, msg):
            v = msg.value().decode()
            if err is None:
                self._acked(v, msg.offset())
            else:
                self._failed(v, err)

        n = 0
        while not self.stopping.is_set():
            sent, acked = self.counts()
            if sent - acked - len(self.failed) < 200:  # bounded in flight
                v = self.value(n)
                n += 1
                try:
                    p.produce(self.topic, key=v.encode(), value=v.encode(),
                              partition=self.partition, on_delivery=on_delivery)
                    self._sent(v)
                except BufferError:
                    n -= 1
            p.poll(0.005)  # delivery reports; paces the stream
        left = p.flush(150)
        assert left == 0, "%s: %d records neither delivered nor failed" % (self.name, left)


class KafkaPythonProducer(Producer):
    def run(self):
        from kafka import KafkaProducer
        p = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", retries=50,
                          retry_backoff_ms=300, request_timeout_ms=30000,
                          max_block_ms=60000, linger_ms=5, reconnect_backoff_max_ms=1000)
        inflight = []
        n = 0
        try:
            while not self.stopping.is_set():
                inflight = [f for f in inflight if not f.is_done]
                if len(inflight) < 200:
                    v = self.value(n)
                    n += 1
                    f = p.send(self.topic, key=v.encode(), value=v.encode(),
                               partition=self.partition)
                    self._sent(v)
                    f.add_callback(lambda md, v=v: self._acked(v, md.offset))
                    f.add_errback(lambda e, v=v: self._failed(v, e))
                    inflight.append(f)
                self.stopping.wait(0.005)  # paces the stream
            p.flush(150)
        finally:
            p.close(30)


class KafkaJSProducer(Producer):
    idempotent = True

    def run(self):
        job = {"bootstrap": self.bootstrap, "topic": self.topic, "partition": self.partition,
               "prefix": self.name, "perSend": 5, "clientId": self.name}
        self.stderr_path = self.logdir / ("kafkajs-%s.log" % self.topic)
        with open(self.stderr_path, "wb") as err:
            proc = subprocess.Popen(["node", str(JS / "chaos_produce.js"), json.dumps(job)],
                                    cwd=JS, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err)
        self.proc = proc
        stopper = threading.Thread(target=self._close_stdin_when_stopping, args=(proc,),
                                   daemon=True)
        stopper.start()
        result = None
        for line in proc.stdout:
            ev = json.loads(line)
            if ev.get("event") == "sending":
                for v in ev["values"]:
                    self._sent(v)
            elif ev.get("event") == "acked":
                for i, v in enumerate(ev["values"]):
                    self._acked(v, ev["baseOffset"] + i)
            elif ev.get("event") == "failed":
                for v in ev["values"]:
                    self._failed(v, ev["error"])
            elif "ok" in ev:
                result = ev
        proc.wait(30)
        assert result and result["ok"], "%s: %r\n%s" % (
            self.name, result, tail(self.stderr_path, 3000))

    def state(self):
        return "%s; KafkaJS log %s:\n%s" % (super().state(), self.stderr_path,
                                             tail(self.stderr_path, 2000))

    def stop(self, timeout=90):
        problems = super().stop(timeout)
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        return problems

    def _close_stdin_when_stopping(self, proc):
        self.stopping.wait()
        try:
            proc.stdin.close()
        except OSError:
            pass


def start_producers(bootstrap, topic, families, logdir):
    """logdir: where the KafkaJS producer's log goes."""
    made = []
    for i, family in enumerate(families):
        if family == "confluent-idem":
            p = ConfluentProducer(family, bootstrap, topic, i, idempotent=True)
        elif family == "confluent":
            p = ConfluentProducer(family, bootstrap, topic, i, idempotent=False)
        elif family == "kafka-python":
            p = KafkaPythonProducer(family, bootstrap, topic, i)
        elif family == "kafkajs-idem":
            p = KafkaJSProducer(family, bootstrap, topic, i)
            p.logdir = Path(logdir)
        else:
            raise ValueError(family)
        made.append(p.start())
    return made


ALL_FAMILIES = ("confluent-idem", "confluent", "kafka-python", "kafkajs-idem")


# --------------------------------------------------------------------------
# The run of one fault, and the check.


def wait_progress(producers, more, what):
    """Wait until every producer has `more` acknowledgements beyond what it
    had when called."""
    base = {p.name: p.acked() for p in producers}

    def progressed():
        for p in producers:
            assert p.crash is None, "%s crashed: %r" % (p.name, p.crash)
        return all(p.acked() >= base[p.name] + more for p in producers)
    wait_for(progressed, FAULT_DEADLINE + 60, what, 0.1)


def outstanding(p):
    """Records of p sent and neither acknowledged nor failed."""
    with p.lock:
        return len(p.sent) - len(p.acks) - len(p.failed)


def wait_held_up(producers, what, extra=lambda: True):
    """Wait until every producer has records waiting for an answer (and
    extra() holds): the fault holds their traffic up."""
    wait_for(lambda: all(outstanding(p) > 0 for p in producers) and extra(),
             FAULT_DEADLINE, what, 0.05)


def refused_produces(broker):
    """Produce requests the broker answered with a retriable error because
    PostgreSQL failed it."""
    return broker.log_text().count(" produce failed")


def check(pg, topic, producers, fault):
    """Every acknowledged record at its acknowledged offset, with its key and
    value; no duplicates from idempotent producers. Returns report rows."""
    stored = {}
    for r in pg.records(topic):
        stored.setdefault(r["partition"], {})[r["offset"]] = r
    rows, problems = [], []
    for p in producers:
        part = stored.get(p.partition, {})
        found = 0
        for value, offset in p.acks.items():
            r = part.get(offset)
            if r is not None and r["value"] == value.encode() and r["key"] == value.encode():
                found += 1
            else:
                problems.append("%s: %s acknowledged at offset %d, stored there: %r" % (
                    p.name, value, offset, r and (r["key"], r["value"])))
        values = [r["value"] for r in part.values()]
        duplicates = len(values) - len(set(values))
        if p.idempotent and duplicates:
            problems.append("%s (idempotent): %d duplicate records" % (p.name, duplicates))
        foreign = [v for v in set(values) if not v.decode().startswith(p.name + "-")]
        if foreign:
            problems.append("%s: records of someone else in its partition: %r" % (
                p.name, foreign[:5]))
        sent = len(p.sent)
        rows.append({"fault": fault, "producer": p.name, "idempotent": p.idempotent,
                     "sent": sent, "acked": len(p.acks), "failed": len(p.failed),
                     "found": found, "stored": len(part), "duplicates": duplicates})
    report(rows)
    assert not problems, "\n".join(problems[:30])
    return rows


def report(rows):
    path = os.environ.get("PGK_CHAOS_REPORT")
    if path:
        with open(path, "a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


def run_fault(pg, broker, fault, inject, families=ALL_FAMILIES):
    """Start the producers, wait for progress, inject(producers) (which
    returns once the fault is over), wait for progress again, stop the
    producers and check what is stored."""
    k = Kafka(broker)
    topic = k.create_topic(k.new_topic_name("chaos"), partitions=len(families))
    k.close()
    producers = start_producers(broker.bootstrap, topic, families, broker.workdir)
    failure = None
    try:
        wait_progress(producers, PROGRESS, "every producer to get records acknowledged")
        inject(producers)
        wait_progress(producers, PROGRESS, "every producer to get records acknowledged "
                      "after the fault (%s)" % fault)
    except Exception as e:
        failure = "%r\n%s" % (e, "\n".join("  %s: %s" % (p.name, p.state())
                                            for p in producers))
    finally:
        for p in producers:
            p.stopping.set()
        problems = []
        for p in producers:
            problems += p.stop()
    # What is stored is checked (and reported) even when the run failed.
    rows = check(pg, topic, producers, fault)
    assert failure is None, failure
    assert not problems, "\n".join(problems)
    return rows


def pool_warnings(broker):
    """How many times the broker's pool reported a lost or refused
    PostgreSQL connection."""
    text = broker.log_text()
    return text.count("connection to PostgreSQL lost") + text.count("cannot connect to PostgreSQL")


def wait_broker_noticed(broker, before, what):
    wait_for(lambda: pool_warnings(broker) > before, FAULT_DEADLINE, what)


def kill_broker(b):
    """SIGKILL the broker and start it again on the same port, as a
    supervisor would."""
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(10)
    Broker.live.remove(b)
    b.proc = None
    b.start()


def kill_and_restart_broker(broker):
    def inject(producers):
        kill_broker(broker)
    return inject


# --------------------------------------------------------------------------
# The faults.

pytestmark = [pytest.mark.chaos]


@pytest.mark.e2e_timeout(120)
def test_smoke_broker_kill(fresh_pg, make_broker):
    """The short version `make test` runs: the broker SIGKILLed under two
    confluent-kafka producers (idempotent and not) at acks=all."""
    broker = make_broker(fresh_pg)
    run_fault(fresh_pg, broker, "smoke: broker SIGKILL", kill_and_restart_broker(broker),
              families=("confluent-idem", "confluent"))


@full_only
@pytest.mark.e2e_timeout(300)
def test_broker_sigkill(fresh_pg, make_broker, node_ready):
    broker = make_broker(fresh_pg)
    run_fault(fresh_pg, broker, "broker SIGKILL + restart", kill_and_restart_broker(broker))


@full_only
@pytest.mark.e2e_timeout(300)
def test_postgres_immediate_stop(fresh_pg, make_broker, node_ready):
    broker = make_broker(fresh_pg)

    def inject(producers):
        before = pool_warnings(broker)
        fresh_pg.stop("immediate")
        try:
            wait_broker_noticed(broker, before, "the broker to notice PostgreSQL stopped")
            refused = refused_produces(broker)
            wait_held_up(producers, "produces to be refused and every producer held up",
                         lambda: refused_produces(broker) >= refused + len(producers))
        finally:
            fresh_pg.start()
    run_fault(fresh_pg, broker, "PostgreSQL pg_ctl -m immediate + start", inject)


@full_only
@pytest.mark.e2e_timeout(300)
def test_postmaster_sigkill(fresh_pg, make_broker, node_ready):
    broker = make_broker(fresh_pg)

    def inject(producers):
        before = pool_warnings(broker)
        pid = int((fresh_pg.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        try:
            wait_broker_noticed(broker, before, "the broker to notice the postmaster died")
            refused = refused_produces(broker)
            wait_held_up(producers, "produces to be refused and every producer held up",
                         lambda: refused_produces(broker) >= refused + len(producers))
        finally:
            # The orphaned backends exit when they notice the postmaster is
            # gone; until then a new postmaster refuses to start.
            wait_for(lambda: not backends_of(fresh_pg.data), FAULT_DEADLINE,
                     "the orphaned backends to exit")
            # A postmaster nobody reaps stays a zombie (this machine's init
            # does not reap), which pg_ctl and PostgreSQL take for a live one:
            # its lock file is stale once no process uses the directory.
            if is_zombie(pid):
                (fresh_pg.data / "postmaster.pid").unlink()
            fresh_pg.running = False
            fresh_pg.start()
    run_fault(fresh_pg, broker, "postmaster SIGKILL + start", inject)


def is_zombie(pid):
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def backends_of(datadir):
    """PIDs of processes still attached to the cluster (their cwd is its
    data directory)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.readlink(d / "cwd") == str(datadir):
                pids.append(int(d.name))
        except OSError:
            pass
    return pids


@pytest.fixture
def pg_proxy(fresh_pg):
    proxy = StreamProxy(fresh_pg.port)
    yield proxy
    proxy.close()


@full_only
@pytest.mark.e2e_timeout(300)
def test_network_stall(fresh_pg, pg_proxy, make_broker, node_ready):
    broker = make_broker(ProxiedPg(fresh_pg, pg_proxy))

    def inject(producers):
        pg_proxy.stall()
        librdkafka = [p for p in producers if isinstance(p, ConfluentProducer)]
        try:
            # Held up: statements are stuck in the proxy, every producer has
            # records waiting, and the stall outlasted the librdkafka
            # producers' request timeout (they will send those batches again).
            wait_held_up(producers, "statements held in the proxy, every producer held up and "
                         "librdkafka requests timed out",
                         lambda: pg_proxy.held > 0 and all(p.req_timeouts for p in librdkafka))
        finally:
            pg_proxy.resume()
    run_fault(fresh_pg, broker, "broker-PostgreSQL network stalled", inject)


@full_only
@pytest.mark.e2e_timeout(300)
def test_network_cut(fresh_pg, pg_proxy, make_broker, node_ready):
    broker = make_broker(ProxiedPg(fresh_pg, pg_proxy))

    def inject(producers):
        before = pool_warnings(broker)
        pg_proxy.cut()
        wait_broker_noticed(broker, before, "the broker to notice the cut")
        # And a second cut while it reconnects and the producers retry.
        wait_held_up(producers, "every producer held up")
        pg_proxy.cut()
    run_fault(fresh_pg, broker, "broker-PostgreSQL connections cut", inject)


# ---- disk full ----

@pytest.fixture
def small_tablespace(fresh_pg):
    """kafka.records and its index moved to a tablespace on a 32 MB tmpfs.
    Yields the mount point; skips when this machine does not allow mount."""
    root = make_tmpdir("pgk-e2e-tmpfs-")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs",
                          str(root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        root.rmdir()
        pytest.skip("cannot mount a small filesystem here (%s): disk full not tested"
                    % res.stdout.decode(errors="replace").strip())
    try:
        ts = root / "ts"
        ts.mkdir()
        shutil.chown(ts, "postgres", "postgres")
        fresh_pg.sql("CREATE TABLESPACE chaos_small LOCATION '%s'" % ts)
        fresh_pg.sql("ALTER TABLE kafka.records SET TABLESPACE chaos_small")
        fresh_pg.sql("ALTER INDEX kafka.records_pkey SET TABLESPACE chaos_small")
        yield root
    finally:
        fresh_pg.destroy()  # before the filesystem under it goes
        subprocess.run(["umount", "-l", str(root)])
        try:
            root.rmdir()
        except OSError:
            pass


def fill(path):
    """Write zeros to path until the filesystem is full."""
    chunk = b"\0" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(chunk) <= 4096:
                    return
                chunk = chunk[:len(chunk) // 2]


@full_only
@pytest.mark.e2e_timeout(300)
def test_disk_full(fresh_pg, small_tablespace, make_broker, node_ready):
    broker = make_broker(fresh_pg)
    filler = small_tablespace / "filler"

    def inject(producers):
        refused = refused_produces(broker)
        fill(filler)
        try:
            wait_held_up(producers, "produces to fail for want of space and every producer "
                         "held up", lambda: refused_produces(broker) >= refused + len(producers))
        finally:
            filler.unlink()
    run_fault(fresh_pg, broker, "PostgreSQL tablespace full", inject)


@pytest.fixture
def node_ready():
    if not (JS / "node_modules" / "kafkajs").is_dir():
        res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        assert res.returncode == 0, res.stdout.decode(errors="replace")
