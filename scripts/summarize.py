"""Add up the test results of one scripts/test run and print the last line.

Reads meson's testlog.json files (one JSON object per test) and pytest's
JUnit XML files from the results folder given; the remaining arguments name
steps that failed outright (a build, say), each counted as one failure.
"""
import json
import pathlib
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    results = pathlib.Path(sys.argv[1])
    failed_steps = sys.argv[2:]
    passed = failed = skipped = 0
    for log in sorted(results.glob("meson-*.json")):
        for line in log.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)["result"]
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
    for xml in sorted(results.glob("*.xml")):
        for suite in ET.parse(xml).getroot().iter("testsuite"):
            total = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skip = int(suite.get("skipped", 0))
            passed += total - bad - skip
            failed += bad
            skipped += skip
    for step in failed_steps:
        print(f"step failed: {step}")
    failed += len(failed_steps)
    line = f"tests: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
