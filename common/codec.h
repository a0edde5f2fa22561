/* codec.h - base32 (mailto, case-insensitive) and base64url (URL) codecs. */
#ifndef UNSUB_CODEC_H
#define UNSUB_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length, without the terminating NUL, of n input bytes. */
size_t codec_b32_enclen(size_t n);
size_t codec_b64u_enclen(size_t n);

/* Encode n bytes to out (NUL-terminated). Returns chars written or -1 if
 * outsz is too small.  Base32 is RFC 4648 lowercase, no padding; base64url is
 * RFC 4648 section 5, no padding. */
int codec_b32_encode(const uint8_t *in, size_t n, char *out, size_t outsz);
int codec_b64u_encode(const uint8_t *in, size_t n, char *out, size_t outsz);

/* Decode len chars; base32 accepts either case. Returns bytes written or -1
 * on a bad character, bad length or short output buffer. */
int codec_b32_decode(const char *in, size_t len, uint8_t *out, size_t outsz);
int codec_b64u_decode(const char *in, size_t len, uint8_t *out, size_t outsz);

#endif
