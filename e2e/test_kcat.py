"""
kcat (librdkafka's command-line client) against pg_kafka: produce with keys,
headers, partitions, null values and every codec; consume from the
beginning; list metadata; topics auto-created on first produce.
"""

import json
import subprocess

import pytest

from conftest import unique, wait_for

FORMAT = r"%k|%s|%S|%h|%p|%o\n"


def kcat(*args, input=None, timeout=60):
    res = subprocess.run(["kcat", *map(str, args)], input=input, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=timeout)
    assert res.returncode == 0, "kcat %s failed (%d): %s" % (
        " ".join(map(str, args)), res.returncode, res.stderr.decode(errors="replace"))
    return res.stdout.decode()


def produce(bootstrap, topic, lines, *extra):
    data = "".join(line + "\n" for line in lines).encode()
    return kcat("-P", "-b", bootstrap, "-t", topic, "-K:", *extra, input=data)


def consume(bootstrap, topic, *extra):
    """Everything in the topic, as (key, value, value_len, headers, partition,
    offset) tuples sorted by partition and offset."""
    out = kcat("-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-Z",
               "-f", FORMAT, *extra)
    rows = []
    for line in out.splitlines():
        k, s, slen, h, p, o = line.split("|")
        rows.append((k, s, int(slen), h, int(p), int(o)))
    return sorted(rows, key=lambda r: (r[4], r[5]))


def test_keys_and_headers(kafka, topic):
    produce(kafka.bootstrap, topic, ["k1:v1", "k2:value two", "k3:v3"],
            "-H", "k=v", "-H", "trace=abc123", "-p", 0)
    rows = consume(kafka.bootstrap, topic)
    assert rows == [
        ("k1", "v1", 2, "k=v,trace=abc123", 0, 0),
        ("k2", "value two", 9, "k=v,trace=abc123", 0, 1),
        ("k3", "v3", 2, "k=v,trace=abc123", 0, 2),
    ]


def test_null_values(kafka, pg, topic):
    produce(kafka.bootstrap, topic, ["gone:", "kept:here"], "-Z", "-p", 0)
    rows = consume(kafka.bootstrap, topic)
    assert [(r[0], r[1], r[2]) for r in rows] == [("gone", "NULL", -1), ("kept", "here", 4)]
    stored = pg.records(topic)
    assert [(r["key"], r["value"]) for r in stored] == [(b"gone", None), (b"kept", b"here")]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_codecs(kafka, pg, topic, codec):
    lines = ["key%03d:%s" % (i, ("payload %d " % i) * 20) for i in range(300)]
    produce(kafka.bootstrap, topic, lines, "-z", codec, "-p", 0, "-X", "linger.ms=50")
    rows = consume(kafka.bootstrap, topic)
    assert [(r[0], r[1]) for r in rows] == [tuple(line.split(":", 1)) for line in lines]
    assert [r[5] for r in rows] == list(range(300))
    assert pg.sql("SELECT count(*) FROM kafka.records WHERE topic = '%s' "
                  "AND value = convert_to('payload 7 ' || repeat('payload 7 ', 19), 'UTF8')"
                  % topic) == "1"


def test_explicit_partition(kafka):
    topic = kafka.create_topic(partitions=3)
    produce(kafka.bootstrap, topic, ["a:1", "b:2"], "-p", 2)
    produce(kafka.bootstrap, topic, ["c:3"], "-p", 0)
    rows = consume(kafka.bootstrap, topic)
    assert [(r[0], r[4], r[5]) for r in rows] == [("c", 0, 0), ("a", 2, 0), ("b", 2, 1)]
    # Consuming a single partition only returns that partition.
    only = consume(kafka.bootstrap, topic, "-p", 2)
    assert [r[0] for r in only] == ["a", "b"]


def metadata(bootstrap, topic=None):
    args = ["-L", "-J", "-b", bootstrap]
    if topic:
        args += ["-t", topic]
    return json.loads(kcat(*args))


def test_metadata_lists_topic_and_partitions(kafka):
    topic = kafka.create_topic(partitions=4)
    md = metadata(kafka.bootstrap, topic)
    assert [b["name"] for b in md["brokers"]] == [kafka.bootstrap]
    (t,) = [t for t in md["topics"] if t["topic"] == topic]
    assert sorted(p["partition"] for p in t["partitions"]) == [0, 1, 2, 3]
    broker_id = md["brokers"][0]["id"]
    for p in t["partitions"]:
        assert p["leader"] == broker_id
    # The full listing (no -t) includes it as well.
    assert topic in [t["topic"] for t in metadata(kafka.bootstrap)["topics"]]


def test_produce_auto_creates_topic(kafka, pg):
    topic = kafka.new_topic_name("auto")
    produce(kafka.bootstrap, topic, ["k:auto-created"])
    rows = consume(kafka.bootstrap, topic)
    assert [(r[0], r[1]) for r in rows] == [("k", "auto-created")]
    assert pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%s'" % topic) == "1"
    md = metadata(kafka.bootstrap, topic)
    (t,) = [t for t in md["topics"] if t["topic"] == topic]
    assert len(t["partitions"]) >= 1


def test_auto_create_uses_num_partitions(make_broker, pg):
    b = make_broker(pg, "--num-partitions", "3")
    topic = unique("auto3")
    produce(b.bootstrap, topic, ["k:v"])
    wait_for(lambda: pg.sql("SELECT partitions FROM kafka.topics WHERE name = '%s'" % topic) == "3",
             15, "auto-created topic with 3 partitions")
    md = metadata(b.bootstrap, topic)
    (t,) = [t for t in md["topics"] if t["topic"] == topic]
    assert len(t["partitions"]) == 3
