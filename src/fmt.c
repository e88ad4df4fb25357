/* fmt.h: the three output modes.  Cells are kept as text exactly as the
 * node sent them (or as the command normalised them: bytes as integers);
 * the column type decides how each mode shows them. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmt.h"
#include "json.h"

static int fmt_grow(struct fmt_buf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->sink && b->len && b->len + n + 1 > 65536) {
		fwrite(b->p, 1, b->len, b->sink);
		b->sent += b->len;
		b->len = 0;
	}
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void fmt_putn(struct fmt_buf *b, const char *s, size_t n)
{
	if (fmt_grow(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void fmt_puts(struct fmt_buf *b, const char *s)
{
	fmt_putn(b, s, strlen(s));
}

void fmt_printf(struct fmt_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || fmt_grow(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void fmt_buf_free(struct fmt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* the length of the sequence at s that shows as it is, 0 if it needs
 * escaping */
static size_t fmt_plain(const unsigned char *s, size_t n, const char *keep)
{
	size_t l;
	if (s[0] < 0x80)
		return (s[0] >= 0x20 && s[0] != 0x7f) || (s[0] && strchr(keep, s[0]));
	l = json_utf8_len(s, n);
	return l == 2 && s[0] == 0xc2 && s[1] < 0xa0 ? 0 : l;	/* C1 */
}

size_t fmt_safe_len(const char *s, size_t n, const char *keep)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, l;
	while (i < n && (l = fmt_plain(u + i, n - i, keep)) != 0)
		i += l;
	return i;
}

void fmt_safe(struct fmt_buf *b, const char *s, size_t n, const char *keep)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t k = fmt_safe_len(s + i, n - i, keep);
		fmt_putn(b, s + i, k);
		i += k;
		if (i >= n)
			break;
		unsigned char c = u[i++];
		if (c == 0x1b)
			fmt_putn(b, "\\e", 2);
		else if (c == '\t' || c == '\n' || c == '\r')
			fmt_putn(b, c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r", 2);
		else if (c == 0xc2 && i < n && u[i] >= 0x80 && u[i] < 0xa0)
			fmt_printf(b, "\\u%04x", u[i++]);
		else
			fmt_printf(b, "\\x%02x", c);
	}
}

void fmt_fsafe(FILE *f, const char *s, size_t n, const char *keep)
{
	size_t k = fmt_safe_len(s, n, keep);
	fwrite(s, 1, k, f);
	if (k < n) {
		struct fmt_buf b = { 0 };
		fmt_safe(&b, s + k, n - k, keep);
		if (b.len)
			fwrite(b.p, 1, b.len, f);
		fmt_buf_free(&b);
	}
}

long long fmt_parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0 || !isfinite(v))
		return -1;
	while (*end == ' ')
		end++;
	double mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1024; break;
	case 'M': mul = 1024.0 * 1024; break;
	case 'G': mul = 1024.0 * 1024 * 1024; break;
	case '\0': case 'B': break;
	default: return -1;
	}
	return llround(v * mul);
}

/* a cell as the table (or TSV) shows it, into buf */
static const char *fmt_cell_text(const struct fmt_col *c, const char *s, int table, char *buf,
				 size_t len)
{
	double v;
	if (!s)
		return "";
	if (table && c->type == FMT_BYTES && fmt_is_number(s, &v)) {
		static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
		int u = 0;
		while (fabs(v) >= 1024 && u < 4) {	/* a change may be negative */
			v /= 1024;
			u++;
		}
		snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", v, unit[u]);
		return buf;
	}
	return s;
}

/* the display width of s up to its end or a newline (UTF-8 aware enough) */
static size_t fmt_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n && s[i]; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* one output line per line of the visible LINES cell, none if it is
 * empty; other cells repeat on each */
static size_t fmt_row_lines(const struct fmt_table *t, size_t r, int *lcol)
{
	*lcol = -1;
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].type == FMT_LINES && !(t->hide_text & (1u << i))) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
			size_t n = s && *s ? 1 : 0;	/* no output: no line */
			*lcol = i;
			for (; s && *s; s++)
				n += *s == '\n';
			return n;
		}
	return 1;
}

