#!/usr/bin/env python3
"""
Print the table of a `make chaos` run: one row per fault and producer, from
the JSON lines e2e/test_chaos.py appends to PGK_CHAOS_REPORT.

  sent    records handed to the client
  acked   acknowledged at acks=all (with an offset)
  failed  deliveries the client gave up on (not acknowledged)
  found   acknowledged records stored at their acknowledged offset with
          their key and value (must equal acked)
  stored  records of this producer in its partition (acked, plus any whose
          acknowledgement was lost to the fault)
  dups    records stored more than once (must be 0 for idempotent producers)
"""

import json
import sys


def main(path):
    try:
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        print("no chaos report (%s): no fault test ran" % path)
        return 1
    cols = [("fault", "fault"), ("producer", "producer"), ("idem", "idempotent"),
            ("sent", "sent"), ("acked", "acked"), ("failed", "failed"),
            ("found", "found"), ("stored", "stored"), ("dups", "duplicates")]

    def cell(r, key):
        v = r[key]
        return "yes" if v is True else "no" if v is False else str(v)

    table = [[h for h, _ in cols]] + [[cell(r, k) for _, k in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    numeric = {i for i, (_, k) in enumerate(cols) if k not in ("fault", "producer", "idempotent")}
    for n, row in enumerate(table):
        print("  ".join(c.rjust(widths[i]) if i in numeric else c.ljust(widths[i])
                        for i, c in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    lost = [r for r in rows if r["found"] != r["acked"]]
    dups = [r for r in rows if r["idempotent"] and r["duplicates"]]
    print("\n%d rows: %d with acknowledged records missing, %d idempotent with duplicates"
          % (len(rows), len(lost), len(dups)))
    return 1 if lost or dups else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/chaos-report.jsonl"))
