/* log.c - levelled logging to syslog, and to stderr in the foreground. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static enum log_level log_max = LOG_LVL_INFO;
static int log_stderr;
static int log_syslog;
static const char *log_ident = "unsub";

/* Start logging as `ident`; foreground daemons and tools also use stderr. */
void log_open(const char *ident, int foreground)
{
	log_ident = ident;
	log_stderr = foreground;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_syslog = 1;
}

/* Drop messages above `level`. */
void log_set_level(enum log_level level)
{
	log_max = level;
}

/* Map "err", "warning", "info", "debug" to a level. */
int log_level_parse(const char *name, enum log_level *out)
{
	static const struct { const char *name; enum log_level level; } t[] = {
		{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR },
		{ "warning", LOG_LVL_WARN }, { "warn", LOG_LVL_WARN },
		{ "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(name, t[i].name) == 0) {
			*out = t[i].level;
			return 0;
		}
	return -1;
}

/* Copy `in` to out (outsz > 0) with each control character (below 0x20,
 * and DEL) written as \xHH: a message carries addresses, headers and URLs
 * from the network, and a CR or LF in one must not start a forged log
 * line.  Bytes over 0x7f (UTF-8) pass; a message too long is cut. */
static void log_escape(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		int ctl = c < 0x20 || c == 0x7f;

		if (n + (ctl ? 4 : 1) >= outsz)
			break;
		if (ctl)
			n += (size_t)snprintf(out + n, outsz - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

/* Emit one message at `level` to the configured sinks, escaped. */
static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error", "warning", "info", "debug" };
	char raw[2048], buf[2048];

	if (level > log_max)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_escape(raw, buf, sizeof(buf));
	if (log_syslog)
		syslog(prio[level], "%s: %s", tag[level], buf);
	if (log_stderr || !log_syslog)
		fprintf(stderr, "%s: %s: %s\n", log_ident, tag[level], buf);
}

#define LOG_FN(name, level)				\
	void name(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		va_start(ap, fmt);			\
		log_emit(level, fmt, ap);		\
		va_end(ap);				\
	}

LOG_FN(log_err, LOG_LVL_ERR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

/* Log an error and exit; only for start-up failures. */
void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

/* Close the syslog connection. */
void log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = 0;
}
