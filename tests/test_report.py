"""Tests for scripts/report.py over results directories of real boots.

tests/fixtures/results/{debug,stock} are parts of one CI run's results
(see the README there); each test copies one to tmp_path, because report.py
writes summary.txt, results.ktap and results.json beside the boots, and may
add boots made of the real console logs in tests/fixtures/console/.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONSOLE = os.path.join(HERE, "fixtures", "console")
RESULTS = os.path.join(HERE, "fixtures", "results")
REPORT = os.path.join(ROOT, "scripts", "report.py")
KUNIT = os.path.expanduser("~/.cache/mmrace/src/6.12_6.12.117-1/tools/testing/kunit/kunit.py")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import report  # noqa: E402

STATUSES = {"PASS", "FAIL", "ERROR", "SKIP"}


def results_dir(tmp_path, kernel):
    """A writable copy of tests/fixtures/results/<kernel>."""
    dst = tmp_path / kernel
    shutil.copytree(os.path.join(RESULTS, kernel), dst)
    return dst


def console(name):
    with open(os.path.join(CONSOLE, name + ".log"), encoding="utf-8") as f:
        return f.read()


def host_hang_line():
    """The line scripts/boot.sh appended to the real host_nmi.log."""
    return next(x for x in console("host_nmi").splitlines()
                if x.startswith("mmrace-host: guest hung"))


def add_boot(resdir, name, plan, log, status="poweroff"):
    """A boot as scripts/check.sh leaves it: console, plan, .status."""
    d = resdir / "boots" / name
    d.mkdir(parents=True)
    (d / "console.log").write_text(log)
    (d / "plan").write_text("".join(x + "\n" for x in plan))
    (d / "params").write_text("\n")
    (d / "console.log.status").write_text(
        "status=%s wall_s=12 accel=tcg smp=2 mem=1024\n" % status)


def run(resdir):
    """report.py on ``resdir``: (exit status, {id: KCIDB test}, results.json)."""
    rc = report.main([str(resdir), "--quiet"])
    with open(resdir / "results.json", encoding="utf-8") as f:
        doc = json.load(f)
    return rc, {t["misc"]["boot"] + ":" + t["path"]: t for t in doc["tests"]
                if t["status"] != "DONE"}, doc


def by_id(doc, ident):
    """The one test of ``doc`` for scenario/variant ``ident``."""
    mine = [t for t in doc["tests"] if t["path"] == "mmrace." + ident.replace("/", ".")
            and t["status"] != "DONE"]
    assert len(mine) == 1, mine
    return mine[0]


def test_debug_kernel_detector_fired_is_pass(tmp_path):
    res = results_dir(tmp_path, "debug")
    add_boot(res, "bug-hvo-bbm", ["hvo/bbm"], console("hvo_bbm"))
    rc, _, doc = run(res)
    assert rc == 0
    lockdep = by_id(doc, "selftest/lockdep")
    assert lockdep["status"] == "PASS"
    assert lockdep["misc"]["observed"] == "lockdep"
    assert lockdep["misc"]["headline"] == "inconsistent lock state"
    assert "log_excerpt" not in lockdep     # excerpts are for failures only
    bbm = by_id(doc, "hvo/bbm")
    assert bbm["status"] == "PASS" and bbm["misc"]["observed"] == "oops"
    assert by_id(doc, "selftest/clean")["status"] == "PASS"


def test_stock_kernel_without_lockdep_is_skip_naming_the_option(tmp_path):
    res = results_dir(tmp_path, "stock")
    add_boot(res, "bug-pcp-v2", ["pcp/v2"], console("stock_list_del"))
    rc, _, doc = run(res)
    assert rc == 0
    for ident in ("selftest/lockdep", "defer_free/direct", "pcp/v1"):
        t = by_id(doc, ident)
        assert t["status"] == "SKIP", t
        assert t["misc"]["headline"] == "CONFIG_PROVE_LOCKING not set in this kernel"
        run_ms, = [x for x in doc["tests"] if x["id"] == t["id"] + ".run_ms"]
        assert run_ms["number"]["unit"] == "ms" and run_ms["path"] == t["path"] + ".run_ms"
    # CONFIG_DEBUG_LIST is set in Debian's kernel: that one is judged.
    v2 = by_id(doc, "pcp/v2")
    assert v2["status"] == "PASS" and v2["misc"]["observed"] == "list_corruption"
    with open(res / "summary.txt", encoding="utf-8") as f:
        assert f.read().rstrip().endswith("1 PASS, 0 FAIL, 0 ERROR, 3 SKIP")


@pytest.mark.parametrize("kernel", ["debug", "stock"])
def test_other_detector_fired_is_error(tmp_path, kernel):
    """wrong_detector.log: selftest/list_del expects lockdep:circular and got
    list corruption.
    On the stock kernel, which has no lockdep, it must not become SKIP."""
    res = results_dir(tmp_path, kernel)
    add_boot(res, "bug-selftest-wrong_detector", ["selftest/list_del"],
             console("wrong_detector"))
    rc, _, doc = run(res)
    assert rc == 1
    t = by_id(doc, "selftest/list_del")
    assert t["status"] == "ERROR"
    assert t["misc"]["observed"] == "list_corruption"
    assert t["misc"]["headline"].startswith("list_del corruption.")
    assert "list_del corruption" in t["log_excerpt"]


@pytest.mark.parametrize("kernel,host_line", [("debug", False), ("stock", True)])
def test_hang_is_error(tmp_path, kernel, host_line):
    """hang.log: BEGIN, then silence; the current boot.sh appends its line.
    On stock the expectation is made lockdep's (the kernel lacks it) to
    show that a hang is not excused as a missing detector."""
    res = results_dir(tmp_path, kernel)
    log = console("hang")
    if kernel == "stock":
        log = log.replace("expect=clean", "expect=lockdep")
    if host_line:
        log += host_hang_line() + "\n"
    add_boot(res, "clean-selftest-hang", ["selftest/hang"], log, status="hung")
    rc, _, doc = run(res)
    assert rc == 1
    t = by_id(doc, "selftest/hang")
    assert t["status"] == "ERROR"
    assert t["misc"]["headline"] == "guest hung after BEGIN (boot hung)"
    assert "mmrace: BEGIN selftest/hang" in t["log_excerpt"]


def test_planned_variant_that_never_ran_is_error(tmp_path):
    res = results_dir(tmp_path, "debug")
    # A guest that printed nothing at all, and a real boot whose plan has a
    # second variant the guest never reached.
    add_boot(res, "bug-pcp-v2", ["pcp/v2"], "", status="hung")
    clean = res / "boots" / "clean-selftest" / "plan"
    clean.write_text(clean.read_text() + "selftest/lockdep\n")
    rc, results, _ = run(res)
    assert rc == 1
    v2 = results["bug-pcp-v2:mmrace.pcp.v2"]
    assert v2["status"] == "ERROR"
    assert v2["misc"]["observed"] == "did not run"
    assert v2["misc"]["headline"] == "guest hung before this run began"
    late = results["clean-selftest:mmrace.selftest.lockdep"]
    assert late["status"] == "ERROR" and late["misc"]["observed"] == "did not run"
    assert late["misc"]["headline"] == "guest poweroff before this run began"
    # ... while the same variant in its own boot passed.
    assert results["bug-selftest-lockdep:mmrace.selftest.lockdep"]["status"] == "PASS"


@pytest.mark.parametrize("kernel", ["debug", "stock"])
def test_clean_variant_that_splatted_is_fail(tmp_path, kernel):
    """host_nmi.log: selftest/clean stopped printing and got the host's NMI."""
    res = results_dir(tmp_path, kernel)
    add_boot(res, "clean-selftest-nmi", ["selftest/clean"], console("host_nmi"), status="hung")
    rc, results, _ = run(res)
    assert rc == 1
    t = results["clean-selftest-nmi:mmrace.selftest.clean"]
    assert t["status"] == "FAIL"
    assert t["misc"]["expect"] == "clean" and t["misc"]["observed"] == "hang"
    assert t["misc"]["headline"].startswith("Uhhuh. NMI received for unknown reason")
    assert "Uhhuh. NMI received" in t["log_excerpt"]


