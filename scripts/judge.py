#!/usr/bin/env python3
"""Judge a Linux kernel console log: find failure reports and give verdicts.

The judge reads any serial console capture (not only mmrace's) and turns the
kernel's multi-line failure reports into *events*, one per report:

    scripts/judge.py console.log            # one JSON object per event per line
    scripts/judge.py --summary console.log  # verdict table per scenario/variant
    scripts/judge.py --summary --json console.log

mmrace's module brackets every provocation with markers (pr_fmt "mmrace: "):

    mmrace: BEGIN <scenario>/<variant> expect=<expectation>
    mmrace: END <scenario>/<variant> result=ok
    mmrace: INVARIANT <scenario>/<variant>: <text>
    mmrace: # <scenario>/<variant> knobs: name=value name=value ...

The knobs line (after BEGIN, once setup ran; absent from older logs) records every
knob of the run, so a verdict can be reproduced.  scripts/boot.sh appends
``mmrace-host: guest hung ...`` (or ``timeout``) to the log of a guest that
went silent: that is a ``hang`` event of the run in progress.

An event is attributed to the scenario whose BEGIN came last and has not yet
ENDed.  The expectation grammar is ``clean`` or alternatives joined with
``|``, each ``kind`` or ``kind:substring``, where several substrings joined
with ``&`` must all be found in the event's headline, detail or lock (the
first lock class a lockdep report names).  A bug variant is caught only when
the *first* report after its BEGIN matches: what the kernel prints after
that, in the same cascade, may be anything.

For import (scripts/report.py does ``import judge``), the entry points are
:func:`parse_events`, :func:`parse_markers` and :func:`verdicts`; all return
lists of plain dicts.  Only the Python 3 standard library is used.
"""

import argparse
import json
import re
import sys

# ---------------------------------------------------------------------------
# Line normalisation
# ---------------------------------------------------------------------------

# SeaBIOS/iPXE and the terminal emit escape sequences (e.g. "\x1bc\x1b[?7l")
# that end up glued to the first kernel line; drop them before matching.
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_]|c)")
# PRINTK_TIME prefix, optionally followed by a PRINTK_CALLER id "[T42]".
_STAMP = re.compile(r"\[\s*(\d+\.\d+)\](?:\[\s*[TC]\d+\])? ?")


def split_line(raw):
    """Return (time or None, text) for one raw console line.

    Carriage returns, escape sequences and other control bytes are removed.
    The timestamp is looked for at the start of the line, and failing that
    anywhere (qemu/BIOS garbage can precede the first kernel line).
    """
    line = _ANSI.sub("", raw.rstrip("\r\n")).replace("\r", "")
    line = "".join(c for c in line if c == "\t" or c >= " ")
    m = _STAMP.match(line) or _STAMP.search(line)
    if not m:
        return None, line.rstrip()
    return float(m.group(1)), line[m.end():].rstrip()


# ---------------------------------------------------------------------------
# Pattern tables (data, not code): which first lines open which kind of event
# ---------------------------------------------------------------------------

_LOCKDEP_HEADLINES = (
    r"inconsistent lock state",
    r"possible circular locking dependency detected",
    r"possible irq lock inversion dependency detected",
    r"(?:HARD|SOFT)IRQ-(?:READ-)?safe -> (?:HARD|SOFT)IRQ-(?:READ-)?unsafe lock order detected",
    r"suspicious RCU usage\.?",
    r"possible recursive locking detected",
    r"bad unlock balance detected!",
    r"held lock freed!",
    r"lock held when returning to user space!",
    r"Nested lock was not taken",
    r"bad contention detected!",
    r"chain_key collision",
    r"\S+/\d+ still has locks held!",
    r"MAX_\w+ too low!",
    r"key \S+ has not been registered!",
    r"looking up invalid subclass: \d+",
)

