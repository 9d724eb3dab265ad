// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/mmrace/: the user's controls.
 *
 *   scenarios              every scenario/variant with what must happen
 *   status                 one line per scenario: idle, running, ok, ...
 *   inject                 kprobe delays (see inject.c)
 *   <scenario>/variant     read: the variants, [selected]; write: a name,
 *                          which also sets every knob to that variant's
 *                          defaults (the scenario's, and its row's own)
 *   <scenario>/run         write 1 to start, 0 to stop
 *   <scenario>/stats       "key: value" lines, stable names
 *   <scenario>/result      the last run's state
 *   <scenario>/knobs       "name min max default: what it does", a line each
 *   <scenario>/<knob>      the core knobs, then the scenario's own
 *
 * Writes are bounded, stripped and looked up as lkdtm does: anything
 * else gets -EINVAL and a pr_warn naming what is accepted; changing a
 * running scenario gets -EBUSY.
 */
#define pr_fmt(fmt) "mmrace: " fmt

#include <linux/kernel.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "harness.h"

#define MMRACE_WORD	64

struct mmrace_knob_file {
	struct mmrace_slot *slot;
	unsigned int knob;
};

static struct dentry *mmrace_dir;
static struct mmrace_knob_file *mmrace_knob_files;

/* Copy a short user string, NUL-terminated and stripped of whitespace. */
static ssize_t mmrace_get_word(const char __user *ubuf, size_t count,
			       char *buf, const char *what)
{
	if (!count || count >= MMRACE_WORD) {
		pr_warn("%s: write of %zu bytes; accepted: 1 to %d bytes\n",
			what, count, MMRACE_WORD - 1);
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (strlen(buf) != count) {
		pr_warn("%s: NUL byte in write; accepted: text\n", what);
		return -EINVAL;
	}
	return 0;
}

static int mmrace_lock_idle(struct mmrace_slot *s, const char *what)
{
	int ret = mutex_lock_killable(&s->lock);

	if (ret)
		return ret;
	if (mmrace_slot_running(s)) {
		mutex_unlock(&s->lock);
		pr_warn("%s/%s: running; stop it first (echo 0 > run)\n",
			s->sc->name, what);
		return -EBUSY;
	}
	return 0;
}

static int mmrace_parse_contexts(char *word, u64 *val)
{
	char *tok;
	u64 mask = 0;
	unsigned int i;

	if (!kstrtou64(word, 0, val))
		return 0;
	if (!strcmp(word, "all")) {
		*val = MMRACE_CTX_ALL;
		return 0;
	}
	while ((tok = strsep(&word, ",")) != NULL) {
		for (i = 0; i < MMRACE_NR_CTX; i++)
			if (!strcmp(tok, mmrace_ctx_names[i]))
				break;
		if (i == MMRACE_NR_CTX)
			return -EINVAL;
		mask |= BIT(i);
	}
	*val = mask;
	return 0;
}

static ssize_t mmrace_knob_write(struct file *f, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct mmrace_knob_file *kf = f->f_inode->i_private;
	struct mmrace_slot *s = kf->slot;
	const struct mmrace_knob *k = mmrace_slot_knob(s, kf->knob);
	char buf[MMRACE_WORD], *word;
	u64 val;
	int ret;

	ret = mmrace_get_word(ubuf, count, buf, k->name);
	if (ret)
		return ret;
	word = strim(buf);
	if (kf->knob == MMRACE_K_CONTEXTS)
		ret = mmrace_parse_contexts(word, &val);
	else
		ret = kstrtou64(word, 0, &val);
	if (ret || val < k->min || val > k->max) {
		pr_warn("%s/%s: '%*pE' rejected; accepted: %llu..%llu (%s)\n",
			s->sc->name, k->name, (int)strlen(word), word, k->min,
			k->max, k->doc);
		return -EINVAL;
	}
	ret = mmrace_lock_idle(s, k->name);
	if (ret)
		return ret;
	s->knob[kf->knob] = val;
	mutex_unlock(&s->lock);
	return count;
}

static ssize_t mmrace_knob_read(struct file *f, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct mmrace_knob_file *kf = f->f_inode->i_private;
	char buf[32];
	int len;

	len = scnprintf(buf, sizeof(buf), "%llu\n",
			READ_ONCE(kf->slot->knob[kf->knob]));
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations mmrace_knob_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = mmrace_knob_read,
	.write = mmrace_knob_write,
	.llseek = default_llseek,
};

static int mmrace_variant_show(struct seq_file *m, void *v)
{
	struct mmrace_slot *s = m->private;
	unsigned int i;

	for (i = 0; i < s->sc->nr_variants; i++)
		seq_printf(m, "%s%s%s\n", i == READ_ONCE(s->variant) ? "[" : "",
			   s->sc->variants[i].name,
			   i == READ_ONCE(s->variant) ? "]" : "");
	return 0;
}

static int mmrace_variant_open(struct inode *inode, struct file *f)
{
	return single_open(f, mmrace_variant_show, inode->i_private);
}

static ssize_t mmrace_variant_write(struct file *f, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct mmrace_slot *s = f->f_inode->i_private;
	char buf[MMRACE_WORD], *word;
	unsigned int i;
	int ret;

	ret = mmrace_get_word(ubuf, count, buf, "variant");
	if (ret)
		return ret;
	word = strim(buf);
	for (i = 0; i < s->sc->nr_variants; i++)
		if (!strcmp(word, s->sc->variants[i].name))
			break;
	if (i == s->sc->nr_variants) {
		pr_warn("%s/variant: no '%*pE'; cat variant lists the accepted names\n",
			s->sc->name, (int)strlen(word), word);
		return -EINVAL;
	}
	ret = mmrace_lock_idle(s, "variant");
	if (ret)
		return ret;
	mmrace_slot_select(s, i);
	mutex_unlock(&s->lock);
	return count;
}

static const struct file_operations mmrace_variant_fops = {
	.owner = THIS_MODULE,
	.open = mmrace_variant_open,
	.read = seq_read,
	.write = mmrace_variant_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static ssize_t mmrace_run_write(struct file *f, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct mmrace_slot *s = f->f_inode->i_private;
	char buf[MMRACE_WORD], *word;
	bool start;
	int ret;

	ret = mmrace_get_word(ubuf, count, buf, "run");
	if (ret)
		return ret;
	/* Exactly 0 or 1: kstrtobool() would start a run on "yes please". */
	word = strim(buf);
	if (strcmp(word, "0") && strcmp(word, "1")) {
		pr_warn("%s/run: '%*pE' rejected; accepted: 1 (start), 0 (stop)\n",
			s->sc->name, (int)strlen(word), word);
		return -EINVAL;
	}
	start = word[0] == '1';
	ret = mutex_lock_killable(&s->lock);
	if (ret)
		return ret;
	if (start)
		ret = mmrace_slot_start(s, 0);
	else
		ret = mmrace_slot_stop(s, true);
	mutex_unlock(&s->lock);
	if (ret == -EBUSY)
		pr_warn("%s/run: already running\n", s->sc->name);
	return ret ?: count;
}

static ssize_t mmrace_run_read(struct file *f, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct mmrace_slot *s = f->f_inode->i_private;
	char buf[4];
	int len;

	len = scnprintf(buf, sizeof(buf), "%d\n", mmrace_slot_running(s));
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations mmrace_run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = mmrace_run_read,
	.write = mmrace_run_write,
	.llseek = default_llseek,
};

static int mmrace_stats_show(struct seq_file *m, void *v)
{
	struct mmrace_slot *s = m->private;
	int ret = mutex_lock_killable(&s->lock);

	if (ret)
		return ret;
	if (s->run) {
		seq_printf(m, "variant: %s\n", s->run->var->name);
		seq_printf(m, "state: %s\n", mmrace_run_state(s->run));
		mmrace_print_stats(s->run, m);
	}
	mutex_unlock(&s->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmrace_stats);

static int mmrace_result_show(struct seq_file *m, void *v)
{
	struct mmrace_slot *s = m->private;
	struct mmrace_run *r;
	int ret = mutex_lock_killable(&s->lock);

	if (ret)
		return ret;
	r = s->run;
	seq_printf(m, "%s", mmrace_run_state(r));
	if (r && !strcmp(mmrace_run_state(r), "skip"))
		seq_printf(m, " %s", r->skip);
	else if (r && r->result)
		seq_printf(m, " (%d)", r->result);
	seq_puts(m, "\n");
	mutex_unlock(&s->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmrace_result);

static int mmrace_knobs_show(struct seq_file *m, void *v)
{
	struct mmrace_slot *s = m->private;
	unsigned int k;

	for (k = 0; k < mmrace_slot_nr_knobs(s); k++) {
		const struct mmrace_knob *kn = mmrace_slot_knob(s, k);

		seq_printf(m, "%s %llu %llu %llu: %s\n", kn->name, kn->min,
			   kn->max, kn->def, kn->doc);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmrace_knobs);

static int mmrace_scenarios_show(struct seq_file *m, void *v)
{
	unsigned int i, j;

	for (i = 0; i < mmrace_nr_scenarios; i++) {
		const struct mmrace_scenario *sc = mmrace_scenarios[i];

		for (j = 0; j < sc->nr_variants; j++)
			seq_printf(m, "%s/%s expect=%s\n", sc->name,
				   sc->variants[j].name, sc->variants[j].expect);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmrace_scenarios);

static int mmrace_status_show(struct seq_file *m, void *v)
{
	unsigned int i;

	seq_printf(m, "runner: %s\n", mmrace_runner_state());
	/* No slot lock, which a stop holds while it waits: see mmrace_slot_running(). */
	for (i = 0; i < mmrace_nr_scenarios; i++)
		seq_printf(m, "%s: %s\n", mmrace_scenarios[i]->name,
			   mmrace_slot_running(&mmrace_slots[i]) ? "running" : "idle");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmrace_status);

static ssize_t mmrace_inject_write(struct file *f, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	char buf[MMRACE_WORD * 2];
	int ret;

	if (!count || count >= sizeof(buf)) {
		pr_warn("inject: write of %zu bytes; accepted: 1 to %zu bytes\n",
			count, sizeof(buf) - 1);
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (strlen(buf) != count) {
		pr_warn("inject: NUL byte in write; accepted: text\n");
		return -EINVAL;
	}
	ret = mmrace_inject_set(strim(buf));
	return ret ?: count;
}

static int mmrace_inject_show_seq(struct seq_file *m, void *v)
{
	mmrace_inject_show(m);
	return 0;
}

static int mmrace_inject_open(struct inode *inode, struct file *f)
{
	return single_open(f, mmrace_inject_show_seq, NULL);
}

static const struct file_operations mmrace_inject_fops = {
	.owner = THIS_MODULE,
	.open = mmrace_inject_open,
	.read = seq_read,
	.write = mmrace_inject_write,
	.llseek = seq_lseek,
	.release = single_release,
};

int mmrace_debugfs_init(void)
{
	unsigned int i, k, nfiles = 0;
	struct mmrace_knob_file *kf;

	for (i = 0; i < mmrace_nr_scenarios; i++)
		nfiles += mmrace_slot_nr_knobs(&mmrace_slots[i]);
	mmrace_knob_files = kcalloc(nfiles, sizeof(*kf), GFP_KERNEL);
	if (!mmrace_knob_files)
		return -ENOMEM;
	kf = mmrace_knob_files;

	mmrace_dir = debugfs_create_dir("mmrace", NULL);
	debugfs_create_file("scenarios", 0444, mmrace_dir, NULL,
			    &mmrace_scenarios_fops);
	debugfs_create_file("status", 0444, mmrace_dir, NULL,
			    &mmrace_status_fops);
	debugfs_create_file("inject", 0644, mmrace_dir, NULL,
			    &mmrace_inject_fops);
	for (i = 0; i < mmrace_nr_scenarios; i++) {
		struct mmrace_slot *s = &mmrace_slots[i];
		struct dentry *d = debugfs_create_dir(s->sc->name, mmrace_dir);

		debugfs_create_file("variant", 0644, d, s, &mmrace_variant_fops);
		debugfs_create_file("run", 0644, d, s, &mmrace_run_fops);
		debugfs_create_file("stats", 0444, d, s, &mmrace_stats_fops);
		debugfs_create_file("result", 0444, d, s, &mmrace_result_fops);
		debugfs_create_file("knobs", 0444, d, s, &mmrace_knobs_fops);
		if (s->sc->debugfs)
			s->sc->debugfs(d);
		for (k = 0; k < mmrace_slot_nr_knobs(s); k++, kf++) {
			kf->slot = s;
			kf->knob = k;
			debugfs_create_file(mmrace_slot_knob(s, k)->name, 0644,
					    d, kf, &mmrace_knob_fops);
		}
	}
	return 0;
}

void mmrace_debugfs_exit(void)
{
	/* Waits for every open file's handler to return (debugfs proxy). */
	debugfs_remove(mmrace_dir);
	mmrace_dir = NULL;
	kfree(mmrace_knob_files);
	mmrace_knob_files = NULL;
}
