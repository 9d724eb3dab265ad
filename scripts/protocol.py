#!/usr/bin/env python3
"""mmrace's console protocol: every marker the harness prints or reads.

One place for the lines the module, the guest's init, its test scripts and
the host write to a console, so that the judge, the report, run.sh and
soak.sh read them alike:

  module (pr_fmt "mmrace: ")
    mmrace: BEGIN <scenario>/<variant> expect=<expectation>
    mmrace: # <scenario>/<variant> knobs: name=value ...
    mmrace:     # <scenario>/<variant> <stat>: <value>
    mmrace: INVARIANT <scenario>/<variant>: <text>
    mmrace: END <scenario>/<variant> result=<ok|...>
    mmrace: ok|not ok <n> <scenario>/<variant> [# SKIP <why>]   (KTAP)
  guest init          mmrace-guest: start|scenario|stopping|progress|test begin|test end ...
                      mmrace-guest: module text=<0x address of mmrace.ko's .text>
  guest test scripts  mmrace-test: ok|not ok|skip <name> [(<why>)]
  guest trace dump    mmrace-trace: <trace line>
  guest lkdtm cases   mmrace-lkdtm: begin|end|missing <CASE>   (via /dev/kmsg)
  host (boot.sh)      mmrace-host: guest hung|timeout ...   (no timestamp)

    protocol.py begins CONSOLE      "<line>\t<id>" for every BEGIN
    protocol.py current CONSOLE     the id of the last BEGIN, if any
    protocol.py reached CONSOLE     exit 0 when the guest's init started
    protocol.py scenarios CONSOLE   the list boot's "<id> expect=<...>" lines
    protocol.py module-text CONSOLE the address mmrace.ko's .text was loaded at
"""
import argparse
import re
import sys

BEGIN = re.compile(r"mmrace: BEGIN (?P<id>\S+) expect=(?P<expect>.*)$")
END = re.compile(r"mmrace: END (?P<id>\S+) result=(?P<result>\S+)")
# Indentation after "mmrace:" is allowed because the stats lines beside it
# are printed indented ("mmrace:     # pcp/v1 run_ms: 3227").
KNOBS = re.compile(r"mmrace:\s+#\s+(?P<id>\S+) knobs:(?P<knobs>(?:\s.*)?)$")
KNOB = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S*)$")
STAT = re.compile(r"mmrace:\s+# (?P<id>\S+) (?P<key>[a-z0-9_]+): (?P<val>\d+)$")
INVARIANT = re.compile(r"mmrace: INVARIANT (?P<sid>\S+?): (?P<h>.*)")
KTAP_SKIP = re.compile(r"mmrace: ok \d+ (?P<id>\S+) # SKIP (?P<why>.*)$")
KTAP_RESULT = re.compile(r"mmrace: (?P<res>ok|not ok) \d+ (?P<id>\S+)(?: # (?P<dir>.*))?$")
GUEST = re.compile(r"^mmrace-guest: (?P<what>.*)$")
GUEST_START = re.compile(r"mmrace-guest: start\b")
# Printed once after insmod: gdb's add-symbol-file needs it in a replay.
MODULE_TEXT = re.compile(r"^mmrace-guest: module text=(?P<addr>0x[0-9a-fA-F]+)")
GUEST_SCENARIO = re.compile(r"^mmrace-guest: scenario (?P<line>.*)$")
TEST_BEGIN = re.compile(r"mmrace-guest: test begin (?P<script>\S+)")
TEST_END = re.compile(r"mmrace-guest: test end (?P<script>\S+)")
TEST_RESULT = re.compile(r"mmrace-test: (?P<res>ok|not ok|skip) (?P<name>\S+)(?P<rest>.*)$")
# KUnit's own KTAP result lines (cases are indented under their suite).
KUNIT_RESULT = re.compile(r"^\s*(?P<res>ok|not ok) \d+ (?P<name>\S+)(?: # (?P<dir>SKIP.*))?$")
TRACE = re.compile(r"^mmrace-trace: (?P<line>.*)$")
# An lkdtm crash type's window (scripts/lkdtm.sh): the guest writes these
# to /dev/kmsg, so they carry a timestamp and come in printk's order with
# the kernel's report.  "missing": the case is not in this kernel's
# provoke-crash/DIRECT list (another arch's).
LKDTM_BEGIN = re.compile(r"^mmrace-lkdtm: begin (?P<case>\S+)$")
LKDTM_END = re.compile(r"^mmrace-lkdtm: end (?P<case>\S+)$")
LKDTM_MISSING = re.compile(r"^mmrace-lkdtm: missing (?P<case>\S+)$")
# Written by scripts/boot.sh, not the guest: it has no timestamp and is not
# output of the run.
HOST = re.compile(r"^mmrace-host: ")
HOST_HANG = re.compile(r"mmrace-host: guest (?:hung|timeout)\b.*")


def parse_knobs(text):
    """Return (id, {name: value}) for a knobs line, else None.

    Values that are decimal integers become ints; anything else (e.g.
    ``contexts=task,softirq``, or ``contexts=`` for none) stays a string.
    Tokens that are not ``name=value`` are skipped rather than failing the
    whole line: the record is informative, the verdict does not depend on it.
    """
    m = KNOBS.search(text)
    if not m:
        return None
    knobs = {}
    for tok in m.group("knobs").split():
        k = KNOB.match(tok)
        if not k:
            continue
        val = k.group("value")
        knobs[k.group("name")] = int(val) if re.fullmatch(r"-?\d+", val) else val
    return m.group("id"), knobs


def is_run_output(text):
    """Does a line after BEGIN show that the run itself did something?

    The host's hang notice and the knobs record printed with BEGIN do not:
    a run that printed only those hung without a word (verdict ``hang``).
    """
    return bool(text.strip()) and not HOST.match(text) and not KNOBS.search(text)


def _texts(path):
    # Imported here: judge imports this module.
    import judge
    with open(path, "rb") as f:
        for n, raw in enumerate(judge.iter_lines(f), 1):
            yield n, judge.split_line(raw)[1]


#: The command line's queries: (pattern, group printed, which matches).
#: "all" prints every match (begins: with its line number), "first" the
#: first and exits 1 without one, "last" the last, "any" only says by its
#: exit status whether one exists.
QUERIES = {
    "begins": (BEGIN, "id", "all"),
    "scenarios": (GUEST_SCENARIO, "line", "all"),
    "module-text": (MODULE_TEXT, "addr", "first"),
    "current": (BEGIN, "id", "last"),
    "reached": (GUEST_START, None, "any"),
}


def query(what, console):
    """Run one query over a console; return its exit status."""
    rx, group, which = QUERIES[what]
    last = None
    for n, text in _texts(console):
        m = rx.search(text)
        if not m:
            continue
        if which == "any":
            return 0
        if which == "first":
            print(m.group(group))
            return 0
        if which == "all":
            print("%d\t%s" % (n, m.group(group)) if what == "begins" else m.group(group))
        last = m.group(group) if group else True
    if which == "last" and last:
        print(last)
    return 1 if which in ("first", "any") else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=sorted(QUERIES))
    ap.add_argument("console")
    a = ap.parse_args(argv)
    try:
        return query(a.what, a.console)
    except BrokenPipeError:
        return 0          # the reader (head, grep -q) has what it wanted
    except OSError as e:
        print("protocol.py: cannot read %s: %s" % (a.console, e.strerror or e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
