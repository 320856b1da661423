"""
SASL: a broker with PLAINTEXT, SASL_SSL and SASL_PLAINTEXT listeners, and
Kafka users that are PostgreSQL roles in kafka_users (SCRAM-SHA-256 against
the role's own verifier) or rows of kafka.scram_credentials (SCRAM-SHA-512,
or Kafka-managed users). Real clients (kcat, confluent-kafka, kafka-python,
KafkaJS) produce, consume in a group and make an admin call over SASL_SSL
with each mechanism; wrong passwords, unknown users, roles outside
kafka_users, a changed role password and requests before authentication
are refused with SASL_AUTHENTICATION_FAILED or a closed connection and one
log line while other clients go on. The SCRAM exchanges whose exact
answers matter are driven here byte by byte (a small SCRAM client in
Python over kafkaproto), as are DescribeUserScramCredentials,
AlterUserScramCredentials and KIP-368 re-authentication.
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path

import pytest

import kafkaproto
from conftest import Broker, Kafka, free_port, unique, wait_for
from test_kafkajs import node, node_ready  # noqa: F401 (fixture)
from test_tls import certs, kcat  # noqa: F401 (fixture)

SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36
DESCRIBE_SCRAM, ALTER_SCRAM = 50, 51
FAILED_LINE = "authentication failed"


# --------------------------------------------------------------------------
# The broker.

class SaslBroker(Broker):
    """PLAINTEXT on port; SASL_SSL on sasl_ssl_port (advertised as
    localhost, the certificate's name); SASL_PLAINTEXT on sasl_port."""

    def __init__(self, pg, workdir, extra_args=(), certs=None):
        super().__init__(pg, workdir, extra_args)
        self.sasl_ssl_port = free_port()
        self.sasl_port = free_port()
        self.sasl_ssl_bootstrap = "localhost:%d" % self.sasl_ssl_port
        self.sasl_bootstrap = "127.0.0.1:%d" % self.sasl_port
        self.certs = certs

    @property
    def args(self):
        import conftest
        return [str(conftest.BROKER_BIN),
                "--pg", self.pg.conninfo,
                "--listeners", "PLAINTEXT://127.0.0.1:%d,SASL_SSL://127.0.0.1:%d,"
                "SASL_PLAINTEXT://127.0.0.1:%d" % (self.port, self.sasl_ssl_port,
                                                   self.sasl_port),
                "--advertised-listeners", "PLAINTEXT://127.0.0.1:%d,SASL_SSL://localhost:%d,"
                "SASL_PLAINTEXT://127.0.0.1:%d" % (self.port, self.sasl_ssl_port,
                                                   self.sasl_port),
                "--ssl-certificate-location", str(self.certs / "server.pem"),
                "--ssl-key-location", str(self.certs / "server.key"),
                "--sasl-enabled-mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
                "--log-level", "debug",
                *self.extra_args]


@pytest.fixture(scope="module")
def sb(pg, workdir, certs):
    """One SASL broker for the module."""
    b = SaslBroker(pg, workdir, certs=certs)
    b.start()
    yield b
    problems = b.stop()
    assert not problems, "\n".join(problems)


@pytest.fixture
def sasl_broker(pg, workdir, certs, make_broker):
    """Factory: a private SaslBroker with extra arguments."""
    def factory(*extra):
        return make_broker(pg, *extra, cls=SaslBroker, certs=certs)
    return factory


def make_role(pg, password, kafka_user=True, name=None):
    name = name or unique("u").replace("-", "_")
    pg.sql("CREATE ROLE %s LOGIN PASSWORD '%s'%s" % (
        name, password, " IN ROLE kafka_users" if kafka_user else ""))
    return name


def failed_lines(broker, since, user):
    return [line for line in broker.log_text()[since:].splitlines()
            if FAILED_LINE in line and user in line]


# --------------------------------------------------------------------------
# A SCRAM client, and raw SASL requests.

def tls_conn(port, cafile):
    ctx = ssl.create_default_context(cafile=str(cafile))
    conn = kafkaproto.Conn("127.0.0.1", port)
    conn.sock = ctx.wrap_socket(conn.sock, server_hostname="localhost")
    return conn


def handshake(conn, mech, version=1):
    r = conn.request(SASL_HANDSHAKE, version, kafkaproto.Writer().string(mech).getvalue())
    err = r.i16()
    mechs = r.array(lambda r: r.string())
    return err, mechs


def authenticate(conn, token, version=1):
    """(error_code, error_message, auth_bytes, session_lifetime_ms)."""
    flex = version >= 2
    body = kafkaproto.Writer().bytes_(token, compact=flex)
    if flex:
        body.tags()
    r = conn.request(SASL_AUTHENTICATE, version, body.getvalue(),
                     header_version=2 if flex else 1, response_header_version=1 if flex else 0)
    err = r.i16()
    msg = r.string(compact=flex)
    data = r.bytes_(compact=flex)
    life = r.i64() if version >= 1 else None
    return err, msg, data, life


class Scram:
    def __init__(self, mech, user, password):
        self.h = hashlib.sha256 if mech == "SCRAM-SHA-256" else hashlib.sha512
        self.user, self.password = user, password
        self.cnonce = base64.b64encode(os.urandom(18)).decode()

    def first(self):
        self.bare = "n=%s,r=%s" % (self.user.replace("=", "=3D").replace(",", "=2C"),
                                   self.cnonce)
        return ("n,," + self.bare).encode()

    def final(self, server_first):
        self.server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in self.server_first.split(","))
        salted = hashlib.pbkdf2_hmac(self.h().name, self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        ckey = hmac.new(salted, b"Client Key", self.h).digest()
        skey = self.h(ckey).digest()
        without = "c=biws,r=%s" % attrs["r"]
        auth = ",".join([self.bare, self.server_first, without]).encode()
        sig = hmac.new(skey, auth, self.h).digest()
        proof = bytes(a ^ b for a, b in zip(ckey, sig))
        server_key = hmac.new(salted, b"Server Key", self.h).digest()
        self.expected_v = base64.b64encode(hmac.new(server_key, auth, self.h).digest()).decode()
        return ("%s,p=%s" % (without, base64.b64encode(proof).decode())).encode()


def scram_login(conn, mech, user, password, version=1):
    """Handshake and the two SaslAuthenticate rounds; the last answer."""
    err, _ = handshake(conn, mech)
    assert err == 0
    s = Scram(mech, user, password)
    err, msg, data, life = authenticate(conn, s.first(), version)
    assert err == 0, msg
    err, msg, data, life = authenticate(conn, s.final(data), version)
    if err == 0:
        assert data.decode() == "v=" + s.expected_v
    return err, msg, data, life


def metadata_ok(conn):
    r = conn.request(3, 1, kafkaproto.Writer().i32(0).getvalue())
    r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
    return True


# --------------------------------------------------------------------------
# Real clients over SASL_SSL.

def kcat_sasl(certs, mech, user, password):
    return ["-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=%s" % (certs / "ca.pem"),
            "-X", "sasl.mechanisms=%s" % mech, "-X", "sasl.username=%s" % user,
            "-X", "sasl.password=%s" % password]


def confluent_conf(sb, certs, mech, user, password, **extra):
    c = {"bootstrap.servers": sb.sasl_ssl_bootstrap, "broker.address.family": "any",
         "security.protocol": "SASL_SSL", "ssl.ca.location": str(certs / "ca.pem"),
         "sasl.mechanisms": mech, "sasl.username": user, "sasl.password": password}
    c.update(extra)
    return c


def roundtrip_confluent(sb, certs, mech, user, password):
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = unique("sasl")
    admin = AdminClient(confluent_conf(sb, certs, mech, user, password))
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    assert topic in admin.list_topics(timeout=30).topics
    p = Producer(confluent_conf(sb, certs, mech, user, password))
    for i in range(10):
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i)
    assert p.flush(30) == 0
    c = Consumer(confluent_conf(sb, certs, mech, user, password, **{
        "group.id": unique("g"), "auto.offset.reset": "earliest"}))
    try:
        c.subscribe([topic])
        seen = []
        deadline = time.monotonic() + 60
        while len(seen) < 10 and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                seen.append(m.value())
        assert seen == [b"v%d" % i for i in range(10)]
        c.commit(asynchronous=False)
    finally:
        c.close()


