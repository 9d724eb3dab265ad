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

Every event has a ``title`` in syzkaller's form, "<report family> in <guilty
function>", with no PIDs, addresses or times, so that repeats of one bug
share it: the guilty function is the first frame of the report's own stack
trace (or the lock's acquirer, or the faulting RIP) outside the reporting,
locking, refcount, list-debug and allocator helpers.

Logs are read once, as a stream, in bounded memory: whatever their size,
the judge keeps only the reports still open and the rows' first reports.
With PRINTK_CALLER ("[T123]" / "[C1]" after the timestamp) two CPUs'
reports interleaved line by line are told apart by their caller.

The report headers and the detector kinds are data in scripts/detectors.py;
the console markers are in scripts/protocol.py.

For import (scripts/report.py does ``import judge``), the entry points are
:func:`parse_events`, :func:`parse_markers`, :func:`verdicts` and
:func:`read_lines`; all return lists of plain dicts (or lines).  Only the
Python 3 standard library is used.
"""

import argparse
import codecs
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detectors  # noqa: E402
import protocol  # noqa: E402

# ---------------------------------------------------------------------------
# Input: lines as users have them
# ---------------------------------------------------------------------------

# SeaBIOS/iPXE and the terminal emit escape sequences (e.g. "\x1bc\x1b[?7l")
# that end up glued to the first kernel line; drop them before matching.
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_]|c)")
_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# A line ends in LF, CRLF, LAVA's CRCRLF, or a lone CR (a console logged
# with CR-only line endings).
_EOL = re.compile(r"\r*\n|\r+")
# PRINTK_TIME "[   12.345678]", then PRINTK_CALLER "[    T42]" or "[ C1]".
_STAMP = re.compile(r"\[\s*(\d+\.\d+)\]\s?(?:\[\s*([TC]\d+)\]\s?)?")
_CALLER = re.compile(r"\[\s*([TC]\d+)\]\s?")
# /dev/kmsg records: "6,339,5140900,-,caller=T1;text" (and " KEY=value"
# continuation lines, which are dictionary, not text).
_KMSG = re.compile(r"(\d+),(\d+),(\d+),[^;]*?(?:caller=([TC]\d+))?[^;]*;")
_KMSG_DICT = re.compile(r" [A-Z_]+=")
_MON = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_MONTHS = {m: i for i, m in enumerate(_MON[3:-1].split("|"), 1)}
# dmesg -T: "[Tue Dec  1 21:23:54 2026] text".
_DMESG_T = re.compile(r"\[\w{3} (%s) +(\d+) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d{4})\] ?" % _MON)
# journalctl -k: "Dec 01 21:23:54[.123456] host kernel: text", its
# -o short-monotonic "[   12.345678] host kernel: text", and short-iso.
_JOURNAL = re.compile(r"(%s) +(\d+) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? \S+ kernel: " % _MON)
_JOURNAL_HOST = re.compile(r"\S+ kernel: ")
_JOURNAL_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\S* \S+ kernel: ")
# syslog's "<6>" level.
_LEVEL = re.compile(r"<\d{1,3}>")


def _clock(mon, day, hh, mm, ss, frac, year=2000):
    """Seconds for a wall-clock stamp: only differences are used."""
    days = (int(year) - 2000) * 372 + (mon - 1) * 31 + int(day)
    return days * 86400 + int(hh) * 3600 + int(mm) * 60 + int(ss) + float("0." + (frac or "0"))


def parse_line(raw):
    """Return (time or None, caller or None, text) for one raw console line.

    Carriage returns, escape sequences and other control bytes are removed.
    Understood prefixes: the serial console's PRINTK_TIME stamp (looked for
    at the start, and failing that anywhere: qemu/BIOS garbage can precede
    the first kernel line) with an optional PRINTK_CALLER id; ``dmesg -T``;
    ``journalctl -k`` (default, short-precise, short-iso, short-monotonic);
    ``/dev/kmsg`` records; syslog levels.  ``caller`` is "T<pid>" or
    "C<cpu>" where the kernel printed it.
    """
    line = raw.rstrip("\r\n")
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    line = _CTRL.sub("", line)
    if line.startswith("["):
        # The common case first: a serial console's own stamp.
        m = _STAMP.match(line)
        if m:
            rest = line[m.end():]
            if m.group(2) is None:
                j = _JOURNAL_HOST.match(rest)
                if j:
                    rest = rest[j.end():]
            return float(m.group(1)), m.group(2), rest.rstrip()
    elif line[:1].isdigit():
        m = _KMSG.match(line)
        if m:
            return int(m.group(3)) / 1e6, m.group(4), line[m.end():].rstrip()
    elif line.startswith(" ") and _KMSG_DICT.match(line) and "=" in line[:40]:
        return None, None, ""
    elif line.startswith("<"):
        m = _LEVEL.match(line)
        if m:
            line = line[m.end():]
    t = None
    m = _DMESG_T.match(line)
    if m:
        t = _clock(_MONTHS[m.group(1)], m.group(2), m.group(3), m.group(4), m.group(5),
                   m.group(6), m.group(7))
        line = line[m.end():]
    else:
        m = _JOURNAL.match(line)
        if m:
            t = _clock(_MONTHS[m.group(1)], m.group(2), m.group(3), m.group(4), m.group(5),
                       m.group(6))
            line = line[m.end():]
        else:
            m = _JOURNAL_ISO.match(line)
            if m:
                t = _clock(int(m.group(2)), m.group(3), m.group(4), m.group(5), m.group(6),
                           m.group(7), m.group(1))
                line = line[m.end():]
    caller = None
    m = _STAMP.search(line) if t is None else None
    if m:
        t = float(m.group(1))
        caller = m.group(2)
        line = line[m.end():]
    else:
        m = _CALLER.match(line)
        if m:
            caller = m.group(1)
            line = line[m.end():]
    return t, caller, line.rstrip()


def split_line(raw):
    """Return (time or None, text) for one raw console line (see parse_line)."""
    t, _, text = parse_line(raw)
    return t, text


def iter_lines(f, chunk=1 << 18):
    """Lines of a binary file object, read once in chunks, any line ending.

    UTF-8 is decoded incrementally (a character split by a chunk boundary
    is kept whole) and invalid bytes become U+FFFD; CRs that end a chunk
    wait for the next one, so a CRLF split across two chunks is one end.
    """
    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    rest = ""
    while True:
        data = f.read(chunk)
        text = rest + dec.decode(data, final=not data)
        if not data:
            if text:
                parts = _EOL.split(text)
                if parts[-1] == "":
                    parts.pop()
                yield from parts
            return
        body = text.rstrip("\r")
        parts = _EOL.split(body)
        rest = parts.pop() + text[len(body):]
        yield from parts


def _file_lines(path):
    """All lines of a console file (for excerpts): the judge's numbering."""
    with open(path, "rb") as f:
        return list(iter_lines(f))


