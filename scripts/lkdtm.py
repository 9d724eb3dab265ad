#!/usr/bin/env python3
"""lkdtm's crash types against the judge: plan the boots, judge the consoles.

The kernel's own crash suite (drivers/misc/lkdtm) provokes real reports;
its selftest list (tools/testing/selftests/lkdtm/tests.txt) says, per
case, what the console must show ("CASE [repeat:N] [EXPECTED-ERE]", a
leading '#' for a case not to run, with the reason).  The judge must call
each case's first report what tests/fixtures/lkdtm/expect.tsv says:

    CASE <TAB> KIND <TAB> why
    KIND: the judge kind of the first report; "clean": no report, lkdtm
    checks itself and prints tests.txt's text; "skip": no report because
    this kernel or CPU lacks the check (the why names it)

    lkdtm.py plan TESTS.TXT EXPECT.TSV CHAINS   "<chain>\\tlkdtm CASE REPEAT" lines
    lkdtm.py remaining PLAN CONSOLE             the plan's lines not begun on CONSOLE
    lkdtm.py judge [--only RE] TESTS.TXT EXPECT.TSV CONSOLE...   a PASS/FAIL/SKIP row per case

A case's window is its "mmrace-lkdtm: begin CASE" line to its "end" line,
or to the end of the console when the case ended the boot (scripts/protocol.py).
Row rules (judge):
  SKIP  '#'-commented in tests.txt (its comment); not in this arch's lkdtm
        (the guest printed "missing"); no report and lkdtm printed XFAIL;
        expected "skip" and no report: the kernel as configured (or the
        CPU) lacks the check, the why names it
  PASS  the judge's first event in the window has the expected kind (or
        there is none, for "clean") and the window shows the expected text
        (tests.txt's ERE, case-insensitive; empty means "call trace:")
  FAIL  anything else, and any report between two windows
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge  # noqa: E402
import protocol  # noqa: E402

#: Kinds whose report ends the boot here: the oops path dies, and the
#: kernel runs with oops=panic panic=-1 (scripts/boot.sh).  A case
#: expected to report one of these is scheduled after the survivors.
KILLS = ("oops", "panic", "hang")
_XFAIL = re.compile(r"XFAIL: .*", re.I)
# lkdtm's pr_expected_config(): the check the kernel was built without.
_WITHOUT = re.compile(r"built \*without\* (CONFIG_\w+)=y")


def parse_tests(path):
    """tests.txt as run.sh reads it: [{case, expect, repeat, commented}]."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            name, _, rest = line.partition(" ")
            commented = name.startswith("#")
            name = name.lstrip("#")
            repeat = 1
            m = re.match(r"repeat:(\d+) ?(.*)", rest)
            if m and not commented:
                repeat, rest = int(m.group(1)), m.group(2)
            if not rest and not commented:
                rest = "call trace:"
            if not rest and commented:
                rest = "crashes entire system"
            out.append({"case": name, "expect": rest, "repeat": repeat, "commented": commented})
    return out


