"""
docs/PROTOCOL.md against the running broker: the API tables in the document
(columns `| API | key | versions |`) must list exactly what ApiVersions
advertises, name every API key of Kafka 4.x once (a key not served has no
versions, and must not be advertised), and ApiVersions itself must be
consistent across its versions and cover the ranges the clients we support
need.
"""

import re

import pytest

import kafkaproto as kp
from conftest import REPO

DOC = REPO / "docs" / "PROTOCOL.md"

# What the broker promises (DESIGN.md and the issue it was built from).
REQUIRED = {
    0: ("Produce", 3, 9),
    1: ("Fetch", 4, 12),
    2: ("ListOffsets", 1, 7),
    3: ("Metadata", 0, 12),
    18: ("ApiVersions", 0, 3),
    19: ("CreateTopics", 2, 7),
    20: ("DeleteTopics", 1, 6),
    32: ("DescribeConfigs", 1, 4),
    37: ("CreatePartitions", 0, 3),
}

# Every API key of Apache Kafka 4.x (4.1 adds 88-92).
KAFKA_KEYS = set(range(0, 93))

RANGE_RE = re.compile(r"^v?(\d+)\s*(?:[-\u2013\u2014]|\.\.|to)\s*v?(\d+)$")
SINGLE_RE = re.compile(r"^v?(\d+)$")


def _cell(s):
    return re.sub(r"[`*_]", "", s).strip()


def parse_versions(text):
    """'3–9', '3-9', 'v3-v9', '0' -> (lo, hi); anything else (e.g. '—',
    'not implemented') -> None."""
    t = _cell(text)
    m = RANGE_RE.match(t)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = SINGLE_RE.match(t)
    if m:
        return int(m.group(1)), int(m.group(1))
    return None


def parse_doc_table(markdown):
    """-> {key: (name, versions or None)} from every table whose header has
    API, key and versions columns."""
    out = {}
    cols = None
    for line in markdown.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            cols = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        lower = [_cell(c).lower() for c in cells]
        if "api" in lower and "key" in lower and "versions" in lower:
            cols = (lower.index("api"), lower.index("key"), lower.index("versions"))
            continue
        if cols is None or all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue
        if max(cols) >= len(cells):
            continue
        key_text = _cell(cells[cols[1]])
        if not re.fullmatch(r"-?\d+", key_text):
            continue
        key = int(key_text)
        assert key not in out, "API key %d listed twice in %s" % (key, DOC)
        out[key] = (_cell(cells[cols[0]]), parse_versions(cells[cols[2]]))
    return out


def test_parse_doc_table_helper():
    md = ("| API | key | versions | notes |\n|---|---:|:---:|---|\n"
          "| Produce | 0 | 3\u20139 | acks |\n| `Fetch` | 1 | v4-v12 | |\n"
          "| JoinGroup | 11 | \u2014 | later |\n| SaslHandshake | 17 | 0 | |\n")
    assert parse_doc_table(md) == {0: ("Produce", (3, 9)), 1: ("Fetch", (4, 12)),
                                   11: ("JoinGroup", None), 17: ("SaslHandshake", (0, 0))}


def advertised(broker, version=0):
    with kp.Conn.to(broker.bootstrap) as c:
        err, apis = kp.api_versions(c, version)
    assert err == 0
    return apis


def test_protocol_doc_matches_api_versions(broker):
    assert DOC.exists(), "%s is missing" % DOC
    table = parse_doc_table(DOC.read_text())
    assert table, "no `| API | key | versions |` table found in %s" % DOC
    apis = advertised(broker, 0)
    documented = {k: v for k, (_, v) in table.items() if v is not None}
    missing = {k: apis[k] for k in apis if k not in documented}
    assert not missing, "advertised but not documented as implemented: %s" % missing
    extra = {k: table[k] for k in documented if k not in apis}
    assert not extra, "documented as implemented but not advertised: %s" % extra
    wrong = {k: (table[k][0], documented[k], apis[k]) for k in apis if documented[k] != apis[k]}
    assert not wrong, "version ranges differ (name, doc, broker): %s" % wrong


def test_protocol_doc_names_every_kafka_key(broker):
    table = parse_doc_table(DOC.read_text())
    missing = sorted(KAFKA_KEYS - set(table))
    assert not missing, "Kafka API keys without a row in %s: %s" % (DOC, missing)
    apis = advertised(broker, 0)
    not_served = {k for k, (_, v) in table.items() if v is None}
    wrong = sorted(k for k in not_served if k in apis)
    assert not wrong, "documented as not served but advertised: %s" % wrong


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_api_versions_same_list_in_every_version(broker, version):
    assert advertised(broker, version) == advertised(broker, 0)


def test_required_version_ranges_are_advertised(broker):
    apis = advertised(broker, 0)
    for key, (name, lo, hi) in REQUIRED.items():
        assert key in apis, "%s (%d) not advertised" % (name, key)
        alo, ahi = apis[key]
        assert alo <= lo and ahi >= hi, "%s advertised %d-%d, need %d-%d" % (
            name, alo, ahi, lo, hi)