# ---------------------------------------------------------------------------
# Report headers (scripts/detectors.py) and the shape of a report
# ---------------------------------------------------------------------------

_COMPILED = detectors.compiled()
_FAMILY = {rx.pattern: fam for _, rx, fam in _COMPILED}
_NOT_REPORTS = re.compile("|".join(detectors.NOT_REPORTS))
# Where a header may start inside a line that has garbage before it.
_ANCHOR = re.compile(r"(?:BUG|WARNING|Oops|INFO: |Unable to handle|Internal error|"
                     r"general protection|kernel BUG|Kernel panic|list_\w+ corruption|"
                     r"ODEBUG|UBSAN|page dumped|invalid opcode|\[ (?:INFO|BUG): |watchdog: )")

#: Kinds whose text appears inside a WARN() (after "cut here", before the
#: "WARNING: CPU:" line); the WARNING then belongs to them, not a new event.
WARN_PAYLOAD_KINDS = ("list_corruption", "debug_objects", "lockdep", "spinlock", "preempt")

#: Kinds that are a single line: the event closes on the same line.
SINGLE_LINE_KINDS = ("mmrace",)

_CUT_HERE = re.compile(r"-+\[ cut here \]-+$")
_END_TRACE = re.compile(r"---\[ end (?:trace|Kernel panic)")
_TRACE_END = re.compile(r"\s*</TASK>\s*$")
_TASK_OPEN = re.compile(r"\s*<TASK>")
_BOOT_BANNER = re.compile(r"Linux version \d+\.\d+")
# Panics are usually the consequence of the report just before them
# (panic_on_oops, softlockup_panic, ...): fold them into it if this close.
_CONSEQUENCE_SECONDS = 5.0
# A report whose call trace never ended is considered finished after this gap.
_STALE_SECONDS = 5.0
# Lines kept for a panic whose oops lost its header ("Fatal exception").
_LOOKBACK = 200
_OOPS_BODY = re.compile(r"^(?:RIP: [0-9a-f]{4}:|pc : |PC is at |epc : |Modules linked in:|"
                        r"CPU: \d+ (?:UID: \d+ )?PID: )")

# Where to find cpu/task.  The "CPU: N UID: U PID: P Comm: C" stack-dump
# header is authoritative; headline-specific forms are the fallback.
_CPU_LINE = re.compile(r"CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+)")
_TASK_FORMS = [
    re.compile(r"^(?P<comm>\S.*?)/(?P<pid>\d+) (?:\[HC\d|is trying to acquire|just changed|"
               r"is exiting|is freeing|acquired|has)"),
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
    r"^\s+(?:\? )?[\w.]+\+0x[0-9a-f]+/0x[0-9a-f]+|^Code: |^(?!RIP)[A-Z0-9]{2,3}: +[0-9a-f]{4}|"
    r"^RIP: 0033:|^(?:FS|CS|CR2|DR0|DR3|DR6|PKRU):|^irq event stamp|^(?:hard|soft)irqs last|"
    r"^\"echo 0 > |^Kernel Offset|^---\[ end |^-+\[ cut here|^\s*(?:\? )?0x[0-9a-f]+$|"
    # arm64's abort info up to its fault status code, the line that names
    # the fault ("FSC = 0x07: level 3 translation fault").
    r"^Mem abort info:|^\s+(?:ESR|EC|SET|EA) = "
)
_PF_LINE = re.compile(r"^#PF: ")
# A lockdep class as its reports print it: "ffff... (&pcp->lock){+.?.}-{2:2}".
_LOCK_CLASS = re.compile(r"\((?P<lock>[^\s(){}]+)\)\{[-+.?|]+\}")

# For titles: a stack frame (x86, arm64, riscv "[<addr>] f+0x/0x", arm
# "(f) from"), the faulting PC, the acquirer of a lockdep report's lock.
_FRAME = re.compile(r"^\s*(?:\[<[0-9a-f]+>\]\s*)?(?P<q>\? )?\(?(?P<fn>[A-Za-z_][\w.]*)"
                    r"\+0x[0-9a-f]+/0x[0-9a-f]+")
_PC = re.compile(r"^(?:RIP: [0-9a-f]{4}:|pc : |PC is at |epc : )(?:\[<[0-9a-f]+>\] )?"
                 r"(?P<fn>[A-Za-z_][\w.]*)\+0x")
