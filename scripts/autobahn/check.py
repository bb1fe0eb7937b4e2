#!/usr/bin/env python3
"""Check an Autobahn|Testsuite report (index.json). Python 3, stdlib only.

index.json maps agent -> case id -> {"behavior": ..., "behaviorClose": ..., ...}.
A case passes when both its behavior and behaviorClose are acceptable:
  - OK always;
  - INFORMATIONAL, in either field, only for 7.1.6, 7.13.1 and 7.13.2: the
    cases whose outcome the RFC leaves open, and the only ones whose code in
    Autobahn|Testsuite 25.10.1 sets INFORMATIONAL (both fields, whatever
    happened); anywhere else it would hide a case gone wrong;
  - UNIMPLEMENTED only as the behavior of 12.* and 13.* (permessage-deflate,
    not implemented; Autobahn never sets it as behaviorClose).
Anything else (NON-STRICT, WRONG CODE, UNCLEAN, FAILED, ...) is a failure.

Prints counts per value for both fields, every case that is not plainly OK,
and a last line "LABEL: N passed, M failed". Exit 0 only if nothing failed
(and, with --expect N, each agent ran exactly N cases).

usage: check.py INDEX_JSON [--label autobahn-server] [--expect 517]
"""
import argparse
import collections
import json
import sys


def case_key(case_id):
    """Sort "6.10.2" after "6.9.1"."""
    return [int(p) if p.isdigit() else p for p in case_id.split(".")]


# The cases Autobahn reports as INFORMATIONAL by design (case7_1_6.py,
# case7_13_1.py, case7_13_2.py set both fields so).
INFORMATIONAL_CASES = frozenset(("7.1.6", "7.13.1", "7.13.2"))


def acceptable(case_id, field, value):
    """Whether `value` of `field` ("behavior" or "behaviorClose") passes."""
    if value == "OK":
        return True
    if value == "INFORMATIONAL":
        return case_id in INFORMATIONAL_CASES
    if value == "UNIMPLEMENTED":
        return field == "behavior" and case_id.startswith(("12.", "13."))
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", help="path to the report's index.json")
    ap.add_argument("--label", default="autobahn",
                    help="word before the colon in the summary line (no spaces)")
    ap.add_argument("--expect", type=int, default=None,
                    help="number of cases each agent must have run")
    args = ap.parse_args()

    try:
        with open(args.index, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        print(f"error: cannot read {args.index}: {e}", file=sys.stderr)
        print(f"{args.label}: 0 passed, 1 failed")
        return 1

    passed = failed = 0
    problems = []  # whole-report problems; any one makes the check fail
    if not index:
        problems.append("report contains no agents")

    for agent in sorted(index):
        cases = index[agent]
        print(f"agent {agent!r}: {len(cases)} cases")
        if not cases:
            problems.append(f"agent {agent!r} ran no case")
        if args.expect is not None and len(cases) != args.expect:
            problems.append(f"agent {agent!r} ran {len(cases)} cases, expected {args.expect}")
            failed += max(args.expect - len(cases), 0)  # missing cases count as failed

        for field in ("behavior", "behaviorClose"):
            counts = collections.Counter(c.get(field, "MISSING") for c in cases.values())
            summary = ", ".join(f"{v}={n}" for v, n in sorted(counts.items()))
            print(f"  {field}: {summary}")

        for case_id in sorted(cases, key=case_key):
            res = cases[case_id]
            b = res.get("behavior", "MISSING")
            bc = res.get("behaviorClose", "MISSING")
            ok = acceptable(case_id, "behavior", b) and acceptable(case_id, "behaviorClose", bc)
            passed += ok
            failed += not ok
            if (b, bc) != ("OK", "OK"):
                tag = "accepted" if ok else "FAIL    "
                print(f"  {tag} {case_id:<9} behavior={b:<14} behaviorClose={bc}")

    for p in problems:
        print(f"error: {p}")
    if problems and failed == 0:
        failed = 1  # never let the summary line read as a clean pass
    print(f"{args.label}: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
