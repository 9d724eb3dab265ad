/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place for differences between the kernels mmrace builds
 * against: Debian's stock 6.1 and the 6.12 debug kernel, x86_64 and arm64.
 */
#ifndef MMRACE_COMPAT_H
#define MMRACE_COMPAT_H

#include <linux/version.h>
#include <linux/kthread.h>
#include <linux/pagemap.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>

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

/*
 * flush_tlb_kernel_range() from a module, from task context: every CPU
 * stops using the old translations of [start, end) before it returns.
 * arm64 has it as an inline in <asm/tlbflush.h> (broadcast TLBIs, no
 * IPI).  x86 has it out of line and exports neither it nor
 * flush_tlb_all(), only __flush_tlb_all(), this CPU's flush of global
 * entries; run on every CPU, as flush_tlb_all() does there, it flushes
 * more than the range, never less.
 */
#ifdef CONFIG_X86
static inline void mmrace_flush_tlb_local(void *unused)
{
	__flush_tlb_all();
}

static inline void mmrace_flush_tlb_kernel_range(unsigned long start,
						 unsigned long end)
{
	on_each_cpu(mmrace_flush_tlb_local, NULL, 1);
}
#else
#define mmrace_flush_tlb_kernel_range(start, end) \
	flush_tlb_kernel_range(start, end)
#endif

/*
 * A function found by name (kallsyms) is called through a pointer.  x86
 * IBT wants an ENDBR where that call lands, and the boot seals (poisons)
 * those of functions whose address the kernel never takes, as it may
 * kallsyms_lookup_name()'s; kCFI checks a type hash there.  Where either
 * may be on, such a call is not made: the caller skips instead of taking
 * the control-protection or CFI oops.
 */
#define MMRACE_CALL_BY_NAME \
	(!IS_ENABLED(CONFIG_X86_KERNEL_IBT) && !IS_ENABLED(CONFIG_CFI_CLANG))

#endif /* MMRACE_COMPAT_H */