_AT = re.compile(r"(?:, at: | at \S+:\d+ |\bat: )(?:\[<[0-9a-f]+>\] )?(?P<fn>[A-Za-z_][\w.]*)\+0x")
_MAX_FRAMES = 64
_TRACE_START = re.compile(r"^\s*(?:Call Trace:|Call trace:|stack backtrace:|Backtrace:)")
#: Frames that are never guilty: the reporting machinery, locking,
#: refcount and list-debug helpers, allocator entry points, IRQ/softirq
#: and scheduler plumbing (syzkaller skips the same kind of frames).
_HELPERS = re.compile(
    r"(?:dump_stack\w*|show_stack\w*|show_trace\w*|show_regs|__?warn\w*|warn_slowpath\w*|"
    r"report_bug|handle_bug|exc_\w+|asm_exc_\w+|asm_sysvec_\w+|sysvec_\w+|__sysvec_\w+|"
    r"do_error_trap|do_trap|do_int3\w*|die|__die\w*|oops_\w+|page_fault_oops|"
    r"kernelmode_fixup_or_oops|no_context|__bad_area\w*|bad_area\w*|do_user_addr_fault|"
    r"do_kern_addr_fault|handle_page_fault|do_page_fault|do_translation_fault|do_mem_abort|"
    r"el1\w*|el0\w*|__do_kernel_fault|die_kernel_fault|do_bad_area|do_sea|arm64_\w+|"
    r"panic|\w*nmi\w*|watchdog\w*|delay_loop|delay_tsc|__delay|__const_udelay|[mun]delay\w*|__hrtimer_run_queues|hrtimer_\w+|__run_hrtimer|"
    r"irq_exit\w*|__irq_exit\w*|print_\w+|lockdep_\w+|__lockdep_\w+|lock_acquire\w*|"
    r"__lock_acquire|lock_release|lock_acquired|lock_contended|mark_lock\w*|mark_usage|"
    r"mark_held_locks|valid_state|check_\w+|validate_chain|__lock_\w+|debug_check_\w+|"
    r"lock_is_held\w*|debug_lockdep_\w+|__fentry__|xas_\w+|xa_\w+|"
    r"_raw_\w+|__raw_\w+|do_raw_\w+|raw_spin_\w+|spin_\w+|queued_\w+|native_queued_\w+|"
    r"__pv_queued_\w+|mutex_\w+|__mutex_\w+|rt_mutex_\w+|down_\w+|up_\w+|__down\w*|__up\w*|"
    r"rwsem_\w+|__rwsem_\w+|_read_\w+|_write_\w+|refcount_\w+|__refcount_\w+|atomic\w*|"
    r"arch_atomic\w*|__list_\w+|list_\w+|hlist_\w+|__hlist_\w+|kasan_\w+|__kasan_\w+|"
    r"kfence_\w+|__kfence_\w+|kcsan_\w+|__tsan_\w+|ubsan_\w+|__ubsan_\w+|debug_object\w*|"
    r"__debug_object\w*|dump_page|__dump_page|bad_page|__might_\w+|might_\w+|___might_sleep|"
    r"__schedule_bug|schedule\w*|__schedule|__switch_to\w*|cpu_switch_to|preempt_schedule\w*|io_schedule\w*|msleep\w*|"
    r"usleep\w*|check_preemption_disabled|debug_smp_processor_id|__this_cpu_preempt_check|"
    r"__alloc_pages\w*|alloc_pages\w*|__folio_alloc\w*|folio_alloc\w*|prepare_alloc_pages|"
    r"get_page_from_freelist|fs_reclaim_\w+|__fs_reclaim_\w+|__get_free_pages\w*|kmalloc\w*|__kmalloc\w*|kmem_cache_alloc\w*|"
    r"slab_pre_alloc_hook\w*|slab_alloc\w*|__slab_alloc\w*|kzalloc\w*|vmalloc\w*|"
    r"kfree\w*|kmem_cache_free\w*|__slab_free|slab_free\w*|do_slab_free|free_debug_processing|"
    r"object_err|__slab_err|slab_err|slab_bug|print_trailer|check_bytes_and_report|check_object|"
    r"free_to_partial_list|free_consistency_checks|alloc_debug_processing|on_freelist|"
    r"mem(?:set|cpy|move|cmp)\w*|__mem(?:set|cpy|move)\w*|str\w*cpy\w*|copy_\w+_user\w*|"
    r"_copy_\w+_user|check_heap_object|__check_heap_object|usercopy_abort|"
    r"rcu_\w+|__rcu_\w+|srcu_\w+|kthread|ret_from_fork\w*|kernel_init\w*|worker_thread|"
    r"process_one_work|process_scheduled_works|__do_softirq|handle_softirqs|run_ksoftirqd|"
    r"smpboot_thread_fn|call_timer_fn|__run_timers|run_timer_softirq|run_timer_base|"
    r"tmigr_\w+|irq_work_\w+|__irq_work_\w+|__flush_smp_call_function_queue|"
    r"generic_smp_call_function_single_interrupt|entry_SYSCALL_64\w*|do_syscall_64|"
    r"x64_sys_call|unwind_backtrace|dump_backtrace|__dabt_svc|__irq_svc|handle_exception|"
    r"do_trap_\w+|do_exception)"
)
_NUMBERS = re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b|\d+")


# Every header at once, without its names: one C-level try per position
# before the per-kind loop (most console lines open no report).
_ANY = re.compile("|".join("(?:%s)" % re.sub(r"\(\?P<\w+>", "(?:", rx.pattern)
                           for _, rx, _ in _COMPILED))


def _classify_at(text, pos):
    if not _ANY.match(text, pos):
        return None
    for kind, rx, _ in _COMPILED:
        m = rx.match(text, pos)
        if m:
            h = m.groupdict().get("h")
            return kind, (h if h is not None else text[pos:]).strip(), m
    return None


def classify(text):
    """Return (kind, headline, match) if ``text`` opens a report, else None.

    A header is looked for at the start of the text, then after garbage on
    the same line (a console's escape codes or another CPU's half line).
    Boot and information lines of the detectors themselves never count.
    """
    if _NOT_REPORTS.match(text):
        return None
    hit = _classify_at(text, 0)
    if hit or text.startswith("mmrace"):
        return hit
    for m in _ANCHOR.finditer(text, 1):
        if _NOT_REPORTS.match(text, m.start()):
            return None
        hit = _classify_at(text, m.start())
        if hit:
            return hit
    return None