def roundtrip_kcat(sb, certs, mech, user, password):
    topic = unique("sasl")
    lines = ["k%d:v%d" % (i, i) for i in range(5)]
    kcat("-P", "-b", sb.sasl_ssl_bootstrap, "-t", topic, "-K:", "-p", "0",
         *kcat_sasl(certs, mech, user, password),
         input="".join(x + "\n" for x in lines).encode())
    # A group consumer (-G) reads them back.
    out = kcat("-G", unique("g"), "-b", sb.sasl_ssl_bootstrap, "-o", "beginning", "-e", "-q",
               "-f", r"%k:%s\n", *kcat_sasl(certs, mech, user, password), topic,
               "-X", "auto.offset.reset=earliest", timeout=90).stdout.decode()
    assert out.splitlines() == lines
    meta = json.loads(kcat("-L", "-J", "-b", sb.sasl_ssl_bootstrap,
                           *kcat_sasl(certs, mech, user, password)).stdout)
    assert topic in [t["topic"] for t in meta["topics"]]


def roundtrip_kafka_python(sb, certs, mech, user, password):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    kw = dict(bootstrap_servers=sb.sasl_ssl_bootstrap, security_protocol="SASL_SSL",
              ssl_cafile=str(certs / "ca.pem"), sasl_mechanism=mech,
              sasl_plain_username=user, sasl_plain_password=password)
    topic = unique("sasl")
    p = KafkaProducer(**kw)
    try:
        for i in range(10):
            p.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0)
        p.flush(30)
    finally:
        p.close(10)
    c = KafkaConsumer(topic, group_id=unique("g"), auto_offset_reset="earliest",
                      consumer_timeout_ms=30000, **kw)
    try:
        got = []
        for m in c:
            got.append(m.value)
            if len(got) == 10:
                break
        c.commit()
    finally:
        c.close()
    assert got == [b"v%d" % i for i in range(10)]
    a = KafkaAdminClient(**kw)
    try:
        assert topic in a.list_topics()
    finally:
        a.close()


