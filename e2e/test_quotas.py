"""
Client quotas: AlterClientQuotas stores them in kafka.client_quotas,
DescribeClientQuotas answers with Kafka's matching rules (exact, default,
any; strict), and the broker enforces producer_byte_rate and
consumer_byte_rate per (user, client-id) as Kafka's ClientQuotaManager does:
throttle_time_ms in the answer and the connection muted for that long
(KIP-219). Neither kafka-python nor confluent-kafka here has the quota admin
calls, so Describe and Alter go through the raw protocol (kmsg.py); the
producer that goes over its rate is confluent-kafka (the throttle times in its
statistics).
"""

import json
import time

import kafkaproto as kp
from conftest import unique, wait_for
from kmsg import call

NONE = 0
INVALID_REQUEST = 42
EXACT, DEFAULT, ANY = 0, 1, 2


def ent(**kw):
    """An entity: user=..., client_id=..., ip=... (None: the default)."""
    names = {"user": "user", "client_id": "client-id", "ip": "ip"}
    return [{"entity_type": names[k], "entity_name": v} for k, v in kw.items()]


def alter(c, entries, validate_only=False):
    r = call(c, 49, 1, {"entries": [{"entity": e, "ops": ops} for e, ops in entries],
                        "validate_only": validate_only})
    return [x["error_code"] for x in r["entries"]]


def describe(c, components, strict=False):
    r = call(c, 48, 1, {"components": [
        {"entity_type": t, "match_type": m, "match": v} for t, m, v in components],
        "strict": strict})
    assert r["error_code"] == NONE, r["error_message"]
    return srt((tuple((x["entity_type"], x["entity_name"]) for x in e["entity"]),
                tuple(sorted((v["key"], v["value"]) for v in e["values"])))
               for e in r["entries"])


def srt(xs):
    return sorted(xs, key=repr)  # names may be None (the default)


def test_alter_and_describe(kafka):
    u, cid = unique("qu"), unique("qc")
    entries = [
        (ent(user=u), [{"key": "producer_byte_rate", "value": 1000.0},
                       {"key": "request_percentage", "value": 25.5}]),
        (ent(user=u, client_id=cid), [{"key": "consumer_byte_rate", "value": 2000.0}]),
        (ent(user=None), [{"key": "producer_byte_rate", "value": 500.0}]),
        (ent(client_id=None), [{"key": "consumer_byte_rate", "value": 300.0}]),
        (ent(ip=None), [{"key": "connection_creation_rate", "value": 10.0}]),
        (ent(ip="10.0.0.1"), [{"key": "connection_creation_rate", "value": 5.0}]),
    ]
    with kp.Conn.to(kafka.bootstrap) as c:
        try:
            assert alter(c, entries, validate_only=True) == [NONE] * 6
            assert describe(c, [("user", EXACT, u)]) == []
            assert alter(c, entries) == [NONE] * 6
            U = (("user", u),)
            UC = (("user", u), ("client-id", cid))
            DU = (("user", None),)
            assert describe(c, [("user", EXACT, u)]) == srt([
                (U, (("producer_byte_rate", 1000.0), ("request_percentage", 25.5))),
                (UC, (("consumer_byte_rate", 2000.0),))])
            assert describe(c, [("user", EXACT, u)], strict=True) == [
                (U, (("producer_byte_rate", 1000.0), ("request_percentage", 25.5)))]
            assert describe(c, [("user", DEFAULT, None)]) == [
                (DU, (("producer_byte_rate", 500.0),))]
            assert (UC, (("consumer_byte_rate", 2000.0),)) in describe(
                c, [("user", ANY, None), ("client-id", ANY, None)], strict=True)
            assert describe(c, [("client-id", EXACT, cid)]) == [
                (UC, (("consumer_byte_rate", 2000.0),))]
            assert describe(c, [("ip", ANY, None)]) == srt([
                ((("ip", None),), (("connection_creation_rate", 10.0),)),
                ((("ip", "10.0.0.1"),), (("connection_creation_rate", 5.0),))])
            assert describe(c, [], strict=True) == []
            # Setting again replaces; removing one key keeps the others.
            assert alter(c, [(ent(user=u), [{"key": "producer_byte_rate", "value": 1500.0},
                                            {"key": "request_percentage",
                                             "remove": True}])]) == [NONE]
            assert describe(c, [("user", EXACT, u)], strict=True) == [
                (U, (("producer_byte_rate", 1500.0),))]
            assert kafka.pg.rows(
                "SELECT entity_types, quota_key, quota_value FROM kafka.client_quotas"
                " WHERE user_name = '%s' ORDER BY 1, 2" % u) == [
                    ["user", "producer_byte_rate", "1500"],
                    ["user,client-id", "consumer_byte_rate", "2000"]]
            # Names are ids: a NUL is kept, as Kafka keeps it.
            nul = u + "\0b"
            assert alter(c, [(ent(user=nul), [{"key": "producer_byte_rate",
                                               "value": 1.0}])]) == [NONE]
            assert describe(c, [("user", EXACT, nul)], strict=True) == [
                ((("user", nul),), (("producer_byte_rate", 1.0),))]
            assert alter(c, [(ent(user=nul), [{"key": "producer_byte_rate",
                                               "remove": True}])]) == [NONE]
        finally:
            alter(c, [(e, [{"key": o["key"], "remove": True} for o in ops])
                      for e, ops in entries])
        assert describe(c, [("user", EXACT, u)]) == []
        assert describe(c, [("ip", ANY, None)]) == []


