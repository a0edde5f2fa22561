/* buf.h - a growable byte buffer (decoded mail text, rendered pages). */
#ifndef UNSUB_BUF_H
#define UNSUB_BUF_H

#include <stddef.h>

/* Zero-initialise (BUF_INIT); p stays NULL until the first append, then
 * holds len bytes and a NUL.  A failed allocation is sticky: every later
 * append is refused and the contents stay as they were. */
struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

#define BUF_INIT { NULL, 0, 0, 0 }

/* Append n bytes; returns 0, or -1 if this or an earlier append failed. */
int buf_add(struct buf *b, const void *s, size_t n);
/* Free the contents; the buffer is empty and usable again. */
void buf_free(struct buf *b);

#endif
