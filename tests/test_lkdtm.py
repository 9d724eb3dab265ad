"""lkdtm's crash types, re-judged offline: scripts/lkdtm.py over real consoles.

tests/fixtures/lkdtm/ holds every console of one scripts/lkdtm.sh run on
the debug kernel (<chain>-<boot>.log, copied whole), the run's tests.txt
(the kernel's tools/testing/selftests/lkdtm/tests.txt) and expect.tsv, the
judge kind each case's first report must have.  The README there says how
they were captured.  Every case of tests.txt must get the row the booted
stage gave it, without booting.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(HERE, "fixtures", "lkdtm")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import judge  # noqa: E402
import lkdtm  # noqa: E402

TESTS = lkdtm.parse_tests(os.path.join(FIX, "tests.txt"))
EXPECT = lkdtm.read_expect(os.path.join(FIX, "expect.tsv"))
LOGS = sorted(f for f in os.listdir(FIX) if f.endswith(".log"))


def consoles():
    return [(lkdtm.boot_name(f), judge.read_lines(os.path.join(FIX, f))) for f in LOGS]


@pytest.fixture(scope="module")
def rows():
    return {r["case"]: r for r in lkdtm.judge_consoles(TESTS, EXPECT, consoles())}


def test_every_case_has_an_expectation():
    # A case of tests.txt without a row in expect.tsv (a kernel update
    # adds some) must be classified before it can pass; the '#' ones are
    # SKIP by tests.txt itself.
    names = {t["case"] for t in TESTS if not t["commented"]}
    assert sorted(names - set(EXPECT)) == []
    assert sorted(set(EXPECT) - names) == []
    assert all(k in judge.detectors.by_kind() or k in ("clean", "skip")
               for k, _ in EXPECT.values())


def test_fixtures_cover_every_run_case_once():
    runnable = {t["case"] for t in TESTS if not t["commented"]}
    seen = []
    for _, lines in consoles():
        wins, missing = lkdtm.windows(lkdtm.texts(lines))
        seen += list(wins) + list(missing)
    assert sorted(seen) == sorted(runnable)


def test_no_report_between_windows(rows):
    assert "(between cases)" not in rows


@pytest.mark.parametrize("t", TESTS, ids=lambda t: t["case"])
def test_case(t, rows):
    r = rows[t["case"]]
    if t["commented"]:
        assert r["status"] == "SKIP" and r["why"].startswith("tests.txt: ")
        return
    kind, _ = EXPECT[t["case"]]
    if kind == "skip":
        assert (r["status"], r["kind"]) == ("SKIP", None), r
    elif kind == "clean":
        assert (r["status"], r["kind"]) == ("PASS", None), r
    else:
        assert (r["status"], r["kind"]) == ("PASS", kind), r


def test_first_event_is_the_one_that_counts():
    # A window whose first report is another kind fails, even if the
    # expected kind follows: the first report is the one that counts.
    lines = [
        "[    1.000000] mmrace-lkdtm: begin WARNING",
        "[    1.100000] ------------[ cut here ]------------",
        "[    1.100001] list_add corruption. next->prev should be prev (a), but was b. (next=c).",
        "[    1.100002] WARNING: CPU: 0 PID: 1 at lib/list_debug.c:29 __list_add_valid_or_report+0x1/0x2",
        "[    1.100003] Call Trace:",
        "[    1.100004]  <TASK>",
        "[    1.100005]  lkdtm_WARNING+0x1/0x2",
        "[    1.100006]  </TASK>",
        "[    1.100007] ---[ end trace 0000000000000000 ]---",
        "[    1.200000] mmrace-lkdtm: end WARNING",
    ]
    t = next(x for x in TESTS if x["case"] == "WARNING")
    (r,) = lkdtm.judge_consoles([t], EXPECT, [("synthetic", lines)])
    assert r["status"] == "FAIL" and r["kind"] == "list_corruption"


def test_a_case_that_never_began_fails():
    t = next(x for x in TESTS if x["case"] == "BUG")
    (r,) = lkdtm.judge_consoles([t], EXPECT, [("empty", ["[    0.1] Linux version"])])
    assert r["status"] == "FAIL" and "did not run" in r["why"]


def test_remaining_resumes_after_the_killer():
    plan = ["lkdtm WARNING 1", "lkdtm BUG 1", "lkdtm EXCEPTION 1"]
    lines = ["[ 1.0] mmrace-lkdtm: begin WARNING", "[ 1.1] mmrace-lkdtm: end WARNING",
             "[ 1.2] mmrace-lkdtm: begin BUG", "[ 1.3] kernel BUG at x.c:1!"]
    assert lkdtm.remaining(plan, lines) == ["lkdtm EXCEPTION 1"]


def test_plan_runs_survivors_first_and_deals_killers():
    plan = lkdtm.plan(TESTS, EXPECT, 2)
    kinds = [EXPECT[line.split()[1]][0] for _, line in plan]
    first_kill = next(i for i, k in enumerate(kinds) if k in lkdtm.KILLS)
    assert all(k in lkdtm.KILLS for k in kinds[first_kill:])
    kills = [c for (c, _), k in zip(plan, kinds) if k in lkdtm.KILLS]
    assert abs(kills.count(0) - kills.count(1)) <= 1
    assert all(line.split()[2] == "2" for _, line in plan if "REPORT_STACK_CANARY" in line)
