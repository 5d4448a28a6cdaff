#!/usr/bin/env python3
"""An auditor's check of a Meshline ledger that shares no code with Meshline.

It recomputes every entry's hash from the canonical form documented in docs/runtime.md
("The ledger") -- Python's json.dumps with sorted keys, compact separators and UTF-8 --
and checks the chain (seq grows by one, prev is the previous hash). It exists so that the
promise "an auditor with no Meshline code can verify the ledger" is tested, not assumed:
.ci/run runs it over ledgers that `meshline run` writes, including hostile input.

Usage: ledger_audit.py LEDGER.jsonl [...]   exit 0 when every file verifies, 1 otherwise.
"""
import hashlib
import json
import sys

FIELDS = ["seq", "at", "case", "kind", "rule", "detail", "bundle", "prev", "hash"]
GENESIS = "0" * 64


def reject_floats(text):
    raise ValueError("non-integer number %r: the canonical form has integers only" % text)


def audit(path):
    prev = GENESIS
    expected_seq = 1
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return 0
    if not data.endswith(b"\n"):
        raise ValueError("%s: the last line is not terminated" % path)
    lines = data[:-1].split(b"\n")
    for number, raw in enumerate(lines, start=1):
        entry = json.loads(raw.decode("utf-8"), parse_float=reject_floats)
        if sorted(entry) != sorted(FIELDS):
            raise ValueError("%s:%d: fields %s" % (path, number, sorted(entry)))
        if entry["seq"] != expected_seq:
            raise ValueError("%s:%d: seq %r, expected %d" % (path, number, entry["seq"], expected_seq))
        if entry["prev"] != prev:
            raise ValueError("%s:%d: prev does not name the previous entry's hash" % (path, number))
        body = {k: v for k, v in entry.items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        if digest != entry["hash"]:
            raise ValueError("%s:%d: hash %s, recomputed %s" % (path, number, entry["hash"], digest))
        prev = entry["hash"]
        expected_seq += 1
    return len(lines)


def main(paths):
    if paths and paths[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    ok = True
    for path in paths:
        try:
            n = audit(path)
            print("%s: %d entries verify" % (path, n))
        except (ValueError, UnicodeDecodeError, OSError) as e:
            print("FAIL %s" % e)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
