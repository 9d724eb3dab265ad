/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place for differences between the kernels mmrace builds
 * against: Debian's stock 6.1 and the 6.12 debug kernel.
 */
#ifndef MMRACE_COMPAT_H
#define MMRACE_COMPAT_H

#include <linux/version.h>
#include <linux/kthread.h>

#ifndef MMRACE_VERSION
#define MMRACE_VERSION "unknown"
#endif

#endif /* MMRACE_COMPAT_H */
