/* address.c - validate a mail address and normalise it for store keys. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"

/* Characters allowed in an unquoted local part (RFC 5322 atext and dot). */
static int local_char(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

/* An address literal: [192.0.2.1] or [IPv6:2001:db8::1] (RFC 5321
 * 4.1.3), checked so that nothing else reaches a store key. */
static int literal_ok(const char *d, size_t len)
{
	char ip[64];
	unsigned char bin[16];
	const char *p = d + 1;
	size_t n = len - 2;

	if (len < 3 || d[len - 1] != ']' || n >= sizeof(ip))
		return 0;
	if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		memcpy(ip, p + 5, n - 5);
		ip[n - 5] = '\0';
		return inet_pton(AF_INET6, ip, bin) == 1;
	}
	memcpy(ip, p, n);
	ip[n] = '\0';
	return inet_pton(AF_INET, ip, bin) == 1;
}

/* A domain: dot-separated labels of letters, digits and hyphens, or an
 * address literal in brackets. */
static int domain_ok(const char *d, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return 0;
	if (d[0] == '[')
		return literal_ok(d, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && d[len - 1] != '-';
}

int address_normalise(const char *in, int case_sensitive_local, char *out,
    size_t outsz)
{
	size_t len = strlen(in);
	const char *at;
	size_t llen, dlen;

	while (len > 0 && isspace((unsigned char)*in))
		in++, len--;
	while (len > 0 && isspace((unsigned char)in[len - 1]))
		len--;
	if (len >= 2 && in[0] == '<' && in[len - 1] == '>')
		in++, len -= 2;
	if (len == 0)
		return ADDRESS_EEMPTY;
	if (len > ADDRESS_MAX || len >= outsz)
		return ADDRESS_ELONG;
	at = memrchr(in, '@', len);
	if (at == NULL)
		return ADDRESS_ENOAT;
	llen = (size_t)(at - in);
	dlen = len - llen - 1;
	if (llen == 0 || llen > 64 || in[0] == '.' || in[llen - 1] == '.')
		return ADDRESS_ELOCAL;
	for (size_t i = 0; i < llen; i++)
		if (!local_char((unsigned char)in[i]) ||
		    (in[i] == '.' && in[i + 1] == '.'))
			return ADDRESS_ELOCAL;
	if (!domain_ok(at + 1, dlen))
		return ADDRESS_EDOMAIN;
	for (size_t i = 0; i < len; i++)
		out[i] = (i < llen && case_sensitive_local) ? in[i] :
		    (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
	return ADDRESS_OK;
}

const char *address_strerror(int err)
{
	switch (err) {
	case ADDRESS_OK: return "valid";
	case ADDRESS_EEMPTY: return "empty address";
	case ADDRESS_ENOAT: return "address has no @domain";
	case ADDRESS_ELOCAL: return "invalid local part";
	case ADDRESS_EDOMAIN: return "invalid domain";
	case ADDRESS_ELONG: return "address longer than 254 characters";
	}
	return "unknown address error";
}
