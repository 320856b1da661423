"""
Every command a reader of README.md and docs/*.md would type, run against a
private PostgreSQL cluster and broker, in the order of the page; where the
page shows output, the real output must match it. The conventions (which
blocks run, the skip/output/stream markers, the substitutions of ports and
paths, what "matches" means) are at the top of doctest_blocks.py.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

import doctest_blocks as db
from conftest import BROKER_BIN, PGBIN, REPO, Broker, free_port, wait_for
from test_tls import make_ca, make_cert

# The pages whose commands run here, each on a fresh cluster and broker.
COVERED = [
    "README.md",
    "docs/ARCHITECTURE.md",
    "docs/BENCHMARKS.md",
    "docs/DECODER.md",
    "docs/FUZZING.md",
    "docs/GROUPS.md",
    "docs/IDEMPOTENCE.md",
    "docs/OPERATIONS.md",
    "docs/PROTOCOL.md",
    "docs/REPLAY.md",
    "docs/SECURITY.md",
    "docs/SHADOW.md",
    "docs/SQL.md",
    "docs/TRANSACTIONS.md",
]

# Pages not covered yet, and why. Move a page to COVERED when it is ready.
NOT_YET = {}

COMMAND_TIMEOUT = 60  # seconds, per command

# PGK_DOCS_SHOW=1 (with pytest -s) prints what every command printed: the
# real output to paste when a page should show it.
SHOW = bool(os.environ.get("PGK_DOCS_SHOW"))

# Commands that must never run from a test (they install system-wide, serve
# until stopped, or run this very suite): a block with one needs a skip
# marker, so an unmarked one fails instead of taking over the machine.
NEVER_RUN_RE = re.compile(r"(^|[;&|(]\s*)(make|apt|apt-get|npm|sudo)\b", re.M)


def test_every_page_is_covered_or_listed():
    pages = {"README.md"} | {"docs/" + p.name for p in (REPO / "docs").glob("*.md")}
    assert pages == set(COVERED) | set(NOT_YET)
    assert not set(COVERED) & set(NOT_YET)


def test_the_harness_finds_the_commands():
    # A harness that silently finds nothing would pass every page.
    found = {p: [b for b in db.blocks(p, REPO) if b.runs] for p in COVERED}
    for page in ("README.md", "docs/REPLAY.md", "docs/SQL.md", "docs/DECODER.md",
                 "docs/OPERATIONS.md"):
        assert found[page], page
    readme = [b for b in found["README.md"] if b.lang == "console"]
    cmds = db.console_commands(readme[0])
    assert len(cmds) >= 2 and all(c.cmd.strip() for c in cmds)
    assert any(c.expected.strip() for c in cmds)  # output shown, and so compared
    # Every output block belongs to a command before it.
    for page in COVERED:
        bs = db.blocks(page, REPO)
        for prev, b in zip([None] + bs, bs):
            if b.mark == "output":
                assert prev is not None and prev.runs, b.where


def test_matches_ignores_only_what_varies():
    table = (" partition | offset |         timestamp         | key\n"
             "-----------+--------+---------------------------+------\n"
             "         0 |      0 | 2026-11-23 23:53:34.89+00 | user1\n")
    other = (" partition | offset |          timestamp           | key\n"
             "-----------+--------+------------------------------+------\n"
             "         0 |      0 | 2026-12-06 18:00:01.123+00 | user1\n")
    assert db.matches(table, other)
    assert not db.matches(table, other.replace("user1", "user2"))
    assert not db.matches(table, other.replace("|      0 |", "|      1 |"))
    j1 = '{"topic":"t","partition":0,"offset":1,"timestamp":1,"lsn":"0/1"}'
    j2 = '{"topic":"t","partition":0,"offset":1,"timestamp":2,"lsn":"0/2A"}'
    assert db.matches(j1, j2)
    assert not db.matches(j1, j2.replace('"partition":0', '"partition":3'))


def control_version():
    text = (REPO / "sql" / "pg_kafka.control").read_text()
    return re.search(r"^default_version\s*=\s*'([^']+)'", text, re.M).group(1)


def test_sql_md_names_the_installed_version(pg):
    # The page said 0.3 long after 0.6 shipped.
    page = (REPO / "docs" / "SQL.md").read_text()
    stated = re.search(r"`CREATE EXTENSION pg_kafka` \(version ([0-9.]+)\)", page).group(1)
    assert stated == control_version()
    assert "→ %s)" % stated in page  # the end of the upgrade path
    # What a database gets, when the installed extension is this tree's
    # (make test installs it first; by hand, another tree's may be there).
    installed = pg.sql("SELECT default_version FROM pg_available_extensions "
                       "WHERE name = 'pg_kafka'")
    if installed != control_version():
        pytest.skip("the installed pg_kafka is %s, this tree's %s: make install"
                    % (installed, control_version()))
    assert pg.sql("SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka'") == stated


def test_operations_settings_match_the_broker_help():
    # The settings table of OPERATIONS.md against `pg_kafka --help`: every
    # setting it names exists, with the default the page says.
    help_text = subprocess.run([str(BROKER_BIN), "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30).stdout.decode()
    defaults = {}
    for m in re.finditer(r"default: (.*)\n\s+env \S+, file key (\S+)", help_text):
        defaults[m.group(2)] = m.group(1).strip()
    page = (REPO / "docs" / "OPERATIONS.md").read_text()
    table = page.split("### Settings", 1)[1].split("\n\n### ", 1)[0]
    checked = 0
    for row in table.split("\n"):
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        keys = re.findall(r"`([^`]+)`", cells[0])
        values = [v.strip().strip("`") for v in cells[1].split(",")]
        for i, key in enumerate(keys):
            assert key in defaults, "OPERATIONS.md names %s, which --help does not know" % key
            if i < len(values) and " " not in values[i]:
                assert values[i] == defaults[key], (key, values[i], defaults[key])
                checked += 1
    assert checked >= 10


class Page:
    """Runs the blocks of one page in order against one cluster and broker."""

    def __init__(self, path, pg, broker, tmpdir):
        self.path = path
        self.pg = pg
        self.tmpdir = tmpdir
        self.env = {"kafka": broker.bootstrap, "pgport": pg.port, "pgbin": str(PGBIN),
                    "broker": str(BROKER_BIN), "kafka_sasl_ssl": broker.sasl_ssl_bootstrap,
                    "ca": str(broker.ca)}
        self.shell_env = dict(os.environ, PGCONNECT_TIMEOUT="10")
        self.ran = 0
        self.skipped = []

    def run(self):
        bs = db.blocks(self.path, REPO)
        for i, b in enumerate(bs):
            nxt = bs[i + 1] if i + 1 < len(bs) else None
            expected = nxt.text if nxt is not None and nxt.mark == "output" else None
            if b.mark == "skip":
                self.skipped.append("%s: %s" % (b.where, b.reason))
            elif not b.runs:
                continue
            elif b.mark == "stream":
                self.stream(b, expected)
            elif b.lang == "console":
                for c in db.console_commands(b):
                    self.check(c.where, self.shell(c.where, c.cmd), c.expected)
            elif b.lang == "sh":
                self.check(b.where, self.shell(b.where, b.text), expected)
            elif b.lang == "sql":
                self.check(b.where, self.sql(b.where, b.text), expected)

    def sub(self, text):
        return db.substitute(text, self.env)

    def fail(self, where, what, cmd, out):
        pytest.fail("%s: %s\n--- ran ---\n%s\n--- output ---\n%s" % (where, what, cmd, out),
                    pytrace=False)

    def shell(self, where, script):
        script = self.sub(script)
        if NEVER_RUN_RE.search(script):
            self.fail(where, "a command a test must not run: mark the block "
                      "<!-- doctest: skip REASON -->", script, "")
        res = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=str(REPO),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.shell_env,
                             timeout=COMMAND_TIMEOUT)
        out = (res.stdout + res.stderr).decode("utf-8", "replace")
        if res.returncode != 0:
            self.fail(where, "exit status %d" % res.returncode, script, out)
        self.ran += 1
        return out

    def sql(self, where, text):
        text = self.sub(text)
        res = subprocess.run(
            [str(PGBIN / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.pg.port), "-U", "postgres", "-d", "pg_kafka", "-f", "-"],
            input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=COMMAND_TIMEOUT)
        out = (res.stdout + res.stderr).decode("utf-8", "replace")
        if res.returncode != 0:
            self.fail(where, "psql exit status %d" % res.returncode, text, out)
        self.ran += 1
        return out

    def check(self, where, out, expected):
        if SHOW:
            print("--- %s ---\n%s" % (where, out))
        if expected is None:
            return
        expected = self.sub(expected)
        if not db.matches(expected, out):
            pytest.fail("%s: the output differs from the page\n--- page ---\n%s\n"
                        "--- real ---\n%s" % (where, expected, out), pytrace=False)

    def stream(self, b, expected):
        """A command that runs until Ctrl-C: wait for the output the page
        shows, then send SIGINT, as a reader's Ctrl-C does."""
        assert expected is not None, "%s: a stream block needs an output block" % b.where
        script = self.sub(b.text)
        if NEVER_RUN_RE.search(script):
            self.fail(b.where, "a command a test must not run", script, "")
        expected = self.sub(expected)
        outpath = self.tmpdir / ("stream-%d.out" % b.line)
        with open(outpath, "wb") as out:
            proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", "exec " + script.strip()],
                                    cwd=str(REPO), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=self.shell_env,
                                    start_new_session=True)
        try:
            def shown():
                if proc.poll() is not None:
                    self.fail(b.where, "exited with %s before showing the page's output"
                              % proc.returncode, script, outpath.read_text())
                return db.matches(expected, outpath.read_text())
            try:
                wait_for(shown, COMMAND_TIMEOUT, "%s to print what the page shows" % b.where)
            except AssertionError:
                self.fail(b.where, "the output differs from the page\n--- page ---\n%s"
                          % expected, script, outpath.read_text())
            self.stream_settled(b, outpath.read_text())
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(COMMAND_TIMEOUT)
            self.stream_stopped(b, proc.returncode, outpath.read_text())
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.ran += 1

    def stream_settled(self, b, out):
        """Before Ctrl-C, wait until what the page promises about a running
        stream holds. pg_recvlogical on the page confirms what it wrote within
        a second (-F 1 -s 1): wait until its slot's confirmed position is past
        the last record it printed (the page then checks the slot is empty)."""
        if "pg_recvlogical" in b.text and "--slot" in b.text:
            slot = b.text.split("--slot", 1)[1].split()[0]
            last = [line for line in out.split("\n") if line.startswith("{")][-1]
            lsn = json.loads(last)["lsn"]
            # The page promises about a second; pg_recvlogical's defaults
            # (-F 10 -s 10) confirm only after 10 s, which a reader who stops
            # it sooner never sees. 8 s tells the two apart with a margin.
            wait_for(lambda: self.pg.sql(
                "SELECT confirmed_flush_lsn > '%s' FROM pg_replication_slots "
                "WHERE slot_name = '%s'" % (lsn, slot)) == "t",
                8, "pg_recvlogical to confirm what it printed (slot %s)" % slot)

    def stream_stopped(self, b, status, out):
        """What the page says about the end of a stream after Ctrl-C."""
        if "pg_recvlogical" in b.text:
            # PostgreSQL 15's own message for a stop it was asked for; the
            # exit status says it was no error.
            assert status == 0, (b.where, status, out)
            assert out.rstrip().endswith(
                "pg_recvlogical: error: unexpected termination of replication stream:"), out
        else:
            assert status == 0, (b.where, status, out)