def roundtrip_kafkajs(sb, certs, mech, user, password):
    topic = unique("sasl")
    res = node("sasl_roundtrip.js", {
        "bootstrap": sb.sasl_ssl_bootstrap, "ca": str(certs / "ca.pem"),
        "sasl": {"mechanism": mech.lower(), "username": user, "password": password},
        "topic": topic, "groupId": unique("g"), "count": 5})
    assert res["topics"] == [topic]
    assert res["values"] == ["v%d" % i for i in range(5)]


CLIENTS = {"kcat": roundtrip_kcat, "confluent": roundtrip_confluent,
           "kafka-python": roundtrip_kafka_python, "kafkajs": roundtrip_kafkajs}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_scram_sha_256_role(sb, certs, pg, client, request):
    if client == "kafkajs":
        request.getfixturevalue("node_ready")
    user = make_role(pg, "alice-secret")
    CLIENTS[client](sb, certs, "SCRAM-SHA-256", user, "alice-secret")


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_scram_sha_512_table_user(sb, certs, pg, client, request):
    if client == "kafkajs":
        request.getfixturevalue("node_ready")
    # A role with its SCRAM-SHA-512 credential set from SQL.
    user = make_role(pg, "role-password")
    pg.sql("SELECT kafka.set_scram_credential('%s', 'SCRAM-SHA-512', 'sha512-secret')" % user)
    CLIENTS[client](sb, certs, "SCRAM-SHA-512", user, "sha512-secret")


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_plain_over_ssl(sb, certs, pg, client, request):
    if client == "kafkajs":
        request.getfixturevalue("node_ready")
    user = make_role(pg, "plain-secret")
    CLIENTS[client](sb, certs, "PLAIN", user, "plain-secret")


