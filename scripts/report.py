#!/usr/bin/env python3
"""Turn a results directory into verdicts: table, KTAP and JSON.

    report.py RESULTS_DIR [--quiet]

Reads every boots/<name>/console.log (with its plan, .status and .cmd),
judges it with judge.py, and writes beside them:
  results.ktap   one KTAP test per scenario/variant (kunit.py parse reads it)
  results.json   KCIDB-shaped tests: id, status, duration, figures with
                 units, a log excerpt of at most 16 KiB per failure, and
                 what makes the run reproducible (misc.knobs: the run's
                 knob values from its knobs line, null in older logs)
  summary.txt    the table printed on stdout
Exit status 1 when any row is FAIL or ERROR, 2 when RESULTS_DIR cannot be
read or its outputs written.  Re-running it on an old results directory
re-judges it offline.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detectors  # noqa: E402
import judge  # noqa: E402
import protocol  # noqa: E402

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
    for kind, _ in judge.parse_expectation(expect):
        need = DETECTOR_CONFIG.get(kind)
        if need is None or need in config:
            return None
        missing.append(need)
    return " or ".join(sorted(set(missing))) or None


def unit_of(key):
    if key.startswith("ops_per_s_"):
        return "ops/s"
    for sfx, unit in (("_us", "us"), ("_ms", "ms"), ("_ns", "ns"), ("_pct", "%")):
        if key.endswith(sfx):
            return unit
    return "count"


def read_lines(path):
    """A file's lines as the judge numbers them ([] if it cannot be read)."""
    try:
        return judge.read_lines(path)
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
        _, text = judge.split_line(raw)
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
    rows = judge.verdicts(lines) if lines else []
    events = judge.parse_events(lines) if lines else []
    skips = {}
    for raw in lines:
        m = _SKIP.search(judge.split_line(raw)[1])
        if m:
            skips[m.group("id")] = m.group("why")
    out = []
    for ident in planned:
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
        res["first_report"] = ({k: first[k] for k in ("kind", "headline", "detail", "lock",
                                                      "line", "t_since_begin")}
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
        text = judge.split_line(raw)[1]
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
    evs = [e for e in judge.parse_events(lines) if window(lines, script, e["line"])]
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


def ktap(results):
    out = ["KTAP version 1", "1..%d" % len(results)]
    for i, r in enumerate(results, 1):
        name = r["id"].replace("/", ".")
        if r["verdict"] == "SKIP":
            out.append("ok %d %s # SKIP %s" % (i, name, r["headline"]))
        else:
            out.append("# %s: expected %s, observed %s: %s" % (
                name, r["expect"], r["observed"], r["headline"] or "-"))
            for k, v in sorted(r["figures"].items()):
                out.append("# %s %s: %d" % (name, k, v))
            out.append("%s %d %s" % ("ok" if r["verdict"] == "PASS" else "not ok", i, name))
    return "\n".join(out) + "\n"


def kcidb(results, meta, resdir):
    run = os.path.basename(os.path.normpath(resdir))
    origin = "mmrace"
    build_id = "%s:%s-%s" % (origin, meta.get("kernel", "?"), meta.get("mmrace_git", "?"))
    tests = []
    for r in results:
        figs = {k: {"value": v, "unit": unit_of(k)} for k, v in r["figures"].items()}
        t = {
            "id": "%s:%s:%s" % (origin, run, r["id"]),
            "build_id": build_id,
            "origin": origin,
            "path": "mmrace." + r["id"].replace("/", "."),
            "status": r["verdict"],
            "duration": (r["figures"].get("run_ms", 0) / 1000.0) or None,
            "misc": {
                "expect": r["expect"], "observed": r["observed"],
                "headline": r["headline"], "t_detect_s": r["t_detect"],
                "boot": r["boot"], "boot_status": r["boot_status"],
                "figures": figs, "knobs": r.get("knobs"),
                "first_report": r.get("first_report"),
            },
        }
        if r["excerpt"]:
            t["log_excerpt"] = cap(r["excerpt"])
        tests.append(t)
    boots = {}
    for r in results:
        cmd = read_lines(os.path.join(resdir, "boots", r["boot"], "console.log.cmd"))
        boots[r["boot"]] = {"qemu": cmd[0] if cmd else None,
                            "plan": [x for x in read_lines(os.path.join(resdir, "boots", r["boot"], "plan")) if x]}
    return {
        "version": {"major": 4, "minor": 3},
        "builds": [{"id": build_id, "origin": origin, "config_name": meta.get("kernel"),
                    "misc": {"meta": meta, "kernel_config": "kernel.config", "boots": boots}}],
        "tests": tests,
    }


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


def write_outputs(resdir, results, meta):
    """Write summary.txt, results.ktap and results.json; return the table."""
    text = table(results)
    with open(os.path.join(resdir, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(resdir, "results.ktap"), "w", encoding="utf-8") as f:
        f.write(ktap(results))
    with open(os.path.join(resdir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(kcidb(results, meta, resdir), f, indent=1)
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    # A wrong path is a usage error, not a crash: say which and why.
    try:
        results, meta = collect(a.results)
    except OSError as e:
        print("report.py: cannot read %s: %s" % (a.results, e.strerror or e), file=sys.stderr)
        return 2
    try:
        text = write_outputs(a.results, results, meta)
    except OSError as e:
        print("report.py: cannot write %s: %s" % (e.filename or a.results, e.strerror or e),
              file=sys.stderr)
        return 2
    if not a.quiet:
        print(text)
        print("results: %s" % os.path.abspath(a.results))
    bad = [r for r in results if r["verdict"] in ("FAIL", "ERROR")]
    return 1 if bad or not results else 0


if __name__ == "__main__":
    sys.exit(main())
