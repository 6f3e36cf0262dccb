#!/usr/bin/env python3
"""count_results.py — count test cases (not Bazel targets) from the JUnit
XML files Bazel leaves in bazel-testlogs, for the final
`N passed, N failed, N skipped` line of the test run.

Usage: count_results.py TESTLOGS_DIR SINCE_EPOCH LABEL...
Prints one line per target and a last line `TOTAL passed failed skipped`.
A target without a fresh test.xml (it failed to build, timed out before
writing one, or did not run) counts as one failed case.
"""
import os
import sys
import xml.etree.ElementTree as ET


def count_xml(path):
    """Return (passed, failed, skipped) for one test.xml."""
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    cases = list(root.iter("testcase"))
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif (case.find("skipped") is not None
              or case.get("result") == "skipped"
              or case.get("status") == "notrun"):
            skipped += 1
        else:
            passed += 1
    if not cases:
        # A test without cases of its own: Bazel's generated XML has one
        # testsuite whose attributes say whether it failed.
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        bad = 0
        if suite is not None:
            bad = int(suite.get("failures", "0")) + int(suite.get("errors", "0"))
        if bad:
            failed = 1
        else:
            passed = 1
    return passed, failed, skipped


def main():
    logs, since, labels = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    tp = tf = ts = 0
    for label in labels:
        rel = label.lstrip("/").replace(":", "/")
        xml = os.path.join(logs, rel, "test.xml")
        if os.path.exists(xml) and os.path.getmtime(xml) >= since:
            try:
                p, f, s = count_xml(xml)
            except ET.ParseError:
                p, f, s = 0, 1, 0
        else:
            p, f, s = 0, 1, 0
        print(f"  {label}: {p} passed, {f} failed, {s} skipped")
        tp, tf, ts = tp + p, tf + f, ts + s
    print(f"TOTAL {tp} {tf} {ts}")


if __name__ == "__main__":
    main()