class DocsBroker(Broker):
    """The broker of make run: PLAINTEXT, and SASL_SSL with a CA of its own
    (make run's .pgdata/tls/)."""

    def __init__(self, pg, workdir, extra_args=(), tls_dir=None):
        super().__init__(pg, workdir, extra_args)
        self.sasl_ssl_port = free_port()
        self.sasl_ssl_bootstrap = "localhost:%d" % self.sasl_ssl_port
        make_ca(tls_dir, "ca")
        make_cert(tls_dir, "ca", "server", "localhost", True)
        self.ca = tls_dir / "ca.pem"
        self.tls_dir = tls_dir

    @property
    def args(self):
        return [str(BROKER_BIN), "--pg", self.pg.conninfo,
                "--listeners", "PLAINTEXT://127.0.0.1:%d,SASL_SSL://127.0.0.1:%d" % (
                    self.port, self.sasl_ssl_port),
                "--advertised-listeners", "PLAINTEXT://%s,SASL_SSL://%s" % (
                    self.bootstrap, self.sasl_ssl_bootstrap),
                "--ssl-certificate-location", str(self.tls_dir / "server.pem"),
                "--ssl-key-location", str(self.tls_dir / "server.key"),
                "--log-level", "debug", *self.extra_args]


@pytest.mark.e2e_timeout(300)
@pytest.mark.parametrize("page", COVERED)
def test_page(page, fresh_pg, make_broker, tmp_path):
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    broker = make_broker(fresh_pg, cls=DocsBroker, tls_dir=tls_dir)
    p = Page(page, fresh_pg, broker, tmp_path)
    p.run()
    bs = db.blocks(page, REPO)
    assert p.ran == sum(1 for b in bs if b.runs and b.lang != "console") + sum(
        len(db.console_commands(b)) for b in bs if b.runs and b.lang == "console")