def mixed_results(tmp_path):
    """The debug fixture plus a boot of each bad kind."""
    res = results_dir(tmp_path, "debug")
    add_boot(res, "bug-selftest-wrong_detector", ["selftest/list_del"],
             console("wrong_detector"))
    add_boot(res, "clean-selftest-hang", ["selftest/hang"],
             console("hang") + host_hang_line() + "\n", status="hung")
    add_boot(res, "bug-pcp-v2", ["pcp/v2"], "", status="hung")
    return res


SCHEMA = os.path.join(ROOT, "scripts", "kcidb", "kcidb.v5.3.schema.json")


def kcidb_validate(doc):
    """Validate against KernelCI's own schema (kcidb-io v5.3), if here."""
    jsonschema = pytest.importorskip("jsonschema")
    if not os.path.exists(SCHEMA):
        pytest.skip("no KCIDB schema at %s" % SCHEMA)
    with open(SCHEMA, encoding="utf-8") as f:
        jsonschema.validate(doc, json.load(f))


def _no_nulls(obj):
    if isinstance(obj, dict):
        return all(v is not None and _no_nulls(v) for v in obj.values())
    if isinstance(obj, list):
        return all(v is not None and _no_nulls(v) for v in obj)
    return True


def test_results_json_is_kcidb_v5_3(tmp_path):
    res = mixed_results(tmp_path)
    rc, _, doc = run(res)
    assert rc == 1
    kcidb_validate(doc)
    assert _no_nulls(doc)
    assert doc["version"] == {"major": 5, "minor": 3}
    checkout, = doc["checkouts"]
    build, = doc["builds"]
    assert build["checkout_id"] == checkout["id"] and build["origin"] == "mmrace"
    assert set(build["misc"]["boots"]) == {
        "bug-selftest-lockdep", "clean-selftest", "bug-selftest-wrong_detector",
        "clean-selftest-hang", "bug-pcp-v2"}
    main = [t for t in doc["tests"] if t["status"] != "DONE"]
    ids = [t["id"] for t in main]
    assert len(ids) == len(set(ids)) == 5
    # Ordered as scenarios.txt lists the variants, unknown ones last.
    assert ids[:3] == ["mmrace:debug:selftest/clean", "mmrace:debug:selftest/lockdep",
                       "mmrace:debug:pcp/v2"]
    for t in main:
        ident = t["id"].split(":", 2)[2]
        assert t["path"] == "mmrace." + ident.replace("/", ".")
        assert t["build_id"] == build["id"] and t["origin"] == "mmrace"
        assert t["status"] in STATUSES
        assert t.get("duration", 1) > 0
        fr = t["misc"].get("first_report")
        if t["misc"].get("expect") not in (None, "clean", "ok") and t["status"] == "PASS":
            # A caught bug names the report that decided it, uncut, and its
            # main figure is the time to detection.
            assert fr["headline"] == t["misc"]["headline"] and fr["kind"] == t["misc"]["observed"]
            assert t["number"]["unit"] == "s"
        if "log_excerpt" in t:
            assert t["status"] in ("FAIL", "ERROR")
            assert 0 < len(t["log_excerpt"].encode("utf-8")) <= report.EXCERPT_MAX
    # Every other figure is a sub-test of its row, with a unit.
    subs = [t for t in doc["tests"] if t["status"] == "DONE"]
    assert subs and all(any(t["path"].startswith(m["path"] + ".") for m in main) for t in subs)
    assert all(isinstance(t["number"]["value"], int) and t["number"]["unit"] for t in subs)
    statuses = {t["id"].split(":", 2)[2]: (t["status"], "log_excerpt" in t) for t in main}
    # The guest that printed nothing has nothing to quote.
    assert statuses == {"selftest/clean": ("PASS", False), "selftest/lockdep": ("PASS", False),
                        "pcp/v2": ("ERROR", False), "selftest/list_del": ("ERROR", True),
                        "selftest/hang": ("ERROR", True)}
    # Each bug variant is a known issue; a catch is an incident of it.
    # Known means listed by the module (scenarios.txt), run or not.
    issues = {i["id"]: i for i in doc["issues"]}
    with open(res / "scenarios.txt", encoding="utf-8") as f:
        known = {"mmrace:" + x.split()[0] for x in f if x.strip() and "expect=clean" not in x}
    assert set(issues) == known | {"mmrace:selftest/list_del"}
    inc, = doc["incidents"]
    assert inc["issue_id"] == "mmrace:selftest/lockdep" and inc["present"]
    assert inc["test_id"] == "mmrace:debug:selftest/lockdep"


