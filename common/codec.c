/* codec.c - RFC 4648 base32 (lowercase, no padding) and base64url codecs. */
#include <ctype.h>
#include <string.h>

#include "codec.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Characters needed for n bytes in base32 without padding. */
size_t codec_b32_enclen(size_t n)
{
	return (n * 8 + 4) / 5;
}

/* Characters needed for n bytes in base64url without padding. */
size_t codec_b64u_enclen(size_t n)
{
	return (n * 4 + 2) / 3;
}

/* Encode with `bits` bits per character from alphabet `abc`. */
static int encode(const uint8_t *in, size_t n, char *out, size_t outsz,
    const char *abc, unsigned bits, size_t need)
{
	unsigned long acc = 0;
	unsigned have = 0;
	size_t o = 0;

	if (need >= outsz)
		return -1;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		have += 8;
		while (have >= bits) {
			have -= bits;
			out[o++] = abc[(acc >> have) & ((1u << bits) - 1)];
		}
	}
	if (have > 0)
		out[o++] = abc[(acc << (bits - have)) & ((1u << bits) - 1)];
	out[o] = '\0';
	return (int)o;
}

int codec_b32_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
	return encode(in, n, out, outsz, b32, 5, codec_b32_enclen(n));
}

int codec_b64u_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
	return encode(in, n, out, outsz, b64u, 6, codec_b64u_enclen(n));
}

/* Value of a base32 character in either case, or -1. */
static int b32_val(int c)
{
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Value of a base64url character, or -1. */
static int b64u_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decode len characters; leftover bits must be zero (canonical form). */
static int decode(const char *in, size_t len, uint8_t *out, size_t outsz,
    int (*val)(int), unsigned bits)
{
	unsigned long acc = 0;
	unsigned have = 0;
	size_t o = 0;

	if (len * bits / 8 > outsz)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = val((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << bits) | (unsigned)v;
		have += bits;
		if (have >= 8) {
			have -= 8;
			out[o++] = (uint8_t)(acc >> have);
		}
	}
	if (have >= bits || (acc & ((1ul << have) - 1)) != 0)
		return -1;
	return (int)o;
}

int codec_b32_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
	return decode(in, len, out, outsz, b32_val, 5);
}

int codec_b64u_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
	return decode(in, len, out, outsz, b64u_val, 6);
}
