"""Every report header the kernel can print, classified by scripts/judge.py.

tests/fixtures/report_headers.tsv lists one console line per report header
(the format string of a kernel source file instantiated with realistic
values, without the timestamp): kind, sample, source, note.  ``kind`` is the
kind judge.classify() must give the line, ``info`` meaning the line looks
like a report but is not a failure (classify() must return None).

Two escapes keep the TSV readable: ``<ESC>`` stands for the byte 0x1b and
``<TAB>`` for a tab; they are decoded before the sample reaches the judge.
Rows whose note starts with "garbage:" carry console noise (escape
sequences, BIOS text) before the header on the same line: their kind is the
header's, as if the garbage were absent.
"""

import collections
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TABLE = os.path.join(HERE, "fixtures", "report_headers.tsv")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import detectors  # noqa: E402
import judge  # noqa: E402

#: The kinds the table uses: scripts/detectors.py's (the one table of
#: detector kinds), less mmrace's own two, plus ``info``.  Every one must
#: have at least one row.
KINDS = tuple(k["kind"] for k in detectors.KINDS if k["kind"] not in ("mmrace", "hang")) + ("info",)

HEADER = ["kind", "sample", "source", "note"]


def decode(sample):
    return sample.replace("<ESC>", "\x1b").replace("<TAB>", "\t")


def load():
    # Plain split, not csv: samples and notes contain quotes.
    with open(TABLE, encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0].split("\t") == HEADER
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        assert len(fields) == 4, "line %d: %d fields" % (n, len(fields))
        rows.append((n,) + tuple(fields))
    return rows


ROWS = load()


def test_table_well_formed():
    for n, kind, sample, source, note in ROWS:
        assert kind in KINDS, "line %d: unknown kind %r" % (n, kind)
        assert sample.strip(), "line %d: empty sample" % n
        assert source.strip(), "line %d: empty source" % n
        assert "\x1b" not in sample, "line %d: write escapes as <ESC>" % n


def test_counts():
    counts = collections.Counter(kind for _, kind, _, _, _ in ROWS)
    print()
    for kind in KINDS:
        print("%-16s %3d" % (kind, counts[kind]))
    print("%-16s %3d" % ("total", len(ROWS)))
    missing = [k for k in KINDS if counts[k] < 1]
    assert not missing, "kinds without a row: %s" % ", ".join(missing)


@pytest.mark.parametrize(
    "kind,sample",
    [pytest.param(k, s, id="%d-%s" % (n, k)) for n, k, s, _, _ in ROWS],
)
def test_classify(kind, sample):
    got = judge.classify(decode(sample))
    if kind == "info":
        assert got is None, "%r classified as %r, expected no report" % (
            sample, got[0])
    else:
        assert got is not None, "%r not classified, expected %s" % (sample, kind)
        assert got[0] == kind, "%r classified as %r, expected %s" % (
            sample, got[0], kind)
