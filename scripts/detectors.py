#!/usr/bin/env python3
"""The detector kinds, as data: one row per kind, everything derives from it.

A kind is what the kernel (or mmrace) reports a failure with: lockdep, the
page-fault handler, the soft-lockup watchdog, ...  Each row holds

  headers   the report's first lines, as (regex, family) in priority order.
            The regex is matched at the start of the console text (after the
            timestamp and caller); group ``h``, if any, is the headline.
            ``family`` is the report family of the title, "<family> in
            <guilty function>" (syzkaller's form); it may name groups.
  config    the kernel option without which the kernel cannot report it
            (a quiet run is then SKIP, naming the option)
  boot_args kernel arguments that arm it quickly, on the boots whose
            variant must trip it (and only there)
  silence   seconds of console silence after which the host calls a guest
            that waits for this kind hung
  guest     fixed strings the guest's init greps dmesg for, to notice that
            a detector spoke and stop a bug run early

scripts/judge.py builds its patterns from ``headers``, scripts/report.py its
SKIP reasons from ``config``, scripts/plan.py the boot arguments and the
silence from ``boot_args`` and ``silence``, and run.sh hands the guest its
first-splat pattern from ``guest``.  Adding a kind is one row here.

    detectors.py --guest-splat      the guest's grep -E pattern
    detectors.py --table            one line per kind
"""
import argparse
import re
import sys

_LOCKDEP = (
    r"inconsistent lock state",
    r"possible circular locking dependency detected",
    r"possible irq lock inversion dependency detected",
    r"(?:HARD|SOFT)IRQ-(?:READ-)?safe -> (?:HARD|SOFT)IRQ-(?:READ-)?unsafe lock order detected",
    r"suspicious RCU usage\.?",
    r"possible recursive locking detected",
    r"bad unlock balance detected!",
    r"held lock freed!",
    r"lock held when returning to user space!",
    r"lock held at task exit time!",
    r"Nested lock was not taken",
    r"bad contention detected!",
    r"chain_key collision",
    r"\S+/\d+ still has locks held!",
    r"MAX_\w+ too low!",
    r"key \S+ has not been registered!",
    r"looking up invalid subclass: \d+",
    r"Invalid wait context",
    r"locking bug: .*",
)
_LOCKDEP_RX = "|".join(_LOCKDEP)