def family(hit):
    """The report family of a classify() hit, numbers and addresses out."""
    kind, headline, m = hit
    fam = detectors.family_of(_FAMILY[m.re.pattern], m) if m else headline
    return " ".join(_NUMBERS.sub("", fam).split())


def _guilty(state):
    # "?" frames (unreliable: the unwinder only saw an address on the
    # stack) count when nothing else names a function, as syzkaller does
    # for a fault whose PC is in data.
    for fn in ([state.get("at"), state.get("pc")] + state.get("frames", [])
               + state.get("qframes", [])):
        if fn and not _HELPERS.fullmatch(fn.split(".")[0]):
            return fn.split(".")[0]
    return None


def title_of(ev, state):
    """"<family> in <guilty function>": one title for every repeat."""
    if ev["kind"] == "mmrace":
        return "mmrace invariant in %s" % ev["scenario_of_line"]
    fn = _guilty(state)
    return "%s in %s" % (state["family"], fn) if fn else state["family"]


# ---------------------------------------------------------------------------
# The stream: markers and events in one pass
# ---------------------------------------------------------------------------

def _new_event(kind, headline, n, t, scen, caller):
    return {
        "kind": kind, "headline": headline, "title": None, "detail": None, "line": n,
        "end_line": n, "time": t, "cpu": None, "task": None, "lock": None, "caller": caller,
        "scenario": scen[0] if scen else None,
        "t_since_begin": (round(t - scen[1], 6)
                          if scen and t is not None and scen[1] is not None else None),
    }


def _note_body_line(ev, text, state, headline_line=False):
    """Fill detail/cpu/task/lock and the title's frames from one line.

    The headline line itself only contributes cpu/task/frames, never the
    detail.
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
    if _TRACE_START.match(text):
        # The report's own stack: frames printed before it (the stack
        # where lockdep saw a state registered, a freed object's
        # allocation) are another context's.
        state["frames"], state["qframes"] = [], []
        state["in_trace"] = True
    m = _FRAME.match(text)
    if m:
        key = "qframes" if m.group("q") else "frames"
        if len(state.setdefault(key, [])) < _MAX_FRAMES:
            state[key].append(m.group("fn"))
    elif "pc" not in state and not state.get("in_trace") and _PC.match(text):
        # The faulting PC comes before the stack; a RIP inside it is the
        # context an interrupt interrupted, not the report's.
        state["pc"] = _PC.match(text).group("fn")
    elif "at" not in state and ev["kind"] in ("lockdep", "warning", "list_corruption",
                                             "debug_objects", "spinlock", "preempt"):
        m = _AT.search(text)
        if m:
            state["at"] = m.group("fn")
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


class _Ctx:
    """One caller's report in progress (one per PRINTK_CALLER id)."""
    __slots__ = ("ev", "state", "cut")

    def __init__(self):
        self.ev, self.state, self.cut = None, {}, None