#: (kind, regex) in priority order.  The regex is matched against the line
#: text after the timestamp; group ``h`` (if any) becomes the headline,
#: otherwise the whole text does.  Lockdep comes before ``warning`` because
#: lockdep headlines also start with "WARNING: ".
PATTERNS = [
    ("mmrace", r"mmrace: INVARIANT (?P<sid>\S+?): (?P<h>.*)"),
    ("lockdep", r"(?:WARNING|BUG): (?P<h>(?:%s))$" % "|".join(_LOCKDEP_HEADLINES)),
    ("lockdep", r"\[ BUG: (?P<h>Invalid wait context) \]"),
    ("list_corruption", r"(?P<h>list_(?:add|del) corruption.*|list_add double add.*)"),
    ("debug_objects", r"(?P<h>ODEBUG: .*)"),
    ("kasan", r"(?P<h>BUG: KASAN: .*)"),
    ("kfence", r"(?P<h>BUG: KFENCE: .*)"),
    ("bad_page", r"(?P<h>BUG: Bad page (?:state|map|cache).*)"),
    ("sleep_in_atomic", r"(?P<h>BUG: sleeping function called from invalid context.*)"),
    ("sleep_in_atomic", r"(?P<h>BUG: scheduling while atomic.*)"),
    ("soft_lockup", r"(?:watchdog: )?(?P<h>BUG: soft lockup - CPU#\d+ stuck for .*)"),
    ("hard_lockup", r"(?:watchdog: |NMI watchdog: )?(?P<h>(?:CPU\d+: )?Watchdog detected hard LOCKUP.*)"),
    ("rcu_stall", r"(?:rcu: )?(?P<h>INFO: rcu\w* (?:self-)?detected (?:expedited )?stalls?\b.*)"),
    ("hung_task", r"(?P<h>INFO: task .+:\d+ blocked for more than \d+ seconds\.?)"),
    # VM_BUG_ON_PAGE(): dump_page()'s last line comes just before the BUG()
    # (whose "kernel BUG at" is then folded in): the condition is the news.
    ("vm_bug", r"(?P<h>page dumped because: VM_BUG_ON_\w+\(.*)"),
    ("oops", r"(?P<h>BUG: unable to handle (?:page fault|kernel).*)"),
    ("oops", r"(?P<h>BUG: kernel NULL pointer dereference.*)"),
    ("oops", r"(?P<h>BUG: stack guard page was hit.*)"),
    ("oops", r"(?P<h>kernel tried to execute NX-protected page.*)"),
    ("oops", r"(?:Oops: )?(?P<h>general protection fault.*)"),
    ("oops", r"(?P<h>kernel BUG at .*)"),
    ("oops", r"(?P<h>Oops: .*)"),
    ("ubsan", r"(?P<h>UBSAN: .*)"),
    ("warning", r"(?P<h>WARNING: CPU: \d+ PID: \d+ at .*)"),
    ("warning", r"(?P<h>WARNING: [\w./-]+:\d+ at .*)"),
    ("panic", r"(?P<h>Kernel panic - not syncing: .*)"),
    # The NMI scripts/boot.sh sends a silent guest (unknown_nmi_panic):
    # everything after it is the panic's backtraces, part of this event.
    ("hang", r"(?P<h>Uhhuh\. NMI received for unknown reason.*)"),
]
_COMPILED = [(kind, re.compile(rx)) for kind, rx in PATTERNS]

#: Kinds whose text appears inside a WARN() (after "cut here", before the
#: "WARNING: CPU:" line); the WARNING then belongs to them, not a new event.
WARN_PAYLOAD_KINDS = ("list_corruption", "debug_objects")

#: Kinds that are a single line: the event closes on the same line.
SINGLE_LINE_KINDS = ("mmrace",)

_CUT_HERE = re.compile(r"-+\[ cut here \]-+$")
_END_TRACE = re.compile(r"---\[ end (?:trace|Kernel panic)")
_TRACE_END = re.compile(r"\s*</TASK>\s*$")
# Panics are usually the consequence of the report just before them
# (panic_on_oops, softlockup_panic, ...): fold them into it if this close.
_CONSEQUENCE_SECONDS = 5.0
# A report whose call trace never ended is considered finished after this gap.
_STALE_SECONDS = 5.0

