/* The full-screen terminal of `skyctl top`: raw mode, the alternate screen,
 * a hidden cursor, keys read with a timeout, and frames built in memory and
 * written with one write().  The terminal is given back as it was on every
 * way out: screen_close, exit() (atexit), and SIGINT/SIGTERM/SIGHUP, whose
 * handlers only set a flag that screen_key reports. */
#ifndef SCREEN_H
#define SCREEN_H

#include <stddef.h>

/* what screen_key returns besides a byte typed (1..255) */
enum {
	SCREEN_KEY_NONE = 0,	/* the timeout passed */
	SCREEN_KEY_RESIZE = -2,	/* the window changed size (SIGWINCH) */
	SCREEN_KEY_QUIT = -3,	/* Ctrl-C typed, or SIGINT/SIGTERM/SIGHUP */
	SCREEN_KEY_ESC = 27,	/* Esc alone; escape sequences are swallowed */
};

/* Take over the terminal (stdin and stdout must be one).  Returns 0, or -1
 * with errno set and the terminal untouched. */
int screen_open(void);
/* Give the terminal back; harmless when not open. */
void screen_close(void);
/* the window size, at least 1x1 (24x80 when it cannot be read) */
void screen_size(int *rows, int *cols);
/* Wait up to timeout_ms for a key; see the SCREEN_KEY_ values.  Returns -1
 * when stdin fails (closed terminal). */
int screen_key(int timeout_ms);

/* One frame, drawn over the previous one from the top-left corner. */
struct screen_frame {
	char *buf;
	size_t len, cap;
	int rows, cols;		/* the window when the frame began */
	int line;		/* lines put so far */
	int oom;		/* a growth failed: the frame is not drawn */
};

/* Start a frame at the current window size (clearing the whole screen when
 * the size changed since the last frame). */
void screen_begin(struct screen_frame *f);
/* Put one line, cut to the width; standout (reverse video) when inverse.
 * Lines past the window's height are dropped. */
void screen_line(struct screen_frame *f, int inverse, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Clear below the last line and write the frame; returns 0 or -1. */
int screen_end(struct screen_frame *f);
void screen_frame_free(struct screen_frame *f);

#endif