class Stream:
    """Feed console lines one at a time; events come out as they close.

    ``markers`` is the list of BEGIN rows (see :func:`parse_markers`); each
    closed event is handed to ``on_event`` (in the order reports close,
    which, with several callers, may differ from the order they opened).
    """

    def __init__(self, on_event):
        self.on_event = on_event
        self.markers = []
        self.open_row = None
        self.scen = None        # (id, begin_time, marker index) of the open BEGIN
        self.ctx = {}
        self.nmi = None         # the host's NMI: nothing after it is a new event
        self.last = None        # the last event opened, for a panic to fold into
        self.ring = collections.deque(maxlen=_LOOKBACK)
        self.n = 0
        self.idle = True

    # -- events --------------------------------------------------------
    def _close(self, c):
        ev = c.ev
        if ev is not None and ev is not self.nmi:
            self._emit(ev, c.state)
        c.ev, c.state = None, {}

    def _emit(self, ev, state):
        ev["scenario_of_line"] = ev["scenario"]
        ev["title"] = title_of(ev, state)
        del ev["scenario_of_line"]
        ev.pop("_last_t", None)
        ev.setdefault("panic", None)
        self.on_event(ev)

    def _close_all(self):
        for c in self.ctx.values():
            self._close(c)
            c.cut = None

    def _open(self, c, kind, headline, n, t, hit=None):
        ev = _new_event(kind, headline, n, t, self.scen, self._caller)
        ev["_mk"] = self.scen[2] if self.scen else None
        c.ev, c.state = ev, {"family": family(hit) if hit else kind}
        self.last = ev
        return ev

    def _idle(self):
        """No report open, no WARN payload pending, no hang: most lines."""
        return self.nmi is None and all(c.ev is None and c.cut is None
                                        for c in self.ctx.values())

    def feed(self, raw):
        self.n += 1
        n = self.n
        t, caller, text = parse_line(raw)
        if not text or text.isspace():
            return
        self.ring.append((n, t, text))
        # The fast path of a long log: a line that opens nothing while
        # nothing is open only moves the open marker's last line.
        if self.idle and "mmrace" not in text and "cut here" not in text \
                and "Linux version" not in text and classify(text) is None:
            if self.markers:
                row = self.markers[-1]
                row["last_line"] = n
                row["output_after_begin"] = True
            return
        self._slow(n, t, caller, text)
        # Only the slow path changes what is open: the fast one may trust it.
        self.idle = self._idle()

    def _slow(self, n, t, caller, text):
        self._caller = caller
        self._markers(n, t, text)
        c = self.ctx.get(caller)
        if c is None:
            c = self.ctx[caller] = _Ctx()
        if text.startswith("Linux version ") and _BOOT_BANNER.match(text):
            # A new boot (a log of several, as journalctl keeps them):
            # nothing of the last one is still open, a hang included.
            self._close_all()
            if self.nmi is not None:
                self._emit(self.nmi, self.nmi_state)
                self.nmi = None
            self.scen = None
            return
        ours = "mmrace: " in text
        m = protocol.BEGIN.search(text) if ours else None
        if m:
            self._close_all()
            self.scen = (m.group("id"), t, len(self.markers) - 1)
            return
        m = protocol.END.search(text) if ours else None
        if m:
            self._close_all()
            if self.scen and self.scen[0] == m.group("id"):
                self.scen = None
            return
        if protocol.HOST.match(text):
            # The host's word ends whatever the guest was printing: the guest
            # is being killed.  Only the first hang notice opens an event.
            if self.nmi is not None:
                self.nmi["end_line"] = n
            elif protocol.HOST_HANG.match(text):
                self._close_all()
                self.nmi = self._open(c, "hang", text.strip(), n, t)
                self.nmi_state = c.state
                c.ev, c.state = None, {}
            return
        ev = c.ev
        if ev is not None and t is not None and ev.get("_last_t") is not None \
                and t - ev["_last_t"] > _STALE_SECONDS and not c.state.get("trace_open"):
            self._close(c)
            ev = None
        if _CUT_HERE.search(text):
            if ev is None or c.state.get("finished"):
                self._close(c)
                c.cut = (n, t, [])
            return
        hit = classify(text)
        if self.nmi is not None:
            self.nmi["end_line"] = n
            if not hit:
                self._body(self.nmi, self.nmi_state, n, t, text)
            return
        if hit and ev is not None and not c.state.get("finished"):
            hit = None   # nested headline: part of the open report
        if hit and hit[0] == "panic":
            target = ev if ev is not None else self.last
            if target is not None and t is not None and target.get("_last_t") is not None \
                    and t - target["_last_t"] <= _CONSEQUENCE_SECONDS \
                    and target["end_line"] >= n - _LOOKBACK:
                target["panic"] = hit[1]
                target["end_line"] = n
                return
            if "Fatal exception" in hit[1] and self._lost_oops(c, n, t, hit):
                return
        if hit:
            self._headline(c, hit, n, t, text)
            return
        if c.cut is not None and ev is None:
            c.cut[2].append(text)
            return
        if ev is None:
            return
        self._body(ev, c.state, n, t, text)

    def _body(self, ev, state, n, t, text):
        """A body (or tail) line of the open event."""
        ev["end_line"] = n
        if t is not None:
            ev["_last_t"] = t
        if state.get("await_warning") and text.startswith("WARNING: CPU:"):
            ev["detail"] = text.strip()
            state["await_warning"] = False
            state["detail_locked"] = True
        if _TASK_OPEN.match(text):
            state["trace_open"] = True
        if _TRACE_END.match(text) or _END_TRACE.match(text):
            state["finished"] = True
            state["trace_open"] = False
        if not state.get("finished") or _CPU_LINE.search(text):
            _note_body_line(ev, text, state)

    def _headline(self, c, hit, n, t, text):
        kind, headline, _ = hit
        cut = c.cut
        if cut is not None and kind == "warning":
            payload = next((classify(x) for x in cut[2] if classify(x)), None)
            if payload and payload[0] in WARN_PAYLOAD_KINDS:
                hit = payload
                kind, headline = payload[0], payload[1]
        if c.ev is not None:
            self._close(c)
        ev = self._open(c, kind, headline, n, t, hit)
        state = c.state
        if kind == "hang":
            self.nmi, self.nmi_state = ev, state
            c.ev, c.state = None, {}
        if cut is not None:
            msgs = [x for x in cut[2] if x.strip() != headline]
            if kind == "warning" and msgs:
                ev["detail"] = msgs[0].strip()
                state["detail_locked"] = True
            elif kind in WARN_PAYLOAD_KINDS and text.strip() != headline:
                ev["detail"] = text.strip()
                state["detail_locked"] = True
            c.cut = None
        if kind in WARN_PAYLOAD_KINDS and ev["detail"] is None:
            state["await_warning"] = True
        _note_body_line(ev, text, state, headline_line=True)
        ev["_last_t"] = t
        if kind in SINGLE_LINE_KINDS:
            state["finished"] = True

    def _lost_oops(self, c, n, t, hit):
        """A bare "Fatal exception" panic: the oops it ends lost its header.

        Look back for the oops's body (its RIP/pc, module list, CPU line)
        since the last report, and make that an oops event ending here.
        """
        floor = self.last["end_line"] if self.last else 0
        if self.scen:
            floor = max(floor, self.markers[self.scen[2]]["begin_line"])
        body = [(ln, lt, x) for ln, lt, x in self.ring if ln > floor and _OOPS_BODY.match(x)]
        if not body:
            return False
        ln, lt, first = body[0]
        pc = next((x for _, _, x in body if _PC.match(x)), None)
        ev = self._open(c, "oops", "oops (header lost): %s" % (pc or first), ln, lt)
        for bl, _, x in self.ring:
            if bl >= ln:
                _note_body_line(ev, x, c.state)
        c.state["family"] = "oops"
        ev["panic"] = hit[1]
        ev["end_line"] = n
        ev["_last_t"] = t
        c.state["finished"] = True
        return True

    # -- markers -------------------------------------------------------
    def _markers(self, n, t, text):
        ours = "mmrace:" in text
        m = protocol.BEGIN.search(text) if ours else None
        if m:
            self.open_row = {
                "id": m.group("id"), "expect": m.group("expect").strip(),
                "begin_line": n, "begin_time": t, "end_line": None,
                "end_time": None, "result": None, "last_line": n,
                "output_after_begin": False, "knobs": None,
            }
            self.markers.append(self.open_row)
            return
        rows, open_row = self.markers, self.open_row
        k = protocol.parse_knobs(text) if ours else None
        if k and open_row is not None and k[0] == open_row["id"]:
            open_row["knobs"] = k[1]
        if rows and text.strip():
            rows[-1]["last_line"] = n
            if protocol.is_run_output(text):
                rows[-1]["output_after_begin"] = True
        m = protocol.END.search(text) if ours else None
        if m and open_row is not None and m.group("id") == open_row["id"]:
            open_row.update(end_line=n, end_time=t, result=m.group("result"))
            self.open_row = None

    def finish(self):
        for c in self.ctx.values():
            self._close(c)
        if self.nmi is not None:
            self._emit(self.nmi, self.nmi_state)
            self.nmi = None


