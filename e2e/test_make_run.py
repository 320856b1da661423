"""
`make run` (deploy/run.sh): stopping it the way `timeout`, CI runners and
service managers do, and a second run while one is going.

The tests run deploy/run.sh itself, as `make run` does, with a temporary
data directory, free ports and the broker under test (PGK_BROKER, default
build/san/pg_kafka); one test runs it under make, whose relay of SIGTERM is
what used to make the script kill the broker. `make run` itself also builds
and installs system-wide, which a test must not do.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import kafkaproto
from conftest import (BROKER_BIN, BROKER_ENV, PGBIN, REPO, SANITIZER_RE, free_port,
                      make_tmpdir, tail, wait_for)

RUN_SH = REPO / "deploy" / "run.sh"
PGCLUSTER = REPO / "deploy" / "pgcluster.sh"

pytestmark = pytest.mark.e2e_timeout(240)


def default_signals():
    """SIGINT and SIGTERM as a terminal gives them to what it starts. A suite
    started in the background of a non-interactive shell (`make test &`,
    nohup) has SIGINT ignored, its children inherit that, and bash cannot
    trap a signal that was ignored when it started: run.sh would never see
    the Ctrl-C these tests send."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Run:
    """One deploy/run.sh in its own process group, as a terminal or a service
    manager starts it; its stdout and stderr go to a log file."""

    def __init__(self, datadir, pgport, kport, via_make=False, env_extra=None):
        self.datadir = Path(datadir)
        self.pgport = pgport
        self.kport = kport
        self.logpath = self.datadir.parent / ("run-%d-%s.log" % (kport, time.monotonic_ns()))
        cmd = [str(RUN_SH), str(self.datadir), str(pgport), str(BROKER_BIN),
               "--listen", "127.0.0.1:%d" % kport]
        if via_make:
            mk = self.datadir.parent / "Makefile"
            mk.write_text("run:\n\t@%s\n" % " ".join(cmd))
            cmd = ["make", "--no-print-directory", "-f", str(mk), "run"]
        env = dict(os.environ, **BROKER_ENV, **(env_extra or {}))
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=env, cwd=str(REPO), start_new_session=True,
                                         preexec_fn=default_signals)

    def log(self):
        return self.logpath.read_bytes().decode("utf-8", "replace")

    def serves(self):
        """True once the broker answers ApiVersions; fails if the run ended."""
        if self.proc.poll() is not None:
            pytest.fail("run.sh exited with %s before serving:\n%s" % (
                self.proc.returncode, tail(self.logpath)))
        try:
            with kafkaproto.Conn("127.0.0.1", self.kport, timeout=2) as c:
                kafkaproto.api_versions(c, 0)
            return True
        except (OSError, kafkaproto.ProtocolError, TimeoutError):
            return False

    def wait_serving(self, timeout=120):
        wait_for(self.serves, timeout, "run.sh's broker to answer on port %d" % self.kport, 0.1)

    def signal_group(self, sig):
        os.killpg(self.proc.pid, sig)

    def wait(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("run.sh did not exit within %ss:\n%s" % (timeout, tail(self.logpath)))

    def kill(self):
        """SIGKILL what is left: the script's group and the broker, which
        runs in a session of its own."""
        pid = _broker_pid(self)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        if pid:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def cluster_running(datadir):
    res = subprocess.run([str(PGCLUSTER), "status", str(datadir)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return res.returncode == 0


def produce_one(kport, topic):
    """A record through the broker into PostgreSQL: the whole path works."""
    with kafkaproto.Conn("127.0.0.1", kport) as c:
        errs = kafkaproto.create_topics(c, [(topic, 1, 1, {})])
        assert errs[topic][0] in (0, 36), errs  # created, or already there
        res = kafkaproto.produce(c, topic, 0, kafkaproto.record_batch([(b"k", b"v", [])]))
        assert res["error_code"] == 0, res
        return res["base_offset"]


def assert_clean_stop(text):
    assert "run: broker exited with status 0" in text, text
    assert "shutdown complete" in text, text
    assert "pgcluster: stopped" in text, text
    assert "killing the broker" not in text, text
    assert not SANITIZER_RE.search(text), text


@pytest.fixture(scope="module")
def rundir():
    """A directory for data directories; cleaned up with every cluster in it
    stopped (a failing test may leave one running)."""
    d = make_tmpdir("pgk-e2e-run-")
    yield d
    for data in d.glob("*/data/PG_VERSION"):
        subprocess.run([str(PGCLUSTER), "stop", str(data.parent)], timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.environ.get("PGK_E2E_KEEP"):
        subprocess.run(["rm", "-rf", str(d)], timeout=60)


@pytest.fixture
def runs():
    """Runs started by a test; killed (with their process group) at the end."""
    started = []
    yield started
    for r in started:
        r.kill()


def new_datadir(rundir, name):
    return Path(rundir) / name / "data"


def start_run(runs, datadir, pgport=None, kport=None, via_make=False, env_extra=None):
    datadir.parent.mkdir(exist_ok=True)
    r = Run(datadir, pgport or free_port(), kport or free_port(), via_make, env_extra)
    runs.append(r)
    return r


def test_one_sigterm_to_the_group_stops_cleanly(rundir, runs):
    # timeout(1) and service managers signal the whole group; make relays
    # SIGTERM to its children too, so the script sees it twice at once.
    r = start_run(runs, new_datadir(rundir, "term"))
    r.wait_serving()
    assert produce_one(r.kport, "before-stop") == 0
    r.signal_group(signal.SIGTERM)
    r.signal_group(signal.SIGTERM)
    assert r.wait() == 0, r.log()
    assert_clean_stop(r.log())
    assert not cluster_running(r.datadir)

    # The data survives: a second run serves the same topic.
    r2 = start_run(runs, r.datadir)
    r2.wait_serving()
    assert produce_one(r2.kport, "before-stop") == 1
    r2.signal_group(signal.SIGINT)
    assert r2.wait() == 0, r2.log()
    assert_clean_stop(r2.log())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_one_signal_to_make_run(rundir, runs, sig):
    # The real relay: make forwards SIGTERM to the script, which also got it
    # from the group (SIGINT, a terminal's Ctrl-C, it does not forward). make
    # then re-raises the signal on itself, so make's own status is "killed
    # by the signal"; the script's work shows in the log.
    r = start_run(runs, new_datadir(rundir, "make-%s" % sig.name), via_make=True)
    r.wait_serving()
    r.signal_group(sig)
    status = r.wait()
    assert status == -sig, (status, r.log())
    assert_clean_stop(r.log())
    assert not cluster_running(r.datadir)


@pytest.mark.parametrize("step", ["pgcluster: initdb", "pgcluster: starting"])
def test_sigterm_during_start_up(rundir, runs, step):
    # initdb and pg_ctl run in a session of their own, so the signal does
    # not cut them in half; the script stops once the step is done.
    r = start_run(runs, new_datadir(rundir, "early-%s" % step.split()[1]))
    wait_for(lambda: step in r.log(), 120, "run.sh to reach %r" % step, 0.01)
    r.signal_group(signal.SIGTERM)
    r.signal_group(signal.SIGTERM)
    assert r.wait() == 0, r.log()
    text = r.log()
    assert "killing" not in text, text
    assert not cluster_running(r.datadir)
    assert not SANITIZER_RE.search(text), text
    # What init left is a usable cluster: the next run serves.
    r2 = start_run(runs, r.datadir)
    r2.wait_serving()
    r2.signal_group(signal.SIGTERM)
    assert r2.wait() == 0, r2.log()
    assert_clean_stop(r2.log())


def test_a_later_second_signal_kills_the_broker(rundir, runs):
    # A broker that does not stop: SIGSTOP it, so SIGTERM stays pending.
    r = start_run(runs, new_datadir(rundir, "kill"))
    r.wait_serving()
    pid = int(wait_for(lambda: _broker_pid(r), 30, "the broker's pid in the lock file"))
    os.kill(pid, signal.SIGSTOP)
    r.signal_group(signal.SIGTERM)
    wait_for(lambda: "received SIGTERM: stopping the broker" in r.log(), 30,
             "run.sh to forward SIGTERM")
    # A repeat right away is a relay of the same request and changes nothing;
    # only one after ESCALATE_AFTER (2 s) is a second request. Wait for the
    # script to be 2 s past the first signal by its own log, not a sleep
    # whose length the test would depend on.
    first = time.monotonic()
    wait_for(lambda: time.monotonic() - first > 2.2, 5, "2 s after the first signal")
    assert "killing the broker" not in r.log()
    r.signal_group(signal.SIGTERM)
    status = r.wait()
    assert status == 128 + signal.SIGKILL, (status, r.log())
    text = r.log()
    assert "received SIGTERM again: killing the broker (pid %d)" % pid in text, text
    assert "pgcluster: stopped" in text, text
    assert not cluster_running(r.datadir)


def _broker_pid(r):
    """The broker's pid as run.sh wrote it in its lock file, or None."""
    try:
        text = (r.datadir.parent / (r.datadir.name + ".run")).read_text()
    except OSError:
        return None
    if "broker pid" not in text:
        return None
    return text.split("broker pid ")[1].split(",")[0]


def test_second_run_refuses_and_the_first_keeps_serving(rundir, runs):
    first = start_run(runs, new_datadir(rundir, "twice"))
    first.wait_serving()
    assert produce_one(first.kport, "first") == 0

    # The same data directory (what a second `make run` in the same clone is).
    second = start_run(runs, first.datadir)
    assert second.wait(30) == 1
    text = second.log()
    assert "pgcluster:" not in text, text  # refused before touching the cluster
    assert "another run is using %s" % first.datadir in text, text
    assert "pid %d" % first.proc.pid in text, text
    assert "Kafka on 127.0.0.1:%d" % first.kport in text, text

    # Another data directory, but the Kafka port of the first.
    other = start_run(runs, new_datadir(rundir, "twice-other"), kport=first.kport)
    assert other.wait(30) == 1
    text = other.log()
    assert "port %d" % first.kport in text and "in use by pid" in text, text
    assert "pgcluster:" not in text, text
    assert not (other.datadir / "PG_VERSION").exists()

    # The first one never noticed.
    assert cluster_running(first.datadir)
    assert first.serves()
    assert produce_one(first.kport, "first") == 1
    first.signal_group(signal.SIGTERM)
    assert first.wait() == 0, first.log()
    assert_clean_stop(first.log())


def test_a_cluster_started_by_hand_is_left_running(rundir, runs):
    datadir = new_datadir(rundir, "byhand")
    datadir.parent.mkdir()
    pgport = free_port()
    for cmd in ("init", "start"):
        subprocess.run([str(PGCLUSTER), cmd, str(datadir), str(pgport)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
    r = start_run(runs, datadir, pgport=pgport)
    r.wait_serving()
    assert "not started by this run: using it and leaving it running" in r.log()
    r.signal_group(signal.SIGTERM)
    assert r.wait() == 0, r.log()
    text = r.log()
    assert "run: broker exited with status 0" in text, text
    assert "pgcluster: stopped" not in text, text
    assert cluster_running(datadir)
    res = subprocess.run([str(PGBIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(pgport)],
                         stdout=subprocess.DEVNULL, timeout=30)
    assert res.returncode == 0


def test_sasl_ssl_listener_with_a_development_ca(rundir, runs):
    # make run sets PGK_RUN_TLS_LISTEN: SASL_SSL (SCRAM-SHA-256/512) next to
    # PLAINTEXT, with a CA made once in DATADIR/tls/ that clients trust, and
    # users that are PostgreSQL roles in kafka_users.
    tport = free_port()
    env = {"PGK_RUN_TLS_LISTEN": "localhost:%d" % tport}
    r = start_run(runs, new_datadir(rundir, "tls"), env_extra=env)
    r.wait_serving()
    ca = r.datadir / "tls" / "ca.pem"
    assert ca.exists(), r.log()
    res = subprocess.run([str(PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(r.pgport),
                          "-U", "postgres", "-d", "pg_kafka", "-v", "ON_ERROR_STOP=1", "-Xqc",
                          "CREATE ROLE alice LOGIN PASSWORD 'alice-secret' IN ROLE kafka_users"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 0, res.stderr.decode(errors="replace")

    def sasl_metadata(password="alice-secret", mech="SCRAM-SHA-256", check=True):
        res = subprocess.run(["kcat", "-L", "-J", "-b", "localhost:%d" % tport, "-m", "10",
                              "-X", "security.protocol=SASL_SSL",
                              "-X", "ssl.ca.location=%s" % ca, "-X", "sasl.mechanisms=" + mech,
                              "-X", "sasl.username=alice", "-X", "sasl.password=" + password],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if not check:
            return res.returncode
        assert res.returncode == 0, res.stderr.decode(errors="replace")
        return [b["name"] for b in json.loads(res.stdout)["brokers"]]

    assert sasl_metadata() == ["localhost:%d" % tport]
    assert sasl_metadata(password="not-hers", check=False) != 0
    # SCRAM-SHA-512 is enabled too; alice has no such credential yet.
    assert sasl_metadata(mech="SCRAM-SHA-512", check=False) != 0
    assert produce_one(r.kport, "over-plaintext") == 0
    first_ca = ca.read_bytes()
    r.signal_group(signal.SIGTERM)
    assert r.wait() == 0, r.log()
    assert_clean_stop(r.log())

    # A second run keeps the same CA, and the role.
    r2 = start_run(runs, r.datadir, env_extra=env, kport=free_port())
    r2.wait_serving()
    assert ca.read_bytes() == first_ca
    assert sasl_metadata() == ["localhost:%d" % tport]
    assert "making a development CA" not in r2.log()
    r2.signal_group(signal.SIGINT)
    assert r2.wait() == 0, r2.log()
    assert_clean_stop(r2.log())