def test_excerpt_cap_counts_bytes():
    # U+FFFD is what a console's undecodable bytes become: 3 bytes each.
    text = "\ufffd" * 10000
    head, tail = report.cap(text), report.cap(text, tail=True)
    for cut in (head, tail):
        assert len(cut.encode("utf-8")) == 16383   # the split character dropped
        assert set(cut) == {"\ufffd"}
    short = console("hang")
    assert report.cap(short) == short


def test_excerpt_of_a_long_failure_is_capped(tmp_path):
    # The "did not run" excerpt is the log's tail: make one that needs cutting.
    res = results_dir(tmp_path, "debug")
    lines = console("hvo_bbm").splitlines()
    log = "\n".join(lines + ["\ufffd" * 300] * 80) + "\n"
    add_boot(res, "bug-pcp-v2", ["pcp/v2"], log, status="hung")
    _, results, _ = run(res)
    ex = results["bug-pcp-v2:mmrace.pcp.v2"]["log_excerpt"]
    assert 16000 < len(ex.encode("utf-8")) <= report.EXCERPT_MAX
    assert ex.rstrip("\n").endswith("\ufffd")


def kunit_parse(path):
    if not os.path.exists(KUNIT):
        pytest.skip("no kernel tree with tools/testing/kunit at %s" % KUNIT)
    return subprocess.run([sys.executable, KUNIT, "parse", str(path)],
                          capture_output=True, text=True, cwd=os.path.dirname(KUNIT))