def test_plain_checks_sha512_table_user(sb, certs, pg):
    # A Kafka-managed user (no role) with only a SCRAM-SHA-512 credential.
    user = unique("kafka-only")
    pg.sql("SELECT kafka.set_scram_credential('%s', 'SCRAM-SHA-512', 'only-512')" % user)
    meta = json.loads(kcat("-L", "-J", "-b", sb.sasl_ssl_bootstrap,
                           *kcat_sasl(certs, "PLAIN", user, "only-512")).stdout)
    assert meta["brokers"]


@pytest.mark.parametrize("version", [0, 1, 2])
def test_principal_is_the_user(sb, certs, pg, version):
    user = make_role(pg, "who-am-i")
    since = len(sb.log_text())
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        err, msg, data, life = scram_login(c, "SCRAM-SHA-256", user, "who-am-i", version)
        assert err == 0 and life == (None if version == 0 else 0)
        assert metadata_ok(c)
    assert "authenticated as User:%s (SCRAM-SHA-256)" % user in sb.log_text()[since:]


def test_plain_on_sasl_plaintext_when_allowed(sasl_broker, pg):
    b = sasl_broker("--sasl-plain-allow-plaintext", "true")
    user = make_role(pg, "clear-plain")
    with kafkaproto.Conn("127.0.0.1", b.sasl_port) as c:
        err, mechs = handshake(c, "PLAIN")
        assert err == 0 and "PLAIN" in mechs
        assert authenticate(c, b"%s\0%s\0clear-plain" % (user.encode(), user.encode()))[0] == 0
        assert metadata_ok(c)
    # An authorization id other than the user is refused.
    with kafkaproto.Conn("127.0.0.1", b.sasl_port) as c:
        assert handshake(c, "PLAIN")[0] == 0
        assert authenticate(c, b"admin\0%s\0clear-plain" % user.encode())[0] == 58
        assert c.wait_closed()


# --------------------------------------------------------------------------
# Refusals: one log line each, the connection closed, others unaffected.

def refused(sb, certs, mech, user, password):
    """A raw SCRAM login that must fail: the error and the connection."""
    since = len(sb.log_text())
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        err, msg, data, _ = scram_login(c, mech, user, password)
        assert err == 58, (err, msg)
        assert "Authentication failed" in msg
        assert c.wait_closed()
    lines = wait_for(lambda: failed_lines(sb, since, user), 10, "the failure log line")
    assert len(lines) == 1, lines
    assert password not in lines[0]
    return lines[0]


def test_wrong_password(sb, certs, pg):
    user = make_role(pg, "right-one")
    line = refused(sb, certs, "SCRAM-SHA-256", user, "wrong-one")
    assert "invalid credentials" in line and "127.0.0.1" in line
    # kcat sees the error too.
    res = kcat("-L", "-b", sb.sasl_ssl_bootstrap, "-m", "5",
               *kcat_sasl(certs, "SCRAM-SHA-256", user, "wrong-one"), check=False, timeout=30)
    assert res.returncode != 0
    assert b"Authentication failed" in res.stderr or b"SASL" in res.stderr
    # Someone else keeps working.
    roundtrip_kcat(sb, certs, "SCRAM-SHA-256", user, "right-one")


def test_unknown_user(sb, certs):
    line = refused(sb, certs, "SCRAM-SHA-256", "nobody_" + unique("x"), "whatever")
    assert "unknown user" in line


def test_user_name_cannot_break_the_log_line(sb, certs):
    # A name with a newline and a forged line in it stays on one line.
    name = "evil_%s\nWARN forged" % unique("x")
    since = len(sb.log_text())
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        err, _, _, _ = scram_login(c, "SCRAM-SHA-256", name, "pw")
        assert err == 58
        assert c.wait_closed()
    lines = wait_for(lambda: failed_lines(sb, since, name.split("\n")[0]), 10, "the log line")
    assert len(lines) == 1 and "?WARN forged" in lines[0]
    assert not [line for line in sb.log_text()[since:].splitlines()
                if line.startswith("WARN forged")]


