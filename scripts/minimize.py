#!/usr/bin/env python3
"""Shrink a bug variant's recipe to the least that still fires.

    minimize.py <scenario>/<variant> [--k 5] [--kdir DIR] [--out DIR]
    minimize.py <scenario>/<variant> --recipe "knob=value ..." [--cpus 1]
                                      (rerun one recipe K times, no shrinking)
    minimize.py --table DIR           (the table of DIR/*/minimize.json,
                                      run.sh --minimize's: README's)

Greedy, one piece at a time, from the variant's own defaults (the knobs
line the module prints after BEGIN) on two CPUs:

  1. two CPUs to one, recorded (-icount shift=7,rr=record, then shift=3
     as run.sh --record tries them): QEMU 7.2 records one CPU only, so
     this step is also "can it be recorded?"
  2. drop one context at a time (task, softirq, hrtimer, hardirq, ipi, wq)
  3. fewer threads (halved down to 1)
  4. a lower rate (period_us doubled, twice at most)
  5. a smaller burst (halved down to 1)
  6. a shorter duration (duration_ms halved, down to 250 ms)

A step is kept only if K of K boots fire with the same first report as the
baseline (judge.py's title); it is dropped at the first boot that does not,
so a rejected step costs "fired i of n" with n <= K.  The variants start
with no kprobe delay (the inject file), so there is none to remove.

Output (also OUT/minimize.txt and OUT/minimize.json): the minimal recipe as
a plan line, the command that reruns it, its rate and median time to
detection, whether it can be recorded, and what each removed piece cost.
Each trial is one boot (a one-shot detector reports once per boot); the
boots are scripts/boot.sh's, the plan line and boot arguments plan.py's.
Only the Python 3 standard library is used.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detectors  # noqa: E402
import judge  # noqa: E402
import plan  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("MMRACE_CACHE", os.path.expanduser("~/.cache/mmrace"))
MIN_DURATION = 250


def sh(*argv, **kw):
    return subprocess.run(list(argv), check=True, stdout=subprocess.PIPE,
                          universal_newlines=True, **kw).stdout.strip()


def log(msg):
    print("[minimize %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Lab:
    """Builds, boots and judges: one boot per trial."""

    def __init__(self, kdir, out, shift=7, ko=None):
        self.kdir, self.out, self.n, self.shift = kdir, out, 0, shift
        self.img = os.path.join(kdir, "arch/x86/boot/bzImage")
        # --ko: built once by run.sh --minimize, for minimizers side by side.
        self.ko = ko or os.path.join(sh("bash", os.path.join(TOP, "scripts/build-module.sh"), kdir),
                                     "mmrace.ko")
        self.params = os.path.join(out, "params")
        with open(self.params, "w") as f:
            # As run.sh: the guest notices a detector by the kinds' strings.
            f.write("SPLAT='%s'\n" % detectors.guest_splat())

    def scenarios(self):
        """The module's own list (run.sh's cache, else a list boot)."""
        ksum = sh("sha256sum", self.ko).split()[0][:16]
        cached = os.path.join(CACHE, "list." + ksum)
        if os.path.exists(cached) and os.path.getsize(cached):
            return plan.read_scenarios(cached)
        d = os.path.join(self.out, "list")
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, "plan"), "w").close()
        with open(os.path.join(d, "params"), "w") as f:
            f.write("LIST=1\n")
        self._boot(d, 2, 30, "", record=False, judged=False)
        lines = sh("python3", os.path.join(TOP, "scripts/protocol.py"), "scenarios",
                   os.path.join(d, "console.log"))
        with open(cached, "w") as f:
            f.write(lines + "\n")
        return plan.read_scenarios(cached)

    def _boot(self, d, cpus, silence, append, record, judged=True):
        initrd = os.path.join(d, "initrd.gz")
        sh("bash", os.path.join(TOP, "scripts/mkinitramfs.sh"), initrd, self.ko,
           os.path.join(d, "plan"), os.path.join(d, "params"))
        argv = ["bash", os.path.join(TOP, "scripts/boot.sh"), "--kernel", self.img,
                "--initrd", initrd, "--log", os.path.join(d, "console.log"),
                "--smp", str(cpus), "--silence", str(silence), "--append", append]
        if record:
            argv += ["--record", os.path.join(d, "replay.bin"), "--icount", str(self.shift)]
        if judged:
            # A trial is judged by its first report, as a run.sh bug boot.
            argv += ["--grace", "60", "--splat", detectors.guest_splat(), "--max", "1200"]
        t0 = time.time()
        subprocess.run(argv, check=True)
        # The verdict is all a trial needs: the recording and the
        # initramfs would be tens of MB per boot.
        for f in ("replay.bin", "initrd.gz"):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
        return time.time() - t0

    def trial(self, vid, expect, knobs, cpus):
        """One boot of @vid with @knobs (only those that differ from the
        variant's defaults are written: the guest sets the variant first)."""
        self.n += 1
        d = os.path.join(self.out, "boots", "%03d" % self.n)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "plan"), "w") as f:
            f.write(line_of(vid, knobs) + "\n")
        shutil.copy(self.params, os.path.join(d, "params"))
        wall = self._boot(d, cpus, plan.boot_silence("bug-x", [expect]),
                          plan.boot_args([expect]), record=(cpus == 1))
        rows = [r for r in judge.verdicts(judge.read_lines(os.path.join(d, "console.log")))
                if r["id"] == vid]
        r = rows[0] if rows else {"verdict": "no BEGIN", "title": None, "t_detect": None,
                                  "knobs": None}
        return {"boot": d, "verdict": r["verdict"], "title": r["title"],
                "t_detect": r["t_detect"], "knobs": r["knobs"], "wall_s": round(wall, 1)}