#: The kinds, in the order their headers are tried.  lockdep comes before
#: ``warning`` because its banners also start with "WARNING: "; the arch
#: fault headers of arm64, arm and riscv are ``oops`` like x86's.
KINDS = [
    {"kind": "mmrace", "config": None, "guest": ["INVARIANT"],
     "headers": [(r"mmrace: INVARIANT (?P<sid>\S+?): (?P<h>.*)", "mmrace invariant")]},
    {"kind": "lockdep", "config": "CONFIG_PROVE_LOCKING", "guest": ["WARNING:", "BUG:", "INFO:"],
     "headers": [
         (r"(?:WARNING|BUG): (?P<h>(?:%s))$" % _LOCKDEP_RX, "{h}"),
         # 4.x banners: "[ INFO: possible circular locking dependency detected ]".
         (r"\[ (?:INFO|BUG): (?P<h>(?:%s)) \]$" % _LOCKDEP_RX, "{h}"),
         (r"(?P<h>INFO: trying to register non-static key\.)", "trying to register non-static key"),
         (r"(?P<h>DEBUG_LOCKS_WARN_ON\(.*\))", "DEBUG_LOCKS_WARN_ON"),
         # lib/locking-selftest.c at boot.
         (r"(?P<h>BUG: +\d+ unexpected failures \(out of \d+\) - debugging disabled!)",
          "locking selftest failed"),
     ]},
    {"kind": "rcu", "config": None, "guest": ["Double-freed", "RCU read-side", "Leaked duplicate"],
     "headers": [
         (r"(?:rcu: )?(?P<h>(?P<fn>\w+)\(\): Double-freed (?:CB|call)\b.*)", "{fn}: double free"),
         (r"(?P<h>Voluntary context switch within RCU read-side critical section!)",
          "context switch in RCU read-side critical section"),
         (r"(?P<h>call_srcu\(\): Leaked duplicate callback)", "call_srcu: duplicate callback"),
     ]},
    {"kind": "spinlock", "config": "CONFIG_DEBUG_SPINLOCK", "guest": ["BUG:"],
     "headers": [
         (r"(?P<h>BUG: (?P<lk>spinlock|rwlock) (?P<what>[\w ]+?) on CPU#\d+, .*)", "BUG: {lk} {what}"),
         (r"(?P<h>DEBUG_RWSEMS_WARN_ON\(.*)", "DEBUG_RWSEMS_WARN_ON"),
     ]},
    {"kind": "list_corruption", "config": "CONFIG_DEBUG_LIST", "guest": ["corruption", "double add"],
     "headers": [
         (r"(?P<h>(?P<op>list_(?:add|del)|hlist_\w+) corruption.*)", "{op} corruption"),
         (r"(?P<h>list_add double add.*)", "list_add double add"),
     ]},
    {"kind": "debug_objects", "config": "CONFIG_DEBUG_OBJECTS", "guest": ["ODEBUG: "],
     "headers": [
         (r"(?P<h>ODEBUG: (?P<op>\w+(?: \w+)?) (?:not available|active|\(active state).*)",
          "ODEBUG: {op}"),
         (r"(?P<h>ODEBUG: (?:object \S+ is (?:NOT )?on stack|selftest (?:\S+ failed|wrong state)).*)",
          "ODEBUG bug"),
     ]},
    {"kind": "kasan", "config": "CONFIG_KASAN", "guest": ["BUG: KASAN"],
     "headers": [(r"(?P<h>BUG: KASAN: (?P<what>[\w-]+(?: \w+)?)(?: in .*)?$)", "KASAN: {what}")]},
    {"kind": "kfence", "config": "CONFIG_KFENCE", "guest": ["BUG: KFENCE"],
     "headers": [(r"(?P<h>BUG: KFENCE: (?P<what>[\w -]+?) in .*)", "KFENCE: {what}")]},
    {"kind": "kcsan", "config": "CONFIG_KCSAN", "guest": ["BUG: KCSAN"],
     "headers": [(r"(?P<h>BUG: KCSAN: (?P<what>[\w :-]+?) in .*)", "KCSAN: {what}")]},
    {"kind": "kmsan", "config": "CONFIG_KMSAN", "guest": ["BUG: KMSAN"],
     "headers": [(r"(?P<h>BUG: KMSAN: (?P<what>[\w-]+) in .*)", "KMSAN: {what}")]},
    {"kind": "slub", "config": "CONFIG_SLUB_DEBUG", "guest": ["BUG "],
     "headers": [
         (r"(?P<h>BUG (?P<cache>\S+) \((?:Not tainted|Tainted: [^)]*)\): (?P<what>.*))",
          "BUG: {what}"),
         # 6.12 names the corruption first, then the "BUG <cache>" banner.
         (r"(?P<h>\[(?P<what>[\w ]+ overwritten)\] 0x[0-9a-f]+-0x[0-9a-f]+ @offset=.*)",
          "SLUB: {what}"),
     ]},
    # bad_page() reports in every kernel; DEBUG_VM only checks more often.
    {"kind": "bad_page", "config": None, "guest": ["BUG: Bad page"],
     "headers": [(r"(?P<h>BUG: Bad page (?P<what>state|cache)\b.*)", "BUG: Bad page {what}")]},
    {"kind": "mm", "config": None, "guest": ["BUG: "],
     "headers": [
         (r"(?P<h>BUG: Bad page map\b.*)", "BUG: Bad page map"),
         (r"(?P<h>BUG: Bad rss-counter state .*)", "BUG: Bad rss-counter state"),
         (r"(?P<h>BUG: non-zero pgtables_bytes on freeing mm.*)", "BUG: non-zero pgtables_bytes"),
         (r"(?P<h>BUG: mempool element poison mismatch)", "BUG: mempool element poison mismatch"),
     ]},
    {"kind": "vm_bug", "config": "CONFIG_DEBUG_VM", "guest": ["page dumped because: VM_BUG_ON"],
     # VM_BUG_ON_PAGE(): dump_page()'s last line comes just before the
     # BUG() (whose "kernel BUG at" is then folded in): the condition is
     # the news.
     "headers": [
         (r"(?P<h>page dumped because: (?P<m>VM_(?:BUG|WARN)_ON\w*)\(.*)", "{m}"),
         # dump_vma() and dump_mm() of VM_BUG_ON_VMA() and VM_BUG_ON_MM().
         (r"(?P<h>vma [0-9a-f]{8,16} start [0-9a-f]{8,16} end [0-9a-f]{8,16} mm .*)",
          "VM_BUG_ON_VMA"),
         (r"(?P<h>mm [0-9a-f]{8,16} task_size \d+.*)", "VM_BUG_ON_MM"),
     ]},
    {"kind": "sleep_in_atomic", "config": "CONFIG_DEBUG_ATOMIC_SLEEP", "guest": ["BUG: "],
     "headers": [
         (r"(?P<h>BUG: sleeping function called from invalid context.*)",
          "BUG: sleeping function called from invalid context"),
         (r"(?P<h>BUG: scheduling while atomic.*)", "BUG: scheduling while atomic"),
         (r"(?P<h>BUG: scheduling in a non-blocking section.*)",
          "BUG: scheduling in a non-blocking section"),
     ]},
    {"kind": "preempt", "config": "CONFIG_DEBUG_PREEMPT", "guest": ["BUG: using "],
     "headers": [
         (r"(?P<h>BUG: using (?P<fn>[\w]+)\(\) in preemptible .*)", "BUG: using {fn}() in preemptible"),
         (r"(?P<h>BUG: assuming (?P<what>atomic|non migratable) context at .*)",
          "BUG: assuming {what} context"),
     ]},
    {"kind": "soft_lockup", "config": "CONFIG_SOFTLOCKUP_DETECTOR", "silence": 60,
     "boot_args": "watchdog_thresh=2", "guest": ["soft lockup"],
     "headers": [(r"(?:(?:NMI )?watchdog: )?(?P<h>BUG: soft lockup - CPU#\d+ stuck for .*)",
                  "BUG: soft lockup")]},
    {"kind": "hard_lockup", "config": "CONFIG_HARDLOCKUP_DETECTOR", "guest": ["hard LOCKUP"],
     "headers": [(r"(?:(?:NMI )?watchdog: )?(?P<h>(?:CPU\d+: )?Watchdog detected hard LOCKUP.*)",
                  "watchdog: hard LOCKUP")]},
    {"kind": "workqueue", "config": "CONFIG_WQ_WATCHDOG", "guest": ["workqueue lockup"],
     "headers": [
         (r"(?P<h>BUG: workqueue lockup - pool.*)", "BUG: workqueue lockup"),
         (r"(?P<h>BUG: workqueue leaked (?:atomic, )?lock or (?:RCU|atomic).*)",
          "BUG: workqueue leaked lock or atomic"),
     ]},
    {"kind": "rcu_stall", "config": "CONFIG_RCU_STALL_COMMON", "guest": ["detected stall",
                                                                         "self-detected stall",
                                                                         "detected expedited stall"],
     "headers": [(r"(?:rcu: )?(?P<h>INFO: (?P<flavor>rcu\w*) (?P<what>(?:self-)?detected "
                  r"(?:expedited )?stalls?)\b.*)", "INFO: {flavor} {what}")]},
    {"kind": "hung_task", "config": "CONFIG_DETECT_HUNG_TASK", "silence": 60,
     "boot_args": "sysctl.kernel.hung_task_timeout_secs=5", "guest": ["blocked for more than"],
     "headers": [(r"(?P<h>INFO: task .+:\d+ blocked for more than \d+ seconds\.?)",
                  "INFO: task hung")]},
    {"kind": "ubsan", "config": "CONFIG_UBSAN", "guest": ["UBSAN:"],
     "headers": [
         (r"(?P<h>UBSAN: (?P<what>[\w -]+?) (?:in|at) .*)", "UBSAN: {what}"),
         # CONFIG_UBSAN_TRAP on arm64: a BRK, reported by die().
         (r"(?P<h>Internal error: UBSAN: (?P<what>[\w -]+?): .*)", "UBSAN: {what}"),
     ]},
    {"kind": "oops", "config": None, "guest": ["Oops", "BUG: ", "Unable to handle kernel",
                                               "Internal error", "general protection fault"],
     "headers": [
         (r"(?P<h>BUG: unable to handle (?:page fault|kernel paging request).*)",
          "BUG: unable to handle kernel paging request"),
         (r"(?P<h>unable to handle kernel paging request at .*)",
          "unable to handle kernel paging request"),
         (r"(?P<h>BUG: (?:kernel NULL pointer dereference|unable to handle kernel NULL pointer "
          r"dereference).*)", "BUG: kernel NULL pointer dereference"),
         (r"(?P<h>BUG: (?:\w+ )?stack guard page was hit.*)", "BUG: stack guard page was hit"),
         (r"(?P<h>Thread overran stack, or stack corrupted)", "stack overrun"),
         (r"(?P<h>Insufficient stack space to handle exception!)", "stack overflow"),
         (r"(?P<h>PANIC: double fault.*)", "double fault"),
         (r"(?P<h>usercopy: Kernel memory (?P<what>\w+) attempt detected.*)",
          "usercopy: kernel memory {what} attempt"),
         (r"(?P<h>kernel tried to execute NX-protected page.*)", "kernel tried to execute NX page"),
         (r"(?P<h>unable to execute userspace code \(SMEP\?\).*)", "unable to execute userspace code"),
         (r"(?:Oops: )?(?P<h>general protection fault.*)", "general protection fault"),
         (r"(?P<h>kernel BUG at .*)", "kernel BUG"),
         (r"(?P<h>Kernel BUG at .*)", "kernel BUG"),
         # arm64, arm, riscv: arch/*/mm/fault.c, then die() in traps.c.
         (r"(?P<h>Unable to handle kernel (?P<what>[\w -]+?) at virtual address.*)",
          "Unable to handle kernel {what}"),
         (r"(?P<h>SError Interrupt on CPU\d+.*)", "SError Interrupt"),
         (r"(?P<h>Unhandled \d+-bit \w+ (?P<what>\w+) exception on CPU\d+.*)",
          "Unhandled {what} exception"),
         (r"(?P<h>Unhandled fault: (?P<what>[\w ]+?) \(0x[0-9a-f]+\) at .*)", "Unhandled fault: {what}"),
         (r"(?P<h>Internal error: (?P<what>[^:\[]+?)(?:: [0-9a-f]+)? \[#\d+\].*)",
          "Internal error: {what}"),
         (r"(?P<h>Bad mode in [\w ]+? handler.*)", "Bad mode in handler"),
         (r"(?P<h>Kernel BUG \[#\d+\].*)", "kernel BUG"),
         (r"(?P<h>Oops - (?P<what>[^\[]+?) \[#\d+\].*)", "Oops: {what}"),
         (r"(?P<h>Oops(?: - \w+)? \[#\d+\].*)", "Oops"),
         # x86 traps: "Oops: invalid opcode: 0000 [#1]" (6.10+), or the
         # same without "Oops: " in older kernels.
         (r"(?:Oops: )?(?P<h>(?P<what>invalid opcode|divide error|stack segment|int3|"
          r"bounds|overflow|alignment check|double fault|coprocessor segment overrun|"
          r"invalid TSS|segment not present|general protection)(?::| fault:) [0-9a-f]{4} "
          r"\[#\d+\].*)", "{what}"),
         (r"(?P<h>Oops: .*)", "Oops"),
         (r"(?P<h>kernel stack overflow.*)", "kernel stack overflow"),
     ]},
    {"kind": "warning", "config": None, "guest": ["WARNING:"],
     "headers": [
         (r"(?P<h>WARNING: CPU: \d+ PID: \d+ at .*)", "WARNING"),
         (r"(?P<h>WARNING: [\w./-]+:\d+ at .*)", "WARNING"),
         (r"(?P<h>WARNING: at .*)", "WARNING"),
         # WARN()'s message from lib/refcount.c, just before its WARNING line.
         (r"(?P<h>refcount_t: (?P<what>[\w ]+?)[;.].*)", "refcount_t: {what}"),
     ]},
    {"kind": "panic", "config": None, "guest": ["Kernel panic"],
     "headers": [(r"(?P<h>Kernel panic - not syncing: (?P<why>[^:]*).*)", "panic: {why}")]},
    # The NMI scripts/boot.sh sends a silent guest (unknown_nmi_panic):
    # everything after it is the panic's backtraces, part of this event.
    {"kind": "hang", "config": None, "guest": [],
     "headers": [(r"(?P<h>Uhhuh\. NMI received for unknown reason.*)", "guest hung")]},
]