# Where to find cpu/task.  The "CPU: N UID: U PID: P Comm: C" stack-dump
# header is authoritative; headline-specific forms are the fallback.
_CPU_LINE = re.compile(r"CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+)")
_TASK_FORMS = [
    re.compile(r"^(?P<comm>\S.*?)/(?P<pid>\d+) (?:\[HC\d|is trying to acquire|just changed|is exiting|is freeing|acquired|has)"),
    re.compile(r"^\d+ locks? held by (?P<comm>\S.*?)/(?P<pid>\d+):"),
    re.compile(r"INFO: task (?P<comm>.+):(?P<pid>\d+) blocked"),
    re.compile(r"pid: (?P<pid>\d+), name: (?P<comm>\S+)"),
    re.compile(r"scheduling while atomic: (?P<comm>.+)/(?P<pid>\d+)/0x"),
    re.compile(r"stuck for \d+s! \[(?P<comm>.+):(?P<pid>\d+)\]"),
]
_CPU_FORMS = [
    re.compile(r"WARNING: CPU: (\d+) PID"),
    re.compile(r"CPU#(\d+)"),
    re.compile(r"hard LOCKUP on cpu (\d+)"),
]

# Lines that are never a useful "detail": framing, taint banners, stack
# frames, register dumps.
_NOT_DETAIL = re.compile(
    r"^\s*$|^[-=]{5,}$|^\d+\.\d+\.\d+\S* #\d+|^\s*Tainted: |^Hardware name: |"
    r"^CPU: \d+ |^Modules linked in:|^Call Trace:|^\s*<\/?(?:TASK|IRQ|NMI|SOFTIRQ)>|"
    r"^\s+(?:\? )?[\w.]+\+0x[0-9a-f]+/0x[0-9a-f]+|^Code: |^(?!RIP)[A-Z0-9]{2,3}: +[0-9a-f]{4}|^RIP: 0033:|"
    r"^(?:FS|CS|CR2|DR0|DR3|DR6|PKRU):|^irq event stamp|^(?:hard|soft)irqs last|"
    r"^\"echo 0 > |^Kernel Offset|^---\[ end |^-+\[ cut here|^\s*(?:\? )?0x[0-9a-f]+$"
)
_PF_LINE = re.compile(r"^#PF: ")
# A lockdep class as its reports print it: "ffff... (&pcp->lock){+.?.}-{2:2}".
_LOCK_CLASS = re.compile(r"\((?P<lock>[^\s(){}]+)\)\{[-+.?|]+\}")


def classify(text):
    """Return (kind, headline, match) if ``text`` opens a report, else None."""
    for kind, rx in _COMPILED:
        m = rx.match(text)
        if m:
            h = m.groupdict().get("h")
            return kind, (h if h is not None else text).strip(), m
    return None


# ---------------------------------------------------------------------------
# Markers
# ---------------------------------------------------------------------------

_BEGIN = re.compile(r"mmrace: BEGIN (?P<id>\S+) expect=(?P<expect>.*)$")
_END = re.compile(r"mmrace: END (?P<id>\S+) result=(?P<result>\S+)")
# Indentation after "mmrace:" is allowed because the stats lines beside it
# are printed indented ("mmrace:     # pcp/v1 run_ms: 3227").
_KNOBS = re.compile(r"mmrace:\s+#\s+(?P<id>\S+) knobs:(?P<knobs>(?:\s.*)?)$")
# A value may be empty: "contexts=" when no context is selected.
_KNOB = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S*)$")
# Written by scripts/boot.sh, not the guest: it has no timestamp and is not
# output of the run (see the file's docstring).
_HOST_HANG = re.compile(r"mmrace-host: guest (?:hung|timeout)\b.*")
_HOST = re.compile(r"^mmrace-host: ")


def parse_knobs(text):
    """Return (id, {name: value}) for a knobs line, else None.

    Values that are decimal integers become ints; anything else (e.g.
    ``contexts=task,softirq``, or ``contexts=`` for none) stays a string.  Tokens that are not
    ``name=value`` are skipped rather than failing the whole line: the
    record is informative, the verdict does not depend on it.
    """
    m = _KNOBS.search(text)
    if not m:
        return None
    knobs = {}
    for tok in m.group("knobs").split():
        k = _KNOB.match(tok)
        if not k:
            continue
        val = k.group("value")
        knobs[k.group("name")] = int(val) if re.fullmatch(r"-?\d+", val) else val
    return m.group("id"), knobs


def _is_run_output(text):
    """Does a line after BEGIN show that the run itself did something?

    The host's hang notice and the knobs record printed with BEGIN do not:
    a run that printed only those hung without a word (verdict ``hang``).
    """
    return bool(text.strip()) and not _HOST.match(text) and not _KNOBS.search(text)


