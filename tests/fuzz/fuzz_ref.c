/* fuzz_ref.c - libFuzzer target: the mailto reference's parsers, fed the
 * input as an envelope recipient and as a mailto URL; a reference read
 * back is written and must read back the same. */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "ref.h"

#define MAILBOX "unsubscribe@unsub.example.com"

/* Write ref for MAILBOX and read it back: the same bytes, or abort. */
static void round_trip(const uint8_t ref[REF_LEN])
{
	char text[ADDRESS_MAX + REF_TEXT + 2];
	uint8_t back[REF_LEN];

	if (ref_address(MAILBOX, ref, text, sizeof(text)) < 0 ||
	    ref_rcpt(text, MAILBOX, back) != 2 ||
	    memcmp(back, ref, REF_LEN) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	uint8_t ref[REF_LEN];

	if (in == NULL)
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	if (ref_rcpt(in, MAILBOX, ref) == 2)
		round_trip(ref);
	if (ref_mailto(in, MAILBOX, ref))
		round_trip(ref);
	ref_mailbox_fits(in);
	free(in);
	return 0;
}
