/* skyctl top [TARGET]: cpu, message rate, queue, tasks and memory of every
 * service of the chosen nodes, live (full screen) or, with --once and
 * --iterations N, as tables for scripts.  Each refresh sends every node
 * `stat CS` + `mem CS` in one write, nodes in parallel; CS, the node's own
 * wait for a service, is 40% of the interval, so a stuck service shows
 * TIMEOUT and the refresh goes on.  Rates need two samples: --once takes
 * two, -d apart.  The live screen keeps reading keys while a refresh is
 * on the wire (it runs in a thread of its own). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "poller.h"
#include "profile.h"
#include "screen.h"
#include "topview.h"

#define TOP_DELAY 2.0
#define TOP_OWN 2	/* our `mem` and `stat` reach every service between two samples */

static const struct args_opt top_opt_delay = {
	.lng = "delay", .shrt = 'd', .arg = "SECONDS",
	.help = "time between refreshes (default 2)",
	.want = "seconds (0.05 to 3600)", .min = 0.05, .max = 3600,
};
static const struct args_opt top_opt_once = {
	.lng = "once",
	.help = "print one table (two samples SECONDS apart) and exit",
};
static const struct args_opt top_opt_iterations = {
	.lng = "iterations", .arg = "N",
	.help = "print N tables, one per refresh, and exit",
	.want = "a count (>= 1)", .min = 1, .max = 1e9, .integer = 1,
};

static const struct fmt_col top_cols[] = {
	{ "address", FMT_STR }, { "name", FMT_STR }, { "cpu", FMT_NUM }, { "msg", FMT_NUM },
	{ "queue", FMT_INT }, { "tasks", FMT_INT }, { "mem", FMT_BYTES },
	{ "mem_change", FMT_BYTES }, { "state", FMT_STR },
	{ "sample", FMT_INT },	/* which table of --iterations (JSON only) */
};
#define TOP_SAMPLE_COL 10	/* its index, after the implicit "node" */

struct top_node {
	struct poller_node p;
	uint32_t *keep;		/* with a TARGET: the addresses shown, sorted */
	size_t nkeep;
	uint64_t keep_sig;	/* the address set keep was resolved for */
	int reported;		/* batch mode: its failure was told */
};

struct top {
	struct cmd_ctx *c;
	struct top_node *nodes;
	size_t n;
	double delay;
	int cs;			/* the node's wait per service, 1/100 s */
	struct sample_delta *all, *shown;	/* rows in the TARGET; shown: filtered, sorted */
	size_t nall, nshown, cap;
	enum sample_key key;
	char filter[64];
	atomic_int polled;	/* the live screen's poll thread is done */
	struct fmt_table done;	/* --json: the rows of the tables before the last */
};

static void top_set_delay(struct top *t, double d)
{
	t->delay = d;
	t->cs = (int)lround(d * 40);
	t->cs = t->cs < 2 ? 2 : t->cs > 300 ? 300 : t->cs;
}

static void top_poll_one(void *ud, size_t i)
{
	struct top *t = ud;
	poller_poll(&t->nodes[i].p, t->cs, 1, t->c->o.timeout);
}

/* FNV-1a over a sample's addresses: tells when the service set changed */
static uint64_t top_sig(const struct sample *s)
{
	uint64_t h = 1469598103934665603ull ^ s->n;
	for (size_t i = 0; i < s->n; i++)
		h = (h ^ s->rows[i].addr) * 1099511628211ull;
	return h;
}

/* drop from d[0..n) (sorted by address) the rows not in keep */
static size_t top_keep(const struct top_node *nd, struct sample_delta *d, size_t n)
{
	size_t k = 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		while (j < nd->nkeep && nd->keep[j] < d[i].row->addr)
			j++;
		if (j < nd->nkeep && nd->keep[j] == d[i].row->addr)
			d[k++] = d[i];
	}
	return k;
}

/* rebuild t->all from the nodes' samples (call only between polls); an
 * exit status, the errors recorded in the nodes */
static int top_build(struct top *t)
{
	size_t need = 0;
	for (size_t i = 0; i < t->n; i++)
		need += poller_newest(&t->nodes[i].p) ? poller_newest(&t->nodes[i].p)->n : 0;
	if (need > t->cap) {
		struct sample_delta *a = realloc(t->all, need * sizeof *a);
		struct sample_delta *s = a ? realloc(t->shown, need * sizeof *s) : NULL;
		if (a)
			t->all = a;
		if (!s) {
			cmd_fail(&t->c->nodes[0], ERR_LOCAL, "top", "out of memory");
			return ERR_LOCAL;
		}
		t->shown = s;
		t->cap = need;
	}
	t->nall = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct top_node *nd = &t->nodes[i];
		const struct sample *s = poller_newest(&nd->p);
		if (!s)
			continue;
		size_t m = sample_diff(poller_older(&nd->p), s, (int)i, TOP_OWN, t->all + t->nall);
		if (t->c->targets.n) {
			uint64_t sig = top_sig(s);
			if (!nd->keep || sig != nd->keep_sig) {
				free(nd->keep);
				int st = cmd_select_sample(t->c, i, s, &nd->keep, &nd->nkeep);
				if (st)
					return st;
				nd->keep_sig = sig;
			}
			m = top_keep(nd, t->all + t->nall, m);
		}
		t->nall += m;
	}
	return 0;
}

