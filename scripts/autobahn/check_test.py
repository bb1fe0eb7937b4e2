#!/usr/bin/env python3
"""Tests of check.py on small made-up reports. Python 3, stdlib only.

Each test writes an index.json, runs check.py on it as the run scripts do,
and checks its exit status and summary line.

usage: python3 scripts/autobahn/check_test.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check.py")


def run(cases, expect=None):
    """Runs check.py on a report of one agent with `cases`
    ({case id: (behavior, behaviorClose)}); returns (exit status, last line)."""
    index = {"agent": {c: {"behavior": b, "behaviorClose": bc} for c, (b, bc) in cases.items()}}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(index, f)
        args = [sys.executable, CHECK, path, "--label", "t"]
        if expect is not None:
            args += ["--expect", str(expect)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout.strip().splitlines()[-1]


class Check(unittest.TestCase):
    def test_all_ok_passes(self):
        self.assertEqual(run({"1.1.1": ("OK", "OK"), "2.1": ("OK", "OK")}, 2), (0, "t: 2 passed, 0 failed"))

    def test_informational_passes_in_the_three_informational_cases(self):
        cases = {c: ("INFORMATIONAL", "INFORMATIONAL") for c in ("7.1.6", "7.13.1", "7.13.2")}
        self.assertEqual(run(cases, 3), (0, "t: 3 passed, 0 failed"))

    def test_informational_behavior_fails_elsewhere(self):
        for case in ("1.1.1", "7.1.5", "7.13.3", "6.4.1"):
            self.assertEqual(run({case: ("INFORMATIONAL", "OK")}), (1, "t: 0 passed, 1 failed"), case)

    def test_informational_behavior_close_fails_elsewhere(self):
        for case in ("1.1.1", "7.1.1", "5.19"):
            self.assertEqual(run({case: ("OK", "INFORMATIONAL")}), (1, "t: 0 passed, 1 failed"), case)

    def test_unimplemented_passes_as_the_behavior_of_12_and_13_only(self):
        self.assertEqual(run({"12.1.1": ("UNIMPLEMENTED", "OK"), "13.7.18": ("UNIMPLEMENTED", "OK")}),
                         (0, "t: 2 passed, 0 failed"))
        self.assertEqual(run({"12.1.1": ("OK", "UNIMPLEMENTED")}), (1, "t: 0 passed, 1 failed"))
        self.assertEqual(run({"9.1.1": ("UNIMPLEMENTED", "OK")}), (1, "t: 0 passed, 1 failed"))

    def test_any_other_value_fails(self):
        for value in ("NON-STRICT", "WRONG CODE", "UNCLEAN", "FAILED", "FAILED BY CLIENT", "MISSING"):
            self.assertEqual(run({"7.1.6": ("OK", value)}), (1, "t: 0 passed, 1 failed"), value)
            self.assertEqual(run({"1.1.1": (value, "OK")}), (1, "t: 0 passed, 1 failed"), value)

    def test_missing_cases_fail(self):
        self.assertEqual(run({"1.1.1": ("OK", "OK")}, expect=3), (1, "t: 1 passed, 2 failed"))

    def test_an_empty_report_fails(self):
        self.assertEqual(run({}), (1, "t: 0 passed, 1 failed"))


if __name__ == "__main__":
    unittest.main()
