#!/usr/bin/env python3
"""Find the writes to the corrupted word by replaying once more.

    explain.py BOOT [--port N] [--last N] [--json OUT]

BOOT is a boot directory that run.sh --record recorded.  QEMU 7.2 cannot
step backwards (reverse-stepi answers E14, replay snapshots hang), but a
replay is deterministic: every address the report names is the same in the
next replay.  So this takes the corrupted word from the first report

  list_del / list_add corruption   prev->next (at prev) or next->prev
                                   (at next + 8), the word that was wrong
  page fault                       the faulting address
  lockdep                          the lock the report names first
                                   ("ffff... (lockname){...}")

replays under gdb with a hardware write watchpoint on it, armed at
do_init_module (mmrace.ko's init: the page is the kernel's before), and a
breakpoint at the detector, and logs every write up to the report: the
writing instruction and its symbol+offset (mmrace.ko's too), the value,
the context (preempt_count's hardirq/softirq/NMI bits read through the CPU's
per-CPU base), the top stack frames, and the mmrace trace event nearest in
guest time (jiffies at the write, against those at the report).

gdb does not stop for a write of the value the word already held (a
watchpoint reports changes), so those are not in the log.
Output: the log and the last writes before the report; BOOT/explain.json.
Only the Python 3 standard library (and gdb's own Python) is used.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge  # noqa: E402
import rr  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEX = r"([0-9a-f]{8,16})"


def target_of(ev, lines, config=""):
    """(address, why) of the word to watch, from the first report."""
    h = ev["headline"]
    m = re.search(r"prev->next should be (?:next \()?%s\)?, but was %s\. \(prev=%s\)" % (HEX, HEX, HEX), h)
    if m:
        return int(m.group(3), 16), "prev->next (prev=%s): should be %s, but was %s" % (
            m.group(3), m.group(1), m.group(2)), int(m.group(2), 16)
    m = re.search(r"next->prev should be (?:prev \()?%s\)?, but was %s\. \(next=%s\)" % (HEX, HEX, HEX), h)
    if m:
        return int(m.group(3), 16) + 8, "next->prev (next=%s): should be %s, but was %s" % (
            m.group(3), m.group(1), m.group(2)), int(m.group(2), 16)
    m = re.search(r"corruption, %s->(next|prev) is" % HEX, h)
    if m:
        return int(m.group(1), 16) + (8 if m.group(2) == "prev" else 0), h, None
    m = re.search(r"page fault for address: %s" % HEX, h)
    if m:
        return int(m.group(1), 16), "the faulting address %s" % m.group(1), None
    if ev["kind"] == "lockdep":
        for text in lines[ev["line"] - 1:ev["end_line"]]:
            m = re.search(r"\b%s \((\S+?)\)\{[^}]*\}-\{(\d):\d\}" % HEX, judge.split_line(text)[1])
            if m:
                a = int(m.group(1), 16)
                # lockdep prints &lock->dep_map.  A spinning lock (wait
                # type {2:2}) under DEBUG_SPINLOCK has its word 24 bytes
                # before (raw_lock, magic, owner_cpu, owner): watch that,
                # i.e. every acquire and release, not the map's key.
                if m.group(3) == "2" and "CONFIG_DEBUG_SPINLOCK=y" in config:
                    return a - 24, "the lock word of %s (its dep_map %s - 24)" % (
                        m.group(2), m.group(1)), None
                return a, "the lock %s (%s)" % (m.group(2), m.group(1)), None
    # A GPF on a non-canonical pointer names no address to watch: the word
    # that held the pointer is what the report cannot say.
    raise SystemExit("explain.py: the first report names no word to watch: %s: %s" % (
        ev["kind"], h))


def listening(port):
    """Is something listening on 127.0.0.1/0.0.0.0:port (from /proc/net/tcp,
    since a probe connection would be taken by QEMU's one-client stub)?"""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                for line in f.readlines()[1:]:
                    p = line.split()
                    if p[3] == "0A" and int(p[1].split(":")[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Run inside gdb (gdb -x): its Python has the gdb module.
GDB_SCRIPT = r'''
import collections, gdb, json
P = json.load(open(%(params)r))
# A lock word is written twice per critical section: keep the last ones.
log, state = collections.deque(maxlen=P["keep"]), {"old": None, "n": 0}
def ex(c):
    return gdb.execute(c, to_string=True)
def sym(a):
    s = ex("info symbol 0x%%x" %% a).strip()
    if s.startswith("No symbol"):
        return "0x%%x" %% a
    s = s.split(" in section ")[0].replace(" + ", "+")
    if P["mod_lo"] <= a < P["mod_hi"]:
        s += " [mmrace]"
    return s
def rd(a, n=8):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(a, n)), "little")
def rd_or_none(a):
    # A vmalloc or vmemmap address (a #PF's) may not be mapped yet at
    # module init: the watchpoint still goes on the address.
    try:
        return rd(a)
    except gdb.MemoryError:
        return None
def in_text(a):
    return P["stext"] <= a < P["etext"] or P["mod_lo"] <= a < P["mod_hi"]
def writer(pc):
    """The instruction that wrote: x86 stops after it, so the last one that
    ends at pc, disassembled from its function's start."""
    s = ex("info symbol 0x%%x" %% pc)
    off = 0
    if " + " in s:
        off = int(s.split(" + ")[1].split()[0])
    arch = gdb.selected_frame().architecture()
    if 0 < off < 8192:
        prev = None
        for i in arch.disassemble(pc - off, pc):
            if i["addr"] >= pc:
                break
            prev = i
        if prev and prev["addr"] + prev["length"] == pc:
            return prev["addr"], prev["asm"]
    return pc, arch.disassemble(pc)[0]["asm"]
def context():
    try:
        base = int(gdb.parse_and_eval("$gs_base")) & (2**64 - 1)
        pc_ = rd(base + P["preempt_off"], 4) & 0x7fffffff
    except (gdb.error, gdb.MemoryError, OverflowError):
        return None, "?"
    if pc_ & 0x00f00000:
        c = "nmi"
    elif pc_ & 0x000f0000:
        c = "hardirq"
    elif pc_ & 0x100:
        c = "softirq"
    else:
        c = "task"
    if pc_ & 0xff and c == "task":
        c = "task (preempt off)"
    if pc_ & 0xfe00 and c == "task (preempt off)":
        c = "task (bh off)"
    return pc_, c
def frames():
    sp = int(gdb.parse_and_eval("$sp")) & (2**64 - 1)
    raw = bytes(gdb.selected_inferior().read_memory(sp, 8 * 96))
    out = []
    for i in range(96):
        w = int.from_bytes(raw[8 * i:8 * i + 8], "little")
        if in_text(w):
            out.append(sym(w))
            if len(out) == 6:
                break
    return out
def snap(what):
    pc = int(gdb.parse_and_eval("$pc")) & (2**64 - 1)
    wa, asm = writer(pc) if what == "write" else (pc, "")
    pcount, ctx = context()
    return {"what": what, "pc": "0x%%x" %% wa, "sym": sym(wa), "insn": asm,
            "jiffies": rd(P["jiffies"]), "preempt_count": pcount, "ctx": ctx,
            "frames": frames()}
class W(gdb.Breakpoint):
    def stop(self):
        r = snap("write")
        new = rd_or_none(P["addr"])
        r["old"] = None if state["old"] is None else "0x%%x" %% state["old"]
        r["new"] = None if new is None else "0x%%x" %% new
        state["old"] = new
        state["n"] += 1
        r["n"] = state["n"]
        log.append(r)
        return False
ex("set pagination off")
ex("set confirm off")
ex("set can-use-hw-watchpoints 1")
ex("target remote :%%d" %% P["port"])
if P["text"]:
    ex("add-symbol-file %%s %%s" %% (P["ko"], P["text"]))
ex("hbreak do_init_module")
ex("continue")
ex("delete")
state["old"] = rd_or_none(P["addr"])
armed = {"at": snap("armed"), "value": None if state["old"] is None else "0x%%x" %% state["old"]}
W("*(long *)0x%%x" %% P["addr"], gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=False)
for fn in P["detectors"]:
    ex("hbreak %%s" %% fn)
try:
    ex("continue")
    stop = snap("report")
except gdb.error as e:
    stop = {"what": "error", "error": str(e)}
json.dump({"armed": armed, "writes": list(log), "total_writes": state["n"], "report": stop,
           "watched": "0x%%x" %% P["addr"], "watched_why": P.get("why")}, open(P["out"], "w"), indent=1)
try:
    ex("kill")
except gdb.error:
    pass
'''


def nearest_trace(lines, t, within=0.01):
    """The mmrace-trace line nearest guest time t (the trace's clock is
    printk's, local_clock), if one is within @within seconds: the guest
    dumps only the trace's tail, often all after the report."""
    best = None
    for text in lines:
        m = re.match(r"mmrace-trace:.*?\s(\d+\.\d+): (.*)$", judge.split_line(text)[1])
        if m:
            d = abs(float(m.group(1)) - t)
            if best is None or d < best[0]:
                best = (d, "%s: %s" % (m.group(1), m.group(2)))
    return best[1] if best and best[0] <= within else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("boot")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--last", type=int, default=4, help="how many of the last writes to show")
    ap.add_argument("--timeout", type=int, default=1800)
    a = ap.parse_args(argv)
    boot = os.path.abspath(a.boot)
    if not os.path.exists(os.path.join(boot, rr.MANIFEST)):
        print("explain.py: %s was not recorded (run.sh --record)" % boot, file=sys.stderr)
        return 2
    console = os.path.join(boot, "console.log")
    lines = judge.read_lines(console)
    ev = rr.first_event(console)
    if not ev:
        print("explain.py: %s has no report" % console, file=sys.stderr)
        return 2
    m = rr.read_manifest(boot)
    kconfig = os.path.join(os.path.dirname(m["vmlinux"]), ".config")
    config = open(kconfig).read() if os.path.exists(kconfig) else ""
    addr, why, but_was = target_of(ev, lines, config)
    vmlinux = m["vmlinux"]
    names = rr.vmlinux_symbols(vmlinux)
    nm = {}
    for line in subprocess.run(["nm", vmlinux], stdout=subprocess.PIPE, universal_newlines=True,
                               check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[2] in ("_stext", "_etext", "pcpu_hot", "jiffies_64"):
            nm[p[2]] = int(p[0], 16)
    out_dir = os.path.join(boot, "explain")
    os.makedirs(out_dir, exist_ok=True)
    text = rr.module_text(console)
    ko = rr.module_ko(boot, out_dir)
    port = a.port or free_port()
    params = {
        "port": port, "addr": addr, "ko": ko, "text": text,
        "detectors": rr.resolve(rr.detector_functions(ev), names),
        "stext": nm["_stext"], "etext": nm["_etext"],
        "mod_lo": int(text, 16) if text else 0,
        "mod_hi": int(text, 16) + os.path.getsize(ko) if text else 0,
        # struct pcpu_hot's preempt_count, after current_task (x86-64):
        # vmlinux has no DWARF, so the offset is the one the code uses.
        "preempt_off": nm["pcpu_hot"] + 8, "jiffies": nm["jiffies_64"],
        "out": os.path.join(out_dir, "gdb.json"),
        "lock": ev["kind"] == "lockdep", "keep": 2000,
    }
    with open(os.path.join(out_dir, "params.json"), "w") as f:
        json.dump(params, f)
    script = os.path.join(out_dir, "watch.py")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT % {"params": os.path.join(out_dir, "params.json")})
    print("explain: %s: watching 0x%x, %s" % (ev["title"], addr, why))
    t0 = time.time()
    rep = subprocess.Popen(["bash", os.path.join(TOP, "scripts/replay.sh"), boot, "--gdb",
                            str(port), "--out", os.path.join(out_dir, "replay")],
                           stdout=open(os.path.join(out_dir, "replay.log"), "w"),
                           stderr=subprocess.STDOUT)
    try:
        while not listening(port):
            if rep.poll() is not None:
                print("explain.py: the replay ended before its gdb stub listened: %s"
                      % open(os.path.join(out_dir, "replay.log")).read(), file=sys.stderr)
                return 2
            time.sleep(0.5)
        with open(os.path.join(out_dir, "gdb.log"), "w") as glog:
            subprocess.run(["gdb", "-q", "-nx", "-batch", vmlinux, "-x", script],
                           stdout=glog, stderr=subprocess.STDOUT, timeout=a.timeout)
        rep.wait(timeout=120)
    finally:
        if rep.poll() is None:
            rep.terminate()
    try:
        with open(params["out"]) as f:
            res = json.load(f)
    except (OSError, ValueError):
        print("explain.py: gdb left no result: see %s/gdb.log" % out_dir, file=sys.stderr)
        return 1
    rep_j = res["report"].get("jiffies")
    hz = 250
    for line in config.splitlines():
        if line.startswith("CONFIG_HZ="):
            hz = int(line.split("=")[1])
    for w in res["writes"]:
        if rep_j is not None and ev.get("time") is not None:
            w["t_guest"] = round(ev["time"] - (rep_j - w["jiffies"]) / hz, 4)
            w["trace"] = nearest_trace(lines, w["t_guest"])
    res.update({"address": "0x%x" % addr, "why": why, "title": ev["title"],
                "headline": ev["headline"], "wall_s": round(time.time() - t0, 1)})
    if but_was is not None and res["writes"] and res["writes"][-1]["new"]:
        res["last_wrote_but_was"] = int(res["writes"][-1]["new"], 16) == but_was
    with open(os.path.join(boot, "explain.json"), "w") as f:
        json.dump(res, f, indent=1)
    ws = res["writes"]
    if res.get("watched_why"):
        print("explain: watched %s instead: %s" % (res["watched"], res["watched_why"]))
    print("explain: %d writes to %s from mmrace.ko's init to the report (%ss wall)%s" % (
        res["total_writes"], res["watched"], res["wall_s"],
        "; the last %d:" % len(ws) if len(ws) < res["total_writes"] else ""))
    for i, w in enumerate(ws[-40:]):
        mark = ">>" if i >= min(40, len(ws)) - a.last else "  "
        print("%s %3d %-18s -> %-18s %-44s %-18s %s" % (
            mark, w["n"], w["old"], w["new"], w["sym"], w["ctx"],
            " < ".join(w["frames"][:3])))
    print("\nthe last %d writes before the report (%s):" % (min(a.last, len(ws)), res["report"].get("sym")))
    for w in ws[-a.last:]:
        print("  %s  %s  [%s]  %s -> %s" % (w["pc"], w["sym"], w["ctx"], w["old"], w["new"]))
        print("      insn: %s" % w["insn"])
        print("      stack: %s" % " < ".join(w["frames"]))
        if w.get("trace"):
            print("      nearest trace event (t~%ss): %s" % (w["t_guest"], w["trace"]))
    r = res["report"]
    print("  then the report: %s [%s]\n      stack: %s" % (
        r.get("sym"), r.get("ctx"), " < ".join(r.get("frames") or [])))
    if "last_wrote_but_was" in res:
        print("\nthe last write %s the value the report calls \"but was\"" % (
            "wrote exactly" if res["last_wrote_but_was"] else "did NOT write"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
