"""Tests for scripts/judge.py over real console logs.

The fixtures in tests/fixtures/console/ are whole serial-console captures of
TCG boots, of the 6.12 debug kernel except stock_list_del (Debian's 6.1);
the README there says how each was provoked.
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(HERE, "fixtures", "console")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import judge  # noqa: E402


def load(name):
    with open(os.path.join(FIX, name + ".log"), "rb") as f:
        return f.read().decode("utf-8", errors="replace").split("\n")


# fixture -> (kind, headline substring, detail substring or None)
PROVOKED = {
    "lockdep_irq": ("lockdep", "inconsistent lock state",
                    "inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage."),
    "abba": ("lockdep", "possible circular locking dependency detected",
             "is trying to acquire lock:"),
    "list_del": ("list_corruption", "list_del corruption. next->prev should be",
                 "WARNING: CPU: 1 PID: 44 at lib/list_debug.c:65"),
    "ro_write": ("oops", "BUG: unable to handle page fault for address: ffffc9000000c000",
                 "#PF: supervisor write access in kernel mode; "
                 "#PF: error_code(0x0003) - permissions violation"),
    "gpf": ("oops", "general protection fault, probably for non-canonical address "
                    "0xdead000000000100", "RIP: 0010:mmst_init"),
    "soft_lockup": ("soft_lockup", "BUG: soft lockup - CPU#0 stuck for 6s! [insmod:46]",
                    "RIP: 0010:mmst_init"),
    "rcu_stall": ("rcu_stall", "INFO: rcu_preempt self-detected stall on CPU",
                  "ticks this GP"),
    "sleep": ("sleep_in_atomic", "BUG: scheduling while atomic: insmod/44/0x00000002",
              None),
    "sleep_alloc": ("sleep_in_atomic",
                    "BUG: sleeping function called from invalid context at "
                    "include/linux/sched/mm.h:321", "in_atomic(): 1, irqs_disabled(): 0"),
    "hung": ("hung_task", "INFO: task insmod:45 blocked for more than 2 seconds.",
             "task:insmod"),
    "warn": ("warning", "WARNING: CPU: 1 PID: 44 at /tmp/judgefix/mod/mmst.c:94",
             "RIP: 0010:mmst_init"),
    "panic": ("panic", "Kernel panic - not syncing: mmrace selftest: deliberate panic", None),
    "invariant": ("mmrace", "refcount of obj 3 is 0 after get", None),
}

EXPECTED_TASK = {"lockdep_irq": "insmod/45", "abba": "insmod/45", "ro_write": "insmod/45",
                 "hung": "insmod/45", "soft_lockup": "insmod/46", "sleep_alloc": "insmod/46"}


@pytest.mark.parametrize("name", sorted(PROVOKED))
def test_provoked_log_yields_one_attributed_event(name):
    kind, head, detail = PROVOKED[name]
    events = judge.parse_events(load(name))
    mine = [e for e in events if e["scenario"] == "selftest/" + name]
    assert len(mine) == 1, mine
    ev = mine[0]
    assert ev["kind"] == kind
    assert head in ev["headline"]
    if detail:
        assert detail in (ev["detail"] or "")
    assert ev["time"] is not None and ev["t_since_begin"] >= 0
    assert isinstance(ev["line"], int) and ev["line"] > 0
    if name in EXPECTED_TASK:
        assert ev["task"] == EXPECTED_TASK[name]
    # Nothing else in the log except the msleep case's consequence (below).
    assert len(events) == (2 if name == "sleep" else 1), events


def test_event_line_points_at_headline():
    lines = load("ro_write")
    ev = judge.parse_events(lines)[0]
    assert "BUG: unable to handle page fault" in lines[ev["line"] - 1]
    assert ev["end_line"] > ev["line"] + 20      # the whole oops, tail included
    assert ev["cpu"] == 1


def test_msleep_under_spinlock_real_6_12_texts():
    # msleep() has no might_sleep() on 6.12, so only the scheduler complains,
    # and after END the initcall's preemption imbalance WARNs (unattributed).
    events = judge.parse_events(load("sleep"))
    assert [e["kind"] for e in events] == ["sleep_in_atomic", "warning"]
    assert events[1]["scenario"] is None
    assert "returned with preemption imbalance" in events[1]["detail"]


def test_list_corruption_is_not_also_a_warning():
    for name in ("list_del", "wrong_detector"):
        kinds = [e["kind"] for e in judge.parse_events(load(name))]
        assert kinds == ["list_corruption"]


def test_lockdep_headline_is_not_a_plain_warning():
    for name in ("lockdep_irq", "abba"):
        assert all(e["kind"] == "lockdep" for e in judge.parse_events(load(name)))


@pytest.mark.parametrize("name", ["clean", "nothing", "hang"])
def test_no_events_in_quiet_boots(name):
    assert judge.parse_events(load(name)) == []


def test_two_variants_attribution():
    lines = load("two_variants")
    events = judge.parse_events(lines)
    assert [(e["scenario"], e["kind"]) for e in events] == [("selftest/warn", "warning")]
    rows = {r["id"]: r for r in judge.verdicts(lines)}
    assert rows["selftest/clean"]["verdict"] == "PASS"
    assert rows["selftest/clean"]["events"] == 0
    assert rows["selftest/warn"]["verdict"] == "PASS"


def test_markers():
    m = judge.parse_markers(load("two_variants"))
    assert [x["id"] for x in m] == ["selftest/clean", "selftest/warn"]
    assert m[0]["expect"] == "clean" and m[0]["result"] == "ok"
    assert m[1]["begin_line"] > m[0]["end_line"]
    hang = judge.parse_markers(load("hang"))
    assert hang[0]["end_line"] is None and not hang[0]["output_after_begin"]


@pytest.mark.parametrize("name,verdict", [
    ("clean", "PASS"), ("lockdep_irq", "PASS"), ("abba", "PASS"), ("list_del", "PASS"),
    ("ro_write", "PASS"), ("gpf", "PASS"), ("soft_lockup", "PASS"), ("rcu_stall", "PASS"),
    ("sleep", "PASS"), ("sleep_alloc", "PASS"), ("hung", "PASS"), ("warn", "PASS"),
    ("panic", "PASS"), ("invariant", "PASS"),
    ("nothing", "FAIL"),          # expects lockdep, nothing provoked
    ("wrong_detector", "ERROR"),  # expects lockdep:circular, list_corruption fired
    ("hang", "hang"),             # BEGIN, then silence until qemu was killed
])
def test_verdicts(name, verdict):
    rows = judge.verdicts(load(name))
    assert len(rows) == 1
    assert rows[0]["verdict"] == verdict, rows


def test_verdict_row_contents():
    row = judge.verdicts(load("soft_lockup"))[0]
    assert row["id"] == "selftest/soft_lockup"
    assert row["expect"] == "soft_lockup|rcu_stall|mmrace:spin watchdog"
    assert row["observed"].startswith("soft_lockup:BUG: soft lockup")
    assert 4.0 < row["t_detect"] < 10.0


def test_clean_expectation_fails_on_event():
    lines = [x.replace("expect=warning", "expect=clean") for x in load("warn")]
    assert judge.verdicts(lines)[0]["verdict"] == "FAIL"


def test_clean_without_end_is_error():
    lines = [x for x in load("clean") if "mmrace: END" not in x]
    assert judge.verdicts(lines)[0]["verdict"] == "ERROR"


def test_result_not_ok_fails_clean():
    lines = [x.replace("result=ok", "result=timeout") for x in load("clean")]
    assert judge.verdicts(lines)[0]["verdict"] == "FAIL"


def test_empty_log_is_hang():
    assert judge.verdicts([])[0]["verdict"] == "hang"
    assert judge.verdicts(["", "\r"])[0]["verdict"] == "hang"


def test_expectation_matching():
    ev = {"kind": "lockdep", "headline": "possible circular locking dependency detected",
          "detail": "insmod/36 is trying to acquire lock:"}
    assert judge.event_matches(ev, judge.parse_expectation("lockdep"))
    assert judge.event_matches(ev, judge.parse_expectation("oops|lockdep:CIRCULAR"))
    assert judge.event_matches(ev, judge.parse_expectation("lockdep:trying to acquire"))
    assert not judge.event_matches(ev, judge.parse_expectation("lockdep:inconsistent"))
    assert not judge.event_matches(ev, judge.parse_expectation("warning"))


def test_expectation_substrings_joined_by_and_all_must_match():
    lines = load("lockdep_irq")
    ev = judge.parse_events(lines)[0]
    assert ev["lock"] == "irqlock"
    assert judge.event_matches(ev, judge.parse_expectation(
        "lockdep:{HARDIRQ-ON-W} -> {IN-HARDIRQ-W}&irqlock"))
    assert not judge.event_matches(ev, judge.parse_expectation(
        "lockdep:{HARDIRQ-ON-W} -> {IN-HARDIRQ-W}&mmrace_hugetlb_lock"))
    assert not judge.event_matches(ev, judge.parse_expectation(
        "lockdep:{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}&irqlock"))


def _with_expect(lines, expect):
    """The same real log, its BEGIN line asking for another expectation."""
    return [x.replace("expect=sleep_in_atomic", "expect=" + expect) for x in lines]


def test_only_the_first_report_decides():
    # sleep.log: "scheduling while atomic", then a WARNING in the same
    # cascade.  The second report matching is no catch: ERROR.
    lines = load("sleep")
    kinds = [e["kind"] for e in judge.parse_events(lines)]
    assert kinds == ["sleep_in_atomic", "warning"]
    assert judge.verdicts(lines)[0]["verdict"] == "PASS"
    row = judge.verdicts(_with_expect(lines, "warning"))[0]
    assert row["verdict"] == "ERROR"
    assert row["observed"].startswith("sleep_in_atomic:BUG: scheduling while atomic")
    assert judge.verdicts(_with_expect(lines, "warning|sleep_in_atomic"))[0]["verdict"] == "PASS"


def test_crlf_and_interleaved_noise_tolerated():
    lines = load("lockdep_irq")
    ev0 = judge.parse_events(lines)[0]
    noisy = []
    for i, x in enumerate(lines):
        noisy.append(x + "\r")
        if i == ev0["line"] + 5:   # a line from another CPU inside the report
            noisy.append("[    1.227500] clocksource: Switched to clocksource tsc\r")
    events = judge.parse_events(noisy)
    assert len(events) == 1
    assert events[0]["detail"] == ev0["detail"]
    assert events[0]["time"] == ev0["time"]


def test_escape_garbage_before_first_timestamp():
    t, text = judge.split_line("Booting from ROM..\x1bc\x1b[?7l\x1b[2J[    0.000000] Linux version 6.12")
    assert t == 0.0 and text == "Linux version 6.12"
    assert judge.split_line("init: insmod rc=0") == (None, "init: insmod rc=0")


def test_nested_report_folds_into_first():
    # An oops printed while a lockdep report is still dumping its stack.
    lines = load("abba")
    ev = judge.parse_events(lines)[0]
    oops = [x for x in load("gpf") if "general protection fault" in x and "Oops" in x]
    spliced = lines[:ev["line"] + 3] + oops + lines[ev["line"] + 3:]
    events = judge.parse_events(spliced)
    assert [e["kind"] for e in events] == ["lockdep"]


def test_panic_after_oops_is_a_consequence():
    lines = load("ro_write")
    ev = judge.parse_events(lines)[0]
    lines.insert(ev["end_line"], "[    1.080100] Kernel panic - not syncing: Fatal exception")
    events = judge.parse_events(lines)
    assert len(events) == 1
    assert events[0]["panic"] == "Kernel panic - not syncing: Fatal exception"


def test_cli_events_and_summary():
    script = os.path.join(ROOT, "scripts", "judge.py")
    out = subprocess.run([sys.executable, script, os.path.join(FIX, "gpf.log")],
                         capture_output=True, text=True, check=True).stdout
    recs = [json.loads(x) for x in out.splitlines()]
    assert len(recs) == 1
    for key in ("kind", "headline", "detail", "line", "time", "cpu", "task",
                "scenario", "t_since_begin"):
        assert key in recs[0]
    ok = subprocess.run([sys.executable, script, "--summary", os.path.join(FIX, "gpf.log")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "PASS" in ok.stdout
    bad = subprocess.run([sys.executable, script, "--summary", "--json",
                          os.path.join(FIX, "wrong_detector.log")],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert json.loads(bad.stdout)[0]["verdict"] == "ERROR"


def test_host_nmi_is_one_hang_event_with_where_it_hung():
    """boot.sh's NMI to a silent guest: the panic, the backtraces and the
    lockdep report of the kernel's own NMI-time panic path all belong to
    the hang, which names the CPU, the task and its RIP."""
    events = judge.parse_events(load("host_nmi"))
    assert len(events) == 1, events
    ev = events[0]
    assert ev["kind"] == "hang"
    assert ev["headline"].startswith("Uhhuh. NMI received for unknown reason")
    assert ev["scenario"] == "selftest/clean"
    assert ev["task"] == "mmrace/selftest/58"
    assert (ev["detail"] or "").startswith("RIP: 0010:")
    rows = judge.verdicts(load("host_nmi"))
    assert [r["verdict"] for r in rows] == ["FAIL"]


# The line scripts/boot.sh writes when it gives up on a silent guest, as it
# appears at the end of the real host_nmi.log.
def host_hang_line():
    return next(x for x in load("host_nmi") if x.startswith("mmrace-host: guest hung"))


def test_host_hang_line_is_a_hang_event_of_the_running_variant():
    """A guest that hung without a word (hang.log: BEGIN, then silence) gets
    boot.sh's line appended: that is the hang event, not only a verdict."""
    lines = load("hang") + [host_hang_line()]
    events = judge.parse_events(lines)
    assert len(events) == 1, events
    ev = events[0]
    assert ev["kind"] == "hang"
    assert ev["headline"].startswith("mmrace-host: guest hung")
    assert ev["scenario"] == "selftest/hang"
    assert ev["line"] == len(lines)
    # boot.sh's line is not output of the run: still "nothing after BEGIN".
    rows = judge.verdicts(lines)
    assert [(r["verdict"], r["events"]) for r in rows] == [("hang", 1)]
    assert rows[0]["observed"].startswith("hang:mmrace-host: guest hung")