def _public(ev):
    ev = dict(ev)
    ev.pop("_mk", None)
    return ev


def iter_events(lines):
    """Yield the failure events of console ``lines`` (any iterable), in
    the order of their headline lines, holding back only what may still
    be preceded by a report another caller has open."""
    done = []
    st = Stream(done.append)
    for raw in lines:
        st.feed(raw)
        if done:
            opened = [c.ev["line"] for c in st.ctx.values() if c.ev is not None]
            if st.nmi is not None:
                opened.append(st.nmi["line"])
            low = min(opened) if opened else None
            done.sort(key=lambda e: e["line"])
            while done and (low is None or done[0]["line"] < low):
                yield _public(done.pop(0))
    st.finish()
    done.sort(key=lambda e: e["line"])
    for ev in done:
        yield _public(ev)


def parse_events(lines):
    """Return the list of failure events found in console ``lines``.

    Each event is a dict with kind, headline, title, detail, line (1-based
    line of the headline), end_line, time (console seconds or None), cpu,
    task ("comm/pid"), lock, caller, scenario ("scenario/variant" of the
    open BEGIN, or None), t_since_begin and panic.

    One multi-line report is one event: headlines met while a report of
    the same caller is still open (its call trace has not ended with
    ``</TASK>`` and no ``---[ end trace`` was printed) are folded into it,
    so an Oops inside a lockdep report, or the WARNING wrapping a list_del
    corruption, do not count twice.  A panic shortly after a report is
    folded into that report.

    A guest hang is one ``hang`` event, opened by whichever comes first of
    the kernel's report of the host's NMI and boot.sh's ``mmrace-host:``
    line; everything after it (backtraces, the other host line) is part of
    it.
    """
    return list(iter_events(lines))


def parse_markers(lines):
    """Return one dict per BEGIN marker, in log order.

    Keys: id, expect, begin_line, begin_time, end_line, end_time, result,
    last_line (last line number inside the scenario's window, i.e. before the
    next BEGIN), output_after_begin (any line of the guest after BEGIN other
    than the knobs record), knobs (dict from the knobs line, None if the log
    has none).  A re-run of the same id gets its own row.
    """
    st = Stream(lambda ev: None)
    for raw in lines:
        st.feed(raw)
    return st.markers


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


def _row(mk, first, count):
    """Judge one BEGIN..END window given its first event and their count."""
    alts = parse_expectation(mk["expect"])
    clean = [k for k, _ in alts] == ["clean"]
    # The first report is the one that counts: a detector that fires only
    # after another one did was reached through the first one's damage.
    shown = first
    evs = count
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
        "title": shown["title"] if shown else None,
        "t_detect": shown["t_since_begin"] if shown else None,
        "verdict": verdict, "events": count, "result": mk["result"],
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
    firsts, counts, state = {}, {}, {"any": False, "first": None, "n": 0}

    def on_event(ev):
        i = ev["_mk"]
        state["n"] += 1
        if state["first"] is None or ev["line"] < state["first"]["line"]:
            state["first"] = _public(ev)
        if i is None:
            return
        counts[i] = counts.get(i, 0) + 1
        if i not in firsts or ev["line"] < firsts[i]["line"]:
            firsts[i] = _public(ev)

    st = Stream(on_event)
    for raw in lines:
        st.feed(raw)
        if not state["any"] and protocol.is_run_output(split_line(raw)[1]):
            state["any"] = True
    st.finish()
    markers = st.markers
    if not markers:
        # boot.sh's own lines do not count: the guest printed nothing.
        first = state["first"]
        return [{
            "id": None, "expect": None,
            "observed": "%s:%s" % (first["kind"], first["headline"]) if first else None,
            "lock": first["lock"] if first else None,
            "title": first["title"] if first else None, "t_detect": None,
            "verdict": "ERROR" if state["any"] else "hang",
            "events": state["n"], "result": None, "begin_line": None, "end_line": None,
            "knobs": None,
        }]
    return [_row(mk, firsts.get(i), counts.get(i, 0)) for i, mk in enumerate(markers)]


# ---------------------------------------------------------------------------
# Results directories: every boot of a run, the final verdicts
# ---------------------------------------------------------------------------

EXCERPT_MAX = 16 * 1024
_STAT = protocol.STAT
_SKIP = protocol.KTAP_SKIP

# The kernel option each detector needs (scripts/detectors.py); a kernel
# without it cannot give that verdict, so the row is SKIP with the option
# named.
DETECTOR_CONFIG = {k["kind"]: k["config"] for k in detectors.KINDS if k["config"]}


def read_config(path):
    """Set of CONFIG_X=y/m options of a kernel .config."""
    opts = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"(CONFIG_[A-Z0-9_]+)=[ym]", line)
                if m:
                    opts.add(m.group(1))
    except OSError:
        return None
    return opts


def missing_detector(expect, config):
    """The option the expectation's every alternative lacks, else None."""
    if config is None or expect == "clean":
        return None
    missing = []
    for kind, _ in parse_expectation(expect):
        need = DETECTOR_CONFIG.get(kind)
        if need is None or need in config:
            return None
        missing.append(need)
    return " or ".join(sorted(set(missing))) or None


def read_lines(path):
    """A file's lines as the judge numbers them ([] if it cannot be read)."""
    try:
        return _file_lines(path)
    except OSError:
        return []


def read_kv(path):
    out = {}
    for line in read_lines(path):
        for m in re.finditer(r"(\w+)=(\S+)", line):
            out[m.group(1)] = m.group(2)
    return out