def parse_markers(lines):
    """Return one dict per BEGIN marker, in log order.

    Keys: id, expect, begin_line, begin_time, end_line, end_time, result,
    last_line (last line number inside the scenario's window, i.e. before the
    next BEGIN), output_after_begin (any line of the guest after BEGIN other
    than the knobs record), knobs (dict from the knobs line, None if the log
    has none).  A re-run of the same id gets its own row.
    """
    rows = []
    open_row = None
    for n, raw in enumerate(lines, 1):
        t, text = split_line(raw)
        m = _BEGIN.search(text)
        if m:
            open_row = {
                "id": m.group("id"), "expect": m.group("expect").strip(),
                "begin_line": n, "begin_time": t, "end_line": None,
                "end_time": None, "result": None, "last_line": n,
                "output_after_begin": False, "knobs": None,
            }
            rows.append(open_row)
            continue
        k = parse_knobs(text)
        if k and open_row is not None and k[0] == open_row["id"]:
            open_row["knobs"] = k[1]
        if rows and text.strip():
            rows[-1]["last_line"] = n
            if _is_run_output(text):
                rows[-1]["output_after_begin"] = True
        m = _END.search(text)
        if m and open_row is not None and m.group("id") == open_row["id"]:
            open_row.update(end_line=n, end_time=t, result=m.group("result"))
            open_row = None
    return rows


# ---------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------

def _new_event(kind, headline, n, t, scen):
    return {
        "kind": kind, "headline": headline, "detail": None, "line": n,
        "end_line": n, "time": t, "cpu": None, "task": None, "lock": None,
        "scenario": scen[0] if scen else None,
        "t_since_begin": (round(t - scen[1], 6)
                          if scen and t is not None and scen[1] is not None else None),
    }


def _note_body_line(ev, text, state, headline_line=False):
    """Fill detail/cpu/task of the open event from one of its lines.

    The headline line itself only contributes cpu/task, never the detail.
    """
    m = _CPU_LINE.search(text)
    if m and not state.get("cpu_line"):
        state["cpu_line"] = True
        ev["cpu"] = int(m.group(1))
        ev["task"] = "%s/%s" % (m.group(3), m.group(2))
    if ev["task"] is None:
        for rx in _TASK_FORMS:
            m = rx.search(text)
            if m:
                ev["task"] = "%s/%s" % (m.group("comm"), m.group("pid"))
                break
    if ev["cpu"] is None:
        for rx in _CPU_FORMS:
            m = rx.search(text)
            if m:
                ev["cpu"] = int(m.group(1))
                break
    if ev["kind"] == "lockdep" and ev["lock"] is None:
        m = _LOCK_CLASS.search(text)
        if m:
            ev["lock"] = m.group("lock")
    if headline_line:
        return
    if _PF_LINE.match(text):
        # The page-fault decoding lines are the interesting part of an oops.
        if state.get("detail_is_pf"):
            ev["detail"] += "; " + text
        elif ev["detail"] is None or not state.get("detail_locked"):
            ev["detail"] = text
            state["detail_is_pf"] = state["detail_locked"] = True
        return
    if ev["detail"] is None and not _NOT_DETAIL.search(text) and text != ev["headline"]:
        ev["detail"] = text.strip()
        state["detail_locked"] = True
    elif state.get("detail_is_pf") and not _PF_LINE.match(text):
        state["detail_is_pf"] = False


