# SPDX-License-Identifier: GPL-2.0
# The user's entry point.  Plain "make" builds mmrace.ko against KDIR:
# the running kernel's build tree when it exists, else the debug kernel
# that "make run" builds into the cache.
MMRACE_CACHE ?= $(HOME)/.cache/mmrace
KDIR ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then \
		echo /lib/modules/$$(uname -r)/build; \
	else bash scripts/kdir.sh; fi)
# Guests at a time: one per host core (measured here: 2 on 2 cores).
JOBS ?= $(shell nproc)
KERNEL ?= debug

.PHONY: all modules clean kernel run check bench bench-judge soak install dkms-add replay explain minimize

all modules:
	@test -n "$(KDIR)" || { echo "mmrace: no KDIR: run 'make kernel' or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	@if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf tests/__pycache__ scripts/__pycache__

# KERNEL=NAME: scripts/kernels/NAME.kernel (debug, stock, kcsan);
# ARCH=arm64: that kernel for arm64 (NAME-arm64.kernel), cross-built.
kernel:
	bash scripts/build-kernel.sh --kernel $(KERNEL)$(if $(ARCH), --arch $(ARCH))

# RECORD=1: every bug boot recorded on one CPU (docs/replay.md);
# RUN_KDIR=DIR: a debug kernel build tree used as it is, never built.
# BACKEND=lava: each boot a LAVA job (lava-run here; LAVA_URL= a real lab).
BACKEND ?= qemu
run:
	bash scripts/run.sh -j $(JOBS) --kernel $(KERNEL)$(if $(ARCH), --arch $(ARCH)) --backend $(BACKEND)$(if $(RECORD), --record)$(if $(RUN_KDIR), --kdir $(RUN_KDIR))

# BOOT=results/<run>/boots/<boot>: replay a recorded boot and require the
# same console, verdict and first report; GDB=1 (GDB_PORT=1234): paused
# for gdb, its command line printed.
replay:
	@test -n "$(BOOT)" || { echo "mmrace: make replay BOOT=results/<run>/boots/<boot>" >&2; exit 1; }
	bash scripts/replay.sh $(BOOT)$(if $(GDB), --gdb $(or $(GDB_PORT),1234))

# BOOT=...: replay once more with a watchpoint on the corrupted word.
explain:
	@test -n "$(BOOT)" || { echo "mmrace: make explain BOOT=results/<run>/boots/<boot>" >&2; exit 1; }
	python3 scripts/explain.py $(BOOT)

# VARIANT=<scenario>/<variant> K=5: the least recipe that still fires;
# VARIANT=all: every bug variant, JOBS at a time, and README's table.
minimize:
	@test -n "$(VARIANT)" || { echo "mmrace: make minimize VARIANT=<scenario>/<variant>|all" >&2; exit 1; }
ifeq ($(VARIANT),all)
	bash scripts/run.sh --minimize --k $(or $(K),5) -j $(JOBS)$(if $(RUN_KDIR), --kdir $(RUN_KDIR))
else
	python3 scripts/minimize.py $(VARIANT) --k $(or $(K),5)$(if $(RUN_KDIR), --kdir $(RUN_KDIR))
endif

check:
	bash scripts/check.sh

# BOOTS=10 ALPHA=0.01: detection statistics and sized clean runs.
bench:
	bash scripts/bench.sh --boots $(or $(BOOTS),10) --alpha $(or $(ALPHA),0.01) -j $(JOBS)

# The judge's throughput and peak memory on a SIZE_MB log (default 200).
bench-judge:
	bash scripts/judge-bench.sh $(or $(SIZE_MB),200)

# SOAK_MIN=30: every clean variant, all contexts, for that many minutes,
# JOBS variants at a time (a boot each).
soak:
	bash scripts/soak.sh --minutes $(or $(SOAK_MIN),30) -j $(JOBS)

# DKMS: the sources only into /usr/src/mmrace-VERSION, then dkms add.
VERSION := $(shell cat VERSION)
dkms-add:
	bash scripts/dkms-src.sh /usr/src/mmrace-$(VERSION)
	dkms add -m mmrace -v $(VERSION)
