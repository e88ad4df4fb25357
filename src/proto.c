/* proto.h: framing of console replies.  A reply ends at the first line
 * that is exactly `<CMD OK>` or `<CMD Error>` (in debug mode, at the one
 * that follows a prompt); bytes are scanned once, so a reply of any size
 * costs linear time however it is split into reads.  Also the choice of
 * transport for an address, and the %XX escaping of console arguments. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "ssh.h"

/* what the peer sent, quoted for a message: printable, at most 40 bytes */
static void proto_quote(const char *d, size_t n, char *out, size_t outlen)
{
	size_t k = 0;
	for (size_t i = 0; i < n && i < 40 && k + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)d[i];
		if (ch == '\n' || ch == '\r')
			break;
		out[k++] = ch >= 32 && ch < 127 ? (char)ch : '?';
	}
	out[k] = '\0';
}

int proto_banner(struct net_conn *c, struct err *e)
{
	static const char want[] = PROTO_BANNER "\n";
	double deadline = net_deadline(c);
	for (;;) {
		size_t n;
		const char *d = net_data(c, &n);
		size_t k = n < sizeof want - 1 ? n : sizeof want - 1;
		if (memcmp(d, want, k) != 0) {
			char q[64];
			proto_quote(d, n, q, sizeof q);
			return err_set(e, ERR_PROTO, "not a skynet console (it said \"%s\")", q);
		}
		if (k == sizeof want - 1) {
			net_consume(c, k);
			return 0;
		}
		int r = net_fill(c, deadline, e);
		if (r == 0)
			return err_set(e, ERR_CONNECT, "connection closed before the console greeted");
		if (r < 0)
			return -1;
	}
}

struct net_conn *proto_open(const char *spec, double timeout, struct err *e)
{
	return proto_open_send(spec, timeout, NULL, e);
}

/* The transport for a node address, chosen here once: ssh for an
 * ssh:// spec (ssh.h), else TCP to "host:port"; either way a byte stream
 * that knows nothing of the other. */
static struct net_conn *proto_connect(const char *spec, double timeout, struct err *e)
{
	char host[256];
	int port;
	if (strncmp(spec, SSH_PREFIX, strlen(SSH_PREFIX)) == 0)
		return ssh_open(spec, timeout, e);
	if (net_parse_addr(spec, host, sizeof host, &port, e) != 0)
		return NULL;
	return net_connect(host, port, timeout, e);
}

/* the node reads what was sent before it greeted once it has: sending at
 * once saves the wait for the banner, a third of a round trip on skynet */
struct net_conn *proto_open_send(const char *spec, double timeout, const char *line,
				 struct err *e)
{
	struct net_conn *c = proto_connect(spec, timeout, e);
	if (c && line && proto_send(c, line, e) != 0) {
		net_close(c);
		c = NULL;
	}
	if (c && proto_banner(c, e) != 0) {
		net_close(c);
		c = NULL;
	}
	if (c)
		net_set_nudge(c, "\n");	/* normal mode ignores empty lines */
	return c;
}

int proto_send(struct net_conn *c, const char *line, struct err *e)
{
	char *one[1] = { (char *)line };
	return proto_sendv(c, one, 1, e);
}

int proto_sendv(struct net_conn *c, char *const *lines, size_t n, struct err *e)
{
	size_t total = 0, k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strchr(lines[i], '\n'))
			return err_set(e, ERR_USAGE, "a command line cannot contain a newline");
		total += strlen(lines[i]) + 1;
	}
	char *buf = malloc(total ? total : 1);
	if (!buf)
		return err_set(e, ERR_LOCAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);
		memcpy(buf + k, lines[i], l);
		k += l;
		buf[k++] = '\n';
	}
	int rc = net_write(c, buf, total, 0, e);
	free(buf);
	return rc;
}

/* NUL bytes of t[0..*n) as U+FFFD (a field would end at them); t is
 * freed when a new string is returned; NULL when out of memory */