def test_role_not_in_kafka_users(sb, certs, pg):
    user = make_role(pg, "outsider-pw", kafka_user=False)
    refused(sb, certs, "SCRAM-SHA-256", user, "outsider-pw")
    # Granting membership lets it in.
    pg.sql("GRANT kafka_users TO %s" % user)
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert scram_login(c, "SCRAM-SHA-256", user, "outsider-pw")[0] == 0


def test_alter_role_password(sb, certs, pg):
    user = make_role(pg, "old-password")
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert scram_login(c, "SCRAM-SHA-256", user, "old-password")[0] == 0
        pg.sql("ALTER ROLE %s PASSWORD 'new-password'" % user)
        # An established session stays; new logins use the new password.
        assert metadata_ok(c)
    refused(sb, certs, "SCRAM-SHA-256", user, "old-password")
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert scram_login(c, "SCRAM-SHA-256", user, "new-password")[0] == 0


def test_plain_wrong_password(sb, certs, pg):
    user = make_role(pg, "plain-right")
    since = len(sb.log_text())
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert handshake(c, "PLAIN")[0] == 0
        err, msg, _, _ = authenticate(c, b"\0%s\0plain-wrong" % user.encode())
        assert err == 58
        assert c.wait_closed()
    lines = wait_for(lambda: failed_lines(sb, since, user), 10, "the failure log line")
    assert len(lines) == 1 and "plain-wrong" not in lines[0]


@pytest.mark.parametrize("tls", [True, False])
def test_request_before_authentication(sb, certs, tls):
    since = len(sb.log_text())
    conn = (tls_conn(sb.sasl_ssl_port, certs / "ca.pem") if tls
            else kafkaproto.Conn("127.0.0.1", sb.sasl_port))
    with conn as c:
        # ApiVersions is allowed, Metadata is not.
        kafkaproto.api_versions(c, 0)
        c.send(3, 1, kafkaproto.Writer().i32(0).getvalue())
        assert c.wait_closed()
    lines = wait_for(lambda: [line for line in sb.log_text()[since:].splitlines()
                              if "before authentication" in line], 10, "the log line")
    assert len(lines) == 1 and "Metadata" in lines[0]
    # The PLAINTEXT listener still serves.
    with kafkaproto.Conn("127.0.0.1", sb.port) as c:
        assert metadata_ok(c)


def test_plain_refused_on_sasl_plaintext(sb):
    since = len(sb.log_text())
    with kafkaproto.Conn("127.0.0.1", sb.sasl_port) as c:
        err, mechs = handshake(c, "PLAIN")
        assert err == 33  # UNSUPPORTED_SASL_MECHANISM
        assert mechs == ["SCRAM-SHA-256", "SCRAM-SHA-512"]
        assert c.wait_closed()
    assert len([line for line in sb.log_text()[since:].splitlines()
                if "'PLAIN' is not enabled" in line]) == 1


def test_scram_on_sasl_plaintext(sb, pg):
    user = make_role(pg, "clear-scram")
    with kafkaproto.Conn("127.0.0.1", sb.sasl_port) as c:
        assert scram_login(c, "SCRAM-SHA-256", user, "clear-scram")[0] == 0
        assert metadata_ok(c)


def test_authenticate_without_handshake(sb, certs):
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        err, msg, _, _ = authenticate(c, b"n,,n=x,r=abc")
        assert err == 34  # ILLEGAL_SASL_STATE
        assert c.wait_closed()


def test_sasl_on_plaintext_listener(sb):
    with kafkaproto.Conn("127.0.0.1", sb.port) as c:
        err, mechs = handshake(c, "SCRAM-SHA-256")
        assert err == 34 and mechs == []
        assert metadata_ok(c)