#: Lines that look like the start of a report and are not one: boot and
#: information lines of the detectors themselves.
NOT_REPORTS = [
    r"---\[ end ",
    r"ODEBUG: selftest passed",
    r"ODEBUG: \d+ of \d+ active objects replaced",
    r"Lock dependency validator: ",
    r"INFO: lockdep is turned off\.?",
    r"rcu: RCU lockdep checking is enabled\.",
    r"workqueue: \S+ hogged CPU for",
    r"watchdog: Delayed init of the lockup detector failed",
]

_FIELD = re.compile(r"\{(\w+)\}")


def compiled():
    """[(kind, regex, family)] in priority order."""
    return [(k["kind"], re.compile(rx), fam) for k in KINDS for rx, fam in k["headers"]]


def family_of(template, match):
    """The report family: @template with the named groups of @match filled."""
    return _FIELD.sub(lambda m: (match.groupdict().get(m.group(1)) or "").strip(), template)


def by_kind():
    return {k["kind"]: k for k in KINDS}


def config_of(kind):
    """The kernel option @kind needs, or None (every kernel reports it)."""
    return by_kind().get(kind, {}).get("config")


def boot_args_of(kinds):
    """Kernel arguments that arm @kinds quickly, space-separated."""
    rows = by_kind()
    return " ".join(rows[k]["boot_args"] for k in sorted(set(kinds))
                    if k in rows and rows[k].get("boot_args"))


def silence_of(kinds, default):
    """Seconds of silence before a guest waiting for @kinds is hung."""
    rows = by_kind()
    return max([default] + [rows[k]["silence"] for k in kinds if rows.get(k, {}).get("silence")])


def guest_splat():
    """An extended regex (grep -E) matching any kind's guest strings."""
    lits = sorted({s for k in KINDS for s in k["guest"]})
    # "BUG: " adds nothing to "BUG:": keep the shortest strings only.
    lits = [s for s in lits if not any(o != s and o in s for o in lits)]
    return "|".join(re.sub(r"([][.^$*+?(){}|\\])", r"\\\1", s) for s in lits)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guest-splat", action="store_true")
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args(argv)
    if a.guest_splat:
        print(guest_splat())
    elif a.table:
        for k in KINDS:
            print("%-16s %2d headers  %-28s %s" % (k["kind"], len(k["headers"]), k["config"] or "-",
                                                   k.get("boot_args") or ""))
    else:
        ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
