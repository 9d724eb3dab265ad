/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place for differences between the kernels mmrace builds
 * against: Debian's stock 6.1 and the 6.12 debug kernel.
 */
#ifndef MMRACE_COMPAT_H
#define MMRACE_COMPAT_H

#include <linux/version.h>
#include <linux/kthread.h>
#include <linux/pagemap.h>

#ifndef MMRACE_VERSION
#define MMRACE_VERSION "unknown"
#endif

/*
 * 6.1's page_to_pgoff() calls hugetlb_basepage_index() for a hugetlb
 * page, and that is not exported to modules there.  mmrace's pages are
 * never hugetlb pages, and for them it returns page_to_index(), which is
 * what 6.12's page_to_pgoff() is.  Kept by its name, so that collapse's
 * VM_BUG_ON_PAGE() reads as filemap_fault()'s.  (After <linux/pagemap.h>,
 * which defines the function this renames the calls of.)
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define page_to_pgoff(page) page_to_index(page)
#endif

#endif /* MMRACE_COMPAT_H */