def parse_events(lines):
    """Return the list of failure events found in console ``lines``.

    Each event is a dict with kind, headline, detail, line (1-based line of
    the headline), end_line, time (console seconds or None), cpu, task
    ("comm/pid"), scenario ("scenario/variant" of the open BEGIN, or None)
    and t_since_begin.

    One multi-line report is one event: headlines met while a report is still
    open (its call trace has not ended with ``</TASK>`` and no
    ``---[ end trace`` was printed) are folded into it, so an Oops inside a
    lockdep report, or the WARNING wrapping a list_del corruption, do not
    count twice.  A panic shortly after a report is folded into that report.

    A guest hang is one ``hang`` event, opened by whichever comes first of
    the kernel's report of the host's NMI and boot.sh's ``mmrace-host:``
    line; everything after it (backtraces, the other host line) is part of
    it.
    """
    events = []
    scen = None          # (id, begin_time) of the open BEGIN
    ev = None            # open event
    state = {}
    cut = None           # (line, time, [message lines]) after "cut here"
    nmi = None           # the host's NMI: nothing after it is a new event

    def close():
        nonlocal ev, state
        ev, state = None, {}

    for n, raw in enumerate(lines, 1):
        t, text = split_line(raw)
        if not text.strip():
            continue
        m = _BEGIN.search(text)
        if m:
            close()
            cut = None
            scen = (m.group("id"), t)
            continue
        m = _END.search(text)
        if m:
            close()
            cut = None
            if scen and scen[0] == m.group("id"):
                scen = None
            continue
        if _HOST.match(text):
            # The host's word ends whatever the guest was printing: the guest
            # is being killed.  Only the first hang notice opens an event.
            if nmi is not None:
                nmi["end_line"] = n
            elif _HOST_HANG.match(text):
                close()
                cut = None
                ev = nmi = _new_event("hang", text.strip(), n, t, scen)
                events.append(ev)
            continue
        if ev is not None and t is not None and ev.get("_last_t") is not None \
                and t - ev["_last_t"] > _STALE_SECONDS and not state.get("trace_open"):
            close()
        if _CUT_HERE.search(text):
            if ev is None or state.get("finished"):
                close()
                cut = (n, t, [])
            continue
        hit = classify(text)
        if nmi is not None and hit:
            nmi["end_line"] = n
            continue
        if hit and ev is not None and not state.get("finished"):
            hit = None   # nested headline: part of the open report
        if hit and ev is not None and hit[0] == "panic" and events and \
                t is not None and ev.get("_last_t") is not None and \
                t - ev["_last_t"] <= _CONSEQUENCE_SECONDS:
            ev["panic"] = hit[1]
            ev["end_line"] = n
            continue
        if hit:
            kind, headline, _ = hit
            if cut is not None and kind == "warning":
                payload = next((classify(x) for x in cut[2] if classify(x)), None)
                if payload and payload[0] in WARN_PAYLOAD_KINDS:
                    kind, headline = payload[0], payload[1]
            ev = _new_event(kind, headline, n, t, scen)
            events.append(ev)
            if kind == "hang":
                nmi = ev
            state = {}
            if cut is not None:
                msgs = [x for x in cut[2] if x.strip() != headline]
                if kind == "warning" and msgs:
                    ev["detail"] = msgs[0].strip()
                    state["detail_locked"] = True
                elif kind in WARN_PAYLOAD_KINDS and text.strip() != headline:
                    ev["detail"] = text.strip()
                    state["detail_locked"] = True
                cut = None
            if kind in WARN_PAYLOAD_KINDS and ev["detail"] is None:
                state["await_warning"] = True
            _note_body_line(ev, text, state, headline_line=True)
            ev["_last_t"] = t
            if kind in SINGLE_LINE_KINDS:
                state["finished"] = True
            continue
        if cut is not None and ev is None:
            cut[2].append(text)
            continue
        if ev is None:
            continue
        # Body (or tail) line of the open event.
        ev["end_line"] = n
        if t is not None:
            ev["_last_t"] = t
        if state.get("await_warning") and text.startswith("WARNING: CPU:"):
            ev["detail"] = text.strip()
            state["await_warning"] = False
            state["detail_locked"] = True
        if re.match(r"\s*<TASK>", text):
            state["trace_open"] = True
        if _TRACE_END.match(text) or _END_TRACE.match(text):
            state["finished"] = True
            state["trace_open"] = False
        if not state.get("finished") or _CPU_LINE.search(text):
            _note_body_line(ev, text, state)
    for e in events:
        e.pop("_last_t", None)
        e.setdefault("panic", None)
    return events


# ---------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------

def parse_expectation(expect):
    """Split an expectation into [(kind, [substring, ...]), ...]."""
    alts = []
    for alt in (expect or "").split("|"):
        alt = alt.strip()
        if not alt:
            continue
        kind, _, sub = alt.partition(":")
        alts.append((kind.strip(), [x.strip() for x in sub.split("&") if x.strip()]))
    return alts


def event_matches(event, alternatives):
    """True if ``event`` satisfies one (kind, substrings) alternative.

    Every substring is searched case-insensitively in headline, detail and
    lock; a bare kind matches any headline of that kind.
    """
    hay = "\n".join(event.get(k) or "" for k in ("headline", "detail", "lock")).lower()
    for kind, subs in alternatives:
        if event["kind"] == kind and all(x.lower() in hay for x in subs):
            return True
    return False


