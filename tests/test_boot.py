"""Tests for scripts/boot.sh's watch over a guest: when it calls a guest
hung, and when it stops one that keeps printing after its first report.

QEMU is replaced by a script on PATH that writes to the -serial file what
a guest would, then keeps printing or goes quiet; boot.sh's loop is what
is under test, not the guest.  A few seconds each (boot.sh polls at 1 s).
"""

import os
import stat
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

FAKE = r"""#!/bin/bash
# A stand-in for qemu-system-x86_64: the console to -serial file:PATH.
while [ $# -gt 0 ]; do
	[ "$1" = -serial ] && log=${2#file:}
	shift
done
{
	echo "[    0.100000] mmrace: # plan corruption-in-a-knob"
	echo "[    0.200000] mmrace: BEGIN selftest/x expect=list:corruption"
	%s
} >>"$log"
%s
"""


def boot(tmp_path, guest, after="", *extra):
    """Run boot.sh over the fake guest; (status line, console)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    q = bindir / "qemu-system-x86_64"
    q.write_text(FAKE % (guest, after))
    q.chmod(q.stat().st_mode | stat.S_IEXEC)
    for f in ("img", "initrd"):
        (tmp_path / f).write_text("")
    log = tmp_path / "console.log"
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]))
    subprocess.run(["bash", os.path.join(ROOT, "scripts/boot.sh"), "--kernel", str(tmp_path / "img"),
                    "--initrd", str(tmp_path / "initrd"), "--log", str(log)] + list(extra),
                   env=env, check=True, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return (tmp_path / "console.log.status").read_text(), log.read_text()


FLOOD = ('while %s; do echo "[   30.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!" >>"$log"; '
         'sleep 0.5; done')


def test_a_guest_printing_after_its_report_is_stopped_after_the_grace(tmp_path):
    status, console = boot(tmp_path, 'echo "[    1.0] list_add corruption. prev->next should be next"',
                           FLOOD % ":", "--grace", "2", "--splat", "corruption|soft lockup", "--silence", "30")
    assert status.startswith("status=stopped"), status
    assert int(status.split("wall_s=")[1].split()[0]) < 10, status
    assert console.rstrip().endswith("guest still running 2s after its first report: stopped")


def test_knob_and_begin_lines_are_not_a_report(tmp_path):
    # "corruption" is in the knob line and in BEGIN's expectation: neither
    # starts the grace, so the quiet guest ends by the silence rule.
    # The fake ends 7 s in (QEMU ends at the NMI's panic): no 20 s wait.
    status, console = boot(tmp_path, 'echo "[    1.0] mmrace: DONE"', "sleep 7",
                           "--grace", "1", "--splat", "corruption", "--silence", "3")
    assert status.startswith("status=hung"), status
    assert "guest hung (no console output for 3s)" in console


def test_without_grace_a_printing_guest_runs_to_max(tmp_path):
    status, console = boot(tmp_path, 'echo "[    1.0] list_add corruption."', FLOOD % "[ $SECONDS -lt 7 ]",
                           "--silence", "30", "--max", "4")
    assert status.startswith("status=timeout"), status
    assert "guest timeout (still running after 4s)" in console