/* the line at *cur (NULL: an empty one) and its length; *cur moves to the
 * next, so a cell's lines are walked once however many there are */
static const char *fmt_next_line(const char **cur, size_t *len)
{
	const char *s = *cur ? *cur : "";
	*len = strcspn(s, "\n");
	*cur = s + *len + (s[*len] == '\n');
	return s;
}

/* cell (r, i) as the text modes show it: as it is without keep (TSV of
 * bytes), else as fmt_safe shows it with keep[i], escaped into sb if it
 * needs to be (few cells do: the rest are never copied) */
static const char *fmt_text_cell(const struct fmt_table *t, size_t r, int i,
				 const char *const *keep, struct fmt_buf *sb)
{
	const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
	size_t l = s ? strlen(s) : 0;
	if (!keep || fmt_safe_len(s ? s : "", l, keep[i]) == l)
		return s;
	sb->len = 0;
	fmt_safe(sb, s, l, keep[i]);
	return sb->oom ? "" : sb->p;
}

/* keep: NULL, or the control bytes each column keeps when made safe */
static void fmt_render_text(const struct fmt_table *t, int table, int color,
			    const char *const *keep, struct fmt_buf *out)
{
	size_t width[32] = { 0 };
	int last = -1, lcol;
	char buf[64];
	struct fmt_buf sb = { 0 }, lb = { 0 };	/* escaped cells: one, and a LINES one */
	for (int i = 0; i < t->ncols && i < 32; i++) {
		if (t->hide_text & (1u << i))
			continue;
		last = i;
		width[i] = strlen(t->cols[i].key);
		for (size_t r = 0; table && r < t->nrows; r++) {
			const char *s = fmt_text_cell(t, r, i, keep, &sb), *cur = s;
			size_t nl = fmt_row_lines(t, r, &lcol), l;
			for (size_t k = 0; k < (i == lcol ? nl : 1); k++) {
				const char *x = i == lcol ? fmt_next_line(&cur, &l) :
					fmt_cell_text(&t->cols[i], s, table, buf, sizeof buf);
				l = fmt_width(x, i == lcol ? l : strlen(x));
				width[i] = l > width[i] ? l : width[i];
			}
		}
	}
	if (last < 0)
		return;
	int visible = 0, lines_only = 1;
	for (int i = 0; i < t->ncols; i++)
		if (!(t->hide_text & (1u << i))) {
			visible++;
			lines_only = t->cols[i].type == FMT_LINES;
		}
	if (table && t->nrows && !(visible == 1 && lines_only)) {
		fmt_puts(out, color ? "\033[1m" : "");
		for (int i = 0; i <= last; i++) {
			if (t->hide_text & (1u << i))
				continue;
			int pad = (int)(width[i] - strlen(t->cols[i].key));
			int right = t->cols[i].type != FMT_STR && t->cols[i].type != FMT_LINES;
			if (right)
				fmt_printf(out, "%*s", pad, "");
			for (const char *k = t->cols[i].key; *k; k++)
				fmt_printf(out, "%c", toupper((unsigned char)*k));
			if (i != last)
				fmt_printf(out, "%*s", right ? 2 : pad + 2, "");
		}
		fmt_puts(out, color ? "\033[0m\n" : "\n");
	}
	for (size_t r = 0; r < t->nrows; r++) {
		size_t nl = fmt_row_lines(t, r, &lcol);
		const char *cur = lcol >= 0 ? fmt_text_cell(t, r, lcol, keep, &lb) : NULL;
		for (size_t k = 0; k < nl; k++) {
			int first = 1;
			for (int i = 0; i <= last; i++) {
				if (t->hide_text & (1u << i))
					continue;
				size_t l;
				const char *x = i == lcol ? fmt_next_line(&cur, &l) :
					fmt_cell_text(&t->cols[i], fmt_text_cell(t, r, i, keep, &sb),
						      table, buf, sizeof buf);
				if (i != lcol)
					l = strlen(x);
				int pad = table ? (int)(width[i] - fmt_width(x, l)) : 0;
				int right = t->cols[i].type != FMT_STR && t->cols[i].type != FMT_LINES;
				if (!first)
					fmt_puts(out, table ? "  " : "\t");
				first = 0;
				if (right)	/* numbers line up on the right */
					fmt_printf(out, "%*s", pad, "");
				fmt_putn(out, x, l);
				if (!right && i != last)
					fmt_printf(out, "%*s", pad, "");
			}
			fmt_puts(out, "\n");
		}
	}
	out->oom |= sb.oom | lb.oom;
	fmt_buf_free(&sb);
	fmt_buf_free(&lb);
}

