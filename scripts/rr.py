#!/usr/bin/env python3
"""Helpers of the record/replay tools (scripts/replay.sh, scripts/explain.py).

    rr.py first CONSOLE          the verdicts and the first report, as JSON
    rr.py same A B               exit 0 when two consoles give the same
                                 verdicts and the same first report
    rr.py manifest-get BOOT KEY  one value of BOOT/replay.manifest
    rr.py gdb BOOT PORT          the gdb command line for a paused replay

"The first report" is judge.py's first event of the console: its kind,
headline and title.  A replay is deterministic, so the headline (with its
addresses) must be the same too, not only the title.

Only the Python 3 standard library is used.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge  # noqa: E402
import protocol  # noqa: E402

MANIFEST = "replay.manifest"

# The function gdb stops in for each detector kind: one that runs only when
# the detector reports.  __list_del_entry_valid_or_report itself runs on
# every list_del under CONFIG_DEBUG_LIST (and __might_resched on every
# might_sleep), so a breakpoint there stops thousands of times: the report's
# WARN goes through __warn_printk, whose caller is the list check.
# A lockdep report is chosen by its headline (the banner's print_* function).
LOCKDEP_FN = [
    ("inconsistent lock state", "print_usage_bug"),
    ("circular locking", "print_circular_bug"),
    ("irq lock inversion", "print_irq_inversion_bug"),
    ("lock order detected", "print_bad_irq_dependency"),
    ("recursive locking", "print_deadlock_bug"),
    ("bad unlock balance", "print_unlock_imbalance_bug"),
    ("held lock freed", "print_freed_lock_bug"),
    ("suspicious RCU usage", "lockdep_rcu_suspicious"),
    ("Invalid wait context", "print_lock_invalid_wait_context"),
]
KIND_FN = {
    "list_corruption": ["__warn_printk"],
    "warning": ["__warn_printk"],
    "oops": ["page_fault_oops", "die"],
    "soft_lockup": ["watchdog_timer_fn"],
    "sleep_in_atomic": ["__might_resched"],
    "bad_page": ["bad_page"],
    "mm": ["bad_page", "page_fault_oops"],
    "vm_bug": ["dump_page"],
    "spinlock": ["spin_dump"],
    "debug_objects": ["debug_print_object"],
    "rcu": ["__warn_printk"],
    "hung_task": ["check_hung_uninterruptible_tasks"],
    "rcu_stall": ["print_cpu_stall", "print_other_cpu_stall"],
    "workqueue": ["show_all_workqueues"],
    "mmrace": ["_printk"],
    "panic": ["panic"],
}


def lines_of(path):
    return judge.read_lines(path)


def first_event(path):
    with open(path, "rb") as f:
        for ev in judge.iter_events(judge.iter_lines(f)):
            return ev
    return None


def summary(path):
    """Verdict rows and the first report of a console."""
    rows = judge.verdicts(lines_of(path))
    ev = first_event(path)
    return {
        "verdicts": [{k: r[k] for k in ("id", "verdict", "observed", "title")} for r in rows],
        "first": {k: ev[k] for k in ("kind", "headline", "title", "line", "time")} if ev else None,
    }


def detector_functions(ev):
    if not ev:
        return ["panic"]
    if ev["kind"] == "lockdep":
        for sub, fn in LOCKDEP_FN:
            if sub.lower() in (ev.get("headline") or "").lower():
                return [fn]
        return ["print_lock"]
    return KIND_FN.get(ev["kind"], ["__warn_printk"])


def vmlinux_symbols(vmlinux):
    """The names of vmlinux's ELF symbol table (no DWARF needed)."""
    out = subprocess.run(["nm", vmlinux], stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}


def resolve(fns, names):
    """Each wanted function as vmlinux names it: gcc splits and clones some
    (print_usage_bug is print_usage_bug.part.0 here).  None found: every
    report ends in dump_stack_lvl, so stop there."""
    got = []
    for fn in fns:
        if fn in names:
            got.append(fn)
            continue
        clones = sorted(n for n in names if n.startswith(fn + "."))
        if clones:
            got.append(clones[0])
    return got or ["dump_stack_lvl"]


def read_manifest(boot):
    m = {}
    with open(os.path.join(boot, MANIFEST), encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            m[k] = v
    return m


def module_ko(boot, where):
    """mmrace.ko as the recorded guest loaded it: out of the kept initramfs."""
    ko = os.path.join(where, "mmrace.ko")
    if not os.path.exists(ko):
        with open(os.path.join(boot, "initrd.gz"), "rb") as f:
            cpio = subprocess.run(["gzip", "-dc"], stdin=f, stdout=subprocess.PIPE,
                                  check=True).stdout
        subprocess.run(["cpio", "-id", "--quiet", "mmrace.ko"], input=cpio, cwd=where, check=True)
    return ko


def module_text(console):
    for _, text in protocol._texts(console):
        m = protocol.MODULE_TEXT.match(text)
        if m:
            return m.group("addr")
    return None


def gdb_argv(boot, port, where=None):
    """gdb's argv for a replay paused at reset with its stub on @port."""
    m = read_manifest(boot)
    vmlinux = m.get("vmlinux") or os.path.normpath(
        os.path.join(os.path.dirname(m["kernel"]), "..", "..", "..", "vmlinux"))
    console = os.path.join(boot, "console.log")
    addr = module_text(console)
    ev = first_event(console)
    where = where or tempfile.mkdtemp(prefix="mmrace-gdb.")
    argv = ["gdb", "-q", "-nx", vmlinux, "-ex", "set pagination off",
            "-ex", "set confirm off", "-ex", "target remote :%d" % port]
    if addr:
        argv += ["-ex", "add-symbol-file %s %s" % (module_ko(boot, where), addr)]
    for fn in resolve(detector_functions(ev), vmlinux_symbols(vmlinux)):
        argv += ["-ex", "hbreak %s" % fn]
    return argv, ev


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("first")
    p.add_argument("console")
    p = sub.add_parser("same")
    p.add_argument("a")
    p.add_argument("b")
    p = sub.add_parser("manifest-get")
    p.add_argument("boot")
    p.add_argument("key")
    p = sub.add_parser("gdb")
    p.add_argument("boot")
    p.add_argument("port", type=int)
    p.add_argument("--dir", help="where to put mmrace.ko out of the initramfs")
    a = ap.parse_args(argv)
    if a.cmd == "first":
        print(json.dumps(summary(a.console), indent=1))
        return 0
    if a.cmd == "same":
        sa, sb = summary(a.a), summary(a.b)
        strip = [{k: v for k, v in (s["first"] or {}).items() if k in ("kind", "headline", "title")}
                 for s in (sa, sb)]
        if sa["verdicts"] != sb["verdicts"] or strip[0] != strip[1]:
            print("not the same judgement:\n  %s: %s\n  %s: %s" % (
                a.a, json.dumps([sa["verdicts"], strip[0]]),
                a.b, json.dumps([sb["verdicts"], strip[1]])))
            return 1
        print("same verdicts %s, same first report: %s" % (
            " ".join("%s=%s" % (r["id"], r["verdict"]) for r in sa["verdicts"]),
            json.dumps(strip[0])))
        return 0
    if a.cmd == "manifest-get":
        m = read_manifest(a.boot)
        if a.key not in m:
            return 1
        print(m[a.key])
        return 0
    if a.cmd == "gdb":
        argv, ev = gdb_argv(a.boot, a.port, a.dir)
        print(" ".join(shlex.quote(x) for x in argv))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