# --------------------------------------------------------------------------
# Raw SASL tokens after SaslHandshake v0 (what kafka-python 2.0 sends).

def test_raw_tokens_after_handshake_v0(sb, certs, pg):
    user = make_role(pg, "raw-secret")

    def raw(c, token):
        c.send_raw(struct.pack(">i", len(token)) + token)
        return c.recv_frame()

    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert handshake(c, "SCRAM-SHA-256", version=0)[0] == 0
        s = Scram("SCRAM-SHA-256", user, "raw-secret")
        server_first = raw(c, s.first())
        assert server_first.startswith(b"r=" + s.cnonce.encode())
        assert raw(c, s.final(server_first)).decode() == "v=" + s.expected_v
        assert metadata_ok(c)
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert handshake(c, "PLAIN", version=0)[0] == 0
        assert raw(c, b"\0%s\0raw-secret" % user.encode()) == b""
        assert metadata_ok(c)
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert handshake(c, "PLAIN", version=0)[0] == 0
        c.send_raw(struct.pack(">i", 12) + b"\0nobody\0pass")
        assert c.wait_closed()


# --------------------------------------------------------------------------
# DescribeUserScramCredentials and AlterUserScramCredentials (v0, flexible).

def describe_scram(conn, users):
    w = kafkaproto.Writer()
    w.array(users, lambda w, u: (w.string(u, compact=True), w.tags()), compact=True)
    w.tags()
    r = conn.request(DESCRIBE_SCRAM, 0, w.getvalue(), header_version=2,
                     response_header_version=1)
    r.i32()
    top = (r.i16(), r.string(compact=True))

    def result(r):
        user = r.string(compact=True)
        err = r.i16()
        msg = r.string(compact=True)
        infos = r.array(lambda r: (r.i8(), r.i32(), r.tags())[:2], compact=True)
        r.tags()
        return user, err, msg, infos

    return top, r.array(result, compact=True)


def alter_scram(conn, deletions=(), upsertions=()):
    w = kafkaproto.Writer()
    w.array(list(deletions), lambda w, d: (w.string(d[0], compact=True), w.i8(d[1]), w.tags()),
            compact=True)

    def ups(w, u):
        name, mech, iters, salt, salted = u
        w.string(name, compact=True).i8(mech).i32(iters)
        w.bytes_(salt, compact=True).bytes_(salted, compact=True).tags()

    w.array(list(upsertions), ups, compact=True)
    w.tags()
    r = conn.request(ALTER_SCRAM, 0, w.getvalue(), header_version=2, response_header_version=1)
    r.i32()
    out = r.array(lambda r: (r.string(compact=True), r.i16(), r.string(compact=True),
                             r.tags())[:3], compact=True)
    return {u: (e, m) for u, e, m in out}


def salted(mech, password, salt, iters):
    return hashlib.pbkdf2_hmac("sha256" if mech == 1 else "sha512", password.encode(), salt,
                               iters)


