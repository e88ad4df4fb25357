/* topview.h: the frame of `skyctl top`.  Three header lines (what is
 * shown, the nodes, the totals of the rows shown), the column titles in
 * reverse video, the rows, and the keys on the bottom line.  The name
 * column comes last so a long launch command is what gets cut. */
#include "topview.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TOPVIEW_HEAD 4		/* lines above the first row */

const char *topview_size(double bytes, int sign, char *buf, size_t len)
{
	static const char units[] = "BKMGT";
	double v = fabs(bytes);
	int u = 0;
	if (sign && bytes == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%s%.1f%c" : "%s%.0f%c",
		 sign ? (bytes < 0 ? "-" : "+") : "", v, units[u]);
	return buf;
}

/* the cell of a stat-derived value: TIMEOUT/ERROR, "-" when unknown */
static const char *topview_cell(int state, double v, const char *fmt, char *buf, size_t len)
{
	if (state == SAMPLE_TIMEOUT)
		return "TIMEOUT";
	if (state == SAMPLE_ERROR)
		return "ERROR";
	if (state != SAMPLE_OK || isnan(v))
		return "-";
	snprintf(buf, len, fmt, v);
	return buf;
}

static void topview_row(const struct topview *v, const struct sample_delta *d, int nodew,
			struct screen_frame *f)
{
	const struct sample_row *r = d->row;
	char cpu[16], msg[16], q[16], task[16], mem[16], chg[16];
	const char *memc = r->mem == SAMPLE_TIMEOUT ? "TIMEOUT" : r->mem == SAMPLE_ERROR ? "ERROR" :
		r->mem == SAMPLE_OK ? topview_size(r->mem_bytes, 0, mem, sizeof mem) : "-";
	/* a row whose stat timed out is most likely a service in a loop */
	screen_line(f, r->stat == SAMPLE_TIMEOUT, "%-*s%s:%08x %7s %8s %6s %5s %8s %8s  %s", nodew,
		    v->show_node ? v->nodes[d->node].name : "", v->show_node ? "  " : "",
		    (unsigned)r->addr,
		    topview_cell(r->stat, d->cpu_pct, "%.1f", cpu, sizeof cpu),
		    topview_cell(r->stat, d->msg_rate, "%.1f", msg, sizeof msg),
		    topview_cell(r->stat, (double)r->mqlen, "%.0f", q, sizeof q),
		    topview_cell(r->stat, (double)r->task, "%.0f", task, sizeof task), memc,
		    isnan(d->mem_change) ? "-" : topview_size(d->mem_change, 1, chg, sizeof chg),
		    d->name);
}

/* line 2: every node's state, as much as fits */
static void topview_nodes(const struct topview *v, struct screen_frame *f)
{
	char line[1024];
	size_t k = 0;
	k += (size_t)snprintf(line, sizeof line, "nodes:");
	for (size_t i = 0; i < v->nnodes && k < sizeof line; i++) {
		const struct topview_node *n = &v->nodes[i];
		if (n->up)
			k += (size_t)snprintf(line + k, sizeof line - k, "  %s up (%zu)", n->name,
					      n->services);
		else if (n->tried)
			k += (size_t)snprintf(line + k, sizeof line - k, "  %s DOWN (%s)", n->name,
					      n->why ? n->why : "no answer");
		else
			k += (size_t)snprintf(line + k, sizeof line - k, "  %s connecting",
					      n->name);
	}
	screen_line(f, 0, "%s", line);
}

/* line 3: the sums over the rows shown */
static void topview_totals(const struct topview *v, struct screen_frame *f)
{
	double cpu = 0, msg = 0, mem = 0;
	long q = 0;
	size_t silent = 0;
	char mb[16], warn[64] = "";
	for (size_t i = 0; i < v->nrows; i++) {
		const struct sample_delta *d = &v->rows[i];
		silent += d->row->stat == SAMPLE_TIMEOUT;
		if (!isnan(d->cpu_pct))
			cpu += d->cpu_pct, msg += d->msg_rate;
		if (d->row->stat == SAMPLE_OK)
			q += d->row->mqlen;
		if (d->row->mem == SAMPLE_OK)
			mem += d->row->mem_bytes;
	}
	/* their cpu is unknown (most likely a core each), so the sum says so */
	if (silent)
		snprintf(warn, sizeof warn, " + %zu NOT ANSWERING (stuck?)", silent);
	screen_line(f, silent > 0, "shown: %zu of %zu services   cpu %.1f%%%s   %.1f msg/s   queued %ld   mem %s",
		    v->nrows, v->total, cpu, warn, msg, q, topview_size(mem, 0, mb, sizeof mb));
}

void topview_draw(const struct topview *v, struct screen_frame *f)
{
	static const char *const keys[] = { "cpu", "mem", "queue", "msg/s" };
	int nodew = 0;
	for (size_t i = 0; v->show_node && i < v->nnodes; i++) {
		int l = (int)strlen(v->nodes[i].name);
		nodew = l > nodew ? l : nodew;
	}
	nodew = nodew > 24 ? 24 : nodew < 4 && v->show_node ? 4 : nodew;	/* "NODE" */
	screen_line(f, 0, "skyctl top - every %.2g s - sort: %s%s%s%s", v->delay, keys[v->key],
		    v->filter && *v->filter ? " - filter: " : "", v->filter ? v->filter : "",
		    v->paused ? " - PAUSED" : "");
	topview_nodes(v, f);
	topview_totals(v, f);
	screen_line(f, 1, "%-*s%sADDRESS      CPU%%    MSG/S  QUEUE TASKS      MEM     +MEM  NAME",
		    nodew, v->show_node ? "NODE" : "", v->show_node ? "  " : "");
	int room = f->rows - TOPVIEW_HEAD - 1;
	for (size_t i = 0; (int)i < room && i < v->nrows; i++)
		topview_row(v, &v->rows[i], nodew, f);
	while (f->line < f->rows - 1)
		screen_line(f, 0, "%s", "");
	if (v->editing)
		screen_line(f, 1, "filter by name: %s_   (Enter: keep, Esc: clear)",
			    v->filter ? v->filter : "");
	else
		screen_line(f, 1, "c cpu  m mem  l queue  r msg/s  / filter  p pause  +/- interval  q quit  P profile");
}
