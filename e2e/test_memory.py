"""
Memory given back after a burst, with the release build (the sanitizers
replace malloc, so the san broker cannot show it): once traffic stops the
broker trims its heap, also while consumers keep long-polling, which is how
an idle production broker looks (a fetch is waiting nearly all the time).
The broker used to wait for a moment with no request in flight, which a
long-polling consumer leaves only by chance: a broker that trimmed nothing
during the burst then kept its peak for as long as the consumer stayed.
"""

import threading
from pathlib import Path

import pytest

from conftest import REPO, Broker, Kafka, wait_for

REL_BIN = REPO / "build" / "rel" / "pg_kafka"


class RelBroker(Broker):
    @property
    def args(self):
        return [str(REL_BIN)] + super().args[1:]


def status_mb(pid, field):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no %s for pid %d" % (field, pid))


def test_heap_given_back_while_consumers_long_poll(pg, make_broker):
    if not REL_BIN.exists():
        pytest.fail("%s not built (make rel; make test builds it)" % REL_BIN)
    b = make_broker(pg, cls=RelBroker)
    stop = threading.Event()
    poller = None
    try:
        k = Kafka(b)
        topic = k.new_topic_name("mem")
        k.create_topic(topic)
        before = status_mb(b.proc.pid, "VmRSS")

        # A consumer from the start to the end: its fetches wait 500 ms for
        # records and it sends the next one at once, so a fetch is in flight
        # nearly all the time, before, during and after the burst.
        from confluent_kafka import TopicPartition
        c = k.consumer(**{"fetch.wait.max.ms": 500})
        c.assign([TopicPartition(topic, 0, 0)])
        seen = []

        def poll():
            while not stop.is_set():
                msg = c.poll(0.2)
                if msg is not None:
                    seen.append(msg.error() or msg.value())
            c.close()

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        k.produce(topic, [(None, b"m" * 1000)] * 40000, timeout=120)
        wait_for(lambda: len(seen) >= 40000, 120, "the consumer to get the burst")
        assert seen == [b"m" * 1000] * 40000
        peak = status_mb(b.proc.pid, "VmHWM")
        assert peak > before + 8, "the burst did not grow the broker (%.1f -> %.1f MB)" % (
            before, peak)

        wait_for(lambda: status_mb(b.proc.pid, "VmRSS") < peak - 8, 20,
                 "the broker's RSS to drop from its peak of %.1f MB by 8 MB while a "
                 "consumer long-polls" % peak)
        # The long-poller was served all along: a record produced now reaches it.
        k.produce(topic, [(None, b"after")])
        wait_for(lambda: len(seen) > 40000, 20, "the long-polling consumer to get a new record")
        assert seen[40000:] == [b"after"]
    finally:
        stop.set()
        if poller:
            poller.join(10)