def test_host_hang_line_after_end_is_unattributed():
    lines = load("clean") + [host_hang_line()]
    events = judge.parse_events(lines)
    assert [(e["kind"], e["scenario"]) for e in events] == [("hang", None)]
    assert [r["verdict"] for r in judge.verdicts(lines)] == ["PASS"]


def test_host_line_and_nmi_report_are_one_hang_event():
    """host_nmi.log ends with boot.sh's line after the NMI report; the
    current boot.sh also announces the NMI before sending it.  Either way
    there is one hang event, and it has the NMI report's CPU, task and RIP."""
    lines = load("host_nmi")
    nmi_at = next(i for i, x in enumerate(lines) if "Uhhuh. NMI" in x)
    announced = lines[:nmi_at] + [
        "mmrace-host: guest hung: NMI to every CPU for backtraces"] + lines[nmi_at:]
    for log in (lines, announced):
        events = judge.parse_events(log)
        assert len(events) == 1, events
        ev = events[0]
        assert ev["kind"] == "hang" and ev["scenario"] == "selftest/clean"
        assert ev["task"] == "mmrace/selftest/58" and ev["cpu"] == 0
        assert (ev["detail"] or "").startswith("RIP: 0010:")
        # ... up to boot.sh's last word.
        assert log[ev["end_line"] - 1].startswith("mmrace-host: guest hung (no console")
        assert [r["verdict"] for r in judge.verdicts(log)] == ["FAIL"]


