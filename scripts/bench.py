#!/usr/bin/env python3
"""Detection statistics over many boots, and what they say about "clean".

    bench.py sizing DETECT_DIR [--alpha A] [--cap N]
        per scenario, the clean boots needed: "<scenario>\t<n>"
    bench.py report BENCH_DIR [--alpha A]
        table + bench.json + SVG plots + comparison with the previous run
    bench.py pcp RESULTS_DIR...
        pcp's benchmark alone, from run.sh results (e.g. --only '^pcp/bench')

A bug variant caught in k of N boots has a detection probability p whose
95 % Wilson interval is printed.  If p (its lower bound, to stay honest)
is the chance one boot catches the bug, a fixed variant that stays clean
for n >= ln(alpha) / ln(1 - p) boots is clean at confidence 1 - alpha.
"""
import argparse
import glob
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

Z = 1.959964


def wilson(k, n):
    """95 % Wilson score interval of k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + Z * Z / n
    mid = (p + Z * Z / (2 * n)) / den
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def boots_needed(p, alpha):
    """Clean boots for confidence 1 - alpha when one boot catches w.p. p."""
    if p <= 0:
        return None
    if p >= 1:
        return 1
    return max(1, math.ceil(math.log(alpha) / math.log(1 - p)))


def confidence(p, n):
    """What n clean boots buy when one boot catches with probability p."""
    return 1 - (1 - p) ** n if p > 0 else 0.0


def pct(values, q):
    s = sorted(values)
    if not s:
        return None
    i = min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))
    return s[i]


def results_of(resdir):
    """Per-row results of a run directory, judged afresh."""
    config = report.read_config(os.path.join(resdir, "kernel.config"))
    rows = []
    for b in sorted(glob.glob(os.path.join(resdir, "boots", "*"))):
        if os.path.exists(os.path.join(b, "plan")):
            for r in report.judge_boot(b, config):
                r["boot_dir"] = b
                rows.append(r)
    return rows


def detection(rows):
    """{id: {k, n, times, rate, lo, hi, scenario}} over the bug rows."""
    out = {}
    for r in rows:
        if not r.get("expect") or r["expect"] == "clean" or r["id"].startswith("guest/"):
            continue
        d = out.setdefault(r["id"], {"k": 0, "n": 0, "times": [], "skips": 0,
                                     "scenario": r["id"].split("/")[0]})
        if r["verdict"] == "SKIP":
            d["skips"] += 1
            continue
        d["n"] += 1
        if r["verdict"] == "PASS":
            d["k"] += 1
            if r["t_detect"] is not None:
                d["times"].append(r["t_detect"])
    for d in out.values():
        d["rate"] = d["k"] / d["n"] if d["n"] else None
        d["lo"], d["hi"] = wilson(d["k"], d["n"])
    return out


def sizing(det, alpha, cap=None):
    """{scenario: (boots needed, p used)} from the weakest bug variant."""
    need = {}
    for d in det.values():
        if not d["n"]:
            continue
        n = boots_needed(d["lo"], alpha)
        cur = need.get(d["scenario"])
        if n is None:
            n = cap or 1
        if cap:
            n = min(n, cap)
        if cur is None or n > cur[0] or (n == cur[0] and d["lo"] < cur[1]):
            need[d["scenario"]] = (n, d["lo"])
    return need


def clean_figures(rows):
    """{id: {boots, clean, figures averaged}} over the clean rows."""
    out = {}
    for r in rows:
        if r.get("expect") != "clean":
            continue
        d = out.setdefault(r["id"], {"boots": 0, "clean": 0, "figs": {}})
        d["boots"] += 1
        d["clean"] += r["verdict"] == "PASS"
        for k, v in r["figures"].items():
            d["figs"].setdefault(k, []).append(v)
    for d in out.values():
        d["figures"] = {k: statistics.mean(v) for k, v in d["figs"].items()}
        del d["figs"]
    return out


def boot_times(rows):
    """Wall seconds of each boot and guest seconds to /init."""
    walls, inits = {}, []
    for r in rows:
        b = r.get("boot_dir")
        if not b or b in walls:
            continue
        walls[b] = r["boot_wall_s"]
        for line in report.read_lines(os.path.join(b, "console.log")):
            if "Run /init as init process" in line:
                t, _ = report.judge.split_line(line)
                if t is not None:
                    inits.append(t)
                break
    return list(walls.values()), inits


def svg_strips(det, path):
    """Detection-time distribution, one strip of dots per bug variant."""
    items = [(i, d) for i, d in sorted(det.items()) if d["times"]]
    if not items:
        return False
    tmax = max(max(d["times"]) for _, d in items)
    lmin, lmax = math.log10(0.01), math.log10(max(tmax, 0.1) * 1.5)
    w, left, rowh = 760, 230, 28
    h = 50 + rowh * len(items)
    xs = lambda t: left + (w - left - 20) * (math.log10(max(t, 0.01)) - lmin) / (lmax - lmin)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="11">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="16" font-size="13">time to detection, guest seconds from BEGIN '
           '(log scale; one dot per boot)</text>']
    for e in range(-2, int(math.ceil(lmax)) + 1):
        if e > lmax:
            break
        x = xs(10 ** e)
        out.append('<line x1="%.1f" y1="24" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, x, h - 16))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%gs</text>' % (x, h - 4, 10 ** e))
    for row, (ident, d) in enumerate(items):
        y = 40 + row * rowh
        out.append('<text x="10" y="%d">%s %d/%d</text>' % (y + 4, ident, d["k"], d["n"]))
        for t in d["times"]:
            out.append('<circle cx="%.1f" cy="%d" r="4" fill="#c0392b" fill-opacity="0.6"/>'
                       % (xs(t), y))
        med = statistics.median(d["times"])
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"/>'
                   % (xs(med), y - 9, xs(med), y + 9))
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return True


def svg_bars(pairs, title, unit, path):
    """Horizontal bars: [(label, value)]."""
    pairs = [(k, v) for k, v in pairs if v]
    if not pairs:
        return False
    vmax = max(v for _, v in pairs)
    w, left, rowh = 760, 300, 22
    h = 40 + rowh * len(pairs)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="11">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="16" font-size="13">%s</text>' % title]
    for i, (k, v) in enumerate(pairs):
        y = 30 + i * rowh
        bw = (w - left - 90) * v / vmax
        out.append('<text x="10" y="%d">%s</text>' % (y + 12, k))
        out.append('<rect x="%d" y="%d" width="%.1f" height="14" fill="#2e86c1"/>' % (left, y, bw))
        out.append('<text x="%.1f" y="%d">%.3g %s</text>' % (left + bw + 4, y + 12, v, unit))
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return True


# pcp's benchmark: (load, variant suffix); bench_<lock><suffix> rows.
PCP_LOADS = (("1 thread, task context only", "_1t"),
             ("1 thread per CPU + hardirq pairs", ""))
PCP_LOCKS = ("irqsave", "final", "buddy")


def pcp_bench(clean):
    """{load: {lock: ns, "final/irqsave": r, "irqsave/buddy": r, ...}}.

    @clean: {id: {"figures": {...}}} (clean_figures()).  ns_per_pair is
    task-context pairs only (the hardirq pairs are the load), so the two
    loads compare the same thing: irqsave vs final vs the real allocator
    (alloc_page/__free_page) alone, then with interrupts allocating too.
    """
    out = {}
    for load, sfx in PCP_LOADS:
        ns = {}
        for lock in PCP_LOCKS:
            v = clean.get("pcp/bench_%s%s" % (lock, sfx), {}).get(
                "figures", {}).get("ns_per_pair")
            if v:
                ns[lock] = v
        if not ns:
            continue
        d = dict(ns)
        for a, b in (("final", "irqsave"), ("irqsave", "buddy"), ("final", "buddy")):
            if a in ns and b in ns:
                d["%s/%s" % (a, b)] = ns[a] / ns[b]
        out[load] = d
    return out


def pcp_bench_lines(bench):
    """The ratios table: one row per load."""
    if not bench:
        return []
    cols = ["irqsave", "final", "buddy", "final/irqsave", "irqsave/buddy", "final/buddy"]
    tab = [("pcp: ns per task alloc+free pair",) + tuple(cols)]
    for load, d in bench.items():
        tab.append((load,) + tuple(
            "-" if c not in d else
            ("%.0f ns" % d[c]) if "/" not in c else "%.2fx" % d[c] for c in cols))
    return report_table(tab)


def cmd_pcp(a):
    rows = []
    for d in a.dirs:
        if not os.path.isdir(os.path.join(d, "boots")):
            print("bench.py: %s has no boots: not a run directory" % d, file=sys.stderr)
            return 2
        rows += results_of(d)
    bench = pcp_bench(clean_figures(rows))
    if not bench:
        print("bench.py: no pcp/bench_* figures in %s" % " ".join(a.dirs), file=sys.stderr)
        return 1
    print("\n".join(pcp_bench_lines(bench)))
    return 0


def fmt(v, unit="s"):
    return "-" if v is None else "%.2f%s" % (v, unit)


def previous(bench_root, this):
    older = sorted(p for p in glob.glob(os.path.join(bench_root, "*", "bench.json"))
                   if os.path.dirname(p) != os.path.normpath(this)
                   and not os.path.islink(os.path.dirname(p)))
    if not older:
        return None
    with open(older[-1], encoding="utf-8") as f:
        return json.load(f)


def compare(cur, prev):
    """Flags: a detection rate that dropped, a median that doubled."""
    flags = []
    if not prev:
        return flags
    for ident, d in cur["detection"].items():
        p = prev.get("detection", {}).get(ident)
        if not p or d["rate"] is None or p.get("rate") is None:
            continue
        if d["rate"] < p["rate"]:
            flags.append("%s: detection rate dropped %.0f%% -> %.0f%%"
                         % (ident, 100 * p["rate"], 100 * d["rate"]))
        if d.get("median") and p.get("median") and d["median"] > 2 * p["median"]:
            flags.append("%s: median time to detection doubled %.2fs -> %.2fs"
                         % (ident, p["median"], d["median"]))
    return flags


def cmd_sizing(a):
    if not os.path.isdir(os.path.join(a.dir, "boots")):
        print("bench.py: %s has no boots: not a run directory" % a.dir, file=sys.stderr)
        return 2
    det = detection(results_of(a.dir))
    for sc, (n, _) in sorted(sizing(det, a.alpha, a.cap).items()):
        print("%s\t%d" % (sc, n))
    return 0


def cmd_report(a):
    if not os.path.isdir(os.path.join(a.dir, "detect", "boots")):
        print("bench.py: %s has no detect/boots: not a bench directory" % a.dir,
              file=sys.stderr)
        return 2
    rows_d = results_of(os.path.join(a.dir, "detect"))
    rows_c = []
    for d in sorted(glob.glob(os.path.join(a.dir, "clean-*"))):
        rows_c += results_of(d)
    det = detection(rows_d)
    need = sizing(det, a.alpha)
    clean = clean_figures(rows_c)
    walls, inits = boot_times(rows_d + rows_c)
    meta = report.read_kv(os.path.join(a.dir, "detect", "meta.env"))

    a.boots = max([d["n"] + d["skips"] for d in det.values()] or [0])
    out = ["Detection (%s boots per bug variant; Wilson 95%% interval)" % a.boots, ""]
    hdr = ("bug variant", "caught", "rate", "95% CI", "min", "median", "p90", "max")
    tab = [hdr]
    for ident, d in sorted(det.items()):
        t = d["times"]
        d["median"] = statistics.median(t) if t else None
        if not d["n"]:
            tab.append((ident, "SKIP", "-", "-", "-", "-", "-", "-"))
            continue
        tab.append((ident, "%d/%d" % (d["k"], d["n"]), "%.0f%%" % (100 * d["rate"]),
                    "%.0f-%.0f%%" % (100 * d["lo"], 100 * d["hi"]),
                    fmt(min(t) if t else None), fmt(d["median"]),
                    fmt(pct(t, 0.9)), fmt(max(t) if t else None)))
    out += report_table(tab)
    out += ["", "Clean variants (alpha %.2g: n >= ln(alpha)/ln(1-p), p = the scenario's "
            "weakest lower bound)" % a.alpha, ""]
    tab = [("clean variant", "verdict", "boots needed", "ops/s (all contexts)", "figures")]
    for ident, d in sorted(clean.items()):
        sc = ident.split("/")[0]
        n_need, p = need.get(sc, (None, 0.0))
        ok = d["clean"] == d["boots"]
        conf = confidence(p, d["clean"]) if ok else 0.0
        # A statement about power, not about the code: a bug as easy to
        # catch as the scenario's weakest known one would have shown.
        verdict = ("%d clean boots: a bug as detectable as the weakest known "
                   "(p >= %.2f) would have been caught with %.0f%% probability"
                   % (d["boots"], p, 100 * conf) if ok
                   else "NOT clean: %d of %d boots" % (d["clean"], d["boots"]))
        d["confidence"] = conf
        d["boots_needed"] = n_need
        f = d["figures"]
        ops = sum(v for k, v in f.items() if k.startswith("ops_per_s_"))
        extra = ", ".join("%s=%.0f" % (k, v) for k, v in sorted(f.items())
                          if not k.startswith("ops") and k != "run_ms")[:110]
        tab.append((ident, verdict, str(n_need or "-"), "%.0f" % ops, extra))
    out += report_table(tab)
    bt = {"boot_wall_s_median": statistics.median(walls) if walls else None,
          "guest_s_to_init_median": statistics.median(inits) if inits else None,
          "boots": len(walls)}
    out += ["", "Boots: %d, wall median %s, guest time to /init median %s; kernel build %s, "
            "module build %s" % (bt["boots"], fmt(bt["boot_wall_s_median"]),
                                 fmt(bt["guest_s_to_init_median"]),
                                 meta.get("kernel_build_s", "?") + "s",
                                 meta.get("module_build_s", "?") + "s")]
    res = {"alpha": a.alpha, "boots_per_bug": a.boots, "meta": meta,
           "detection": {k: {x: v[x] for x in ("k", "n", "rate", "lo", "hi", "times", "median")}
                         for k, v in det.items()},
           "clean": clean, "boot_times": bt}
    flags = compare(res, previous(os.path.dirname(os.path.normpath(a.dir)), a.dir))
    res["flags"] = flags
    out += [""] + (["FLAG: " + x for x in flags] or ["compared with the previous run: no flag"])
    plots = []
    if svg_strips(det, os.path.join(a.dir, "detection.svg")):
        plots.append("detection.svg")
    # pcp's benchmark: both loads, final vs irqsave and each vs the buddy.
    bench = pcp_bench(clean)
    if bench:
        res["pcp_bench"] = bench
        out += ["", "pcp benchmark (mean over boots; ratios of ns per task-context pair)", ""]
        out += pcp_bench_lines(bench)
    ns = [(i, d["figures"]["ns_per_pair"]) for i, d in sorted(clean.items())
          if i.startswith("pcp/bench_") and d["figures"].get("ns_per_pair")]
    if svg_bars(ns, "pcp: ns per task alloc+free pair, mean over boots", "ns",
                os.path.join(a.dir, "pcp_ns_per_pair.svg")):
        plots.append("pcp_ns_per_pair.svg")
    with open(os.path.join(a.dir, "bench.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.dir, "index.html"), "w", encoding="utf-8") as f:
        f.write("<html><body><pre>%s</pre>%s</body></html>\n" % (
            "\n".join(out).replace("&", "&amp;").replace("<", "&lt;"),
            "".join('<p><img src="%s"></p>' % p for p in plots)))
    text = "\n".join(out)
    with open(os.path.join(a.dir, "bench.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(text)
    print("\nplots: %s" % ", ".join(os.path.join(a.dir, p) for p in plots))
    return 0


def report_table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for i, r in enumerate(rows):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sizing")
    s.add_argument("dir")
    s.add_argument("--alpha", type=float, default=0.01)
    s.add_argument("--cap", type=int)
    r = sub.add_parser("report")
    r.add_argument("dir")
    r.add_argument("--alpha", type=float, default=0.01)
    c = sub.add_parser("pcp")
    c.add_argument("dirs", nargs="+")
    a = ap.parse_args(argv)
    return {"sizing": cmd_sizing, "report": cmd_report, "pcp": cmd_pcp}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
