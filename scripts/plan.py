#!/usr/bin/env python3
"""Plan the boots of a run from the module's own scenario list.

Lockdep (and every other one-shot detector) reports once per boot and
then switches itself off, so each variant expected to trip a detector
gets a boot of its own; the clean variants of a scenario share one.

Input: lines "<scenario>/<variant> expect=<expectation>" as the module
prints them (debugfs mmrace/scenarios).  Output: TSV "<boot>\t<plan line>".
"""
import argparse
import re
import sys


def read_scenarios(path):
    """[(id, expect)] in the module's order."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(\S+/\S+) expect=(.*)$", line.strip())
            if m:
                out.append((m.group(1), m.group(2)))
    return out


GUEST_TESTS = ("kunit", "debugfs", "fuzz", "unload")


def plan(scenarios, only="", repeat=1, duration_ms=None, guest_tests=False,
         select="all"):
    """[(boot name, plan line)]: clean per scenario first, then bugs.

    With guest_tests, one more boot runs the guest-side test scripts
    (scripts/guest/tests/*.sh), written "@name" in the plan.
    """
    sel = [(i, e) for i, e in scenarios if not only or re.search(only, i)]
    if select != "all":
        sel = [(i, e) for i, e in sel if (e == "clean") == (select == "clean")]
    knobs = f" duration_ms={duration_ms}" if duration_ms else ""
    rows = []
    for rep in range(repeat):
        sfx = f"-r{rep + 1}" if repeat > 1 else ""
        for ident, expect in sel:
            if expect == "clean":
                rows.append((f"clean-{ident.split('/')[0]}{sfx}", ident + knobs))
        for ident, expect in sel:
            if expect != "clean":
                rows.append((f"bug-{ident.replace('/', '-')}{sfx}", ident + knobs))
    if guest_tests:
        rows.extend(("guest-tests", "@" + t) for t in GUEST_TESTS)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios")
    ap.add_argument("--only", default="")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--duration-ms", type=int)
    ap.add_argument("--guest-tests", action="store_true")
    ap.add_argument("--select", choices=("all", "clean", "bugs"), default="all")
    a = ap.parse_args(argv)
    for boot, line in plan(read_scenarios(a.scenarios), a.only, a.repeat,
                           a.duration_ms, a.guest_tests, a.select):
        print(f"{boot}\t{line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