def test_cli_prints_the_host_hang_event(tmp_path):
    log = tmp_path / "console.log"
    log.write_text("\n".join(load("hang") + [host_hang_line(), ""]))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "judge.py"), str(log)],
                         capture_output=True, text=True, check=True).stdout
    recs = [json.loads(x) for x in out.splitlines()]
    assert [(r["kind"], r["scenario"]) for r in recs] == [("hang", "selftest/hang")]


@pytest.mark.parametrize("args", [["/nonexistent/console.log"], ["--summary", "/"]])
def test_cli_unreadable_path_is_a_usage_error(args):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "judge.py")] + args,
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.startswith("judge.py: cannot read %s: " % args[-1])
    assert "Traceback" not in p.stderr and p.stdout == ""


def test_logs_without_knobs_line_are_tolerated():
    # No real log has the module's knobs line yet: its absence is None.
    for name in ("two_variants", "hang", "stock_list_del"):
        lines = load(name)
        assert all(m["knobs"] is None for m in judge.parse_markers(lines))
        assert all(r["knobs"] is None for r in judge.verdicts(lines))


def only_event(name):
    """The fixture's lines and its one event (a second one fails the test)."""
    lines = load(name)
    events = judge.parse_events(lines)
    assert len(events) == 1, events
    return lines, events[0]