def _row(mk, evs):
    """Judge one BEGIN..END window given the events attributed to it."""
    alts = parse_expectation(mk["expect"])
    clean = [k for k, _ in alts] == ["clean"]
    # The first report is the one that counts: a detector that fires only
    # after another one did was reached through the first one's damage.
    shown = evs[0] if evs else None
    match = shown if shown and not clean and event_matches(shown, alts) else None
    ended = mk["end_line"] is not None
    if not ended and not mk["output_after_begin"]:
        verdict = "hang"
    elif clean:
        if evs or (ended and mk["result"] != "ok"):
            verdict = "FAIL"
        elif not ended:
            verdict = "ERROR"
        else:
            verdict = "PASS"
    elif match:
        verdict = "PASS"
    elif evs:
        verdict = "ERROR"
    else:
        verdict = "FAIL"
    return {
        "id": mk["id"], "expect": mk["expect"],
        "observed": "%s:%s" % (shown["kind"], shown["headline"]) if shown else None,
        "lock": shown["lock"] if shown else None,
        "t_detect": shown["t_since_begin"] if shown else None,
        "verdict": verdict, "events": len(evs), "result": mk["result"],
        "begin_line": mk["begin_line"], "end_line": mk["end_line"],
        "knobs": mk["knobs"],
    }


def verdicts(lines):
    """Return one verdict dict per scenario window (see :func:`_row`).

    Verdicts: PASS (a bug variant's first report matches its expectation,
    or a clean run ENDed ok without a report); FAIL (clean run had events
    or result!=ok, or a bug was expected and nothing fired); ERROR (clean
    run never ENDed, or the first report is another detector's); hang (the guest printed nothing after BEGIN but the
    knobs record; boot.sh's notice does not count either).  A log with no
    BEGIN marker yields a single row with id None: ``hang`` if the guest
    printed nothing at all, else ``ERROR``.
    """
    lines = list(lines)
    markers = parse_markers(lines)
    events = parse_events(lines)
    if not markers:
        # boot.sh's own lines do not count: the guest printed nothing.
        empty = not any(_is_run_output(split_line(x)[1]) for x in lines)
        first = events[0] if events else None
        return [{
            "id": None, "expect": None,
            "observed": "%s:%s" % (first["kind"], first["headline"]) if first else None,
            "lock": first["lock"] if first else None, "t_detect": None, "verdict": "hang" if empty else "ERROR",
            "events": len(events), "result": None, "begin_line": None, "end_line": None,
            "knobs": None,
        }]
    rows = []
    for mk in markers:
        stop = mk["end_line"] or mk["last_line"]
        evs = [e for e in events if e["scenario"] == mk["id"]
               and mk["begin_line"] < e["line"] <= stop]
        rows.append(_row(mk, evs))
    return rows


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def format_table(rows):
    """Render verdict rows as a fixed-width text table."""
    head = ("id", "expect", "observed", "t_detect", "verdict")
    body = []
    for r in rows:
        obs = r["observed"] or "-"
        if len(obs) > 70:
            obs = obs[:67] + "..."
        td = "-" if r["t_detect"] is None else "%.3fs" % r["t_detect"]
        body.append((r["id"] or "-", r["expect"] or "-", obs, td, r["verdict"]))
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    out = [fmt % head, fmt % tuple("-" * w for w in widths)]
    out += [fmt % row for row in body]
    return "\n".join(x.rstrip() for x in out)


def _read(path):
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    return data.decode("utf-8", errors="replace").split("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", help="console log file ('-' for stdin)")
    ap.add_argument("--summary", action="store_true",
                    help="verdict per scenario/variant from BEGIN/END markers")
    ap.add_argument("--json", action="store_true",
                    help="machine-readable output (with --summary: a JSON list)")
    args = ap.parse_args(argv)
    try:
        lines = _read(args.log)
    except OSError as e:
        # A wrong path is a usage error, not a crash: say which and why.
        print("judge.py: cannot read %s: %s" % (args.log, e.strerror or e), file=sys.stderr)
        return 2
    if not args.summary:
        for e in parse_events(lines):
            print(json.dumps(e, sort_keys=False))
        return 0
    rows = verdicts(lines)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(format_table(rows))
    return 1 if any(r["verdict"] in ("FAIL", "ERROR", "hang") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