def read_expect(path):
    """expect.tsv: {case: (kind, why)}; '#' lines are comments."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 3:
                raise ValueError("%s:%d: want CASE<TAB>KIND<TAB>WHY" % (path, n))
            out[cols[0]] = (cols[1], cols[2])
    return out


def plan(tests, expect, chains):
    """[(chain, plan line)]: survivors first, killers after, dealt in turn.

    A boot runs its chain's cases in order until one kills it; the next
    boot of that chain starts at the first case not begun.  So a chain
    costs one boot per killer (plus one), whatever the survivors, and the
    killers are dealt evenly over the chains that boot side by side.
    """
    runnable = [t for t in tests if not t["commented"]]
    # A case without an expectation may do anything: run it last.
    survive = [t for t in runnable if expect.get(t["case"], ("oops",))[0] not in KILLS]
    kill = [t for t in runnable if expect.get(t["case"], ("oops",))[0] in KILLS]
    out = []
    for group in (survive, kill):
        for i, t in enumerate(group):
            out.append((i % chains, "lkdtm %s %d" % (t["case"], t["repeat"])))
    return out


def texts(lines):
    return [judge.split_line(raw)[1] for raw in lines]


def windows(text):
    """{case: (begin_line, end_line or None)} and the set of missing cases.

    Lines are 1-based as the judge numbers them.  A case begun twice (it
    should not be) keeps its last window.
    """
    wins, missing = {}, set()
    for n, x in enumerate(text, 1):
        m = protocol.LKDTM_BEGIN.match(x)
        if m:
            wins[m.group("case")] = [n, None]
            continue
        m = protocol.LKDTM_END.match(x)
        if m and m.group("case") in wins:
            wins[m.group("case")][1] = n
            continue
        m = protocol.LKDTM_MISSING.match(x)
        if m:
            missing.add(m.group("case"))
    return {c: tuple(w) for c, w in wins.items()}, missing


def begun(lines):
    """Cases begun (or found missing) on a console: the next boot skips them."""
    wins, missing = windows(texts(lines))
    return set(wins) | missing


def remaining(plan_lines, lines):
    done = begun(lines)
    return [p for p in plan_lines if p.split()[1] not in done]


def _row(case, status, why, ev=None, boot=None):
    return {"case": case, "status": status, "why": why, "boot": boot,
            "kind": ev["kind"] if ev else None, "title": ev["title"] if ev else None,
            "headline": ev["headline"] if ev else None}


def judge_case(t, exp, win, text, events, boot):
    """One row for tests.txt entry @t on one console (see the module doc)."""
    case = t["case"]
    kind, why = exp if exp else (None, "not in expect.tsv")
    lo, hi = win
    hi = hi or len(text)
    first = next((e for e in events if lo < e["line"] <= hi), None)
    body = "\n".join(text[lo:hi])
    seen = re.search(t["expect"], body, re.I) is not None
    xfail = _XFAIL.search(body)
    without = _WITHOUT.search(body)
    got = ("%s: %s" % (first["kind"], first["title"])) if first else "no report"
    if kind is None:
        return _row(case, "FAIL", "not in expect.tsv (got %s)" % got, first, boot)
    if kind == "skip":
        if first:
            return _row(case, "FAIL", "want no report (%s), got %s" % (why, got), first, boot)
        if without and without.group(1) not in why:
            why = "%s (lkdtm: built without %s)" % (why, without.group(1))
        return _row(case, "SKIP", why, None, boot)
    if kind != "clean":
        if first and first["kind"] == kind and seen:
            return _row(case, "PASS", why, first, boot)
        if not first and xfail:
            return _row(case, "SKIP", xfail.group(0), None, boot)
        miss = [] if seen else ["no %r on the console" % t["expect"]]
        if not first or first["kind"] != kind:
            miss.insert(0, "want %s, got %s" % (kind, got))
        if without:
            miss.append("lkdtm: built without %s" % without.group(1))
        return _row(case, "FAIL", "; ".join(miss), first, boot)
    if first:
        return _row(case, "FAIL", "want no report, got %s" % got, first, boot)
    if seen:
        return _row(case, "PASS", why, None, boot)
    if xfail:
        return _row(case, "SKIP", xfail.group(0), None, boot)
    miss = "no report and no %r on the console" % t["expect"]
    if without:
        miss += " (lkdtm: built without %s)" % without.group(1)
    return _row(case, "FAIL", miss, None, boot)


def judge_consoles(tests, expect, consoles):
    """Rows for every tests.txt case, then a FAIL per report between windows.

    @consoles: [(boot name, lines)].  A case is judged on the last console
    that began it.
    """
    seen = {}
    extra = []
    for boot, lines in consoles:
        text = texts(lines)
        events = judge.parse_events(lines)
        wins, missing = windows(text)
        for c, w in wins.items():
            seen[c] = ("win", boot, w, text, events)
        for c in missing:
            seen.setdefault(c, ("missing", boot))
        # A report outside every window came from no case's provocation
        # (or a case's damage surfaced late): never let it pass unseen.
        spans = sorted(w for w in wins.values())
        if spans:
            start = spans[0][0]
            for e in events:
                inside = any(lo < e["line"] <= (hi or len(text)) for lo, hi in spans)
                if e["line"] > start and not inside:
                    extra.append(_row("(between cases)", "FAIL",
                                      "report outside every case's window at line %d"
                                      % e["line"], e, boot))
    rows = []
    for t in tests:
        case = t["case"]
        exp = expect.get(case)
        if t["commented"]:
            rows.append(_row(case, "SKIP", "tests.txt: " + t["expect"]))
            continue
        s = seen.get(case)
        if s is None:
            rows.append(_row(case, "FAIL", "did not run (no begin marker on any console)"))
        elif s[0] == "missing":
            rows.append(_row(case, "SKIP", "not in this kernel's lkdtm (x86_64): %s"
                             % (exp[1] if exp else "another arch's case"), None, s[1]))
        else:
            _, boot, w, text, events = s
            rows.append(judge_case(t, exp, w, text, events, boot))
    return rows + extra


def format_rows(rows):
    out = []
    for r in rows:
        first = ("%s: %s" % (r["kind"], r["title"])) if r["kind"] else "-"
        out.append("%s\tlkdtm %s\t%s\t%s\t%s" % (r["status"], r["case"], first, r["why"],
                                                 r["boot"] or "-"))
    return "\n".join(out)


def boot_name(path):
    """A results directory's boots/NAME/console.log, or a fixture NAME.log."""
    base = os.path.basename(path)
    if base == "console.log":
        return os.path.basename(os.path.dirname(os.path.abspath(path)))
    return base[:-4] if base.endswith(".log") else base


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan")
    p.add_argument("tests")
    p.add_argument("expect")
    p.add_argument("chains", type=int)
    p = sub.add_parser("remaining")
    p.add_argument("plan")
    p.add_argument("console")
    p = sub.add_parser("judge")
    p.add_argument("--only", default="", help="rows for the cases this regex finds only")
    p.add_argument("tests")
    p.add_argument("expect")
    p.add_argument("consoles", nargs="+", help="console logs (boot name: the file's directory)")
    a = ap.parse_args(argv)
    if a.cmd == "plan":
        for chain, line in plan(parse_tests(a.tests), read_expect(a.expect), max(1, a.chains)):
            print("%d\t%s" % (chain, line))
        return 0
    if a.cmd == "remaining":
        with open(a.plan, encoding="utf-8") as f:
            lines = [x.strip() for x in f if x.strip()]
        for line in remaining(lines, judge.read_lines(a.console)):
            print(line)
        return 0
    consoles = [(boot_name(c), judge.read_lines(c)) for c in a.consoles]
    tests = [t for t in parse_tests(a.tests) if re.search(a.only, t["case"])]
    rows = judge_consoles(tests, read_expect(a.expect), consoles)
    print(format_rows(rows))
    return 1 if any(r["status"] == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