def test_stock_6_1_list_del_bug():
    """Debian's 6.1 kernel (CONFIG_BUG_ON_DATA_CORRUPTION) BUG()s on list
    corruption instead of WARNing; the panic that follows is the same event."""
    lines, ev = only_event("stock_list_del")
    assert ev["kind"] == "list_corruption"
    assert ev["scenario"] == "pcp/v2"
    assert ev["headline"].startswith("list_del corruption. prev->next should be ")
    assert "kernel BUG at lib/list_debug.c" in ev["detail"]
    assert ev["task"] == "mmrace/pcp:0/100"
    assert ev["panic"] == "Kernel panic - not syncing: Fatal exception in interrupt"
    assert [r["verdict"] for r in judge.verdicts(lines)] == ["PASS"]


def test_hvo_bbm_not_present_page_fault():
    lines, ev = only_event("hvo_bbm")
    assert ev["kind"] == "oops"
    assert ev["scenario"] == "hvo/bbm"
    assert ev["headline"].startswith("BUG: unable to handle page fault for address: ")
    assert "not-present page" in ev["detail"]
    rows = judge.verdicts(lines)
    assert [(r["id"], r["expect"], r["verdict"]) for r in rows] == [
        ("hvo/bbm", "oops:not-present page", "PASS")]


