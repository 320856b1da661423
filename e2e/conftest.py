"""
Fixtures for the pg_kafka end-to-end tests: a throw-away PostgreSQL 15
cluster, the pg_kafka broker in front of it, and small helpers for the
confluent-kafka clients the tests use to check what they did.

Everything runs on loopback. deploy/pgcluster.sh makes, starts and stops
the PostgreSQL clusters, with the settings of deploy/postgresql.conf and the
test-only overrides in TEST_SETTINGS below; they run as the `postgres` OS
user (initdb and postgres refuse root). The broker runs as built (by default the
sanitizer build) and is checked after every test: it must still be alive,
and its log must be free of sanitizer reports; on shutdown it must exit 0.

Environment:
  PGK_BROKER   broker binary (default <repo>/build/san/pg_kafka)
  PGK_PGBIN    PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
  PGK_E2E_KEEP keep the temporary directories (logs, data) after the run
"""

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import NamedTuple, Optional

import pytest

import kafkaproto

REPO = Path(__file__).resolve().parent.parent
PGBIN = Path(os.environ.get("PGK_PGBIN", "/usr/lib/postgresql/15/bin"))
BROKER_BIN = Path(os.environ.get("PGK_BROKER", REPO / "build" / "san" / "pg_kafka"))
KEEP = bool(os.environ.get("PGK_E2E_KEEP"))

DEFAULT_TEST_TIMEOUT = 180  # seconds, per test call; see the e2e_timeout marker

SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")

BROKER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}


# --------------------------------------------------------------------------
# Generic helpers.

def wait_for(cond, timeout, what, interval=0.05):
    """Poll cond() until it returns something truthy; return that value.
    Fail with a message naming `what` if the deadline passes first."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


_ports_given = set()


def free_port():
    """A port nothing listens on now and that this run has not handed out
    before: the kernel may offer a just-closed port again, and a broker
    given the same port for two listeners refuses to start."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def unique(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def tail(path, nbytes=6000):
    try:
        data = Path(path).read_bytes()
    except OSError:
        return "<no log>"
    return data[-nbytes:].decode("utf-8", "replace")


