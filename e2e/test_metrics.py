"""
The broker's metrics and health listener (metrics.listen): Prometheus text
on /metrics that moves with real client traffic, /healthz, and /readyz
following PostgreSQL down and back up.
"""

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import kafkaproto as kp
from conftest import Kafka, free_port, wait_for

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def http_get(port, path):
    """-> (status, body text)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse_metrics(text):
    """-> ({(name, frozenset(labels.items())): value}, {name: type}),
    checking that every sample belongs to a family with HELP and TYPE."""
    samples, types, helps = {}, {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            types[name] = typ
            continue
        m = SAMPLE_RE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types and family in helps, "no HELP/TYPE for %s" % name
        key = (name, frozenset(LABEL_RE.findall(labels)))
        assert key not in samples, "duplicate sample %r" % line
        samples[key] = float(value)
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset((k, str(v)) for k, v in labels.items())))


def scrape(port):
    status, body = http_get(port, "/metrics")
    assert status == 200, body
    return parse_metrics(body)[0]


@pytest.fixture
def metrics_broker(pg, make_broker):
    port = free_port()
    b = make_broker(pg, "--metrics-listen", "127.0.0.1:%d" % port)
    b.metrics_port = port
    return b


def test_counters_move_with_client_traffic(metrics_broker):
    port = metrics_broker.metrics_port
    kafka = Kafka(metrics_broker)
    try:
        before = scrape(port)
        topic = kafka.create_topic(kafka.new_topic_name("metrics"))
        kafka.produce(topic, [(b"k%d" % i, b"v%d" % i) for i in range(5)], acks="all")
        got = kafka.consume(topic, 5)
        assert len(got) == 5
        with kp.Conn.to(metrics_broker.bootstrap) as c:
            res = kp.list_offsets(c, topic, 9, kp.LATEST, version=7)
            assert res["error_code"] == 3, res  # UNKNOWN_TOPIC_OR_PARTITION
        after, types = parse_metrics(http_get(port, "/metrics")[1])
    finally:
        kafka.close()

    def total(samples, name, api):
        return sum(v for (n, labels), v in samples.items()
                   if n == name and ("api", api) in labels)

    for api in ("ApiVersions", "Metadata", "CreateTopics", "Produce", "Fetch", "ListOffsets"):
        assert total(after, "pg_kafka_requests_total", api) > \
            total(before, "pg_kafka_requests_total", api), api
        count = value(after, "pg_kafka_request_duration_seconds_count", api=api)
        assert count and count > 0, api
        assert value(after, "pg_kafka_request_duration_seconds_bucket", api=api, le="+Inf") == count
        assert value(after, "pg_kafka_request_duration_seconds_sum", api=api) >= 0
    assert types["pg_kafka_request_duration_seconds"] == "histogram"
    assert types["pg_kafka_requests_total"] == "counter"
    # Produce used version 9 with acks=all; the error of the unknown
    # partition is counted under ListOffsets v7, error code 3.
    assert value(after, "pg_kafka_requests_total", api="ListOffsets", version=7) >= 1
    assert value(after, "pg_kafka_request_errors_total", api="ListOffsets", version=7,
                 error_code=3) >= 1
    assert value(after, "pg_kafka_received_bytes_total") > value(before, "pg_kafka_received_bytes_total")
    assert value(after, "pg_kafka_sent_bytes_total") > value(before, "pg_kafka_sent_bytes_total")
    assert value(after, "pg_kafka_connections_opened_total") > \
        value(before, "pg_kafka_connections_opened_total")
    assert value(after, "pg_kafka_pg_pool_connections", state="up") >= 1
    assert value(after, "pg_kafka_pg_pool_size") >= 1
    assert value(after, "pg_kafka_process_resident_memory_bytes") > 0
    # Under ASan (how e2e runs) malloc is the sanitizer's: mallinfo2 says 0.
    for kind in ("in_use", "free", "mmap", "arena"):
        assert value(after, "pg_kafka_malloc_bytes", kind=kind) is not None, kind
    for state in ("Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"):
        assert value(after, "pg_kafka_groups", state=state) is not None
    for name in ("pg_kafka_fetches_waiting", "pg_kafka_fetch_readahead_bytes",
                 "pg_kafka_stream_up", "pg_kafka_stream_lag_bytes", "pg_kafka_ready",
                 "pg_kafka_pg_pool_queued_jobs", "pg_kafka_connections"):
        assert value(after, name) is not None, name


def test_fetch_waiting_is_counted(metrics_broker):
    """A fetch parked on an empty partition shows while it waits, and not
    after a record answered it."""
    port = metrics_broker.metrics_port
    kafka = Kafka(metrics_broker)
    try:
        topic = kafka.create_topic(kafka.new_topic_name("wait"))
        with kp.Conn.to(metrics_broker.bootstrap) as c:
            corr = kp.send_fetch(c, 12, topic, 0, 0, max_wait_ms=30000)
            wait_for(lambda: value(scrape(port), "pg_kafka_fetches_waiting") == 1, 20,
                     "the parked fetch in pg_kafka_fetches_waiting")
            assert value(scrape(port), "pg_kafka_requests_in_flight", api="Fetch") == 1
            kafka.produce(topic, [(b"k", b"wake")], acks="all")
            res = kp.read_fetch(c, corr, 12, timeout=20)
            assert res["error_code"] == 0 and res["records"], res
        samples = scrape(port)
        assert value(samples, "pg_kafka_fetches_waiting") == 0
        assert value(samples, "pg_kafka_requests_in_flight", api="Fetch") == 0
    finally:
        kafka.close()


def test_health_and_readiness_follow_postgres(fresh_pg, make_broker):
    port = free_port()
    make_broker(fresh_pg, "--metrics-listen", "127.0.0.1:%d" % port)

    assert http_get(port, "/healthz") == (200, "ok\n")
    wait_for(lambda: http_get(port, "/readyz")[0] == 200, 30, "/readyz 200 at start")
    assert value(scrape(port), "pg_kafka_ready") == 1
    assert http_get(port, "/nope")[0] == 404

    fresh_pg.stop()
    wait_for(lambda: http_get(port, "/readyz")[0] == 503, 30, "/readyz 503 with PostgreSQL down")
    status, body = http_get(port, "/readyz")
    assert body.startswith("not ready: "), body
    assert http_get(port, "/healthz")[0] == 200
    samples = scrape(port)
    assert value(samples, "pg_kafka_ready") == 0
    assert value(samples, "pg_kafka_pg_pool_connections", state="up") == 0
    assert value(samples, "pg_kafka_pg_pool_connection_failures_total") >= 1

    fresh_pg.start()
    wait_for(lambda: http_get(port, "/readyz")[0] == 200, 60, "/readyz 200 after PostgreSQL is back")
    samples = scrape(port)
    assert value(samples, "pg_kafka_stream_up") == 1
    assert value(samples, "pg_kafka_stream_reconnects_total") >= 1


@pytest.mark.e2e_timeout(90)
def test_open_transactions_are_sampled(fresh_pg, make_broker):
    """pg_kafka_transactions_open follows kafka.transactions (sampled every
    10 s): 1 while a transaction is open, 0 after its commit."""
    port = free_port()
    b = make_broker(fresh_pg, "--metrics-listen", "127.0.0.1:%d" % port)
    kafka = Kafka(b)
    try:
        topic = kafka.create_topic(kafka.new_topic_name("txn"))
        wait_for(lambda: value(scrape(port), "pg_kafka_transactions_open") == 0, 30,
                 "the first sample of open transactions")
        p = kafka.producer(transactional_id="metrics-txn")
        p.init_transactions(30)
        p.begin_transaction()
        p.produce(topic, b"in a transaction")
        assert p.flush(30) == 0
        wait_for(lambda: value(scrape(port), "pg_kafka_transactions_open") == 1, 30,
                 "the open transaction in pg_kafka_transactions_open")
        p.commit_transaction(30)
        wait_for(lambda: value(scrape(port), "pg_kafka_transactions_open") == 0, 30,
                 "pg_kafka_transactions_open back to 0 after the commit")
    finally:
        kafka.close()


def test_listen_off_by_default(broker):
    """The shared broker runs without --metrics-listen: nothing listens."""
    assert "metrics and health on" not in broker.all_logs()


def test_deploy_files_name_served_metrics(metrics_broker):
    """Every pg_kafka_* name in the sample alert rules and the Grafana
    dashboard is one the broker serves."""
    status, body = http_get(metrics_broker.metrics_port, "/metrics")
    assert status == 200
    types = parse_metrics(body)[1]
    deploy = Path(__file__).resolve().parent.parent / "deploy"
    for name in ("prometheus-alerts.yml", "grafana-dashboard.json"):
        text = (deploy / name).read_text()
        used = set(re.findall(r"\bpg_kafka_[a-z0-9_]+", text))
        assert used, name
        for metric in used:
            family = re.sub(r"_(bucket|sum|count)$", "", metric)
            assert family in types, "%s names %s, which the broker does not serve" % (name, metric)
