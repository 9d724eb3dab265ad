#!/usr/bin/env python3
"""Check a results directory's index.html in a real browser (headless Chromium).

    page-check.py RESULTS_DIR [--chromium PATH]

Prints "PASS|FAIL|SKIP <what>" rows: the page as Chromium builds it
(--dump-dom) has one row per test of results.json, every row links to a
console page that exists with the anchor of its first report, and a
screenshot of the page is not blank (its pixels are not all one colour).
SKIP, with the reason, when no Chromium is installed.  Exit 1 on any FAIL.
"""
import argparse
import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse
import zlib

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Rows(html.parser.HTMLParser):
    """The verdict table's rows (data-test) and every link of the page."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self._row = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-test" in a:
            self._row = a["data-test"]
            self.rows.append(self._row)
        elif tag == "a" and a.get("href"):
            self.links.append((self._row, a["href"]))

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None


def png_distinct_colours(path, limit=8):
    """How many distinct pixel rows a PNG has (up to @limit): 1 = blank."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 4
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            bpp = {2: 3, 6: 4, 0: 1, 4: 2}.get(ctype, 4) * max(1, depth // 8)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp + 1
    seen = set()
    # Row filters make raw bytes differ even for equal pixels; a blank page
    # still gives few distinct filtered rows, a table gives many.
    for y in range(0, height, max(1, height // 64)):
        seen.add(raw[y * stride:(y + 1) * stride])
        if len(seen) >= limit:
            break
    return len(seen)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    a = ap.parse_args(argv)
    index = os.path.abspath(os.path.join(a.results, "index.html"))
    if not os.path.exists(index):
        print("FAIL index.html exists (%s)" % index)
        return 1
    if not a.chromium:
        print("SKIP page in a browser: no chromium (apt-get install chromium)")
        return 0
    url = "file://" + urllib.parse.quote(index)
    bad = 0
    with tempfile.TemporaryDirectory() as prof:
        base = [a.chromium] + FLAGS + ["--user-data-dir=" + prof]
        dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True,
                             timeout=120).stdout
        shot = os.path.join(prof, "shot.png")
        subprocess.run(base + ["--screenshot=" + shot, "--window-size=1400,1000", url],
                       capture_output=True, timeout=120)
        p = Rows()
        p.feed(dom)
        with open(os.path.join(a.results, "results.json"), encoding="utf-8") as f:
            # One row per test; DONE entries are a row's figures, not rows.
            want = [t for t in json.load(f)["tests"] if t["status"] != "DONE"]
        ok = len(p.rows) == len(want) and len(set(p.rows)) == len(p.rows)
        print("%s page has one row per test (%d rows, %d tests)" % (
            "PASS" if ok else "FAIL", len(p.rows), len(want)))
        bad += not ok
        consoles = [(row, h) for row, h in p.links if row and "console.html" in h]
        missing = [h for _, h in consoles
                   if not os.path.exists(os.path.join(a.results, h.split("#")[0]))]
        linked = {row for row, _ in consoles}
        ok = not missing and linked == set(p.rows)
        print("%s every row links to its console page (%d links, %d missing%s)" % (
            "PASS" if ok else "FAIL", len(consoles), len(missing),
            ": " + ", ".join(missing[:3]) if missing else ""))
        bad += not ok
        try:
            n = png_distinct_colours(shot)
            ok = n > 2
            print("%s screenshot is not blank (%d distinct rows sampled)" % (
                "PASS" if ok else "FAIL", n))
        except (OSError, AssertionError, zlib.error) as e:
            ok = False
            print("FAIL screenshot is not blank (%s)" % e)
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