def test_describe_and_alter_scram_credentials(sb, certs, pg):
    role = make_role(pg, "role-pw")
    kuser = unique("managed")
    salt = os.urandom(16)
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert scram_login(c, "SCRAM-SHA-256", role, "role-pw")[0] == 0
        # Upsert a Kafka-managed user with both mechanisms, and the role's 512.
        res = alter_scram(c, upsertions=[
            (kuser, 1, 4096, salt, salted(1, "k-pw", salt, 4096)),
            (kuser, 2, 8192, salt, salted(2, "k-pw", salt, 8192)),
            (role, 2, 4096, salt, salted(2, "r-512", salt, 4096)),
        ])
        assert res == {kuser: (0, None), role: (0, None)}
        top, results = describe_scram(c, [kuser, role, "nobody-here"])
        assert top == (0, None)
        by = {u: (e, infos) for u, e, m, infos in results}
        assert by[kuser] == (0, [(1, 4096), (2, 8192)])
        assert by[role][0] == 0 and sorted(by[role][1]) == [(1, 4096), (2, 4096)]
        assert by["nobody-here"][0] == 91  # RESOURCE_NOT_FOUND
        # Everyone, when no user is named.
        _, results = describe_scram(c, None)
        assert {kuser, role} <= {r[0] for r in results}
        # Kafka's refusals.
        res = alter_scram(c, upsertions=[
            (role, 1, 4096, salt, salted(1, "x", salt, 4096)),        # the role's own
            ("", 1, 4096, salt, salted(1, "x", salt, 4096)),          # empty name
            (unique("few"), 1, 100, salt, salted(1, "x", salt, 100)),  # iterations
            (unique("mech"), 9, 4096, salt, b"x" * 32),                # mechanism
        ], deletions=[(unique("gone"), 1)])
        errs = {u: e for u, (e, m) in res.items()}
        assert errs[role] == 93 and "ALTER ROLE" in res[role][1]
        assert errs[""] == 93
        assert sorted(errs.values()) == [33, 91, 93, 93, 93]
        dup = alter_scram(c, deletions=[(kuser, 1)],
                          upsertions=[(kuser, 1, 4096, salt, salted(1, "y", salt, 4096))])
        assert dup[kuser][0] == 92  # DUPLICATE_RESOURCE
    # The managed user logs in with both mechanisms.
    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
            assert scram_login(c, mech, kuser, "k-pw")[0] == 0
    with tls_conn(sb.sasl_ssl_port, certs / "ca.pem") as c:
        assert scram_login(c, "SCRAM-SHA-512", role, "r-512")[0] == 0
        res = alter_scram(c, deletions=[(kuser, 1), (kuser, 2)])
        assert res == {kuser: (0, None)}
    assert pg.sql("SELECT count(*) FROM kafka.scram_credentials WHERE user_name = '%s'"
                  % kuser) == "0"


def test_scram_admin_apis_need_the_cluster(sasl_broker, certs, pg):
    # With the authorizer on, as Kafka: DESCRIBE on the cluster for
    # Describe, ALTER on the cluster for Alter; a super user has both.
    admin = make_role(pg, "admin-pw")
    plain_user = make_role(pg, "user-pw")
    b = sasl_broker("--authorizer-enabled", "true", "--super-users", "User:" + admin)
    salt = os.urandom(16)
    target = unique("managed")
    ups = [(target, 2, 4096, salt, salted(2, "t-pw", salt, 4096))]
    with tls_conn(b.sasl_ssl_port, certs / "ca.pem") as c:
        assert scram_login(c, "SCRAM-SHA-256", plain_user, "user-pw")[0] == 0
        top, results = describe_scram(c, None)
        assert top[0] == 31 and results == []  # CLUSTER_AUTHORIZATION_FAILED
        assert alter_scram(c, upsertions=ups)[target][0] == 31
    with tls_conn(b.sasl_ssl_port, certs / "ca.pem") as c:
        assert scram_login(c, "SCRAM-SHA-256", admin, "admin-pw")[0] == 0
        assert alter_scram(c, upsertions=ups) == {target: (0, None)}
        top, results = describe_scram(c, [target])
        assert top == (0, None) and results[0][1:] == (0, None, [(2, 4096)])


# --------------------------------------------------------------------------
# KIP-368: session lifetime and re-authentication.

