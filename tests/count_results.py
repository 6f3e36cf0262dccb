#!/usr/bin/env python3
"""count_results.py — count test cases (not Bazel targets) for the final
`N passed, N failed, N skipped` line of the test run, from two sources
that must agree: the JUnit XML each target leaves in bazel-testlogs, and
Bazel's own verdict on the target (its Build Event Protocol file).

Usage: count_results.py TESTLOGS_DIR SINCE_EPOCH BEP_JSON LABEL...
Prints one line per target and a last line `TOTAL passed failed skipped`.

Rules:
- a target without a fresh test.xml (it failed to build, timed out before
  writing one, or did not run) counts as one failed case;
- a target Bazel did not call PASSED counts at least one failed case,
  whatever its XML says (a googletest binary can write a clean XML and
  then abort at exit, e.g. in LeakSanitizer);
- with CI=true in the environment, a skipped case counts as failed unless
  its target and name match a line of tests/allowed_skips.txt; every skip
  is printed with its message either way.
Exits non-zero if it cannot read its inputs (the caller then counts a
failure: a counter that crashes must never read as 0 failed).
"""
import fnmatch
import json
import os
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))


def load_allowed_skips(path):
    """Lines `//label case-glob  # reason`; the reason is required."""
    allowed = []
    if not os.path.exists(path):
        return allowed
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            body, _, reason = line.partition("#")
            body = body.strip()
            if not body:
                continue
            parts = body.split()
            if len(parts) != 2 or not reason.strip():
                raise SystemExit(f"{path}:{n}: want '//label case-glob  # reason'")
            allowed.append((parts[0], parts[1]))
    return allowed


def skip_allowed(allowed, label, case):
    return any(label == l and fnmatch.fnmatchcase(case, g) for l, g in allowed)


def count_xml(path, label, ci, allowed, notes):
    """Return (passed, failed, skipped) for one test.xml."""
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    cases = list(root.iter("testcase"))
    for case in cases:
        name = (case.get("classname", "") + "." + case.get("name", "")).strip(".")
        skip = case.find("skipped")
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif (skip is not None or case.get("result") == "skipped"
              or case.get("status") == "notrun"):
            why = ""
            if skip is not None:
                why = (skip.get("message") or skip.text or "").strip()
            ok = not ci or skip_allowed(allowed, label, name)
            notes.append(f"    skipped {name}: {why or '(no reason given)'}"
                         + ("" if ok else "  <- not on tests/allowed_skips.txt: FAILED in CI"))
            if ok:
                skipped += 1
            else:
                failed += 1
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


def bazel_statuses(bep_path):
    """label -> Bazel's overall status (PASSED, FAILED, TIMEOUT, ...)."""
    status = {}
    with open(bep_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            event = json.loads(line)
            summary = event.get("id", {}).get("testSummary")
            if summary is not None:
                status[summary["label"]] = event.get("testSummary", {}).get(
                    "overallStatus", "NO_STATUS")
    return status


def main():
    if len(sys.argv) < 4:
        raise SystemExit("usage: count_results.py TESTLOGS SINCE BEP_JSON LABEL...")
    logs, since, bep, labels = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
    ci = os.environ.get("CI") == "true"
    allowed = load_allowed_skips(os.path.join(HERE, "allowed_skips.txt"))
    status = bazel_statuses(bep)
    tp = tf = ts = 0
    for label in labels:
        rel = label.lstrip("/").replace(":", "/")
        xml = os.path.join(logs, rel, "test.xml")
        notes = []
        if os.path.exists(xml) and os.path.getmtime(xml) >= since:
            try:
                p, f, s = count_xml(xml, label, ci, allowed, notes)
            except ET.ParseError:
                p, f, s = 0, 1, 0
                notes.append("    test.xml does not parse")
        else:
            p, f, s = 0, 1, 0
            notes.append("    no test.xml from this run")
        verdict = status.get(label, "NO_STATUS")
        if verdict != "PASSED" and f == 0:
            # The cases passed, the target did not: count the target.
            notes.append(f"    Bazel says {verdict} although every case passed")
            f = 1
        print(f"  {label}: {p} passed, {f} failed, {s} skipped ({verdict})")
        for n in notes:
            print(n)
        tp, tf, ts = tp + p, tf + f, ts + s
    print(f"TOTAL {tp} {tf} {ts}")


if __name__ == "__main__":
    main()