def stats_of(lines, row):
    """The run's stats lines between its BEGIN and END, as a dict."""
    figs = {}
    lo = row.get("begin_line") or 1
    hi = row.get("end_line") or len(lines)
    for raw in lines[lo - 1:hi]:
        _, text = split_line(raw)
        m = _STAT.search(text)
        if m and m.group("id") == row["id"]:
            figs[m.group("key")] = int(m.group("val"))
    return figs


def cap(text, tail=False):
    """``text`` cut to at most EXCERPT_MAX bytes of UTF-8.

    KCIDB limits the excerpt in bytes, and a console log decoded with
    errors="replace" has 3-byte U+FFFD characters, so counting characters
    could overshoot.  A character split by the cut is dropped.  ``tail``
    keeps the end instead of the start (the last words of a dead guest).
    """
    raw = text.encode("utf-8")
    if len(raw) <= EXCERPT_MAX:
        return text
    raw = raw[-EXCERPT_MAX:] if tail else raw[:EXCERPT_MAX]
    return raw.decode("utf-8", errors="ignore")


def excerpt(lines, row, first_line=None):
    """At most 16 KiB of console around the failure."""
    lo = max(1, (first_line or row.get("begin_line") or 1) - 5)
    hi = row.get("end_line") or min(len(lines), lo + 300)
    return cap("\n".join(lines[lo - 1:hi]))


def skip_reason(row, need):
    """Why a run of a kernel lacking its detector is SKIP, or None.

    Only a quiet FAIL is: the run ENDed and nothing fired, which is what
    that kernel can be expected to do.  An ERROR (another detector fired)
    or a hang is a real problem whatever the kernel, and stays ERROR.
    """
    if need and row["verdict"] == "FAIL" and row["end_line"] is not None:
        return "%s not set in this kernel" % need
    return None


def judge_boot(bootdir, config):
    """[(id, result dict)] for each planned run of one boot."""
    lines = read_lines(os.path.join(bootdir, "console.log"))
    status = read_kv(os.path.join(bootdir, "console.log.status"))
    planned = [ln.split()[0] for ln in read_lines(os.path.join(bootdir, "plan")) if ln.strip()]
    rows = verdicts(lines) if lines else []
    events = parse_events(lines) if lines else []
    skips = {}
    for raw in lines:
        m = _SKIP.search(split_line(raw)[1])
        if m:
            skips[m.group("id")] = m.group("why")
    out = []
    lava_reason = None
    if status.get("status") == "lava_error":
        # LAVA's own word on a job that failed, never a PASS, whatever the
        # console shows: "reason=..." is the status file's second line.
        lava_reason = next((x[len("reason="):] for x in
                            read_lines(os.path.join(bootdir, "console.log.status"))
                            if x.startswith("reason=")), "LAVA reported an error")
    for ident in planned:
        if lava_reason is not None:
            out.append({"id": ident.lstrip("@"), "boot": os.path.basename(bootdir),
                        "boot_status": "lava_error", "boot_wall_s": 0, "expect": None,
                        "verdict": "ERROR", "observed": "lava error",
                        "headline": "LAVA: %s" % lava_reason, "t_detect": None,
                        "figures": {}, "knobs": None, "first_report": None,
                        "excerpt": cap("\n".join(lines[-80:]), tail=True)})
            continue
        if ident.startswith("@"):
            out.extend(guest_tests(lines, ident[1:], bootdir, status))
            continue
        row = next((r for r in rows if r["id"] == ident), None)
        res = {"id": ident, "boot": os.path.basename(bootdir),
               "boot_status": status.get("status", "unknown"),
               "boot_wall_s": int(status.get("wall_s", 0) or 0)}
        if row is None:
            res.update(expect=None, verdict="ERROR", observed="did not run",
                       headline="guest %s before this run began" % res["boot_status"],
                       t_detect=None, figures={}, knobs=None,
                       excerpt=cap("\n".join(lines[-80:]), tail=True))
            out.append(res)
            continue
        figs = stats_of(lines, row)
        first = next((e for e in events if e["scenario"] == ident
                      and row["begin_line"] < e["line"]), None)
        verdict, observed = row["verdict"], row["observed"]
        headline = observed.split(":", 1)[1] if observed else ""
        why = skip_reason(row, missing_detector(row["expect"], config))
        if ident in skips:
            verdict, headline = "SKIP", skips[ident]
        elif why:
            verdict, headline = "SKIP", why
        elif verdict == "hang":
            verdict, headline = "ERROR", "guest hung after BEGIN (boot %s)" % res["boot_status"]
        # The report that decided the verdict, whole: a table cuts it short.
        res["first_report"] = ({k: first[k] for k in ("kind", "headline", "title", "detail",
                                                      "lock", "line", "end_line",
                                                      "t_since_begin")}
                               if first else None)
        res.update(expect=row["expect"], verdict=verdict,
                   observed=(observed.split(":", 1)[0] if observed else "clean"),
                   headline=headline, t_detect=row["t_detect"], figures=figs,
                   knobs=row.get("knobs"),
                   excerpt=excerpt(lines, row, first and first["line"])
                   if verdict in ("FAIL", "ERROR") else "")
        out.append(res)
    return out


def window(lines, script, n):
    """Is console line @n inside the guest test script's begin/end?"""
    inside = False
    for i, raw in enumerate(lines[:n], 1):
        m = protocol.TEST_BEGIN.search(raw) or protocol.TEST_END.search(raw)
        if m and m.group("script") == script:
            inside = m.re is protocol.TEST_BEGIN
        if i == n:
            return inside
    return False


_GTEST = protocol.TEST_RESULT
_KTAP = protocol.KUNIT_RESULT


