#!/usr/bin/env python3
"""Plan the boots of a run from the module's own scenario list.

Lockdep (and every other one-shot detector) reports once per boot and
then switches itself off, so each variant expected to trip a detector
gets a boot of its own; the clean variants of a scenario share one.

Boots are listed longest first (the guest tests, then the shared clean
boots, then the bugs), so that with -j N the long ones do not start last
and leave the other slots idle at the end.

The soft lockup detector runs at the kernel's default threshold (20 s)
except in a boot whose variant must trip it: there watchdog_thresh=2
(4 s) makes the detection quick.  A clean boot on a slow, loaded TCG
host must not die of a 4 s stall that the code under test did not cause.

Input: lines "<scenario>/<variant> expect=<expectation>" as the module
prints them (debugfs mmrace/scenarios).  Output: TSV
"<boot>\t<plan line>\t<extra kernel arguments>\t<silence seconds>", a
boot's rows adjacent.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detectors  # noqa: E402


def read_scenarios(path):
    """[(id, expect)] in the module's order."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(\S+/\S+) expect=(.*)$", line.strip())
            if m:
                out.append((m.group(1), m.group(2)))
    return out


GUEST_TESTS = ("kunit", "debugfs", "fuzz", "faultattr", "unload")


def _kinds(expects):
    return {k.split(":")[0].strip() for e in expects for k in e.split("|")}


def boot_args(expects):
    """Extra kernel arguments for a boot running variants of @expects.

    Only the boots whose variant must trip a timed detector arm it quickly
    (scripts/detectors.py: watchdog_thresh=2, a 5 s hung-task timeout);
    every other boot keeps the kernel's defaults, so that a clean boot on a
    loaded TCG host does not die of a short threshold that the code under
    test did not cause.
    """
    return detectors.boot_args_of(_kinds(expects))


def boot_silence(name, expects):
    """Seconds of silence before the host calls this boot's guest hung.

    Both are generous: on a loaded TCG host a guest can be quiet for tens
    of seconds.  A boot whose variant must splat may deadlock after
    reporting, and is called hung sooner.
    """
    if not name.startswith("bug-"):
        return 120
    return detectors.silence_of(_kinds(expects), 60)


def boot_cost(name, expects):
    """A rough guess of a boot's length, for the longest-first order."""
    if name == "guest-tests":
        return 1000
    if name.startswith("clean-"):
        return 10 * len(expects)
    # Lockups take seconds to be reported; most other bugs, less than one.
    return 25 if boot_args(expects) else 5


def plan(scenarios, only="", repeat=1, duration_ms=None, guest_tests=False,
         select="all", split=False):
    """[(boot name, plan line, kernel args)], longest boot first.

    Clean variants of a scenario share a boot unless @split; each bug
    variant has its own.  With guest_tests, one more boot runs the
    guest-side test scripts (scripts/guest/tests/*.sh), written "@name".
    """
    sel = [(i, e) for i, e in scenarios if not only or re.search(only, i)]
    if select != "all":
        sel = [(i, e) for i, e in sel if (e == "clean") == (select == "clean")]
    knobs = f" duration_ms={duration_ms}" if duration_ms else ""
    boots = {}  # name -> [(line, expect)], in first-seen order
    for rep in range(repeat):
        sfx = f"-r{rep + 1}" if repeat > 1 else ""
        for ident, expect in sel:
            if expect == "clean" and not split:
                name = f"clean-{ident.split('/')[0]}{sfx}"
            else:
                kind = "clean" if expect == "clean" else "bug"
                name = f"{kind}-{ident.replace('/', '-')}{sfx}"
            boots.setdefault(name, []).append((ident + knobs, expect))
    if guest_tests:
        boots["guest-tests"] = [("@" + t, "clean") for t in GUEST_TESTS]
    order = sorted(boots, key=lambda b: -boot_cost(b, [e for _, e in boots[b]]))
    return [(b, line, boot_args([e for _, e in boots[b]]),
             boot_silence(b, [e for _, e in boots[b]]))
            for b in order for line, _ in boots[b]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios")
    ap.add_argument("--only", default="")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--duration-ms", type=int)
    ap.add_argument("--guest-tests", action="store_true")
    ap.add_argument("--select", choices=("all", "clean", "bugs"), default="all")
    ap.add_argument("--split", action="store_true",
                    help="every clean variant in a boot of its own")
    a = ap.parse_args(argv)
    for boot, line, args, silence in plan(read_scenarios(a.scenarios), a.only, a.repeat,
                                          a.duration_ms, a.guest_tests, a.select,
                                          a.split):
        print(f"{boot}\t{line}\t{args}\t{silence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
