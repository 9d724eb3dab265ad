#!/usr/bin/env python3
"""Write a results directory's verdicts out: table, KTAP and JSON.

    report.py RESULTS_DIR [--quiet]

The verdicts are judge.py's (judge.collect: every boots/<name>/console.log
with its plan, .status and the kernel's config), final, SKIP and hang rules
included; this file only formats them, so ``judge.py --summary
RESULTS_DIR`` prints exactly summary.txt.  It writes:
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
import pages  # noqa: E402  (the results pages)
import judge  # noqa: E402,F401  (bench.py reads report.judge)
# The verdicts are the judge's (judge.collect); this file only formats them.
from judge import (EXCERPT_MAX, cap, collect, read_config, read_kv,  # noqa: E402,F401
                   read_lines, judge_boot, table)

def unit_of(key):
    if key.startswith("ops_per_s_"):
        return "ops/s"
    for sfx, unit in (("_us", "us"), ("_ms", "ms"), ("_ns", "ns"), ("_pct", "%")):
        if key.endswith(sfx):
            return unit
    return "count"


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


def _clean(obj):
    """@obj without None anywhere: KCIDB has no nulls."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_clean(v) for v in obj if v is not None]
    return obj


def _slug(text):
    """A KCIDB path component: letters, digits, '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def main_figure(r):
    """A test's one number: time to detection of a caught bug, else ops/s."""
    if r["verdict"] == "PASS" and r["observed"] != "clean" and r["t_detect"] is not None:
        return {"value": r["t_detect"], "unit": "s"}
    ops = sum(v for k, v in r["figures"].items() if k.startswith("ops_per_s_"))
    return {"value": ops, "unit": "ops/s"} if ops else None


def kcidb(results, meta, resdir):
    """KCIDB v5.3: the kernel's checkout, its build, a test per row (with
    its figures as sub-tests), and each bug variant as a known issue whose
    catch is an incident, so a dashboard shows "pcp/v2 caught again"."""
    run = _slug(os.path.basename(os.path.normpath(resdir)))
    origin = "mmrace"
    source = meta.get("kernel_source") or "unknown:%s" % meta.get("kernel_release", "unknown")
    checkout_id = "%s:%s" % (origin, source)
    build_id = "%s:%s:%s:%s" % (origin, source, meta.get("kernel", "unknown"),
                                meta.get("mmrace_git", "unknown"))
    tests, incidents = [], []
    # The known issues: every bug variant the module lists, run or not.
    known = {}
    for line in read_lines(os.path.join(resdir, "scenarios.txt")):
        ident, _, expect = line.strip().partition(" expect=")
        if expect and expect != "clean":
            known[ident] = expect
    for r in results:
        path = "mmrace." + ".".join(_slug(x) for x in r["id"].split("/"))
        tid = "%s:%s:%s" % (origin, run, r["id"])
        t = {
            "id": tid, "build_id": build_id, "origin": origin, "path": path,
            "status": r["verdict"],
            "number": main_figure(r),
            "duration": (r["figures"].get("run_ms", 0) / 1000.0) or None,
            "environment": {"comment": "QEMU %s, %s guest, boot %s" % (
                meta.get("accel", "tcg"), meta.get("arch", "x86_64"), r["boot"])},
            "misc": {
                "arch": meta.get("arch", "x86_64"), "expect": r["expect"], "observed": r["observed"],
                "headline": r["headline"], "t_detect_s": r["t_detect"],
                "boot": r["boot"], "boot_status": r["boot_status"],
                "knobs": r.get("knobs"), "first_report": r.get("first_report"),
            },
            "log_excerpt": cap(r["excerpt"]) if r["excerpt"] else None,
        }
        tests.append(t)
        # The other figures: sub-tests that KCIDB aggregates by path.
        for k, v in sorted(r["figures"].items()):
            tests.append({"id": "%s.%s" % (tid, k), "build_id": build_id, "origin": origin,
                          "path": "%s.%s" % (path, _slug(k)), "status": "DONE",
                          "number": {"value": v, "unit": unit_of(k)}})
        expect = r["expect"] or ""
        if expect in ("", "clean", "ok") or r["id"].startswith("guest/"):
            continue
        known.setdefault(r["id"], expect)
        iid = "%s:%s" % (origin, r["id"])
        if r["verdict"] == "PASS":
            incidents.append({"id": "%s:%s:%s" % (origin, run, r["id"]), "origin": origin,
                              "issue_id": iid, "issue_version": 1, "build_id": build_id,
                              "test_id": tid, "present": True,
                              "comment": "%s caught again: %s" % (
                                  r["id"], (r.get("first_report") or {}).get("title")
                                  or r["headline"])})
    issues = [{"id": "%s:%s" % (origin, ident), "version": 1, "origin": origin,
               "report_subject": "%s: %s" % (ident, expect),
               "culprit": {"code": True, "harness": False, "tool": False},
               "comment": "mmrace bug variant %s, caught when its first report is %s"
                          % (ident, expect)}
              for ident, expect in known.items()]
    boots = {}
    for r in results:
        cmd = read_lines(os.path.join(resdir, "boots", r["boot"], "console.log.cmd"))
        boots[r["boot"]] = {"qemu": cmd[0] if cmd else None,
                            "plan": [x for x in read_lines(os.path.join(resdir, "boots", r["boot"],
                                                                          "plan")) if x]}
    pkg, _, ver = source.partition("=")
    return _clean({
        "version": {"major": 5, "minor": 3},
        "checkouts": [{"id": checkout_id, "origin": origin, "tree_name": pkg,
                       "comment": "kernel source %s, version %s" % (pkg, ver or "unknown"),
                       "valid": True, "misc": {"source": source}}],
        "builds": [{"id": build_id, "origin": origin, "checkout_id": checkout_id,
                    "architecture": meta.get("arch", "x86_64"),
                    "config_name": meta.get("kernel"), "status": "PASS",
                    "duration": float(meta["kernel_build_s"]) if meta.get("kernel_build_s") else None,
                    "misc": {"meta": meta, "kernel_config": "kernel.config", "boots": boots}}],
        "tests": tests,
        "issues": issues,
        "incidents": incidents,
    })


def write_outputs(resdir, results, meta):
    """Write summary.txt, results.ktap, results.json and the pages (index.html,
    boots/*/console.html); return the table."""
    text = table(results)
    with open(os.path.join(resdir, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(resdir, "results.ktap"), "w", encoding="utf-8") as f:
        f.write(ktap(results))
    with open(os.path.join(resdir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(kcidb(results, meta, resdir), f, indent=1)
    pages.write_pages(resdir, results, meta)
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
