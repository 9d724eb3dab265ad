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

/* 6.10 dropped the source argument: it is taken from __string(). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define mmrace_assign_str(dst, src)	__assign_str(dst)
#else
#define mmrace_assign_str(dst, src)	__assign_str(dst, src)
#endif

#endif /* MMRACE_COMPAT_H */