# ---------------------------------------------------------------------------
# Input as users have it: the same real reports through other tools' forms
# ---------------------------------------------------------------------------

_STAMPED = judge._STAMP


def _reform(lines, form):
    """A real serial log as another tool would show it (the text untouched)."""
    out = []
    for n, x in enumerate(lines):
        m = _STAMPED.match(x)
        if not m:
            out.append(x)
            continue
        secs, text = float(m.group(1)), x[m.end():]
        clock = 21 * 3600 + 23 * 60 + 54 + secs
        hh, mm, ss = int(clock // 3600), int(clock % 3600 // 60), clock % 60
        if form == "dmesg-T":
            out.append("[Tue Dec  1 %02d:%02d:%02d 2026] %s" % (hh, mm, int(ss), text))
        elif form == "journal":
            out.append("Dec 01 %02d:%02d:%09.6f guest kernel: %s" % (hh, mm, ss, text))
        elif form == "journal-mono":
            out.append("[%12.6f] guest kernel: %s" % (secs, text))
        elif form == "kmsg":
            out.append("4,%d,%d,-;%s" % (n, int(secs * 1e6), text))
        elif form == "bare":
            out.append(text)
        elif form == "caller":
            out.append("[%12.6f][    T45] %s" % (secs, text))
    return out


FORMS = ("dmesg-T", "journal", "journal-mono", "kmsg", "bare", "caller")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["lockdep_irq", "list_del", "ro_write", "soft_lockup", "hung"])
def test_same_report_in_every_input_form(name, form):
    want = [(e["kind"], e["headline"], e["title"]) for e in judge.parse_events(load(name))]
    got = [(e["kind"], e["headline"], e["title"])
           for e in judge.parse_events(_reform(load(name), form))]
    assert got == want


