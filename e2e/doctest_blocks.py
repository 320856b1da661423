"""
Executable documentation: the commands of README.md and docs/*.md, extracted
so that e2e/test_docs.py can run them against a real PostgreSQL and broker.

What counts as a command, in the Markdown:

  ```sh        a shell script, run as one `bash -euo pipefail` script
  ```console   "$ command" lines (a trailing backslash continues a line);
               the lines after a command, up to the next "$ ", are its
               expected output
  ```sql       SQL typed into psql, run with `psql -v ON_ERROR_STOP=1 -f -`

Blocks with any other info string (json, none) are illustrations: formats,
diagrams, signatures. They are not run, unless marked as output.

Markers, an HTML comment on the line(s) just before a block (blank lines
between are allowed; GitHub does not render them):

  <!-- doctest: skip REASON -->  not run; REASON says why (it installs
                                 system-wide, runs for minutes, needs a host
                                 that a test does not have, ...)
  <!-- doctest: output -->       this block is the expected output of the
                                 previous command block
  <!-- doctest: stream -->       a command that runs until stopped: it is
                                 started, its output is awaited until it
                                 matches the output block after it, then it
                                 gets SIGINT (what Ctrl-C sends)

Expected output is compared in what matters (see `normalize`): values that
differ on every run (timestamps, LSNs, the column widths psql picks for
them) are wildcards; everything else (rows, keys, values, partitions,
offsets, counts, messages) must be equal, line for line.

The documents use the ports of `make run`; a test has its own. Every
difference between a documented command and what the test runs is one of
the SUBSTITUTIONS below, applied to commands and expected output alike.
"""

import json
import re
from pathlib import Path
from typing import List, NamedTuple, Optional

RUN_LANGS = {"sh", "console", "sql"}

FENCE_RE = re.compile(r"^(`{3,})\s*([\w-]*)\s*$")
MARK_RE = re.compile(r"^<!--\s*doctest:\s*(skip|output|stream)\b\s*(.*?)\s*-->\s*$")


class Block(NamedTuple):
    path: str          # as given, e.g. "docs/REPLAY.md"
    line: int          # 1-based line of the opening fence
    lang: str
    text: str
    mark: Optional[str]  # None, "skip", "output" or "stream"
    reason: str        # the skip reason

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)

    @property
    def runs(self):
        return self.lang in RUN_LANGS and self.mark in (None, "stream")


def blocks(path, root):
    """The fenced blocks of a Markdown file, in order, with their markers."""
    lines = (Path(root) / path).read_text().split("\n")
    out = []
    mark, reason = None, ""
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARK_RE.match(line.strip())
        if m:
            mark, reason = m.group(1), m.group(2)
            i += 1
            continue
        f = FENCE_RE.match(line)
        if f:
            fence, lang = f.group(1), f.group(2)
            start = i
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith(fence):
                body.append(lines[i])
                i += 1
            if mark == "skip" and not reason:
                raise ValueError("%s:%d: doctest: skip needs a reason" % (path, start + 1))
            out.append(Block(path, start + 1, lang, "\n".join(body), mark, reason))
            mark, reason = None, ""
        elif line.strip():
            mark, reason = None, ""  # a marker applies to the next block only
        i += 1
    return out


class Command(NamedTuple):
    where: str
    cmd: str
    expected: Optional[str]  # None: the output is not checked


def console_commands(block):
    """The "$ " commands of a console block with the output shown after each."""
    cmds = []
    cur, out = None, []
    lines = block.text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            if cur is not None:
                cmds.append((cur, out))
            cmd = line[2:]
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd + "\n" + lines[i]
            cur, out = cmd, []
        elif cur is not None:
            out.append(line)
        i += 1
    if cur is not None:
        cmds.append((cur, out))
    return [Command("%s (%s)" % (block.where, c.split("\n")[0]), c, "\n".join(o))
            for c, o in cmds]


# --------------------------------------------------------------------------
# Substitutions: the documented value, and what a test uses instead. `env`
# has kafka (the broker's host:port), pgport, pgbin and broker (its binary).

SUBSTITUTIONS = [
    # the broker: make run listens on 0.0.0.0:9092 and advertises localhost
    ("localhost:9092", lambda env: env["kafka"]),
    # make run's SASL_SSL listener and the development CA clients trust
    ("localhost:9093", lambda env: env["kafka_sasl_ssl"]),
    (".pgdata/tls/ca.pem", lambda env: env["ca"]),
    # make run's PostgreSQL
    ("127.0.0.1:25432", lambda env: "127.0.0.1:%d" % env["pgport"]),
    ("-p 25432", lambda env: "-p %d" % env["pgport"]),
    ("/usr/lib/postgresql/15/bin/", lambda env: "%s/" % env["pgbin"]),
    # the release build, which make run uses; tests run the build under test
    ("build/rel/pg_kafka", lambda env: env["broker"]),
]


def substitute(text, env):
    for doc, test in SUBSTITUTIONS:
        text = text.replace(doc, test(env))
    return text


# --------------------------------------------------------------------------
# Comparing output in what matters.

TIME_RE = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?|Z)?")
LSN_RE = re.compile(r"\b[0-9A-F]{1,8}/[0-9A-F]{1,8}\b")
PSQL_RULE_RE = re.compile(r"^-+(\+-+)*$")
VARYING_JSON_KEYS = ("timestamp", "lsn", "end_lsn", "xid")


def normalize(text):
    """Output as a list of comparable lines: JSON lines parsed (without the
    keys that vary), psql table rows as trimmed cells, timestamps and LSNs
    as placeholders, blank lines and trailing spaces dropped."""
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if not s:
            continue
        if s.startswith("{") and s.endswith("}"):
            try:
                obj = json.loads(s)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                for k in VARYING_JSON_KEYS:
                    if k in obj:
                        obj[k] = "<%s>" % k
                out.append(json.dumps(obj, sort_keys=True))
                continue
        s = TIME_RE.sub("<TIME>", s)
        s = LSN_RE.sub("<LSN>", s)
        if PSQL_RULE_RE.match(s):
            s = "<RULE>"
        elif "|" in s:
            s = "|".join(c.strip() for c in s.split("|"))
        else:
            s = re.sub(r"\s+", " ", s)
        out.append(s)
    return out


def matches(expected, actual):
    return normalize(expected) == normalize(actual)