def test_ktap_parses_with_kunit_py(tmp_path):
    # kunit.py calls a run of only SKIPs unsuccessful: add the PASS of pcp/v2.
    res = results_dir(tmp_path, "stock")
    add_boot(res, "bug-pcp-v2", ["pcp/v2"], console("stock_list_del"))
    assert report.main([str(res), "--quiet"]) == 0
    p = kunit_parse(res / "results.ktap")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Ran 4 tests: passed: 1, skipped: 3" in p.stdout
    assert "[ERROR]" not in p.stdout


def test_ktap_with_failures_parses_with_kunit_py(tmp_path):
    res = mixed_results(tmp_path)
    report.main([str(res), "--quiet"])
    p = kunit_parse(res / "results.ktap")
    # kunit.py exits 1 because tests failed, not because it could not parse.
    assert p.returncode == 1
    assert "Ran 5 tests: passed: 2, failed: 3" in p.stdout, p.stdout
    assert "[ERROR]" not in p.stdout and "[CRASHED]" not in p.stdout


@pytest.mark.parametrize("bad", ["missing", "file"])
def test_cli_unreadable_results_dir_is_a_usage_error(tmp_path, bad):
    path = tmp_path / "nothing-here"
    if bad == "file":
        path.write_text("not a directory\n")
    p = subprocess.run([sys.executable, REPORT, str(path)], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.startswith("report.py: cannot read %s: " % path)
    assert "Traceback" not in p.stderr and p.stdout == ""


def test_cli_rejudges_offline(tmp_path):
    res = results_dir(tmp_path, "stock")
    p = subprocess.run([sys.executable, REPORT, str(res)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "0 PASS, 0 FAIL, 0 ERROR, 3 SKIP" in p.stdout
    with open(res / "summary.txt", encoding="utf-8") as f:
        assert f.read() in p.stdout


@pytest.mark.parametrize("kernel", ["debug", "stock"])
def test_judge_summary_of_a_results_dir_is_summary_txt(tmp_path, kernel):
    """One verdict, computed once: the judge's table of a results directory
    is the summary.txt that report.py writes there, to the byte."""
    res = results_dir(tmp_path, kernel)
    subprocess.run([sys.executable, REPORT, str(res), "--quiet"], capture_output=True)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "judge.py"), "--summary",
                        str(res)], capture_output=True, text=True)
    with open(res / "summary.txt", encoding="utf-8") as f:
        assert p.stdout == f.read()