/* t->shown: t->all filtered by name and sorted */
static void top_view(struct top *t)
{
	if (t->nall)
		memcpy(t->shown, t->all, t->nall * sizeof *t->shown);
	t->nshown = sample_filter(t->shown, t->nall, t->filter);
	sample_sort(t->shown, t->nshown, t->key);
}

/* ---- for scripts: --once, --iterations ---- */

static const char *top_num(double v, char *buf, size_t len)
{
	if (isnan(v))
		return NULL;
	snprintf(buf, len, "%.3f", v);
	return buf;
}

static const char *top_int(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.0f", v);
	return buf;
}

/* the rows of t->shown as the dispatcher's output rows (node 0's table
 * holds them all: the dispatcher merges the nodes' tables anyway) */
static void top_rows(struct top *t, long sample)
{
	struct fmt_table *out = &t->c->nodes[0].out;
	for (size_t i = 0; i < t->nshown; i++) {
		const struct sample_delta *d = &t->shown[i];
		const struct sample_row *r = d->row;
		int ok = r->stat == SAMPLE_OK;
		char addr[16], cpu[32], msg[32], q[24], task[24], mem[32], chg[32], k[24];
		int worst = r->stat > r->mem ? r->stat : r->mem;
		snprintf(addr, sizeof addr, ":%08x", (unsigned)r->addr);
		snprintf(q, sizeof q, "%ld", r->mqlen);
		snprintf(k, sizeof k, "%ld", sample);
		snprintf(task, sizeof task, "%ld", r->task);
		top_int(r->mem_bytes, mem, sizeof mem);
		const char *vals[11] = {
			t->nodes[d->node].p.name, addr, d->name, top_num(d->cpu_pct, cpu, sizeof cpu),
			top_num(d->msg_rate, msg, sizeof msg), ok ? q : NULL, ok ? task : NULL,
			r->mem == SAMPLE_OK ? mem : NULL,
			isnan(d->mem_change) ? NULL : top_int(d->mem_change, chg, sizeof chg),
			worst == SAMPLE_TIMEOUT ? "timeout" : worst == SAMPLE_ERROR ? "error" :
			worst == SAMPLE_OK ? "ok" : "missing", k,
		};
		fmt_add_row(out, vals);
	}
}

/* the terminal's width, or 0: no limit (a pipe; SKYCTL_FORCE_TTY without
 * COLUMNS) */
static size_t top_columns(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return env ? strtoul(env, NULL, 10) : 0;
}

/* the widest line of t as a table, and NAME's width */
static size_t top_width(const struct fmt_table *t, size_t *name)
{
	struct fmt_buf b = { 0 };
	size_t w = 0, cur = 0;
	fmt_render(t, FMT_TABLE, 0, &b);
	for (size_t i = 0; i < b.len; i++) {
		if (b.p[i] == '\n')
			cur = 0;
		else if (((unsigned char)b.p[i] & 0xc0) != 0x80 && ++cur > w)
			w = cur;
	}
	fmt_buf_free(&b);
	*name = 4;	/* "NAME" */
	for (size_t r = 0; r < t->nrows; r++) {
		const char *s = t->cells[r * (size_t)t->ncols + 2];
		*name = s && strlen(s) > *name ? strlen(s) : *name;
	}
	return w;
}

/* NAME's cells cut to at most keep characters (the last one "~") */
static void top_cut_names(struct fmt_table *out, size_t keep)
{
	for (size_t r = 0; r < out->nrows; r++) {
		char *s = out->cells[r * (size_t)out->ncols + 2];
		if (s && strlen(s) > keep) {
			s[keep - 1] = '~';
			s[keep] = '\0';
		}
	}
}

/* a table that fits the terminal: the least telling columns go first
 * (tasks, queue), then long names are cut, then mem_change and msg go,
 * then names are cut shorter still */
static void top_fit(struct fmt_table *out)
{
	static const int step[] = { 6, 5, -20, 8, 4, -12 };	/* n: hide column n (after
								 * the node's); -n: cut names to n */
	size_t cols = top_columns(), name, w = top_width(out, &name);
	for (size_t k = 0; cols && w > cols && k < sizeof step / sizeof *step; k++) {
		size_t keep = (size_t)-step[k], excess = w - cols;
		if (step[k] > 0)
			out->hide_text |= 1u << step[k];
		else if (name > keep)
			top_cut_names(out, name > keep + excess ? name - excess : keep);
		w = top_width(out, &name);
	}
}

