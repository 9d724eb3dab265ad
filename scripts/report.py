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
import judge  # noqa: E402
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