def test_producer_over_its_byte_rate_is_throttled(kafka):
    """A producer_byte_rate of 200 KB/s for one client id: producing 4 MB
    as fast as it can, the client gets throttle events, and over the run
    its rate stays near the quota (Kafka's rate looks back 11 windows of
    one second, so up to 11 s of quota can go in a first burst)."""
    from confluent_kafka import Producer

    quota = 200_000.0
    cid = unique("quota-prod")
    topic = kafka.create_topic()
    with kp.Conn.to(kafka.bootstrap) as c:
        assert alter(c, [(ent(client_id=cid), [{"key": "producer_byte_rate",
                                                "value": quota}])]) == [NONE]
    throttles = []
    try:
        # Every broker of the database loads it; this one at once.
        def stats(js):
            for b in json.loads(js).get("brokers", {}).values():
                throttles.append(b.get("throttle", {}).get("max", 0))

        # librdkafka's statistics carry the throttle times brokers gave
        # (this confluent-kafka has no throttle callback).
        conf = kafka.conf(**{"client.id": cid, "linger.ms": 5, "batch.size": 65536,
                             "statistics.interval.ms": 200})
        conf["stats_cb"] = stats
        p = Producer(conf)
        payload = b"x" * 10_000
        n = 400
        delivered = []
        start = time.monotonic()
        for i in range(n):
            while True:
                try:
                    p.produce(topic, payload, on_delivery=lambda e, m: delivered.append(e))
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
        assert p.flush(120) == 0
        elapsed = time.monotonic() - start
        wait_for(lambda: p.poll(0.2) is not None and max(throttles, default=0) > 0, 5,
                 "a statistics report with the throttle")
        assert all(e is None for e in delivered) and len(delivered) == n
        total = n * len(payload)
        assert max(throttles) > 0
        # Near the quota: no more than 11 windows of burst beyond it, and
        # what was in flight when the throttle began (up to 5 requests of a
        # 64 KB batch, and the sample a window boundary splits: 1 MB in
        # all). Unthrottled, 4 MB go in well under a second, over this.
        assert total <= quota * (elapsed + 11) + 1_000_000, (total, elapsed)
        assert elapsed >= total / quota - 12, (total, elapsed)
    finally:
        with kp.Conn.to(kafka.bootstrap) as c:
            alter(c, [(ent(client_id=cid), [{"key": "producer_byte_rate", "remove": True}])])


def test_fetch_over_consumer_byte_rate_answers_throttle_time(kafka):
    """consumer_byte_rate for a client id, as Kafka's broker applies it: a
    Fetch returns at most what the quota window allows (rate x 10 windows
    of 1 s); a Fetch whose answer would take the rate over the quota gets
    an empty answer with throttle_time_ms > 0 instead, the connection
    answers nothing more until that time has passed, and the records come
    once the window has room for them."""
    cid = unique("quota-fetch")
    topic = kafka.create_topic()
    for _ in range(5):  # five batches of 30 KB
        kafka.produce(topic, [(None, b"y" * 30_000)])
    with kp.Conn.to(kafka.bootstrap) as c:
        assert alter(c, [(ent(client_id=cid), [{"key": "consumer_byte_rate",
                                                "value": 10_000.0}])]) == [NONE]
    try:
        with kp.Conn.to(kafka.bootstrap) as c:
            c.client_id = cid
            # max_bytes 50 MB is cut to the 100 KB the window allows: not
            # all five records, and no throttle.
            f = kp.fetch(c, 12, topic, 0, 0, max_wait_ms=0)
            got = [o for o, _, _ in kp.decode_batches(f["records"])]
            assert 1 <= len(got) < 5 and len(f["records"]) <= 100_000, (got, len(f["records"]))
            assert got == list(range(len(got))) and f["throttle_time_ms"] == 0, f
            # The rest would make 150 KB over at least 10 s: 15 KB/s, half
            # again the quota: about 5 s (QuotaUtils.throttleTime), and
            # nothing is sent.
            f = kp.fetch(c, 12, topic, 0, len(got), max_wait_ms=0)
            assert 3000 < f["throttle_time_ms"] < 7000, f
            assert f["error_code"] is None and f["records"] is None, f
            sent = time.monotonic()
            c.request(18, 0, b"", timeout=f["throttle_time_ms"] / 1000.0 + 10)
            assert time.monotonic() - sent >= f["throttle_time_ms"] / 1000.0 * 0.9
            # Throttled answers count nothing, so once the first records
            # leave the window the rest arrives (each retry after the
            # throttle time the broker asked for, as clients do).
            deadline = time.monotonic() + 60
            while len(got) < 5:
                f = kp.fetch(c, 12, topic, 0, len(got), max_wait_ms=0)
                more = [o for o, _, _ in kp.decode_batches(f["records"])]
                assert more == list(range(len(got), len(got) + len(more))), (got, more)
                got += more
                assert time.monotonic() < deadline, "records never came: %s" % got
                if not more:
                    time.sleep(f["throttle_time_ms"] / 1000.0)
    finally:
        with kp.Conn.to(kafka.bootstrap) as c:
            alter(c, [(ent(client_id=cid), [{"key": "consumer_byte_rate", "remove": True}])])
