/* page.c - the landing, done and error pages: operator-editable templates
 * in every language HTTPTemplates holds (KIND.LANG.html), with {{name}}
 * values HTML-escaped, {{?name}}...{{/name}} shown only when the value is
 * set and {{#items}}...{{/items}} once per list. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "httpd.h"

static const char *const kind_names[PAGE_KINDS] = { "landing", "done",
	"error" };
static char *templates[PAGE_KINDS][PAGE_LANGS_MAX];
static char lang_names[PAGE_LANGS_MAX][PAGE_LANG_LEN + 1];
static int n_langs, default_lang;

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

/* The language tag of "landing.TAG.html" into tag: letters, digits and
 * '-', starting with a letter; 0, or -1 when the name is not one. */
static int landing_tag(const char *name, char tag[PAGE_LANG_LEN + 1])
{
	size_t len = strlen(name), n;

	if (strncmp(name, "landing.", 8) != 0 || len < 8 + 2 + 5 ||
	    strcmp(name + len - 5, ".html") != 0 ||
	    (n = len - 8 - 5) > PAGE_LANG_LEN || !isalpha((unsigned char)name[8]))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[8 + i]) && name[8 + i] != '-')
			return -1;
	memcpy(tag, name + 8, n);
	tag[n] = '\0';
	return 0;
}

static int tag_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every language with a landing page in dir, sorted; -1 with err. */
static int find_langs(const char *dir, char *err, size_t errsz)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		snprintf(err, errsz, "templates %s: %s", dir, strerror(errno));
		return -1;
	}
	n_langs = 0;
	while ((e = readdir(d)) != NULL)
		if (n_langs < PAGE_LANGS_MAX &&
		    landing_tag(e->d_name, lang_names[n_langs]) == 0)
			n_langs++;
	closedir(d);
	if (n_langs == 0) {
		snprintf(err, errsz, "templates %s: no landing.LANG.html", dir);
		return -1;
	}
	qsort(lang_names, (size_t)n_langs, sizeof(lang_names[0]), tag_cmp);
	return 0;
}

int page_load(const char *dir, char *err, size_t errsz)
{
	char path[1200];

	for (int k = 0; k < PAGE_KINDS; k++)
		for (int l = 0; l < n_langs; l++) {
			free(templates[k][l]);
			templates[k][l] = NULL;
		}
	if (find_langs(dir, err, errsz) != 0)
		return -1;
	default_lang = 0;
	for (int l = 0; l < n_langs; l++) {
		if (strcmp(lang_names[l], "en") == 0)
			default_lang = l;
		for (int k = 0; k < PAGE_KINDS; k++) {
			snprintf(path, sizeof(path), "%s/%s.%s.html", dir,
			    kind_names[k], lang_names[l]);
			if ((templates[k][l] = slurp(path)) == NULL) {
				snprintf(err, errsz, "template %s: cannot be "
				    "read", path);
				return -1;
			}
		}
	}
	return 0;
}

/* Does the language range r (len bytes: "sv", "sv-SE") ask for tag? */
static int lang_match(const char *r, size_t len, const char *tag)
{
	size_t n = strlen(tag);

	return len >= n && strncasecmp(r, tag, n) == 0 &&
	    (len == n || r[n] == '-');
}

int page_lang(const char *accept)
{
	int best = default_lang;
	double bestq = 0;

	/* "sv-SE,sv;q=0.9,en;q=0.5": the highest q among ours wins */
	for (const char *p = accept; p != NULL && *p != '\0'; ) {
		size_t len = strcspn(p, ","), rl;
		const char *q = memchr(p, ';', len);
		double qv = 1.0;
		while (*p == ' ' && len > 0)
			p++, len--;
		rl = q ? (size_t)(q - p) : len;
		while (rl > 0 && p[rl - 1] == ' ')
			rl--;
		if (q != NULL) {
			const char *v = strstr(q, "q=");
			if (v != NULL && v < p + len)
				qv = strtod(v + 2, NULL);
		}
		for (int l = 0; l < n_langs; l++)
			if (lang_match(p, rl, lang_names[l]) && qv > bestq) {
				best = l;
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

/* A value by name from a table of {name, offset} over a struct. */
struct field {
	const char *name;
	size_t off;
};

static const char *lookup(const struct field *t, size_t n, const void *base,
    const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0)
			return *(const char *const *)((const char *)base +
			    t[i].off);
	return NULL;
}

#define F(s, name) { #name, offsetof(struct s, name) }
#define N(t) (sizeof(t) / sizeof(t[0]))

/* The value of a template variable: the current item's first, then the
 * page's. */
static const char *var(const struct page_vars *v,
    const struct page_item *item, const char *name, size_t len)
{
	static const struct field pv[] = { F(page_vars, address),
		F(page_vars, list), F(page_vars, action), F(page_vars, date),
		F(page_vars, time), F(page_vars, all), F(page_vars, one),
		F(page_vars, choose), F(page_vars, nothing),
		F(page_vars, message) };
	static const struct field iv[] = { F(page_item, name),
		F(page_item, title), F(page_item, description),
		F(page_item, checked), F(page_item, marked), F(page_item, gone),
		F(page_item, back) };
	const char *r = NULL;

	if (item != NULL && (r = lookup(iv, N(iv), item, name, len)) != NULL)
		return r;
	return lookup(pv, N(pv), v, name, len);
}

/* Render t up to end into o: {{name}}, {{?name}}...{{/name}}, and
 * {{#items}}...{{/items}} once per item (items do not nest). */
static void render(struct buf *o, const char *t, const char *end,
    const struct page_vars *v, const struct page_item *item)
{
	while (t < end) {
		const char *open = memmem(t, (size_t)(end - t), "{{", 2), *close;
		const char *name, *e;
		size_t nl;
		char tag[64];
		buf_add(o, t, open ? (size_t)(open - t) : (size_t)(end - t));
		if (open == NULL || (close = memmem(open, (size_t)(end - open),
		    "}}", 2)) == NULL)
			return;
		t = close + 2;
		if (open[2] == '/')
			continue;
		if (open[2] != '?' && open[2] != '#') {
			put_escaped(o, var(v, item, open + 2,
			    (size_t)(close - open - 2)));
			continue;
		}
		name = open + 3;
		nl = (size_t)(close - name);
		snprintf(tag, sizeof(tag), "{{/%.*s}}", (int)nl, name);
		if ((e = memmem(t, (size_t)(end - t), tag, strlen(tag))) == NULL)
			return;
		if (open[2] == '#')
			for (size_t i = 0; item == NULL && i < v->n_items; i++)
				render(o, t, e, v, &v->items[i]);
		else if (var(v, item, name, nl) != NULL)
			render(o, t, e, v, item);
		t = e + strlen(tag);
	}
}

char *page_render(enum page_kind kind, int lang, const struct page_vars *v,
    size_t *outlen)
{
	const char *t = lang >= 0 && lang < n_langs ? templates[kind][lang] :
	    NULL;
	struct buf o = BUF_INIT;

	if (t == NULL)
		return NULL;
	buf_add(&o, "", 0);
	render(&o, t, t + strlen(t), v, NULL);
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
