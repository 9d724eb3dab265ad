"""Tests for scripts/plan.py: which variant boots where, in which order,
with which kernel arguments.  The scenario list is the module's own, as a
list boot of mmrace.ko printed it (tests/fixtures/scenarios.txt)."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCEN = os.path.join(HERE, "fixtures", "scenarios.txt")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import plan  # noqa: E402


def scenarios():
    return plan.read_scenarios(SCEN)


def boots(rows):
    """Boot names in first-seen order."""
    seen = []
    for b, _, _, _ in rows:
        if b not in seen:
            seen.append(b)
    return seen


def test_every_variant_planned_once():
    sc = scenarios()
    rows = plan.plan(sc)
    assert sorted(line for _, line, _, _ in rows) == sorted(i for i, _ in sc)


def test_a_bug_boots_alone_and_clean_variants_share():
    rows = plan.plan(scenarios())
    for b in boots(rows):
        lines = [line for n, line, _, _ in rows if n == b]
        if b.startswith("bug-"):
            assert len(lines) == 1, b
    assert len([1 for n, _, _, _ in rows if n == "clean-pcp"]) == 8   # irqsave, final, bench_* and bench_*_1t


def test_rows_of_a_boot_are_adjacent():
    """run.sh reads boots with 'cut -f1 | uniq'."""
    rows = plan.plan(scenarios(), repeat=3, guest_tests=True)
    names = [b for b, _, _, _ in rows]
    collapsed = [b for i, b in enumerate(names) if i == 0 or names[i - 1] != b]
    assert len(collapsed) == len(set(names))


def test_longest_boot_first():
    rows = plan.plan(scenarios(), guest_tests=True)
    order = boots(rows)
    assert order[0] == "guest-tests"
    assert order[1] == "clean-pcp"
    assert all(b.startswith("bug-") for b in order[-5:])


def test_split_gives_every_clean_variant_a_boot():
    sc = scenarios()
    rows = plan.plan(sc, select="clean", split=True)
    clean = [i for i, e in sc if e == "clean"]
    assert len(boots(rows)) == len(clean) == len(rows)


def test_quick_soft_lockup_only_where_it_is_expected():
    rows = plan.plan(scenarios())
    args = {b: a for b, _, a, _ in rows}
    assert args["bug-collapse-freeze"] == "watchdog_thresh=2"
    assert args["clean-collapse"] == ""
    assert args["bug-pcp-v2"] == ""
    assert all(a == "" for b, a in args.items()
               if b.startswith("clean-"))


def test_cli_prints_four_columns():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "plan.py"),
                          SCEN, "--only", "freeze"], check=True,
                         capture_output=True, text=True).stdout
    assert out == "bug-collapse-freeze\tcollapse/freeze\twatchdog_thresh=2\t60\n"


def test_hung_task_armed_and_waited_for_where_it_is_expected():
    sc = [("hvo/retry_forever", "hung_task:blocked for more than"), ("hvo/fixed", "clean"),
          ("pcp/v2", "list_corruption:prev->next should be")]
    rows = {b: (a, s) for b, _, a, s in plan.plan(sc)}
    assert rows["bug-hvo-retry_forever"] == ("sysctl.kernel.hung_task_timeout_secs=5", 60)
    assert rows["bug-pcp-v2"] == ("", 60)
    assert rows["clean-hvo"] == ("", 120)
