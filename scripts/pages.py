#!/usr/bin/env python3
"""A results directory as static pages: index.html and a page per console.

    pages.py RESULTS_DIR       (report.py calls write_pages() itself)

index.html holds the verdict table, coloured by verdict; each row links to
its boot's console at the first report, which that page highlights; it
shows the knobs that rerun the row (as a run.sh command and as debugfs
writes), the last mmrace trace events of the row's window, and the
detection and pcp plots inline.  Standard library only: no server, no
framework, no script; the pages work from file://.
"""
import html
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge  # noqa: E402
import protocol  # noqa: E402

COLOURS = {"PASS": "#d4f7d4", "FAIL": "#ffd0d0", "ERROR": "#ffe3b0", "SKIP": "#e4e4e4"}
STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #999; padding: 2px 6px; vertical-align: top; font-size: 90%; }
th { background: #eee; }
pre, code { font-size: 85%; }
pre.console { line-height: 1.25; }
.hl { background: #fff2a8; display: block; }
details { margin: 2px 0; }
"""
TRACE_LINES = 20
PLOTS = ("detection.svg", "pcp_ns_per_pair.svg")


def _e(text):
    return html.escape(str(text), quote=True)


def rerun(r):
    """The commands that run this row again: run.sh, and debugfs by hand."""
    ident = r["id"]
    if ident.startswith("guest/") or "/" not in ident:
        return None, None
    sc, var = ident.split("/", 1)
    knobs = r.get("knobs") or {}
    cmd = "bash scripts/run.sh --only '^%s$'" % ident
    if knobs.get("duration_ms"):
        cmd += " --duration-ms %s" % knobs["duration_ms"]
    d = "/sys/kernel/debug/mmrace/%s" % sc
    lines = ["echo %s > %s/variant" % (var, d)]
    lines += ["echo %s > %s/%s" % (v, d, k) for k, v in knobs.items() if v != ""]
    lines.append("echo 1 > %s/run" % d)
    return cmd, "\n".join(lines)


def trace_tail(lines, r):
    """The last mmrace trace events the guest dumped in the row's window."""
    fr = r.get("first_report") or {}
    start = fr.get("line") or 1
    out = []
    for raw in lines[start - 1:]:
        text = judge.split_line(raw)[1]
        m = protocol.TRACE.match(text)
        if m:
            out.append(m.group("line"))
        elif out and protocol.GUEST.match(text):
            break
    return out[-TRACE_LINES:]


def console_page(resdir, boot, marks):
    """boots/<boot>/console.html: every line anchored, reports highlighted.

    @marks: [(first line, last line)] of the first reports to highlight.
    """
    d = os.path.join(resdir, "boots", boot)
    lines = judge.read_lines(os.path.join(d, "console.log"))
    hl = set()
    for lo, hi in marks:
        hl.update(range(lo, (hi or lo) + 1))
    body = []
    for n, raw in enumerate(lines, 1):
        cls = ' class="hl"' if n in hl else ""
        body.append('<span id="L%d"%s>%s</span>' % (n, cls, _e(raw.rstrip("\r")) or " "))
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s console</title>"
            "<style>%s</style></head><body><h1>%s</h1><p><a href=\"../../index.html\">"
            "results</a> &middot; <a href=\"console.log\">console.log</a></p>"
            "<pre class=\"console\">%s</pre></body></html>\n"
            % (_e(boot), STYLE, _e(boot), "\n".join(body)))
    with open(os.path.join(d, "console.html"), "w", encoding="utf-8") as f:
        f.write(page)
    return lines


def _plots(resdir):
    """SVG plots inline: the run's own (a bench), else the repo's last bench."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    for name in PLOTS:
        for cand in (os.path.join(resdir, name),
                     os.path.join(here, "..", "docs", "bench", name)):
            if os.path.exists(cand):
                with open(cand, encoding="utf-8") as f:
                    svg = f.read()
                if svg.lstrip().startswith("<svg"):
                    src = "this run" if cand.startswith(resdir) else "docs/bench (the last full bench)"
                    out.append("<figure>%s<figcaption>%s, from %s</figcaption></figure>"
                               % (svg, _e(name), _e(src)))
                break
    return "\n".join(out)


def write_pages(resdir, results, meta):
    """Write index.html and boots/*/console.html; return index.html's path."""
    by_boot = {}
    for r in results:
        fr = r.get("first_report")
        by_boot.setdefault(r["boot"], [])
        if fr:
            by_boot[r["boot"]].append((fr["line"], fr.get("end_line")))
    consoles = {}
    for boot, marks in by_boot.items():
        if os.path.exists(os.path.join(resdir, "boots", boot, "console.log")):
            consoles[boot] = console_page(resdir, boot, marks)
    counts = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    rows = []
    for r in results:
        fr = r.get("first_report") or {}
        href = "boots/%s/console.html" % r["boot"]
        if fr.get("line"):
            href += "#L%d" % fr["line"]
        cmd, dbg = rerun(r)
        extra = []
        if fr:
            extra.append("<div><b>first report</b>: %s<br><code>%s</code></div>"
                         % (_e(fr.get("title") or ""), _e(fr.get("headline") or "")))
        if cmd:
            extra.append("<details><summary>rerun</summary><pre>%s\n\n%s</pre></details>"
                         % (_e(cmd), _e(dbg)))
        if r.get("recipe"):
            extra.append("<div><b>minimal recipe</b>: <code>%s</code></div>" % _e(r["recipe"]))
        if r.get("replay"):
            extra.append("<div><b>replay</b>: <code>%s</code></div>" % _e(r["replay"]))
        trace = trace_tail(consoles.get(r["boot"], []), r) if fr else []
        if trace:
            extra.append("<details><summary>last %d mmrace trace events</summary><pre>%s</pre>"
                         "</details>" % (len(trace), _e("\n".join(trace))))
        rows.append(
            '<tr style="background:%s" data-test="%s"><td>%s</td><td>%s</td><td>%s</td>'
            '<td><a href="%s">%s</a></td><td>%s</td><td><b>%s</b></td><td>%s</td></tr>'
            % (COLOURS.get(r["verdict"], "#fff"), _e(r["id"]), _e(r["id"]),
               _e(r["expect"] or "-"), _e(r["observed"] or "-"), _e(href),
               _e(r["headline"] or "console"), _e(judge.fmt_time(r)), _e(r["verdict"]),
               "".join(extra)))
    summary = ", ".join("%d %s" % (counts.get(v, 0), v) for v in ("PASS", "FAIL", "ERROR", "SKIP"))
    page = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>mmrace results %(run)s</title>
<style>%(style)s</style></head><body>
<h1>mmrace results: %(run)s</h1>
<p>kernel %(kernel)s (%(release)s), mmrace %(version)s (%(git)s), %(accel)s.
<b>%(summary)s</b>. <a href="summary.txt">summary.txt</a> &middot;
<a href="results.json">results.json</a> (KCIDB v5.3) &middot;
<a href="results.ktap">results.ktap</a></p>
<table><tr><th>test</th><th>expected</th><th>observed</th><th>first report (console)</th>
<th>time</th><th>verdict</th><th>details</th></tr>
%(rows)s
</table>
%(plots)s
</body></html>
""" % {"run": _e(os.path.basename(os.path.normpath(resdir))), "style": STYLE,
       "kernel": _e(meta.get("kernel", "?")), "release": _e(meta.get("kernel_release", "?")),
       "version": _e(meta.get("mmrace_version", "?")), "git": _e(meta.get("mmrace_git", "?")),
       "accel": _e(meta.get("accel", "?")), "summary": _e(summary),
       "rows": "\n".join(rows), "plots": _plots(resdir)}
    path = os.path.join(resdir, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: pages.py RESULTS_DIR", file=sys.stderr)
        return 2
    try:
        results, meta = judge.collect(args[0])
        print(write_pages(args[0], results, meta))
    except OSError as e:
        print("pages.py: cannot read %s: %s" % (args[0], e.strerror or e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