@pytest.mark.parametrize("ending", ["\r\n", "\r\r\n", "\r"])
def test_line_endings_from_a_file(tmp_path, ending):
    lines = [x.rstrip("\r") for x in load("list_del")]
    p = tmp_path / "console.log"
    p.write_bytes(ending.join(lines).encode())
    with open(p, "rb") as f:
        got = list(judge.iter_lines(f, chunk=4096))   # chunks cut CRLFs too
    # A run of CRs is one line end (iPXE's progress line has one inside):
    # CR-only logs lose their empty lines, nothing else.
    want = [y for x in lines for y in x.split("\r") if y]
    assert [x for x in got if x] == want
    with open(p, "rb") as f:
        assert [e["headline"] for e in judge.iter_events(judge.iter_lines(f, chunk=777))] == \
            [e["headline"] for e in judge.parse_events(lines)]


def test_kmsg_dictionary_lines_are_not_text():
    lines = _reform(load("list_del"), "kmsg")
    with_dict = []
    for x in lines:
        with_dict.append(x)
        with_dict.append(" SUBSYSTEM=cpu")
    assert [e["kind"] for e in judge.parse_events(with_dict)] == ["list_corruption"]


def test_interleaved_callers_are_two_reports():
    # Two real reports, printed at once by two contexts, line by line.
    a = _reform(load("list_del"), "caller")
    b = [x.replace("[    T45]", "[     C1]") for x in _reform(load("ro_write"), "caller")]
    ia = next(i for i, x in enumerate(a) if "list_del corruption" in x)
    ib = next(i for i, x in enumerate(b) if "unable to handle page fault" in x)
    mixed = a[:ia]
    ra, rb = a[ia:ia + 60], b[ib:ib + 60]
    for x, y in zip(ra, rb):
        mixed += [x, y]
    events = judge.parse_events(mixed)
    assert sorted(e["kind"] for e in events) == ["list_corruption", "oops"]
    assert {e["caller"] for e in events} == {"T45", "C1"}
    lc = next(e for e in events if e["kind"] == "list_corruption")
    assert lc["title"] == judge.parse_events(load("list_del"))[0]["title"]


def test_garbage_before_a_header_on_the_same_line():
    lines = load("ro_write")
    ev = judge.parse_events(lines)[0]
    i = ev["line"] - 1
    m = _STAMPED.match(lines[i])
    lines[i] = lines[i][:m.end()] + "\x1b[0m@@ torn line from another CPU " + lines[i][m.end():]
    got = judge.parse_events(lines)
    assert [(e["kind"], e["headline"]) for e in got] == [(ev["kind"], ev["headline"])]


def test_boot_info_lines_are_not_reports():
    for text in ("ODEBUG: selftest passed", "rcu: RCU lockdep checking is enabled.",
                 "Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar"):
        assert judge.classify(text) is None