def test_reauthentication(sasl_broker, certs, pg):
    b = sasl_broker("--connections-max-reauth-ms", "1500")
    user = make_role(pg, "reauth-pw")
    other = make_role(pg, "other-pw")
    with tls_conn(b.sasl_ssl_port, certs / "ca.pem") as c:
        t0 = time.monotonic()
        err, _, _, life = scram_login(c, "SCRAM-SHA-256", user, "reauth-pw")
        assert err == 0 and life == 1500
        assert metadata_ok(c)
        # Re-authenticating renews the session, on the same connection.
        wait_for(lambda: time.monotonic() - t0 > 1.0, 5, "most of the session")
        assert scram_login(c, "SCRAM-SHA-256", user, "reauth-pw")[0] == 0
        wait_for(lambda: time.monotonic() - t0 > 1.8, 5, "the first session's end")
        assert metadata_ok(c)  # still inside the renewed session
        # Re-authenticating as someone else is refused.
        err, msg, _, _ = scram_login(c, "SCRAM-SHA-256", other, "other-pw")
        assert err == 58
        assert c.wait_closed()
    # Without re-authentication the next request after expiry closes.
    since = len(b.log_text())
    with tls_conn(b.sasl_ssl_port, certs / "ca.pem") as c:
        t0 = time.monotonic()
        assert scram_login(c, "SCRAM-SHA-256", user, "reauth-pw")[0] == 0
        wait_for(lambda: time.monotonic() - t0 > 1.6, 5, "the session's end")
        c.send(3, 1, kafkaproto.Writer().i32(0).getvalue())
        assert c.wait_closed()
    lines = [line for line in b.log_text()[since:].splitlines() if "expired" in line]
    assert len(lines) == 1 and user in lines[0]


def test_expired_session_real_client_reconnects(sasl_broker, certs, pg):
    # librdkafka 2.0 does not re-authenticate: its connection is closed at
    # the first request after the session ends, and it logs in anew.
    from confluent_kafka import Producer
    b = sasl_broker("--connections-max-reauth-ms", "1000")
    user = make_role(pg, "expiring-pw")
    conf = confluent_conf(b, certs, "SCRAM-SHA-256", user, "expiring-pw")
    topic = unique("reauth")
    p = Producer(conf)
    p.produce(topic, value=b"first")
    assert p.flush(30) == 0
    since = len(b.log_text())
    t0 = time.monotonic()
    wait_for(lambda: time.monotonic() - t0 > 1.5, 5, "the session's end")
    p.produce(topic, value=b"second")
    assert p.flush(30) == 0
    wait_for(lambda: "expired without re-authentication" in b.log_text()[since:], 10,
             "the expiry log line")
    assert int(pg.sql("SELECT count(*) FROM kafka.records WHERE topic = '%s'" % topic)) >= 2


def test_sasl_ssl_with_client_certificates(sasl_broker, certs, pg):
    # mTLS and SASL together: the certificate admits the connection, the
    # SASL login names the principal.
    b = sasl_broker("--ssl-client-auth", "required", "--ssl-ca-location", str(certs / "ca.pem"))
    user = make_role(pg, "mtls-and-sasl")
    since = len(b.log_text())
    meta = json.loads(kcat("-L", "-J", "-b", b.sasl_ssl_bootstrap,
                           *kcat_sasl(certs, "SCRAM-SHA-256", user, "mtls-and-sasl"),
                           "-X", "ssl.certificate.location=%s" % (certs / "alice.pem"),
                           "-X", "ssl.key.location=%s" % (certs / "alice.key")).stdout)
    assert meta["brokers"]
    text = b.log_text()[since:]
    assert "principal User:alice" in text  # the certificate's, after the handshake
    assert "authenticated as User:%s (SCRAM-SHA-256)" % user in text
    # Without a certificate the TLS handshake is refused.
    res = kcat("-L", "-b", b.sasl_ssl_bootstrap, "-m", "5",
               *kcat_sasl(certs, "SCRAM-SHA-256", user, "mtls-and-sasl"), check=False,
               timeout=30)
    assert res.returncode != 0


def test_sasl_config_refusals(pg, workdir, certs):
    import conftest
    for args, why in [
        (["--sasl-enabled-mechanisms", "GSSAPI"], "unknown SASL mechanism"),
        (["--sasl-enabled-mechanisms", ""], "at least one"),
    ]:
        res = subprocess.run([str(conftest.BROKER_BIN), "--pg", pg.conninfo,
                              "--listeners", "SASL_PLAINTEXT://127.0.0.1:%d" % free_port(),
                              *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=30, env=dict(os.environ, **conftest.BROKER_ENV))
        assert res.returncode != 0
        assert why in res.stderr.decode(), res.stderr.decode()
