/* The terminal layer of `skyctl top` (see screen.h).  Deliberately tiny and
 * VT100/xterm only (no terminfo): raw mode through termios, the alternate
 * screen (?1049), cursor hiding (?25), home + erase-to-end-of-line redraws
 * so a frame never flickers, and a full clear only when the size changed.
 * Signal handlers only set flags; screen_key reports them. */
#include "screen.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define SCREEN_ENTER "\x1b[?1049h\x1b[?25l\x1b[2J\x1b[H"
#define SCREEN_LEAVE "\x1b[0m\x1b[?25h\x1b[?1049l"

static const int screen_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
#define SCREEN_NSIG (sizeof screen_signals / sizeof screen_signals[0])

static struct termios screen_saved;
static struct sigaction screen_old[SCREEN_NSIG];
static int screen_is_open;
static int screen_last_rows, screen_last_cols;
static volatile sig_atomic_t screen_quit, screen_winch;

static void screen_on_signal(int sig)
{
	if (sig == SIGWINCH)
		screen_winch = 1;
	else
		screen_quit = 1;
}

/* write all of p, retrying short writes and EINTR; 0 or -1 */
static int screen_write(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int screen_open(void)
{
	static int registered;
	struct termios raw;
	if (screen_is_open)
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		errno = ENOTTY;
		return -1;
	}
	if (tcgetattr(STDIN_FILENO, &screen_saved) < 0)
		return -1;
	raw = screen_saved;
	/* no echo, no line editing, Ctrl-C/Ctrl-Z/Ctrl-S come in as keys;
	 * output processing stays on */
	raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
	raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -1;
	if (!registered && atexit(screen_close) == 0)
		registered = 1;
	screen_quit = screen_winch = 0;
	for (size_t i = 0; i < SCREEN_NSIG; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = screen_on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;	/* no SA_RESTART: a wait in poll returns at once */
		sigaction(screen_signals[i], &sa, &screen_old[i]);
	}
	screen_is_open = 1;
	screen_last_rows = screen_last_cols = 0;
	if (screen_write(SCREEN_ENTER, sizeof SCREEN_ENTER - 1) < 0) {
		int saved = errno;
		screen_close();
		errno = saved;
		return -1;
	}
	return 0;
}

void screen_close(void)
{
	if (!screen_is_open)
		return;
	screen_is_open = 0;
	screen_write(SCREEN_LEAVE, sizeof SCREEN_LEAVE - 1);
	tcsetattr(STDIN_FILENO, TCSADRAIN, &screen_saved);
	for (size_t i = 0; i < SCREEN_NSIG; i++)
		sigaction(screen_signals[i], &screen_old[i], NULL);
}

void screen_size(int *rows, int *cols)
{
	struct winsize ws;
	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* a flag a signal set, cleared as it is reported; SCREEN_KEY_NONE if none */
static int screen_flag(void)
{
	if (screen_quit)
		return SCREEN_KEY_QUIT;
	if (screen_winch) {
		screen_winch = 0;
		return SCREEN_KEY_RESIZE;
	}
	return SCREEN_KEY_NONE;
}

/* one byte from stdin within timeout_ms: 1 read, 0 none, -1 failure */
static int screen_byte(int timeout_ms, unsigned char *c)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;
	if (!(p.revents & POLLIN))
		return -1;
	ssize_t n = read(STDIN_FILENO, c, 1);
	if (n < 0 && errno == EINTR)
		return 0;
	return n == 1 ? 1 : -1;
}

int screen_key(int timeout_ms)
{
	unsigned char c;
	int flag = screen_flag();
	if (flag)
		return flag;
	int r = screen_byte(timeout_ms, &c);
	if (r <= 0)
		return r < 0 ? -1 : screen_flag();
	if (c == 3)
		return SCREEN_KEY_QUIT;
	if (c != 27)
		return c;
	/* Esc alone, or the start of a sequence (arrows, function keys) that
	 * top has no use for: swallow it through its final byte */
	if (screen_byte(30, &c) <= 0)
		return SCREEN_KEY_ESC;
	if (c != '[' && c != 'O')
		return SCREEN_KEY_NONE;
	for (int i = 0; i < 16 && screen_byte(30, &c) > 0; i++)
		if (c >= 0x40 && c <= 0x7e)
			break;
	return SCREEN_KEY_NONE;
}

/* append n bytes of p to the frame */
static void screen_put(struct screen_frame *f, const char *p, size_t n)
{
	if (f->oom)
		return;
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 16384;
		while (cap < f->len + n)
			cap *= 2;
		char *buf = realloc(f->buf, cap);
		if (!buf) {
			f->oom = 1;
			return;
		}
		f->buf = buf;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

#define SCREEN_PUTS(f, s) screen_put((f), (s), sizeof(s) - 1)

void screen_begin(struct screen_frame *f)
{
	f->len = 0;
	f->line = 0;
	f->oom = 0;
	screen_size(&f->rows, &f->cols);
	if (f->rows != screen_last_rows || f->cols != screen_last_cols)
		SCREEN_PUTS(f, "\x1b[2J");
	screen_last_rows = f->rows;
	screen_last_cols = f->cols;
	SCREEN_PUTS(f, "\x1b[H");
}

void screen_line(struct screen_frame *f, int inverse, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	if (f->line >= f->rows)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof text)
		n = sizeof text - 1;
	if (f->line++)
		SCREEN_PUTS(f, "\r\n");
	if (inverse)
		SCREEN_PUTS(f, "\x1b[7m");
	/* cut to the width: UTF-8 continuation bytes take no column, control
	 * bytes (a hostile name) are shown as '?' */
	int col = 0;
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c & 0xc0) == 0x80) {
			if (col)
				screen_put(f, &text[i], 1);
			continue;
		}
		if (col == f->cols)
			break;
		col++;
		screen_put(f, c < 0x20 || c == 0x7f ? "?" : &text[i], 1);
	}
	if (inverse) {
		for (; col < f->cols; col++)
			SCREEN_PUTS(f, " ");
		SCREEN_PUTS(f, "\x1b[0m");
	} else if (col < f->cols) {
		SCREEN_PUTS(f, "\x1b[K");
	}
}

int screen_end(struct screen_frame *f)
{
	if (f->line < f->rows)
		SCREEN_PUTS(f, "\x1b[J");
	if (f->oom)
		return -1;
	return screen_write(f->buf, f->len);
}

void screen_frame_free(struct screen_frame *f)
{
	free(f->buf);
	memset(f, 0, sizeof *f);
}