static char *proto_nul_free(char *t, size_t *n)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t nul = 0, k = 0;
	for (size_t i = 0; i < *n; i++)
		nul += t[i] == '\0';
	if (!nul)
		return t;
	char *out = malloc(*n + 2 * nul + 1);
	if (out) {
		for (size_t i = 0; i < *n; i++) {
			if (t[i]) {
				out[k++] = t[i];
			} else {
				memcpy(out + k, repl, 3);
				k += 3;
			}
		}
		out[k] = '\0';
		*n = k;
	}
	free(t);
	return out;
}

/* r->lines: the lines of r->copy (r->len bytes), its newlines made NULs */
static int proto_split_lines(struct proto_reply *r)
{
	size_t nl = 0;
	for (size_t i = 0; i < r->len; i++)
		nl += r->copy[i] == '\n';
	r->nlines = r->len ? nl + 1 : 0;
	char **lines = realloc(r->lines, (r->nlines + 1) * sizeof *lines);
	if (!lines)
		return -1;
	r->lines = lines;
	char *copy = r->copy;
	for (size_t i = 0; i < r->nlines; i++) {
		lines[i] = copy;
		char *end = strchr(copy, '\n');
		if (end) {
			*end = '\0';
			copy = end + 1;
		}
	}
	lines[r->nlines] = NULL;
	return 0;
}

/* r from the output text t of n bytes (taken: r owns it), without the
 * terminator line; the lines share t when there is only one, or when
 * split in place (r->text is then NULL) */
static int proto_fill_reply(struct proto_reply *r, char *t, size_t n, int ok, int in_place,
			    struct err *e)
{
	if (n > 0 && t && t[n - 1] == '\n')
		t[--n] = '\0';
	r->ok = ok;
	r->text = t ? proto_nul_free(t, &n) : NULL;
	r->len = n;
	if (!r->text)
		return err_set(e, ERR_LOCAL, "out of memory");
	r->copy = in_place || !memchr(r->text, '\n', n) ? r->text : malloc(n + 1);
	if (r->copy && r->copy != r->text)
		memcpy(r->copy, r->text, n + 1);
	else if (in_place)
		r->text = NULL;
	if (!r->copy || proto_split_lines(r) != 0) {
		proto_reply_free(r);
		return err_set(e, ERR_LOCAL, "out of memory");
	}
	return 0;
}

int proto_reply_make(struct proto_reply *r, int ok, const char *text, struct err *e)
{
	memset(r, 0, sizeof *r);
	char *t = strdup(text);
	if (!t)
		return err_set(e, ERR_LOCAL, "out of memory");
	return proto_fill_reply(r, t, strlen(t), ok, 0, e);
}

/* In debug mode the terminator of `cont` follows a prompt on the same
 * line: find "<CMD OK>\n" or "<CMD Error>\n" anywhere in d[*pos..n).
 * 1 OK, 0 Error, -1 none yet (*pos: where to resume); *at its offset,
 * *tl its length. */
static int proto_find_prompted(const char *d, size_t n, size_t *pos, size_t *at, size_t *tl)
{
	static const char *const term[2] = { "<CMD Error>\n", "<CMD OK>\n" };
	const char *lt;
	while ((lt = memchr(d + *pos, '<', n - *pos)) != NULL) {
		size_t i = (size_t)(lt - d), left = n - i;
		for (int ok = 0; ok < 2; ok++) {
			size_t k = strlen(term[ok]);
			if (memcmp(lt, term[ok], left < k ? left : k) != 0)
				continue;
			if (left < k)
				return -1;	/* may be one: look again with more */
			*at = i;
			*tl = k;
			return ok;
		}
		*pos = i + 1;
	}
	*pos = n;
	return -1;
}

/* the terminator line at or after *pos, as proto_find_prompted */
static int proto_find_line(const char *d, size_t n, size_t *pos, size_t *at, size_t *tl)
{
	const char *nl;
	while ((nl = memchr(d + *pos, '\n', n - *pos)) != NULL) {
		size_t ll = (size_t)(nl - (d + *pos));
		int ok = ll == 8 && memcmp(d + *pos, "<CMD OK>", 8) == 0;
		int bad = ll == 11 && memcmp(d + *pos, "<CMD Error>", 11) == 0;
		if (ok || bad) {
			*at = *pos;
			*tl = ll + 1;
			return ok;
		}
		*pos += ll + 1;
	}
	return -1;
}