/* the rows of one table: sorted, "sample" hidden from text, cut to a
 * terminal's width */
static void top_table_ready(struct top *t)
{
	struct cmd_ctx *c = t->c;
	struct err e;
	struct fmt_table *out = &c->nodes[0].out;
	if (!c->sess.named)
		out->hide_text |= out->hide_json |= 1u;
	out->hide_text |= 1u << TOP_SAMPLE_COL;
	fmt_sort(out, c->o.sort, &e);
	if (c->mode == FMT_TABLE)
		top_fit(out);
}

/* render and write the rows gathered so far (an iteration before the
 * last; the dispatcher writes the last one) */
static void top_flush(struct top *t)
{
	struct cmd_ctx *c = t->c;
	struct fmt_buf b = { 0 };
	top_table_ready(t);
	if (c->mode == FMT_JSON) {	/* one document: the tables' rows, table after table */
		if (!t->done.cols)
			fmt_table_init(&t->done, c->cols, c->cmd->ncols + 1);
		fmt_append(&t->done, &c->nodes[0].out);
	} else {
		fmt_render(&c->nodes[0].out, c->mode, c->color, &b);
		fwrite(b.p ? b.p : "", 1, b.len, stdout);
		putchar('\n');
		fflush(stdout);
		fmt_buf_free(&b);
		fmt_table_free(&c->nodes[0].out);
	}
	fmt_table_init(&c->nodes[0].out, c->cols, c->cmd->ncols + 1);
}

