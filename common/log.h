/* log.h - one logging module: levels, syslog, stderr in the foreground. */
#ifndef UNSUB_LOG_H
#define UNSUB_LOG_H

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_open(const char *ident, int foreground);
void log_set_level(enum log_level level);
int log_level_parse(const char *name, enum log_level *out);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void log_close(void);

#endif