def make_tmpdir(prefix):
    """A directory under /tmp that the postgres user owns and can reach."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    shutil.chown(d, "postgres", "postgres")
    d.chmod(0o755)
    return d


# --------------------------------------------------------------------------
# PostgreSQL.

# The e2e clusters are made and started by deploy/pgcluster.sh, as `make run`
# and `make test` make theirs, with deploy/postgresql.conf; these are the
# only settings that differ, appended with `pgcluster.sh init --set`:
TEST_SETTINGS = {
    # Test speed: the suite commits thousands of small transactions and no
    # test checks durability across an OS crash. (A PostgreSQL restart or
    # immediate shutdown keeps committed data with fsync off.)
    "fsync": "off",
}
PGCLUSTER = REPO / "deploy" / "pgcluster.sh"


class PgCluster:
    """A PostgreSQL 15 cluster in a temporary directory, with database
    pg_kafka and the pg_kafka extension created, made, started and stopped
    by deploy/pgcluster.sh."""

    def __init__(self):
        self.dir = make_tmpdir("pgk-e2e-pg-")
        self.data = self.dir / "data"
        self.logfile = self.data / "log"  # where pgcluster.sh has the server log
        self.port = free_port()
        self.running = False

    @property
    def conninfo(self):
        return "host=127.0.0.1 port=%d dbname=pg_kafka user=postgres" % self.port

    def _pgcluster(self, *args, timeout=120):
        env = dict(os.environ, PG_BINDIR=str(PGBIN))
        res = subprocess.run([str(PGCLUSTER), *map(str, args)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=timeout, cwd=str(self.dir), env=env)
        if res.returncode != 0:
            raise RuntimeError("pgcluster.sh %s failed (%d):\n%s\n--- server log ---\n%s" % (
                " ".join(map(str, args)), res.returncode,
                res.stdout.decode(errors="replace"), tail(self.logfile)))
        return res.stdout.decode(errors="replace")

    def init(self):
        overrides = []
        for name, value in TEST_SETTINGS.items():
            overrides += ["--set", "%s=%s" % (name, value)]
        self._pgcluster("init", "--no-sync", *overrides, self.data, self.port)
        self.start()
        # pgcluster.sh leaves the database without the extension when it is
        # not installed: the tests cannot run then.
        if not self.sql("SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka'"):
            raise RuntimeError("extension pg_kafka is not installed (make install)")

    def start(self):
        """Start the server; the first start also creates database pg_kafka
        and the extension."""
        self._pgcluster("start", self.data, self.port)
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._pgcluster("stop", *(["--immediate"] if mode == "immediate" else []), self.data)
            self.running = False

    def restart(self):
        self.stop()
        self.start()

    def sql(self, query, dbname="pg_kafka"):
        """Run one SQL command with psql; return its unaligned, tuples-only
        output (fields separated by |, rows by newlines)."""
        res = subprocess.run(
            [PGBIN / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", dbname, "-v", "ON_ERROR_STOP=1", "-XAtc", query],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if res.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (query, res.stderr.decode(errors="replace")))
        return res.stdout.decode().rstrip("\n")

    def records_of_deleted_topic_left(self, topic):
        """How many rows of a topic that was deleted are still in
        kafka.records and not left to the storage job: those are in the
        deleted topic's own tables (kafka.chunks keeps its old id) until
        they are detached, or queued in kafka.deleted_partitions."""
        return int(self.sql(
            "SELECT count(*) FROM kafka.records r WHERE r.topic = '%s'"
            " AND NOT EXISTS (SELECT FROM kafka.deleted_partitions d"
            "  WHERE d.topic = r.topic AND d.partition = r.partition)"
            " AND NOT EXISTS (SELECT FROM kafka.chunks c"
            "  WHERE r.tableoid = to_regclass('kafka_chunks.' || c.table_name)"
            "  AND NOT EXISTS (SELECT FROM kafka.topics t WHERE t.topic_id = c.topic_id))"
            % topic.replace("'", "''")))

    def rows(self, query):
        """Rows as lists of strings (a 0x1f field separator, so values may
        contain '|')."""
        res = subprocess.run(
            [PGBIN / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", "pg_kafka", "-v", "ON_ERROR_STOP=1", "-XAt", "-F", "\x1f", "-c", query],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if res.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (query, res.stderr.decode(errors="replace")))
        out = res.stdout.decode().rstrip("\n")
        return [line.split("\x1f") for line in out.split("\n")] if out else []

    def records(self, topic):
        """The rows of kafka.records for a topic, ordered by partition and
        offset: dicts with partition, offset, key and value (bytes or None)."""
        q = ("SELECT partition, \"offset\", coalesce(encode(key, 'hex'), 'NULL'), "
             "coalesce(encode(value, 'hex'), 'NULL') FROM kafka.records "
             "WHERE topic = %s ORDER BY partition, \"offset\"" % sql_literal(topic))

        def blob(h):
            return None if h == "NULL" else bytes.fromhex(h)

        return [{"partition": int(p), "offset": int(o), "key": blob(k), "value": blob(v)}
                for p, o, k, v in self.rows(q)]

    def destroy(self):
        try:
            self.stop("immediate")
        except Exception:
            pass
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)


def sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


# --------------------------------------------------------------------------
# The broker.

class SqlSession:
    """One psql process kept open, for an application transaction that
    spans several commands."""

    def __init__(self, pg):
        self.proc = subprocess.Popen(
            [str(PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
             "-d", "pg_kafka", "-XAtq", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buf = b""

    def run(self, sql, timeout=20):
        """Run sql and return its output lines once psql has finished it."""
        marker = "__done_%d__" % time.monotonic_ns()
        self.proc.stdin.write(("%s\n\\echo %s\n" % (sql, marker)).encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while marker.encode() not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError("psql did not finish %r: %r" % (sql, self.buf))
            if select.select([self.proc.stdout], [], [], left)[0]:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("psql exited during %r: %r" % (sql, self.buf))
                self.buf += chunk
        out, _, self.buf = self.buf.partition(marker.encode() + b"\n")
        return [line for line in out.decode().split("\n") if line]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"\\q\n")
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class Broker:
    """One pg_kafka broker process in front of a PgCluster."""

    live = []  # brokers currently running, checked after every test

    def __init__(self, pg, workdir, extra_args=()):
        self.pg = pg
        self.workdir = Path(workdir)
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.bootstrap = "127.0.0.1:%d" % self.port
        self.proc = None
        self.launches = 0
        self.logpath = None
        self.checked_upto = 0  # log bytes already scanned by the per-test check

    @property
    def args(self):
        return [str(BROKER_BIN),
                "--pg", self.pg.conninfo,
                "--listen", self.bootstrap,
                "--advertised", self.bootstrap,
                "--log-level", "debug",
                *self.extra_args]

    def start(self, timeout=30):
        if not BROKER_BIN.exists():
            pytest.fail("broker binary %s not found (build it, or set PGK_BROKER)" % BROKER_BIN)
        self.launches += 1
        self.logpath = self.workdir / ("broker-%d-%d.log" % (self.port, self.launches))
        self.checked_upto = 0
        env = dict(os.environ, **BROKER_ENV)
        with open(self.logpath, "ab") as log:  # O_APPEND: safe to share
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, env=env, cwd=str(self.workdir))
        Broker.live.append(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                Broker.live.remove(self)
                pytest.fail("broker exited with %s during startup:\n%s" % (
                    self.proc.returncode, tail(self.logpath)))
            try:
                with kafkaproto.Conn("127.0.0.1", self.port, timeout=2) as c:
                    kafkaproto.api_versions(c, 0)
                return
            except (OSError, kafkaproto.ProtocolError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                # Not left running for the rest of the session.
                self.proc.kill()
                self.proc.wait(10)
                Broker.live.remove(self)
                pytest.fail("broker did not answer ApiVersions on %s within %ss:\n%s" % (
                    self.bootstrap, timeout, tail(self.logpath)))
            time.sleep(0.05)

    def log_text(self):
        """The log (stderr) of the current launch."""
        if self.logpath is None:
            return ""
        return self.logpath.read_bytes().decode("utf-8", "replace")

    def all_logs(self):
        return "".join(p.read_bytes().decode("utf-8", "replace")
                       for p in sorted(self.workdir.glob("broker-%d-*.log" % self.port)))

    def sanitizer_report(self):
        text = self.log_text()
        m = SANITIZER_RE.search(text)
        if not m:
            return None
        return text[max(0, m.start() - 500):m.start() + 8000]

    def stop(self, timeout=30):
        """SIGTERM, wait, and return a list of problems (empty when the
        broker exited 0 and its log has no sanitizer report)."""
        if self.proc is None:
            return []
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                problems.append("broker did not exit within %ss of SIGTERM" % timeout)
        else:
            problems.append("broker had already exited")
        if self.proc.returncode != 0:
            problems.append("broker exited with status %s" % self.proc.returncode)
        report = self.sanitizer_report()
        if report:
            problems.append("sanitizer report in broker log:\n" + report)
        if problems:
            problems.append("broker log tail (%s):\n%s" % (self.logpath, tail(self.logpath)))
        if self in Broker.live:
            Broker.live.remove(self)
        self.proc = None
        return problems

    def stop_checked(self):
        problems = self.stop()
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    def restart(self):
        self.stop_checked()
        self.start()

    def check_health(self):
        """Problems seen since the last check; restarts a dead broker so that
        one crash does not fail every following test."""
        problems = []
        text = self.log_text()
        new = text[self.checked_upto:]
        self.checked_upto = len(text)
        m = SANITIZER_RE.search(new)
        if m:
            problems.append("sanitizer report in broker log:\n" + new[max(0, m.start() - 500):m.start() + 8000])
        if self.proc is not None and self.proc.poll() is not None:
            problems.append("broker died with status %s; log tail:\n%s" % (
                self.proc.returncode, tail(self.logpath)))
            Broker.live.remove(self)
            self.proc = None
            self.start()
        return problems


# --------------------------------------------------------------------------
# A TCP proxy for fault injection.

class TcpProxy:
    """A proxy on loopback in front of a broker that forwards whole Kafka
    frames both ways and can cut every connection it carries on demand.

    Start the broker with --advertised proxy.address so that clients reach
    the broker (and reconnect after a cut) only through the proxy. The cut
    that matters for idempotence is cut_on_produce_answer(): the proxy lets
    a Produce request through, waits for the broker's answer, drops it and
    cuts: the batch is written but the client cannot know, so it must send
    it again. Each client connection is served by two threads, one per
    direction; a cut closes the sockets under them."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.target = None
        self.lock = threading.Lock()
        self.pairs = []          # [client socket, broker socket] per connection
        self.produce_seen = 0    # Produce requests forwarded, in total
        self.cut_at = []         # produce_seen values whose answers trigger a cut
        self.doomed = set()      # (pair id, correlation id) of those requests
        self.cuts = 0            # connection cuts made so far
        self.dropped_answers = 0
        self.accepted = 0
        self.closed = False
        self.thread = None

    def start(self, target):
        """Forward to target ("host:port") from now on."""
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.thread = threading.Thread(target=self._accept_loop, daemon=True,
                                       name="proxy-accept")
        self.thread.start()
        return self

    def cut_on_produce_answer(self, *nth):
        """Cut when the broker answers the n-th Produce request counted
        from now, for each n given (1 = the next one)."""
        with self.lock:
            self.cut_at = sorted(self.produce_seen + n for n in nth)

    def cut_now(self):
        with self.lock:
            self._cut_locked()

    def close(self):
        with self.lock:
            self.closed = True
            self._cut_locked()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self.listener.close()
        if self.thread is not None:
            self.thread.join(5)

    def _cut_locked(self):
        for pair in self.pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        if self.pairs:
            self.cuts += 1
        self.pairs = []
        self.doomed.clear()

    def _accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = [client, upstream]
            with self.lock:
                if self.closed:
                    client.close()
                    upstream.close()
                    return
                self.pairs.append(pair)
                self.accepted += 1
            for fn in (self._client_to_broker, self._broker_to_client):
                threading.Thread(target=fn, args=(pair,), daemon=True,
                                 name="proxy-pump").start()

    @staticmethod
    def _recv_exact(sock, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = sock.recv(min(n - len(buf), 1 << 20))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    @classmethod
    def _read_frame(cls, sock):
        """One length-prefixed frame (prefix included), or None when the
        socket is closed or cut."""
        head = cls._recv_exact(sock, 4)
        if head is None:
            return None
        size = int.from_bytes(head, "big", signed=True)
        if size < 0:
            return None
        body = cls._recv_exact(sock, size)
        return None if body is None else head + body

    def _pump(self, pair, src, dst, inspect):
        while True:
            frame = self._read_frame(pair[src])
            if frame is None:
                break
            with self.lock:
                if pair not in self.pairs:
                    break
                if not inspect(pair, frame):
                    break  # the connections were cut
            try:
                pair[dst].sendall(frame)
            except OSError:
                break
        with self.lock:
            if pair in self.pairs:
                self.pairs.remove(pair)
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _client_to_broker(self, pair):
        def inspect(pair, frame):
            # Request header: api_key, api_version, correlation_id.
            if len(frame) >= 12 and int.from_bytes(frame[4:6], "big") == kafkaproto.PRODUCE:
                self.produce_seen += 1
                if self.cut_at and self.cut_at[0] == self.produce_seen:
                    self.cut_at.pop(0)
                    self.doomed.add((id(pair), frame[8:12]))
            return True
        self._pump(pair, 0, 1, inspect)

    def _broker_to_client(self, pair):
        def inspect(pair, frame):
            # Response header: correlation_id. A doomed answer never arrives.
            if (id(pair), frame[4:8]) in self.doomed:
                self.dropped_answers += 1
                self._cut_locked()
                return False
            return True
        self._pump(pair, 1, 0, inspect)


# --------------------------------------------------------------------------
# Client helpers (confluent-kafka), bound to one broker.

class Rec(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: list
    timestamp_type: int
    timestamp: int


class Kafka:
    """Helpers that the tests use to set up and check state through a
    well-known client (confluent-kafka / librdkafka)."""

    def __init__(self, broker, bootstrap=None):
        """bootstrap: where clients connect, when not the broker's own
        address (a TcpProxy in front of it)."""
        self.broker = broker
        self._bootstrap = bootstrap
        self._admin = None

    def close(self):
        """Drop the admin client (before its broker goes away)."""
        self._admin = None

    @property
    def bootstrap(self):
        return self._bootstrap or self.broker.bootstrap

    @property
    def pg(self):
        return self.broker.pg

    def conf(self, **extra):
        c = {"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 20000,
             "broker.address.family": "v4"}
        c.update({k.replace("_", "."): v for k, v in extra.items()})
        return c

    def admin(self):
        """One AdminClient per helper, kept alive here: librdkafka fails the
        pending futures of a client that is garbage-collected. It must not
        auto-create topics: list_topics(topic=...) leaves the client
        refreshing that topic, which would bring a deleted topic back."""
        from confluent_kafka.admin import AdminClient
        if self._admin is None:
            self._admin = AdminClient(self.conf(allow_auto_create_topics=False))
        return self._admin

    def new_topic_name(self, prefix="t"):
        return unique(prefix)

    def create_topic(self, name=None, partitions=1, config=None, timeout=30):
        from confluent_kafka.admin import NewTopic
        name = name or self.new_topic_name()
        fs = self.admin().create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1,
                      config=config or {})], operation_timeout=timeout)
        fs[name].result(timeout)
        self.wait_partitions(name, partitions)
        return name

    def partitions(self, name, timeout=10):
        """Partition ids of a topic in metadata, or None if it is not there."""
        md = self.admin().list_topics(topic=name, timeout=timeout)
        t = md.topics.get(name)
        if t is None or t.error is not None:
            return None
        return sorted(t.partitions)

    def wait_partitions(self, name, count, timeout=30):
        wait_for(lambda: (self.partitions(name) or []) == list(range(count)), timeout,
                 "topic %s to have %d partitions in metadata" % (name, count), 0.2)

    def topic_names(self):
        return set(self.admin().list_topics(timeout=10).topics)

    def producer(self, **conf):
        from confluent_kafka import Producer
        base = {"linger.ms": 5, "message.timeout.ms": 30000}
        base.update(conf)
        return Producer(self.conf(**base))

    def produce(self, topic, records, timeout=60, **conf):
        """Produce records (dicts of Producer.produce keyword arguments, or
        (key, value) tuples) and wait for every delivery report.
        Returns the delivered messages as Rec (offset -1 with acks=0)."""
        p = self.producer(**conf)
        reports = [None] * len(records)

        def on_delivery(i):
            def cb(err, msg):
                reports[i] = (err, msg)
            return cb

        for i, r in enumerate(records):
            kw = dict(r) if isinstance(r, dict) else {"key": r[0], "value": r[1]}
            kw.setdefault("partition", 0)
            while True:
                try:
                    p.produce(topic, on_delivery=on_delivery(i), **kw)
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
        left = p.flush(timeout)
        assert left == 0, "%d messages not delivered within %ss" % (left, timeout)
        out = []
        for err, msg in reports:
            assert err is None, "delivery failed: %s" % err
            ts_type, ts = msg.timestamp()
            out.append(Rec(msg.topic(), msg.partition(), msg.offset(), msg.key(),
                           msg.value(), msg.headers() or [], ts_type, ts))
        return out

    def consumer(self, **conf):
        from confluent_kafka import Consumer
        base = {"group.id": unique("e2e-group"), "enable.auto.commit": False,
                "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
                "enable.partition.eof": False}
        base.update(conf)
        return Consumer(self.conf(**base))

    def consume(self, topic, count, partitions=(0,), offset=None, timeout=30, **conf):
        """Assign the partitions at `offset` (default: beginning) and read
        until `count` records arrived. Returns them in arrival order."""
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition
        c = self.consumer(**conf)
        try:
            start = OFFSET_BEGINNING if offset is None else offset
            c.assign([TopicPartition(topic, p, start) for p in partitions])
            out = []
            deadline = time.monotonic() + timeout
            while len(out) < count:
                if time.monotonic() > deadline:
                    raise AssertionError("consumed %d of %d records from %s within %ss: %r" % (
                        len(out), count, topic, timeout, out[-5:]))
                msg = c.poll(0.2)
                if msg is None:
                    continue
                if msg.error():
                    raise AssertionError("consumer error: %s" % msg.error())
                ts_type, ts = msg.timestamp()
                out.append(Rec(msg.topic(), msg.partition(), msg.offset(), msg.key(),
                               msg.value(), msg.headers() or [], ts_type, ts))
            return out
        finally:
            c.close()

    def watermarks(self, topic, partition=0, timeout=10):
        from confluent_kafka import TopicPartition
        c = self.consumer()
        try:
            return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
        finally:
            c.close()

    def assert_healthy(self, n=3):
        """A fresh client on new connections can still create a topic,
        produce, and read back what it produced."""
        topic = self.create_topic(self.new_topic_name("health"))
        sent = [(b"k%d" % i, b"health-%d" % i) for i in range(n)]
        delivered = self.produce(topic, sent, acks="all")
        assert [r.offset for r in delivered] == list(range(n))
        got = self.consume(topic, n)
        assert [(r.key, r.value) for r in got] == sent
        assert [r.offset for r in got] == list(range(n))