def line_of(vid, knobs):
    return " ".join([vid] + ["%s=%s" % kv for kv in knobs.items()])


def run_k(lab, vid, expect, knobs, cpus, k, title):
    """Up to k boots; stop at the first that misses (or reports otherwise)."""
    got = []
    for _ in range(k):
        r = lab.trial(vid, expect, knobs, cpus)
        ok = r["verdict"] == "PASS" and (title is None or r["title"] == title)
        r["same"] = ok
        got.append(r)
        log("  %s cpus=%d: %s %s t=%s (%ss)" % (line_of(vid, knobs), cpus, r["verdict"],
                                              r["title"], r["t_detect"], r["wall_s"]))
        if not ok:
            break
    return got


def fired(got, k):
    return len(got) == k and all(r["same"] for r in got)


def rate(got):
    n = sum(r["same"] for r in got)
    return "%d/%d" % (n, len(got)) + ("" if n == len(got) else " (stopped at the first miss)")


def median_t(got):
    ts = [r["t_detect"] for r in got if r["same"] and r["t_detect"] is not None]
    return round(statistics.median(ts), 3) if ts else None


def steps(knobs, cpus, shifts=(7,)):
    """The next candidate reductions of (knobs, cpus), as (what, knobs, cpus)."""
    # One CPU first: it decides whether the recipe can be recorded, and a
    # context dropped before it (task, when wq stands in) can leave one
    # that needs two CPUs (ipi), which would hide a recordable recipe.
    if cpus > 1:
        # As run.sh --record: shift=7, then 3 for the variants whose
        # 1 ms timers starve the task context at 128 ns an instruction.
        for sh in shifts:
            yield "one CPU (recorded, shift=%d)" % sh, dict(knobs, _shift=sh), 1
    ctx = [c for c in str(knobs.get("contexts", "")).split(",") if c]
    if len(ctx) > 1:
        for c in ctx:
            yield "without %s" % c, dict(knobs, contexts=",".join(x for x in ctx if x != c)), cpus
    if isinstance(knobs.get("threads"), int) and knobs["threads"] > 1:
        yield "threads %d" % (knobs["threads"] // 2), dict(knobs, threads=knobs["threads"] // 2), cpus
    if isinstance(knobs.get("period_us"), int) and knobs["period_us"] < 4 * knobs.get("_period0", 0):
        yield "period_us %d (rate / 2)" % (knobs["period_us"] * 2), \
            dict(knobs, period_us=knobs["period_us"] * 2), cpus
    if isinstance(knobs.get("burst"), int) and knobs["burst"] > 1:
        yield "burst %d" % (knobs["burst"] // 2), dict(knobs, burst=knobs["burst"] // 2), cpus
    d = knobs.get("duration_ms")
    if isinstance(d, int) and d // 2 >= MIN_DURATION:
        yield "duration_ms %d" % (d // 2), dict(knobs, duration_ms=d // 2), cpus


def changed(knobs, defaults):
    return {k: v for k, v in public(knobs).items() if defaults.get(k) != v}


def public(knobs):
    return {k: v for k, v in knobs.items() if not k.startswith("_")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variant", nargs="?")
    ap.add_argument("--table", metavar="DIR", help="print the table of DIR/*/minimize.json")
    ap.add_argument("--ko", help="a built mmrace.ko for the debug kernel (default: build it)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--kdir", help="debug kernel build tree (default: the cached one; never built)")
    ap.add_argument("--out")
    ap.add_argument("--recipe", help="rerun this knobs line K times instead of shrinking")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--record-shift", default="7,3",
                    help="-icount shifts the one-CPU step tries, in order (as run.sh --record)")
    a = ap.parse_args(argv)
    if a.table:
        print(table(a.table))
        return 0
    if not a.variant:
        ap.error("a <scenario>/<variant>, or --table DIR")
    kdir = a.kdir or subprocess.run(["bash", os.path.join(TOP, "scripts/kdir.sh")],
                                    stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    if not kdir or not os.path.exists(os.path.join(kdir, "arch/x86/boot/bzImage")):
        print("minimize.py: no built debug kernel (make kernel, or --kdir)", file=sys.stderr)
        return 2
    out = os.path.abspath(a.out or os.path.join(
        TOP, "results", "minimize-%s-%s" % (a.variant.replace("/", "-"), time.strftime("%Y%m%d-%H%M%S"))))
    os.makedirs(out, exist_ok=True)
    shifts = tuple(int(x) for x in str(a.record_shift).split(","))
    lab = Lab(kdir, out, shifts[0], a.ko)
    expect = dict(lab.scenarios()).get(a.variant)
    if expect is None:
        print("minimize.py: the module has no %s (see its scenario list)" % a.variant, file=sys.stderr)
        return 2
    if expect == "clean":
        print("minimize.py: %s is a clean variant: nothing fires to minimize" % a.variant, file=sys.stderr)
        return 2
    t0 = time.time()
    if a.recipe:
        knobs = dict(kv.split("=", 1) for kv in a.recipe.split())
        got = run_k(lab, a.variant, expect, knobs, a.cpus, a.k, None)
        print("%s cpus=%d: %s, median %ss" % (line_of(a.variant, knobs), a.cpus, rate(got), median_t(got)))
        return 0 if fired(got, a.k) else 1

    log("%s: baseline, the variant's defaults on 2 CPUs, %d boots" % (a.variant, a.k))
    base = run_k(lab, a.variant, expect, {}, 2, a.k, None)
    titles = {r["title"] for r in base}
    if not fired(base, a.k) or len(titles) != 1:
        why = "does not fire %d of %d at its defaults with one first report: %s (%s)" % (
            a.k, a.k, rate(base), ", ".join(sorted(str(t) for t in titles)))
        with open(os.path.join(out, "minimize.json"), "w") as f:
            json.dump({"variant": a.variant, "expect": expect, "k": a.k, "not_minimized": why,
                       "baseline": {"rate": rate(base), "median_s": median_t(base)},
                       "boots": lab.n, "wall_s": round(time.time() - t0)}, f, indent=1)
        print("minimize.py: %s %s" % (a.variant, why), file=sys.stderr)
        return 1
    title = titles.pop()
    knobs = dict(base[0]["knobs"] or {})
    knobs["_period0"] = knobs.get("period_us", 0)
    defaults = public(knobs)
    cpus, best, tried, cost = 2, base, set(), []
    progress = True
    while progress:
        progress = False
        for what, cand, c in steps(knobs, cpus, shifts):
            # A piece found needed stays needed: greedy, not a search.
            if what in tried:
                continue
            tried.add(what)
            log("try %s" % what)
            lab.shift = cand.get("_shift", shifts[0])
            got = run_k(lab, a.variant, expect, changed(cand, defaults), c, a.k, title)
            cost.append({"step": what, "rate": rate(got), "kept": fired(got, a.k),
                         "median_s": median_t(got)})
            if fired(got, a.k):
                knobs, cpus, best, progress = cand, c, got, True
                break
    recordable = cpus == 1
    one_cpu = [s for s in cost if s["step"].startswith("one CPU")]
    shift = knobs.get("_shift", shifts[0])
    res = {
        "variant": a.variant, "expect": expect, "title": title, "k": a.k,
        "baseline": {"rate": rate(base), "median_s": median_t(base), "knobs": public(dict(base[0]["knobs"] or {}))},
        "recipe": line_of(a.variant, changed(knobs, defaults)), "cpus": cpus,
        "full_recipe": line_of(a.variant, public(knobs)),
        "contexts": public(knobs).get("contexts"),
        "rate": rate(best), "median_s": median_t(best),
        "recordable": recordable, "record_shift": shift if recordable else None,
        "recordable_why": "fires %d of %d on one CPU, recorded" % (a.k, a.k) if recordable else
        ("not on one CPU, recorded: %s" % "; ".join("%s %s" % (s["step"], s["rate"]) for s in one_cpu)
         if one_cpu else "one CPU not tried"),
        "steps": cost, "boots": lab.n, "wall_s": round(time.time() - t0),
    }
    with open(os.path.join(out, "minimize.json"), "w") as f:
        json.dump(res, f, indent=1)
    text = [
        "%s (%s): %s" % (a.variant, expect, title),
        "baseline (defaults, 2 CPUs): %s, median %ss" % (res["baseline"]["rate"], res["baseline"]["median_s"]),
        "minimal recipe: %s   (cpus=%d)" % (res["recipe"], cpus),
        "  all knobs: %s" % res["full_recipe"],
        "  rate %s, median time to detection %ss, recordable (shift=%d): %s" % (
            res["rate"], res["median_s"], shift,
            "yes" if recordable else "no (%s)" % res["recordable_why"]),
        "  rerun: python3 scripts/minimize.py %s --k %d --cpus %d --record-shift %d --recipe '%s'" % (
            a.variant, a.k, cpus, shift, " ".join(res["recipe"].split()[1:])),
        "steps (%d boots, %ss):" % (lab.n, res["wall_s"]),
    ] + ["  %-30s %-32s %s" % (s["step"], s["rate"], "kept" if s["kept"] else "needed") for s in cost]
    with open(os.path.join(out, "minimize.txt"), "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join(text))
    return 0


def table(top):
    """README's table: a row per minimized bug variant under @top."""
    rows = ["| variant | first report | minimal contexts | CPUs | rate | median | replayable | what a removed piece cost |",
            "|---|---|---|---|---|---|---|---|"]
    for name in sorted(os.listdir(top)):
        p = os.path.join(top, name, "minimize.json")
        if not os.path.exists(p):
            continue
        with open(p) as f:
            r = json.load(f)
        if r.get("not_minimized"):
            rows.append("| %s | %s | not minimized: %s | | %s | %ss | | |" % (
                r["variant"], r["expect"], r["not_minimized"], r["baseline"]["rate"],
                r["baseline"]["median_s"]))
            continue
        needed = ["%s: %s" % (s["step"], s["rate"].split(" (")[0]) for s in r["steps"] if not s["kept"]]
        rows.append("| %s | %s | %s | %d | %s | %ss | %s | %s |" % (
            r["variant"], r["title"], r["contexts"] or "-", r["cpus"], r["rate"].split(" (")[0],
            r["median_s"], "yes" if r["recordable"] else "no", "; ".join(needed) or "-"))
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