def test_bare_fatal_exception_panic_finds_its_oops():
    # The oops's header line is lost (a console that dropped it): the
    # panic that ends it must still make an oops event, not a panic.
    lines = load("ro_write")
    ev = judge.parse_events(lines)[0]
    cut = [x for i, x in enumerate(lines, 1)
           if not (ev["line"] <= i < ev["line"] + 4)]
    end = max(i for i, x in enumerate(cut) if "RIP:" in x or "</TASK>" in x or "CR2" in x)
    cut.insert(end + 1, "[    1.090000] Kernel panic - not syncing: Fatal exception")
    got = [e for e in judge.parse_events(cut) if e["scenario"] == ev["scenario"]]
    assert len(got) == 1 and got[0]["kind"] == "oops", got
    assert got[0]["panic"] == "Kernel panic - not syncing: Fatal exception"


@pytest.mark.parametrize("name", sorted(PROVOKED))
def test_titles_have_no_numbers_and_name_a_function(name):
    ev = judge.parse_events(load(name))[0]
    assert ev["title"] and not any(c.isdigit() for c in ev["title"].replace("selftest/", ""))
    if ev["kind"] != "mmrace":
        assert " in " in ev["title"], ev["title"]


# ---------------------------------------------------------------------------
# The scenarios' own catches: real consoles of mmrace.ko's bug variants
# ---------------------------------------------------------------------------

#: fixture -> the title of its first report (the verdict must be PASS).
SCENARIO_TITLES = {
    "collapse_lock_reuse": "VM_BUG_ON_PAGE in col_op",
    "defer_free_llist_bh": "SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected in __df_free",
    "defer_free_llist_isolate": "mmrace invariant in defer_free/llist_isolate",
    "hvo_atomic_restore": "BUG: sleeping function called from invalid context in hvo_alloc_page",
    "hvo_atomic_restore_irq": "inconsistent lock state in hvo_alloc_page",
    "hvo_bbm": "BUG: unable to handle kernel paging request in hvo_ref_add_unless",
    "hvo_reserves": "mmrace invariant in hvo/reserves",
    "hvo_retry_forever": "INFO: task hung in hvo_free_huge",
    "hvo_skip_only": "BUG: unable to handle kernel paging request in hvo_ref_add_unless",
    "pcp_v2_drain": "list_del corruption in pcp_release_pages",
    "pcp_v2_nodebug": "general protection fault in pcp_isolate_walk",
    "pcp_v2_zone": "BUG: kernel NULL pointer dereference in pcp_commit",
}


@pytest.mark.parametrize("name", sorted(SCENARIO_TITLES))
def test_scenario_bug_caught_by_its_first_report(name):
    rows = judge.verdicts(load(name))
    assert [r["verdict"] for r in rows] == ["PASS"], rows
    assert rows[0]["title"] == SCENARIO_TITLES[name]


def _peak(path):
    import tracemalloc
    tracemalloc.start()
    with open(path, "rb") as f:
        rows = judge.verdicts(judge.iter_lines(f))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, peak


def test_memory_stays_bounded_on_a_long_log(tmp_path):
    """The log is read once as a stream: judging real boots (each with its
    reports) repeated to 2 and to 4 MB takes the same small memory, far
    less than the log (the chunk being decoded, the open reports, a row and
    its first report per BEGIN)."""
    boot = "\n".join(load("list_del") + load("ro_write") + load("lockdep_irq")).encode()
    peaks = []
    for mb in (2, 4):
        p = tmp_path / ("long%d.log" % mb)
        n = mb * 1024 * 1024 // len(boot) + 1
        with open(p, "wb") as f:
            for _ in range(n):
                f.write(boot)
        rows, peak = _peak(p)
        assert len(rows) == 3 * n and all(r["verdict"] != "hang" for r in rows)
        peaks.append(peak)
    assert peaks[1] < 3 * 1024 * 1024, peaks
    # Twice the log, not twice the memory: only the rows grow.
    assert peaks[1] < peaks[0] * 1.5, peaks