static int proto_read_framed(struct net_conn *c, struct proto_reply *r, double deadline,
			     int prompted, int in_place, struct err *e)
{
	size_t pos = 0;		/* where the terminator search resumes */
	memset(r, 0, sizeof *r);
	if (deadline <= 0)
		deadline = net_deadline(c);
	for (;;) {
		size_t n, at, tl;
		const char *d = net_data(c, &n);
		int ok = prompted ? proto_find_prompted(d, n, &pos, &at, &tl) :
				    proto_find_line(d, n, &pos, &at, &tl);
		if (ok >= 0) {
			char *t = net_take(c, at);
			net_consume(c, tl);
			return proto_fill_reply(r, t, at, ok, in_place, e);
		}
		int f = net_fill(c, deadline, e);
		if (f == 0 && n > 0)
			return err_set(e, ERR_PROTO, "connection closed in the middle of a reply");
		if (f == 0) {
			char why[sizeof e->msg];
			strcpy(why, e ? e->msg : "connection closed");
			return err_set(e, ERR_CONNECT, "%s before replying", why);
		}
		if (f < 0)
			return -1;
	}
}

int proto_read_reply(struct net_conn *c, struct proto_reply *r, double deadline, struct err *e)
{
	return proto_read_framed(c, r, deadline, 0, 0, e);
}

int proto_read_prompted(struct net_conn *c, struct proto_reply *r, double deadline,
			struct err *e)
{
	return proto_read_framed(c, r, deadline, 1, 0, e);
}

int proto_request(struct net_conn *c, const char *line, struct proto_reply *r, struct err *e)
{
	if (proto_send(c, line, e) != 0)
		return -1;
	return proto_read_reply(c, r, 0, e);
}

/* ":hhhhhhhh:" at s, left bytes from the end, for a handle above after:
 * where `call` prints a service of the launcher's table (skynet.address:
 * 8 lowercase digits, in ascending order); 0 if it is not one */
static unsigned long proto_list_entry(const char *s, size_t left, unsigned long after)
{
	if (left < 10 || s[0] != ':' || s[9] != ':' || strspn(s + 1, "0123456789abcdef") < 8)
		return 0;
	unsigned long h = strtoul(s + 1, NULL, 16);
	return h > after ? h : 0;
}

int proto_reply_as_list(struct proto_reply *r, struct err *e)
{
	if (!r->ok)
		return 0;
	char *t = r->copy;
	if (r->nlines < 2 || strncmp(r->lines[0], "1\t", 2) != 0 ||
	    strcmp(r->lines[r->nlines - 1], "n\t1") != 0 ||
	    !(r->lines[0][2] ? proto_list_entry(r->lines[0] + 2, strlen(r->lines[0] + 2), 0) :
			       r->nlines == 2)) {
		char q[64];
		proto_quote(r->nlines ? r->lines[0] : "", r->nlines ? strlen(r->lines[0]) : 0, q,
			    sizeof q);
		return err_set(e, ERR_PROTO, "unexpected reply to %s: \"%s\"", PROTO_LIST, q);
	}
	for (size_t i = 1; i < r->nlines; i++)	/* the text again */
		r->lines[i][-1] = '\n';
	size_t n = r->len - 6;			/* less "1\t" and "\nn\t1" */
	char *end = t + n;
	memmove(t, t + 2, n);
	*end = '\0';
	unsigned long h = 0;
	for (char *p = n ? t : NULL; p;) {
		h = proto_list_entry(p, (size_t)(end - p), h);
		p[9] = '\t';
		char *q = p + 10;
		while ((q = memchr(q, '\t', (size_t)(end - q))) &&
		       !proto_list_entry(q + 1, (size_t)(end - q - 1), h))
			q++;
		if (q)
			*q = '\n';
		p = q ? q + 1 : NULL;
	}
	if (r->text != r->copy)
		free(r->text);
	r->text = NULL;
	r->len = n;
	return proto_split_lines(r) == 0 ? 0 : err_set(e, ERR_LOCAL, "out of memory");
}