static void fmt_json_cell(const struct fmt_col *c, const char *s, struct fmt_buf *out)
{
	double v;
	switch (c->type) {
	case FMT_INT:
	case FMT_BYTES:
		if (fmt_is_number(s, &v) && v == floor(v) && fabs(v) < 9e15)
			fmt_printf(out, "%.0f", v);
		else
			fmt_puts(out, "null");
		return;
	case FMT_NUM:
		if (fmt_is_number(s, &v))
			fmt_printf(out, "%.15g", v);
		else
			fmt_puts(out, "null");
		return;
	case FMT_BOOL:
		fmt_puts(out, s && strcmp(s, "true") == 0 ? "true" : "false");
		return;
	case FMT_RAW:
		fmt_puts(out, s ? s : "null");
		return;
	case FMT_LINES: {
		size_t nl = 1, l;
		const char *cur = s;
		for (const char *p = s; p && *p; p++)
			nl += *p == '\n';
		fmt_puts(out, "[");
		for (size_t k = 0; s && *s && k < nl; k++) {
			const char *x = fmt_next_line(&cur, &l);
			fmt_puts(out, k ? ", " : "");
			json_string(out, x, l);
		}
		fmt_puts(out, "]");
		return;
	}
	case FMT_STR:
		if (s)
			json_string(out, s, strlen(s));
		else
			fmt_puts(out, "null");
		return;
	}
}

static void fmt_render_json(const struct fmt_table *t, struct fmt_buf *out)
{
	fmt_puts(out, "[");
	for (size_t r = 0; r < t->nrows; r++) {
		int first = 1;
		fmt_puts(out, r ? ",\n {" : "\n {");
		for (int i = 0; i < t->ncols; i++) {
			if (t->hide_json & (1u << i))
				continue;
			fmt_puts(out, first ? "" : ", ");
			first = 0;
			json_string(out, t->cols[i].key, strlen(t->cols[i].key));
			fmt_puts(out, ": ");
			fmt_json_cell(&t->cols[i], t->cells[r * (size_t)t->ncols + (size_t)i], out);
		}
		fmt_puts(out, "}");
	}
	fmt_puts(out, t->nrows ? "\n]\n" : "]\n");
}

/* text and TSV show each cell as fmt_safe does (a LINES cell keeps its
 * newlines: they make its output lines; its tabs too when it is all there
 * is to show), so a line is one row and a column one field whatever a node
 * sent; TSV of bytes shows them as they are */
void fmt_render(const struct fmt_table *t, enum fmt_mode mode, int color, struct fmt_buf *out)
{
	const char *keep[32];
	int shown = 0;
	for (int i = 0; i < t->ncols; i++)
		shown += !(t->hide_text & (1u << i));
	for (int i = 0; i < t->ncols && i < 32; i++)
		keep[i] = t->cols[i].type != FMT_LINES ? "" : shown == 1 ? "\n\t" : "\n";
	if (mode == FMT_JSON)
		fmt_render_json(t, out);
	else
		fmt_render_text(t, mode == FMT_TABLE, color, mode == FMT_TSV && t->bytes ? NULL : keep,
				out);
	if (t->oom)
		out->oom = 1;
}