static void top_sleep_until(double when)
{
	double left = when - net_now();
	if (left > 0) {
		struct timespec ts = { (time_t)left, (long)((left - floor(left)) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static int top_batch(struct top *t)
{
	struct cmd_ctx *c = t->c;
	long n = cmd_opt(c, &top_opt_iterations) ? (long)cmd_num(c, &top_opt_iterations) : 1;
	int status = 0;
	double start = net_now();
	session_run(t->n, top_poll_one, t);
	for (long k = 1; k <= n; k++) {
		top_sleep_until(start + (double)k * t->delay);
		session_run(t->n, top_poll_one, t);
		for (size_t i = 0; i < t->n; i++) {
			struct top_node *nd = &t->nodes[i];
			if (!nd->p.up && !nd->reported) {
				fprintf(stderr, "skyctl: %s: top: ", nd->p.name);
				fmt_fsafe(stderr, nd->p.why.msg, strlen(nd->p.why.msg), "");
				fputc('\n', stderr);
				status = err_worst(status, nd->p.why.code);
			}
			nd->reported |= !nd->p.up;
		}
		int st = top_build(t);
		if (st)	/* the dispatcher prints the nodes' errors */
			return st;
		top_view(t);
		top_rows(t, k);
		if (k < n)
			top_flush(t);
	}
	top_table_ready(t);
	if (t->done.cols) {	/* the earlier tables go first, in their order */
		fmt_append(&t->done, &c->nodes[0].out);
		c->nodes[0].out = t->done;
		t->done = (struct fmt_table){ 0 };
		c->o.sort = NULL;
	}
	return status;
}

/* ---- live ---- */

static void *top_poll_thread(void *ud)
{
	struct top *t = ud;
	session_run(t->n, top_poll_one, t);
	atomic_store(&t->polled, 1);
	return NULL;
}

static void top_draw(struct top *t, struct screen_frame *f, int editing, int paused)
{
	struct topview_node vn[t->n ? t->n : 1];
	for (size_t i = 0; i < t->n; i++) {
		const struct poller_node *p = &t->nodes[i].p;
		const struct sample *s = poller_newest(p);
		vn[i] = (struct topview_node){ p->name, p->up, p->tried, p->why.msg, s ? s->n : 0 };
	}
	struct topview v = { vn, t->n, t->c->sess.named, t->shown, t->nshown, t->nall, t->delay,
			     t->key, t->filter, editing, paused };
	screen_begin(f);
	topview_draw(&v, f);
	screen_end(f);
}

/* a key typed while the filter is edited; 0 when editing ends */
static int top_edit(struct top *t, int key)
{
	size_t len = strlen(t->filter);
	if (key == '\r' || key == '\n')
		return 0;
	if (key == SCREEN_KEY_ESC) {
		t->filter[0] = '\0';
		return 0;
	}
	if ((key == 127 || key == 8) && len)
		t->filter[len - 1] = '\0';
	else if (key >= 32 && key < 127 && len + 1 < sizeof t->filter)
		t->filter[len] = (char)key, t->filter[len + 1] = '\0';
	return 1;
}

static int top_live(struct top *t)
{
	struct screen_frame f = { 0 };
	pthread_t th;
	int polling = 0, paused = 0, editing = 0, polls = 0, quit = 0, status = 0;
	double next = 0;
	if (screen_open() != 0) {
		fprintf(stderr, "skyctl: top: cannot take over the terminal (%s); "
			"use --once or --iterations N\n", strerror(errno));
		return ERR_USAGE;
	}
	top_draw(t, &f, 0, 0);
	while (!quit) {
		double now = net_now();
		if (!polling && !paused && now >= next) {
			atomic_store(&t->polled, 0);
			if (pthread_create(&th, NULL, top_poll_thread, t) != 0)
				break;
			polling = 1;
			/* the second sample soon, so rates show without a long wait */
			next = now + (polls ? t->delay : fmin(t->delay, 0.5));
		}
		int wait = polling ? 20 : (int)((next - now) * 1000) + 1;
		int key = screen_key(paused && !polling ? 1000 : wait);
		int redraw = key == SCREEN_KEY_RESIZE;
		if (polling && atomic_load(&t->polled)) {
			pthread_join(th, NULL);
			polling = 0;
			polls++;
			if ((status = top_build(t)) != 0)
				break;
			redraw = 1;
		}
		if (key < 0 && key != SCREEN_KEY_RESIZE)
			break;	/* quit, or the terminal went away */
		if (key > 0) {
			redraw = 1;
			if (editing)
				editing = top_edit(t, key);
			else if (key == 'q')
				quit = 1;
			else if (key == 'c' || key == 'm' || key == 'l' || key == 'r')
				t->key = key == 'c' ? SAMPLE_BY_CPU : key == 'm' ? SAMPLE_BY_MEM :
					key == 'l' ? SAMPLE_BY_QUEUE : SAMPLE_BY_MSG;
			else if (key == '/')
				editing = 1;
			else if (key == 'p' || key == ' ')
				paused = !paused;
			else if (key == 'P' && t->nshown)	/* the top row's functions */
				quit = profile_top(&f, t->nodes[t->shown[0].node].p.addr,
						   t->shown[0].row->addr, t->shown[0].name,
						   t->c->o.timeout) < 0;
			else if (key == '+' || key == '-')
				top_set_delay(t, fmax(0.1, fmin(3600, key == '+' ? t->delay * 2 :
								 t->delay / 2)));
		}
		if (redraw && !quit) {
			top_view(t);
			top_draw(t, &f, editing, paused);
		}
	}
	screen_close();
	if (polling)
		pthread_join(th, NULL);	/* bounded by the poll's own deadlines */
	screen_frame_free(&f);
	return status;
}

static int top_exec(struct cmd_ctx *c)
{
	struct top t = { .c = c };
	int status = ERR_LOCAL;
	/* --json is one document: one table unless --iterations */
	int batch = cmd_opt(c, &top_opt_once) || cmd_opt(c, &top_opt_iterations) || c->o.json;
	if (c->o.sort && sample_key_parse(c->o.sort) < 0 && !batch) {
		fprintf(stderr, "skyctl: top: the live view sorts by cpu, mem, queue or msg\n");
		return ERR_USAGE;
	}
	t.key = c->o.sort && sample_key_parse(c->o.sort) >= 0 ?
		(enum sample_key)sample_key_parse(c->o.sort) : SAMPLE_BY_CPU;
	if (!c->o.sort)
		c->o.sort = "cpu";	/* the dispatcher's order for script output too */
	top_set_delay(&t, cmd_opt(c, &top_opt_delay) ? cmd_num(c, &top_opt_delay) : TOP_DELAY);
	t.n = c->sess.n;
	t.nodes = calloc(t.n, sizeof *t.nodes);
	if (t.nodes) {
		for (size_t i = 0; i < t.n; i++)
			poller_init(&t.nodes[i].p, c->sess.v[i].name, c->sess.v[i].addr);
		status = batch ? top_batch(&t) : top_live(&t);
	}
	for (size_t i = 0; t.nodes && i < t.n; i++) {
		poller_free(&t.nodes[i].p);
		free(t.nodes[i].keep);
	}
	free(t.nodes);
	free(t.all);
	free(t.shown);
	fmt_table_free(&t.done);
	return status;
}

const struct cmd_entry cmd_top_entry = {
	.name = "top", .args = "[TARGET]",
	.summary = "cpu, message rate, queue and memory of every service, live",
	.options = CMD_OPTIONS(&args_opt_sort, &top_opt_delay, &top_opt_once, &top_opt_iterations),
	.min = 0, .max = 0,
	.flags = CMD_TARGETS | CMD_TARGET_OPT | CMD_REFRESH | CMD_HANDLES | CMD_LOCAL,
	.cols = top_cols, .ncols = 10, .exec = top_exec,
};