int proto_request_list(struct net_conn *c, struct proto_reply *r, struct err *e)
{
	if (proto_send(c, PROTO_LIST, e) != 0 || proto_read_framed(c, r, 0, 0, 1, e) != 0)
		return -1;
	if (proto_reply_as_list(r, e) == 0)
		return 0;
	proto_reply_free(r);
	return -1;
}

void proto_reply_free(struct proto_reply *r)
{
	if (r->copy != r->text)
		free(r->copy);
	free(r->text);
	free(r->lines);
	r->text = r->copy = NULL;
	r->lines = NULL;
	r->nlines = r->len = 0;
}

char *proto_reply_take(struct proto_reply *r)
{
	char *t = r->text;
	if (r->copy == r->text)
		r->copy = NULL;
	r->text = NULL;
	proto_reply_free(r);
	return t;
}

char *proto_reply_take_lines(struct proto_reply *r, size_t *n, size_t *size)
{
	char *block = r->copy;
	*n = r->nlines;
	*size = r->len + 1;
	if (r->copy == r->text)
		r->text = NULL;
	r->copy = NULL;
	proto_reply_free(r);
	return block;
}

/* the first word of line is w */
static int proto_is_cmd(const char *line, const char *w)
{
	size_t l = strlen(w);
	line += strspn(line, " \t");
	return strncmp(line, w, l) == 0 && (line[l] == ' ' || line[l] == '\t' || !line[l]);
}

int proto_lacks_env(const char *line, const struct proto_reply *r)
{
	/* getenv and setenv came with skynet 1.8's console: an older one
	 * answers as to a typo */
	return !r->ok && (proto_is_cmd(line, "getenv") || proto_is_cmd(line, "setenv")) &&
	       r->nlines && strncmp(r->lines[0], "Invalid command", 15) == 0;
}

const char *proto_failure(const char *line, const struct proto_reply *r)
{
	if (!r->ok) {
		if (proto_lacks_env(line, r))
			return "the node's console has no getenv or setenv (skynet 1.8 added them)";
		for (size_t i = 0; i < r->nlines; i++)
			if (r->lines[i][0])
				return r->lines[i];
		return "command failed";
	}
	if (r->nlines >= 1 && strncmp(r->lines[0], "Can't open ", 11) == 0)
		return r->lines[0];
	if (r->nlines == 1 && proto_is_cmd(line, "kill") && r->lines[0][0] == ':') {
		const char *tab = strchr(r->lines[0], '\t');
		if (tab && strcmp(tab, "\tnil") == 0)
			return "no such service";
	}
	if (r->nlines == 1 && strcmp(r->lines[0], "Failed") == 0 &&
	    (proto_is_cmd(line, "start") || proto_is_cmd(line, "log") || proto_is_cmd(line, "snax")))
		return "Failed (the service could not be launched; see the node's log)";
	return NULL;
}

size_t proto_split(char *s, char **f, size_t max)
{
	size_t n = 0;
	while (n < max) {
		f[n++] = s;
		if (n == max)
			break;	/* the last field keeps its tabs */
		char *tab = strchr(s, '\t');
		if (!tab)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	return n;
}

const char *proto_get(char *const *f, size_t n, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < n; i++)
		if (strncmp(f[i], key, kl) == 0 && f[i][kl] == ':')
			return f[i] + kl + 1;
	return NULL;
}

char *proto_escape(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out = malloc(3 * len + 1), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%' || c == '\0' || c == ' ' || (c >= '\t' && c <= '\r')) {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	return out;
}

static int proto_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t proto_unescape(char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < len &&
		    (h = proto_hexval(s[i + 1])) >= 0 && (l = proto_hexval(s[i + 2])) >= 0) {
			s[o++] = (char)(h << 4 | l);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	return o;
}
