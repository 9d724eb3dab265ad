#!/usr/bin/env python3
"""mmrace's boots as LAVA jobs, and LAVA's log stream back into a console.

    lava.py job --name BOOT --kernel IMG --initrd CPIO --append ARGS \\
                --timeout S --smp N --mem MB --accel tcg --out DIR
        writes DIR/job.yaml (the job definition, for lava-run or a real lab)
        and DIR/device.yaml (the project's device dictionary, rendered for
        this boot: lava-run needs it rendered, a lab renders its own)
    lava.py console LOG --console FILE --status FILE
        takes the boot's console out of lava-run's log stream (its stderr:
        one record per line) and writes the status line boot.sh would:
        "status=poweroff", or "status=lava_error" and a line "reason=..."
        (LAVA's) for an infrastructure or job error, a missing console, a
        job that never ran

Facts this relies on, measured with Debian 12's lava-dispatcher (2023.01):
the console and the test cases arrive only in the log stream ("lvl":
"target" records; "results" records with "case": "job" last); result.yaml
holds the job's overall result alone; a guest that closes the connection
before the monitor's end string is an Infrastructure error ("Connection
closed"), so the end string matches the last line of every way a boot
ends (power off, reboot, the end of a panic); a device dictionary needs
constants boot_retry and failure_retry.  Standard library only.
"""
import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE = os.path.join(HERE, "lava", "qemu-mmrace.yaml")
# The last line of each way an mmrace guest ends: init's "reboot -f"
# (-no-reboot makes it QEMU's exit), a poweroff, a panic.  With panic=-1
# the kernel restarts at once, without its "---[ end Kernel panic" line:
# the panic notifiers' "Kernel Offset:" (x86, arm64) is then the last
# line, after the ftrace dump (measured: every oopsing bug boot ended
# there as "Connection closed" before this alternative).
END = r"reboot: (?:Restarting system|Power down)|---\[ end Kernel panic|Kernel Offset: "

JOB = """\
# mmrace boot {name}: written by scripts/lava.py from run.sh's plan.
device_type: qemu
job_name: mmrace {name}
priority: medium
visibility: public
timeouts:
  job: {{seconds: {job_s}}}
  action: {{seconds: {timeout}}}
  connection: {{seconds: {timeout}}}
context:
  arch: x86_64
  # For a lab's qemu device-type template; lava-run offline uses the
  # device dictionary that lava.py rendered beside this file.
  extra_kernel_args: {append_q}
  cpus: {smp}
  memory: {mem}
actions:
- deploy:
    to: tmpfs
    timeout: {{seconds: 120}}
    images:
      kernel:
        image_arg: -kernel {{kernel}}
        url: {kernel_url}
      ramdisk:
        image_arg: -initrd {{ramdisk}}
        url: {initrd_url}
- boot:
    method: qemu
    media: tmpfs
    timeout: {{seconds: 60}}
- test:
    timeout: {{seconds: {timeout}}}
    monitors:
    - name: mmrace
      start: "mmrace-guest: start"
      end: {end_q}
      pattern: "mmrace: (?P<result>ok|not ok) \\\\d+ (?P<test_case_id>\\\\S+)"
      fixupdict: {{"ok": "pass", "not ok": "fail"}}
"""


def _q(text):
    """A YAML double-quoted scalar."""
    return json.dumps(text)


def write_job(a):
    os.makedirs(a.out, exist_ok=True)
    job = JOB.format(name=a.name, job_s=int(a.timeout) + 300, timeout=int(a.timeout),
                     append_q=_q(a.append), smp=a.smp, mem=a.mem,
                     kernel_url="file://" + os.path.abspath(a.kernel),
                     initrd_url="file://" + os.path.abspath(a.initrd), end_q=_q(END))
    with open(os.path.join(a.out, "job.yaml"), "w", encoding="utf-8") as f:
        f.write(job)
    with open(a.device, encoding="utf-8") as f:
        dev = f.read()
    accel = "tcg,thread=multi" if a.accel == "tcg" else a.accel
    dev = (dev.replace("@ACCEL@", _q(accel)[1:-1]).replace("@SMP@", str(a.smp))
           .replace("@MEM@", str(a.mem)).replace("@APPEND@", _q(a.append)[1:-1]))
    with open(os.path.join(a.out, "device.yaml"), "w", encoding="utf-8") as f:
        f.write(dev)
    return 0


_TAG = re.compile(r"(?<=[:,\[] )!\s+")


def records(path):
    """The log stream's records, one dict per line; YAML-only lines (a
    "!"-tagged value) are read as JSON without their tags."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            # lavacli's raw logs are a YAML list: "- {...}" per record.
            line = line.strip()
            if line.startswith("- {"):
                line = line[2:]
            if not line.startswith("{"):
                continue
            try:
                yield json.loads(line)
            except ValueError:
                try:
                    yield json.loads(_TAG.sub("", line))
                except ValueError:
                    continue


def extract(a):
    lines, job, errors = [], None, []
    try:
        for r in records(a.log):
            lvl, msg = r.get("lvl"), r.get("msg")
            if lvl == "target" and isinstance(msg, str):
                lines.append(msg)
            elif lvl == "results" and isinstance(msg, dict) and msg.get("case") == "job":
                job = msg
            elif lvl == "error" and isinstance(msg, str):
                errors.append(msg)
    except OSError as e:
        errors.append("no LAVA log: %s" % (e.strerror or e))
    with open(a.console, "w", encoding="utf-8") as f:
        f.write("".join(x + "\n" for x in lines))
    reason = None
    if job is None:
        reason = "the job never reported a result" + (": " + errors[-1] if errors else "")
    elif job.get("result") != "pass":
        reason = "%s error: %s" % (job.get("error_type", "Job"), job.get("error_msg", "failed"))
    elif not lines:
        reason = "no console in the LAVA log"
    with open(a.status, "w", encoding="utf-8") as f:
        f.write("status=%s wall_s=%s backend=lava\n" % (
            "lava_error" if reason else "poweroff", a.wall_s))
        if reason:
            f.write("reason=%s\n" % reason)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("job")
    for k in ("name", "kernel", "initrd", "out"):
        j.add_argument("--" + k, required=True)
    j.add_argument("--append", default="")
    j.add_argument("--timeout", type=int, default=300)
    j.add_argument("--smp", type=int, default=2)
    j.add_argument("--mem", type=int, default=1024)
    j.add_argument("--accel", default="tcg")
    j.add_argument("--device", default=DEVICE)
    c = sub.add_parser("console")
    c.add_argument("log")
    c.add_argument("--console", required=True)
    c.add_argument("--status", required=True)
    c.add_argument("--wall-s", dest="wall_s", default="0")
    a = ap.parse_args(argv)
    return write_job(a) if a.cmd == "job" else extract(a)


if __name__ == "__main__":
    sys.exit(main())