def guest_tests(lines, script, bootdir, status):
    """Rows for a guest test script's "mmrace-test: ok|not ok" lines."""
    out, inside = [], False
    for raw in lines:
        text = split_line(raw)[1]
        m = protocol.TEST_BEGIN.search(text) or protocol.TEST_END.search(text)
        if m and m.group("script") == script:
            inside = m.re is protocol.TEST_BEGIN
        m = _GTEST.search(text) if inside else None
        if not m and inside and script == "kunit":
            m = _KTAP.match(text)
        if m:
            res = m.group("res")
            if m.groupdict().get("dir"):
                res = "skip"
            verdict = {"ok": "PASS", "skip": "SKIP"}.get(res, "FAIL")
            out.append({"id": "guest/%s/%s" % (script, m.group("name")),
                        "boot": os.path.basename(bootdir),
                        "boot_status": status.get("status", "unknown"),
                        "boot_wall_s": 0, "expect": "ok", "observed": res,
                        "verdict": verdict,
                        "headline": (m.groupdict().get("rest") or m.groupdict().get("dir")
                                     or "").strip(" ()"),
                        "t_detect": None, "figures": {}, "knobs": None,
                        "excerpt": "" if verdict != "FAIL" else cap(text)})
    # Whatever the script did, the kernel must not have complained.
    evs = [e for e in parse_events(lines) if window(lines, script, e["line"])]
    if out:
        out.append({"id": "guest/%s/no_splat" % script, "boot": os.path.basename(bootdir),
                    "boot_status": status.get("status", "unknown"), "boot_wall_s": 0,
                    "expect": "clean", "observed": evs[0]["kind"] if evs else "clean",
                    "verdict": "FAIL" if evs else "PASS",
                    "headline": evs[0]["headline"] if evs else "",
                    "t_detect": None, "figures": {}, "knobs": None,
                    "excerpt": excerpt(lines, {"begin_line": evs[0]["line"]}) if evs else ""})
    if not out:
        out.append({"id": "guest/%s" % script, "boot": os.path.basename(bootdir),
                    "boot_status": status.get("status", "unknown"), "boot_wall_s": 0,
                    "expect": "ok", "observed": "nothing", "verdict": "ERROR",
                    "headline": "the test script printed no result", "t_detect": None,
                    "figures": {}, "knobs": None,
                    "excerpt": cap("\n".join(lines[-60:]), tail=True)})
    return out


def ops_total(figs):
    return sum(v for k, v in figs.items() if k.startswith("ops_") and "per_s" not in k)


def fmt_time(r):
    if r["t_detect"] is not None and r["observed"] != "clean":
        return "%.2fs" % r["t_detect"]
    if "run_ms" in r["figures"]:
        return "%.1fs run" % (r["figures"]["run_ms"] / 1000.0)
    return "-"


def table(results):
    head = ("test", "expected", "observed", "headline", "time", "ops", "verdict")
    rows = [head]
    for r in results:
        headline = r["headline"] or "-"
        if len(headline) > 58:
            headline = headline[:55] + "..."
        ops = ops_total(r["figures"])
        rows.append((r["id"], (r["expect"] or "-").split(":")[0], r["observed"] or "-",
                     headline, fmt_time(r), str(ops) if ops else "-", r["verdict"]))
    widths = [max(len(x[i]) for x in rows) for i in range(len(head))]
    out = []
    for i, row in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    counts = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    out.append("")
    out.append(", ".join("%d %s" % (counts.get(v, 0), v) for v in ("PASS", "FAIL", "ERROR", "SKIP")))
    return "\n".join(out)


def collect(resdir):
    """Judge every boot of a results directory: (results, meta), sorted.

    Raises OSError if ``resdir`` itself cannot be listed; a missing file
    inside it is tolerated (a boot that died leaves some out).
    """
    os.listdir(resdir)   # fail here, not with an empty table, on a bad path
    meta = read_kv(os.path.join(resdir, "meta.env"))
    config = read_config(os.path.join(resdir, "kernel.config"))
    bootroot = os.path.join(resdir, "boots")
    results = []
    for name in sorted(os.listdir(bootroot)) if os.path.isdir(bootroot) else []:
        if os.path.exists(os.path.join(bootroot, name, "plan")):
            results.extend(judge_boot(os.path.join(bootroot, name), config))
    order = {}
    for i, line in enumerate(read_lines(os.path.join(resdir, "scenarios.txt"))):
        if line.strip():
            order[line.split()[0]] = i
    results.sort(key=lambda r: (order.get(r["id"], 1 << 30), r["boot"]))
    return results, meta


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


def _open(path):
    return sys.stdin.buffer if path == "-" else open(path, "rb")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", help="console log file ('-' for stdin), or with --summary a "
                                "results directory (its summary.txt, re-judged)")
    ap.add_argument("--summary", action="store_true",
                    help="verdict per scenario/variant from BEGIN/END markers")
    ap.add_argument("--json", action="store_true",
                    help="machine-readable output (with --summary: a JSON list)")
    args = ap.parse_args(argv)
    if args.summary and os.path.isdir(os.path.join(args.log, "boots")):
        # A results directory: the final verdicts, as summary.txt has them.
        try:
            results, _ = collect(args.log)
        except OSError as e:
            print("judge.py: cannot read %s: %s" % (args.log, e.strerror or e), file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(results, indent=1))
        else:
            print(table(results))
        return 1 if any(r["verdict"] in ("FAIL", "ERROR") for r in results) or not results else 0
    # A wrong path is a usage error, not a crash: say which and why.
    try:
        if os.path.isdir(args.log):
            raise IsADirectoryError(21, "a directory, and no results directory (no boots/)")
        f = _open(args.log)
    except OSError as e:
        print("judge.py: cannot read %s: %s" % (args.log, e.strerror or e), file=sys.stderr)
        return 2
    with f:
        # Read once, as a stream: events are printed as they close.
        if not args.summary:
            for e in iter_events(iter_lines(f)):
                print(json.dumps(e, sort_keys=False))
            return 0
        rows = verdicts(iter_lines(f))
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(format_table(rows))
    return 1 if any(r["verdict"] in ("FAIL", "ERROR", "hang") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
