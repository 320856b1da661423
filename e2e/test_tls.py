"""
Listeners and TLS: a broker with a PLAINTEXT and an SSL listener, and real
clients over SSL (kcat, confluent-kafka, kafka-python); mTLS with
librdkafka and a client certificate; plaintext bytes on the SSL port and a
TLS client on the PLAINTEXT port (a closed connection and one log line,
while other clients keep being served); Metadata giving each client the
advertised endpoint of the listener it came in on; and certificates re-read
on SIGHUP. The CA and certificates are made here with the openssl command
line, in a temporary directory.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

import kafkaproto
from conftest import Broker, Kafka, free_port, unique, wait_for


# --------------------------------------------------------------------------
# Certificates.

def openssl(*args, cwd):
    res = subprocess.run(["openssl", *args], cwd=str(cwd), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 0, "openssl %s: %s" % (" ".join(args), res.stderr.decode())


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
            "-subj", "/CN=%s" % name, cwd=d)
    return d / (name + ".pem")


def make_cert(d, ca, name, cn, server):
    """name.pem and name.key, signed by CA ca (its .pem and .key in d)."""
    ext = d / (name + ".ext")
    if server:
        ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                       "extendedKeyUsage=serverAuth\n")
    else:
        ext.write_text("extendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/O=pgk-test/CN=%s" % cn,
            cwd=d)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", ext.name, cwd=d)
    return d / (name + ".pem"), d / (name + ".key")


@pytest.fixture(scope="module")
def certs(workdir):
    d = Path(workdir) / unique("tls")
    d.mkdir()
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    make_cert(d, "ca", "server", "localhost", True)
    make_cert(d, "ca", "server2", "localhost", True)
    make_cert(d, "ca", "alice", "alice", False)
    make_cert(d, "other-ca", "mallory", "mallory", False)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# A broker with a PLAINTEXT and an SSL listener.

class TlsBroker(Broker):
    """PLAINTEXT on 127.0.0.1:port (advertised as 127.0.0.1), SSL on
    127.0.0.1:ssl_port (advertised as localhost, the certificate's name)."""

    def __init__(self, pg, workdir, extra_args=(), cert=None, key=None):
        super().__init__(pg, workdir, extra_args)
        self.ssl_port = free_port()
        self.ssl_bootstrap = "localhost:%d" % self.ssl_port
        self.cert, self.key = cert, key

    @property
    def args(self):
        return [str(self.binary()),
                "--pg", self.pg.conninfo,
                "--listeners", "PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d" % (
                    self.port, self.ssl_port),
                "--advertised-listeners", "PLAINTEXT://127.0.0.1:%d,SSL://localhost:%d" % (
                    self.port, self.ssl_port),
                "--ssl-certificate-location", str(self.cert),
                "--ssl-key-location", str(self.key),
                "--log-level", "debug",
                *self.extra_args]

    @staticmethod
    def binary():
        import conftest
        return conftest.BROKER_BIN


class SslKafka(Kafka):
    """The conftest helpers, over the SSL listener."""

    def __init__(self, broker, ssl_conf):
        super().__init__(broker, broker.ssl_bootstrap)
        self.ssl_conf = ssl_conf

    def conf(self, **extra):
        c = super().conf(**extra)
        c["broker.address.family"] = "any"
        c.update(self.ssl_conf)
        return c


@pytest.fixture
def tls_broker(pg, workdir, certs, make_broker):
    """Factory: tls_broker(*extra_args, cert=) -> a started TlsBroker
    (copies of the server certificate and key, so a test may replace them).
    Stopped and checked when the test ends."""

    def factory(*extra_args, cert="server"):
        own = Path(workdir) / unique("srv")
        own.mkdir()
        shutil.copy(certs / (cert + ".pem"), own / "cert.pem")
        shutil.copy(certs / (cert + ".key"), own / "key.pem")
        return make_broker(pg, *extra_args, cls=TlsBroker, cert=own / "cert.pem",
                           key=own / "key.pem")

    return factory


def kcat(*args, input=None, timeout=60, check=True):
    res = subprocess.run(["kcat", *map(str, args)], input=input, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=timeout)
    if check:
        assert res.returncode == 0, "kcat %s failed (%d): %s" % (
            " ".join(map(str, args)), res.returncode, res.stderr.decode(errors="replace"))
    return res


def kcat_ssl(certs, *extra):
    return ["-X", "security.protocol=ssl", "-X", "ssl.ca.location=%s" % (certs / "ca.pem"),
            *extra]


def tls_conn(port, cafile, cert=None, key=None):
    """A kafkaproto.Conn over TLS to 127.0.0.1:port, checked against cafile
    for the name localhost."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    if cert:
        ctx.load_cert_chain(str(cert), str(key))
    conn = kafkaproto.Conn("127.0.0.1", port)
    conn.sock = ctx.wrap_socket(conn.sock, server_hostname="localhost")
    return conn


def served_cert(port, cafile):
    """The DER certificate the SSL listener presents to a new connection."""
    with tls_conn(port, cafile) as c:
        return c.sock.getpeercert(binary_form=True)


def pem_der(path):
    return ssl.PEM_cert_to_DER_cert(Path(path).read_text())


def new_lines(broker, since, needle):
    return [line for line in broker.log_text()[since:].splitlines() if needle in line]


def metadata_brokers(bootstrap, *extra):
    out = kcat("-L", "-J", "-b", bootstrap, *extra).stdout.decode()
    return [b["name"] for b in json.loads(out)["brokers"]]


# --------------------------------------------------------------------------
# Clients over SSL.

def test_kcat_over_ssl(tls_broker, certs):
    b = tls_broker()
    topic = unique("tls")
    lines = ["k%d:v%d" % (i, i) for i in range(20)]
    kcat("-P", "-b", b.ssl_bootstrap, "-t", topic, "-K:", "-p", "0",
         *kcat_ssl(certs), input="".join(x + "\n" for x in lines).encode())
    out = kcat("-C", "-b", b.ssl_bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", r"%k:%s\n", *kcat_ssl(certs)).stdout.decode()
    assert out.splitlines() == lines
    # The records are the same ones a PLAINTEXT client sees.
    out = kcat("-C", "-b", b.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", r"%k:%s\n").stdout.decode()
    assert out.splitlines() == lines
    # Without the CA, the client does not trust the broker.
    res = kcat("-L", "-b", b.ssl_bootstrap, "-m", "3", "-X", "security.protocol=ssl",
               "-X", "ssl.ca.location=%s" % (certs / "other-ca.pem"), check=False, timeout=30)
    assert res.returncode != 0


def test_confluent_kafka_over_ssl(tls_broker, certs, pg):
    b = tls_broker()
    k = SslKafka(b, {"security.protocol": "SSL", "ssl.ca.location": str(certs / "ca.pem")})
    try:
        topic = k.create_topic(unique("tls"), partitions=2)
        recs = [(b"key%d" % i, b"value %d" % i) for i in range(50)]
        k.produce(topic, recs)
        got = k.consume(topic, len(recs))
        assert [(r.key, r.value) for r in got] == recs
        # A consumer group over SSL (FindCoordinator answers on this listener).
        from confluent_kafka import Consumer
        c = Consumer(k.conf(**{"group.id": unique("g"), "auto.offset.reset": "earliest",
                               "enable.auto.commit": False}))
        try:
            c.subscribe([topic])
            seen = []
            deadline = time.monotonic() + 60
            while len(seen) < len(recs) and time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    seen.append((m.key(), m.value()))
            assert sorted(seen) == sorted(recs)
            c.commit(asynchronous=False)
        finally:
            c.close()
        assert int(pg.sql("SELECT count(*) FROM kafka.records WHERE topic = '%s'" % topic)) == 50
    finally:
        k.close()


def test_kafka_python_over_ssl(tls_broker, certs):
    from kafka import KafkaConsumer, KafkaProducer
    b = tls_broker()
    topic = unique("tls")
    ssl_kw = dict(security_protocol="SSL", ssl_cafile=str(certs / "ca.pem"),
                  ssl_check_hostname=True)
    p = KafkaProducer(bootstrap_servers=b.ssl_bootstrap, **ssl_kw)
    try:
        for i in range(10):
            p.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0)
        p.flush(30)
    finally:
        p.close(10)
    c = KafkaConsumer(topic, bootstrap_servers=b.ssl_bootstrap, auto_offset_reset="earliest",
                      consumer_timeout_ms=20000, **ssl_kw)
    try:
        got = []
        for m in c:
            got.append((m.key, m.value))
            if len(got) == 10:
                break
    finally:
        c.close()
    assert got == [(b"k%d" % i, b"v%d" % i) for i in range(10)]


# --------------------------------------------------------------------------
# Metadata: the endpoint of the listener the client is on.

def test_metadata_advertises_the_clients_listener(tls_broker, certs):
    b = tls_broker()
    assert metadata_brokers(b.bootstrap) == ["127.0.0.1:%d" % b.port]
    assert metadata_brokers(b.ssl_bootstrap, *kcat_ssl(certs)) == ["localhost:%d" % b.ssl_port]
    # From the SSL port's address too: the answer follows the listener.
    assert metadata_brokers("127.0.0.1:%d" % b.ssl_port, *kcat_ssl(certs)) == [
        "localhost:%d" % b.ssl_port]
    # DescribeConfigs reports both listeners and their advertised endpoints.
    from confluent_kafka.admin import AdminClient, ConfigResource
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    res = ConfigResource(ConfigResource.Type.BROKER, "1")
    configs = admin.describe_configs([res])[res].result(timeout=30)
    assert configs["listeners"].value == "PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d" % (
        b.port, b.ssl_port)
    assert configs["advertised.listeners"].value == (
        "PLAINTEXT://127.0.0.1:%d,SSL://localhost:%d" % (b.port, b.ssl_port))


# --------------------------------------------------------------------------
# The wrong protocol on a port.

def test_plaintext_bytes_on_the_ssl_port(tls_broker, certs):
    b = tls_broker()
    # A connection that closes without a byte (a port probe) is no warning.
    since = len(b.log_text())
    socket.create_connection(("127.0.0.1", b.ssl_port), timeout=10).close()
    wait_for(lambda: new_lines(b, since, "closed the connection before the TLS handshake"), 10,
             "the probe's debug line")
    assert not new_lines(b, since, "closing connection from")

    since = len(b.log_text())
    with kafkaproto.Conn("127.0.0.1", b.ssl_port) as c:
        c.send(kafkaproto.API_VERSIONS, 0)
        assert c.wait_closed(10)
    wait_for(lambda: new_lines(b, since, "TLS handshake failed"), 10, "the handshake log line")
    lines = new_lines(b, since, "closing connection from")
    assert len(lines) == 1, lines
    assert "TLS handshake failed on the SSL listener (port %d)" % b.ssl_port in lines[0]
    # Other clients on both listeners are still served.
    with kafkaproto.Conn("127.0.0.1", b.port) as c:
        assert kafkaproto.api_versions(c, 0)[0] == 0
    with tls_conn(b.ssl_port, certs / "ca.pem") as c:
        assert kafkaproto.api_versions(c, 0)[0] == 0


def test_tls_client_on_the_plaintext_port(tls_broker, certs):
    b = tls_broker()
    since = len(b.log_text())
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    with socket.create_connection(("127.0.0.1", b.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, OSError)):
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass
    wait_for(lambda: new_lines(b, since, "closing connection from"), 10, "the log line")
    lines = new_lines(b, since, "closing connection from")
    assert len(lines) == 1, lines
    assert "started a TLS handshake on the PLAINTEXT listener (port %d)" % b.port in lines[0]
    # librdkafka set up for SSL against the PLAINTEXT port fails; clients
    # set up right keep working.
    res = kcat("-L", "-b", b.bootstrap, "-m", "3", *kcat_ssl(certs), check=False, timeout=30)
    assert res.returncode != 0
    assert metadata_brokers(b.bootstrap) == ["127.0.0.1:%d" % b.port]
    assert metadata_brokers(b.ssl_bootstrap, *kcat_ssl(certs)) == ["localhost:%d" % b.ssl_port]


# --------------------------------------------------------------------------
# mTLS.

def test_mtls_required(tls_broker, certs):
    b = tls_broker("--ssl-client-auth", "required", "--ssl-ca-location", str(certs / "ca.pem"))
    topic = unique("mtls")
    client = ["-X", "ssl.certificate.location=%s" % (certs / "alice.pem"),
              "-X", "ssl.key.location=%s" % (certs / "alice.key")]
    since = len(b.log_text())
    kcat("-P", "-b", b.ssl_bootstrap, "-t", topic, "-K:", "-p", "0",
         *kcat_ssl(certs, *client), input=b"a:1\nb:2\n")
    out = kcat("-C", "-b", b.ssl_bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", r"%k:%s\n", *kcat_ssl(certs, *client)).stdout.decode()
    assert out.splitlines() == ["a:1", "b:2"]
    # The principal comes from the certificate's CN.
    assert new_lines(b, since, "principal User:alice")
    assert not new_lines(b, since, "TLS handshake failed")

    # Without a certificate, or with one from another CA: refused.
    for cert, key in ((None, None), (certs / "mallory.pem", certs / "mallory.key")):
        since = len(b.log_text())
        c = None
        try:
            c = tls_conn(b.ssl_port, certs / "ca.pem", cert, key)
            c.send(kafkaproto.API_VERSIONS, 0)
            assert c.wait_closed(10)
        except (ssl.SSLError, OSError):
            pass  # refused during the handshake itself (TLS 1.2)
        finally:
            if c:
                c.close()
        wait_for(lambda: new_lines(b, since, "TLS handshake failed"), 10, "the log line")
        assert len(new_lines(b, since, "closing connection from")) == 1
    res = kcat("-L", "-b", b.ssl_bootstrap, "-m", "3", *kcat_ssl(certs), check=False,
               timeout=30)
    assert res.returncode != 0
    # The client with its certificate is still served.
    with tls_conn(b.ssl_port, certs / "ca.pem", certs / "alice.pem", certs / "alice.key") as c:
        assert kafkaproto.api_versions(c, 0)[0] == 0


def test_mtls_requested(tls_broker, certs):
    b = tls_broker("--ssl-client-auth", "requested", "--ssl-ca-location",
                   str(certs / "ca.pem"))
    since = len(b.log_text())
    with tls_conn(b.ssl_port, certs / "ca.pem") as c:
        assert kafkaproto.api_versions(c, 0)[0] == 0
    with tls_conn(b.ssl_port, certs / "ca.pem", certs / "alice.pem", certs / "alice.key") as c:
        assert kafkaproto.api_versions(c, 0)[0] == 0
    wait_for(lambda: new_lines(b, since, "principal User:alice"), 10, "alice's principal")
    assert new_lines(b, since, "principal User:ANONYMOUS")


# --------------------------------------------------------------------------
# Reloading the certificates.

def test_sighup_reloads_the_certificate(tls_broker, certs):
    b = tls_broker()
    ca = certs / "ca.pem"
    assert served_cert(b.ssl_port, ca) == pem_der(certs / "server.pem")
    kept = tls_conn(b.ssl_port, ca)
    try:
        assert kafkaproto.api_versions(kept, 0)[0] == 0
        since = len(b.log_text())
        shutil.copy(certs / "server2.pem", b.cert)
        shutil.copy(certs / "server2.key", b.key)
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: new_lines(b, since, "TLS: reloaded"), 10, "the reload")
        assert served_cert(b.ssl_port, ca) == pem_der(certs / "server2.pem")
        # The connection made before keeps going.
        assert kafkaproto.api_versions(kept, 0)[0] == 0

        # A failed reload keeps the certificate in use and logs one line.
        since = len(b.log_text())
        b.key.write_text("not a key\n")
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: new_lines(b, since, "TLS: reload failed"), 10, "the failed reload")
        assert len(new_lines(b, since, "TLS: reload failed")) == 1
        assert served_cert(b.ssl_port, ca) == pem_der(certs / "server2.pem")
        assert kafkaproto.api_versions(kept, 0)[0] == 0
    finally:
        kept.close()


# --------------------------------------------------------------------------
# Settings refused at start.

@pytest.mark.parametrize("args,message", [
    (["--listeners", "SASL_SSL://127.0.0.1:%d"], "needs ssl.certificate.location"),
    (["--listeners", "SSL://127.0.0.1:%d"], "needs ssl.certificate.location"),
    (["--listen", "127.0.0.1:%d", "--listeners", "PLAINTEXT://127.0.0.1:1"],
     "either listen or listeners"),
])
def test_refused_settings(args, message):
    import conftest
    port = free_port()
    args = [a % port if "%d" in a else a for a in args]
    res = subprocess.run([str(conftest.BROKER_BIN), "--pg", "dbname=none", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                         env=dict(os.environ))
    assert res.returncode == 2
    assert message in res.stderr.decode()


def test_bad_certificate_stops_the_start(pg, workdir, certs):
    import conftest
    port, ssl_port = free_port(), free_port()
    res = subprocess.run([str(conftest.BROKER_BIN), "--pg", pg.conninfo,
                          "--listeners", "PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d" % (
                              port, ssl_port),
                          "--ssl-certificate-location", str(certs / "server.pem"),
                          "--ssl-key-location", str(certs / "alice.key")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 1
    assert "TLS: ssl.key.location" in res.stderr.decode()
    assert not conftest.SANITIZER_RE.search(res.stderr.decode()), res.stderr.decode()