# --------------------------------------------------------------------------
# Fixtures.

@pytest.fixture(scope="session")
def workdir():
    d = make_tmpdir("pgk-e2e-")
    yield d
    if not KEEP:
        shutil.rmtree(d, ignore_errors=True)


def _new_pg():
    pg = PgCluster()
    try:
        pg.init()
    except Exception:
        pg.destroy()
        raise
    return pg


@pytest.fixture(scope="session")
def pg():
    """The shared PostgreSQL cluster (do not stop it: use fresh_pg)."""
    cluster = _new_pg()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def broker(pg, workdir):
    """The shared broker (do not restart it: use make_broker)."""
    b = Broker(pg, workdir)
    b.start()
    yield b
    b.stop_checked()


@pytest.fixture(scope="session")
def kafka(broker):
    k = Kafka(broker)
    yield k
    k.close()


@pytest.fixture
def topic(kafka):
    """A fresh single-partition topic."""
    return kafka.create_topic(kafka.new_topic_name())


@pytest.fixture
def fresh_pg():
    """A private PostgreSQL cluster for tests that stop or restart it."""
    cluster = _new_pg()
    yield cluster
    cluster.destroy()


@pytest.fixture
def make_broker(workdir):
    """Factory for private brokers: make_broker(pg, *extra_args), or
    make_broker(pg, *extra_args, cls=SubclassOfBroker, **its_own_args).
    They are stopped (and checked) when the test ends."""
    made = []

    def factory(pg, *extra_args, cls=None, **kw):
        b = (cls or Broker)(pg, workdir, extra_args, **kw)
        b.start()
        made.append(b)
        return b

    yield factory
    problems = []
    for b in made:
        problems += b.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def proxied_broker(make_broker):
    """Factory for private brokers behind a TcpProxy:
    proxied_broker(pg, *extra_args) -> (broker, proxy). The broker
    advertises the proxy's address, so clients that bootstrap from
    proxy.address only ever talk to it through the proxy. The proxies are
    closed when the test ends, before their brokers stop."""
    proxies = []

    def factory(pg, *extra_args):
        proxy = TcpProxy()
        proxies.append(proxy)
        b = make_broker(pg, *extra_args, "--advertised", proxy.address)
        proxy.start(b.bootstrap)
        return b, proxy

    yield factory
    for p in proxies:
        p.close()


def config_file(workdir, settings):
    """A broker config file ("key = value" lines) in workdir, for settings
    that are easiest to pass by their Kafka names: pass it with --config."""
    path = Path(workdir) / ("%s.conf" % unique("broker"))
    path.write_text("".join("%s = %s\n" % kv for kv in settings.items()))
    return str(path)


@pytest.fixture(autouse=True)
def broker_health():
    """After every test, every running broker must still be alive and its
    log must not contain a sanitizer report."""
    for b in Broker.live:
        b.checked_upto = len(b.log_text())
    yield
    problems = []
    for b in list(Broker.live):
        problems += b.check_health()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --------------------------------------------------------------------------
# A per-test deadline (pytest-timeout is not installed): SIGALRM raises in
# the test's main thread; client calls in the tests all poll with short
# timeouts, so the exception is delivered promptly.

class DeadlineExceeded(Exception):
    pass


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e_timeout(seconds): per-test deadline")
    config.addinivalue_line("markers", "chaos: fault injection (test_chaos.py, make chaos)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("e2e_timeout")
    seconds = marker.args[0] if marker else DEFAULT_TEST_TIMEOUT

    def on_alarm(signum, frame):
        raise DeadlineExceeded("test exceeded its %ss deadline" % seconds)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
