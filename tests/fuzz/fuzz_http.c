/* fuzz_http.c - libFuzzer target: what unsub-httpd parses itself: the
 * Accept-Language header, the token in the request path, and page
 * rendering with hostile values (the HTTP framing and forms are
 * libmicrohttpd's). */
#include <stdlib.h>
#include <string.h>

#include "../../httpd/httpd.h"
#include "token.h"

static struct keyring *kr;

/* Templates and a keyring for the whole run. */
static void init(void)
{
	char dir[] = "/tmp/unsub-fuzz-http-XXXXXX", path[64], err[256];
	uint32_t id;

	if (page_load("conf/templates", err, sizeof(err)) != 0 ||
	    mkdtemp(dir) == NULL)
		abort();
	strcpy(path, dir);
	strcat(path, "/keys");
	if (keyring_generate(path, 1, &id, err, sizeof(err)) != 0 ||
	    keyring_load(path, &kr, err, sizeof(err)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), masked[600];
	struct token_claims c;
	struct page_vars v;
	struct page_item item = { 0 };
	size_t len;
	char *html;

	if (kr == NULL)
		init();
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	(void)page_lang(s);
	if (token_open_text(kr, s, strlen(s), &c) == 0)
		abort();
	page_mask(s, masked, sizeof(masked));
	memset(&v, 0, sizeof(v));
	v.address = masked;
	v.list = s;
	v.message = s;
	item.name = item.title = item.description = s;
	item.checked = item.marked = size % 2 ? "" : NULL;
	v.action = s;
	v.date = size % 2 ? s : NULL;
	v.time = s;
	v.items = &item;	/* a list whose name, title and description are s */
	v.n_items = 1;
	html = page_render(size % 3, page_lang(s), &v, &len);
	if (html == NULL || strstr(html, "<script") != NULL)
		abort();	/* escaping must hold whatever the input */
	free(html);
	free(s);
	return 0;
}
