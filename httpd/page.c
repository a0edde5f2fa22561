/* page.c - the landing, done and error pages: operator-editable templates
 * in three languages, with {{name}} values HTML-escaped and
 * {{?name}}...{{/name}} shown only when the value is set. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "httpd.h"

static const char *const kind_names[PAGE_KINDS] = { "landing", "done",
	"error" };
static const char *const lang_names[LANGS] = { "en", "sv", "de" };
static char *templates[PAGE_KINDS][LANGS];

/* Read a whole file; NULL if it cannot be read. */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    n < (1 << 20) && fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else
			buf[n] = '\0';
	}
	fclose(fp);
	return buf;
}

int page_load(const char *dir, char *err, size_t errsz)
{
	char path[1200];

	for (int k = 0; k < PAGE_KINDS; k++)
		for (int l = 0; l < LANGS; l++) {
			snprintf(path, sizeof(path), "%s/%s.%s.html", dir,
			    kind_names[k], lang_names[l]);
			free(templates[k][l]);
			if ((templates[k][l] = slurp(path)) == NULL) {
				snprintf(err, errsz, "template %s: cannot be "
				    "read", path);
				return -1;
			}
		}
	return 0;
}

enum page_lang page_lang(const char *accept)
{
	enum page_lang best = LANG_EN;
	double bestq = 0;

	/* "sv-SE,sv;q=0.9,en;q=0.5": the highest q among ours wins */
	for (const char *p = accept; p != NULL && *p != '\0'; ) {
		size_t len = strcspn(p, ",");
		const char *q = memchr(p, ';', len);
		double qv = 1.0;
		while (*p == ' ')
			p++, len--;
		if (q != NULL) {
			const char *v = strstr(q, "q=");
			if (v != NULL && v < p + len)
				qv = strtod(v + 2, NULL);
		}
		for (int l = 0; l < LANGS; l++)
			if (strncasecmp(p, lang_names[l], 2) == 0 &&
			    (len == 2 || p[2] == '-' || p[2] == ';') && qv > bestq) {
				best = (enum page_lang)l;
				bestq = qv;
			}
		p += len;
		if (*p == ',')
			p++;
	}
	return best;
}

/* Append s, HTML-escaped. */
static void put_escaped(struct buf *o, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '<': buf_add(o, "&lt;", 4); break;
		case '>': buf_add(o, "&gt;", 4); break;
		case '&': buf_add(o, "&amp;", 5); break;
		case '"': buf_add(o, "&quot;", 6); break;
		case '\'': buf_add(o, "&#39;", 5); break;
		default: buf_add(o, s, 1);
		}
	}
}

/* The value of a template variable. */
static const char *var(const struct page_vars *v, const char *name,
    size_t len)
{
	static const struct { const char *name; size_t off; } t[] = {
		{ "address", offsetof(struct page_vars, address) },
		{ "list", offsetof(struct page_vars, list) },
		{ "action", offsetof(struct page_vars, action) },
		{ "date", offsetof(struct page_vars, date) },
		{ "all", offsetof(struct page_vars, all) },
		{ "one", offsetof(struct page_vars, one) },
		{ "message", offsetof(struct page_vars, message) },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0)
			return *(const char *const *)((const char *)v + t[i].off);
	return NULL;
}

char *page_render(enum page_kind kind, enum page_lang lang,
    const struct page_vars *v, size_t *outlen)
{
	const char *t = templates[kind][lang];
	struct buf o = BUF_INIT;

	if (t == NULL)
		return NULL;
	buf_add(&o, "", 0);
	while (*t != '\0') {
		const char *open = strstr(t, "{{"), *close;
		buf_add(&o, t, open ? (size_t)(open - t) : strlen(t));
		if (open == NULL || (close = strstr(open, "}}")) == NULL)
			break;
		if (open[2] == '?') {	/* {{?name}} ... {{/name}} */
			const char *name = open + 3, *e;
			size_t nl = (size_t)(close - name);
			char end[64];
			snprintf(end, sizeof(end), "{{/%.*s}}", (int)nl, name);
			if ((e = strstr(close, end)) == NULL)
				break;
			t = var(v, name, nl) != NULL ? close + 2 :
			    e + strlen(end);
			continue;
		}
		if (open[2] != '/')
			put_escaped(&o, var(v, open + 2,
			    (size_t)(close - open - 2)));
		t = close + 2;
	}
	if (o.failed) {
		buf_free(&o);
		return NULL;
	}
	*outlen = o.len;
	return o.p;
}

void page_mask(const char *address, char *out, size_t outsz)
{
	const char *at = strrchr(address, '@');
	size_t local = at ? (size_t)(at - address) : strlen(address);

	if (local <= 2)
		snprintf(out, outsz, "%.1s\u2022\u2022\u2022%s", address,
		    at ? at : "");
	else
		snprintf(out, outsz, "%.1s\u2022\u2022\u2022%c%s", address,
		    address[local - 1], at ? at : "");
}
