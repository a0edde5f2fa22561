/* keys.c - unsubctl's key and token verbs: genkey, keys, token, decode. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "ctl.h"
#include "header.h"
#include "mint.h"
#include "ref.h"
#include "timefmt.h"
#include "token.h"

/* genkey: add a fresh key to the keyring, creating it 0600. */
int cmd_genkey(struct ctl *x)
{
	char err[512];
	uint32_t id;

	if (keyring_generate(x->cfg.key_file, time(NULL), &id, err,
	    sizeof(err)) != KEYRING_OK)
		return ctl_fail(EX_CONFIG, "%s", err);
	printf("added key %08lx to %s\n", (unsigned long)id, x->cfg.key_file);
	return EX_OK;
}

/* keys: list key ids and ages, newest last, never the secrets. */
int cmd_keys(struct ctl *x)
{
	int rc;
	time_t now = time(NULL);

	if ((rc = ctl_need_keys(x)) != EX_OK)
		return rc;
	for (size_t i = 0; i < keyring_count(x->kr); i++) {
		const struct keyring_key *k = keyring_at(x->kr, i);
		char when[TIMEFMT_LEN];
		timefmt_rfc3339((uint64_t)k->created, when);
		printf("%08lx  %s  %lld days%s\n", (unsigned long)k->id, when,
		    (long long)(now - k->created) / 86400,
		    i + 1 == keyring_count(x->kr) ? "  (seals)" : "");
	}
	return EX_OK;
}

/* Fill claims from the options and a normalised address. */
static int claims_from_opts(struct ctl *x, const char *addr,
    struct token_claims *c)
{
	memset(c, 0, sizeof(*c));
	if (x->list == NULL)
		return ctl_fail(EX_USAGE, "--list is required");
	if (strcmp(x->list, STORE_SCOPE_ALL) == 0)
		return ctl_fail(EX_USAGE, "--list * is not a list; use --all "
		    "for a token that unsubscribes from every list");
	/* the ids the milter would accept from the message's headers */
	if (!token_id_ok(x->list, 1) ||
	    (x->profile && !token_id_ok(x->profile, 0)) ||
	    (x->campaign && !token_id_ok(x->campaign, 0)))
		return ctl_fail(EX_USAGE, "list, profile and campaign ids are "
		    "1 to %d visible ASCII characters, no comma",
		    TOKEN_FIELD_MAX);
	strcpy(c->address, addr);
	strcpy(c->list, x->list);
	strcpy(c->profile, x->profile ? x->profile : "");
	strcpy(c->campaign, x->campaign ? x->campaign : "");
	c->scope_all = x->all || x->cfg.scope_all;
	c->issued = (uint64_t)time(NULL);
	return EX_OK;
}

/* token: print the headers the milter would add for this recipient. */
int cmd_token(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1], lu[HEADER_VALUE_MAX];
	struct token_claims c;
	int rc, detail;

	if ((rc = ctl_need_address(x, addr)) != EX_OK ||
	    (rc = claims_from_opts(x, addr, &c)) != EX_OK ||
	    (rc = ctl_need_keys(x)) != EX_OK ||
	    (rc = ctl_need_store(x, 0)) != EX_OK)
		return rc;
	switch (mint_headers(&x->cfg, x->kr, x->st, &c, "\n\t", lu,
	    sizeof(lu), &detail)) {
	case MINT_OK:
		break;
	case MINT_ETOKEN:
		return ctl_fail(EX_CONFIG, "sealing: %s",
		    token_strerror(detail));
	case MINT_ESTORE:
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(detail));
	default:
		return ctl_fail(EX_CONFIG, "header too long; set UnsubscribeURL "
		    "or UnsubscribeMailbox, or shorten them");
	}
	printf("%s: %s\n", HEADER_LU, lu);
	if (x->cfg.url[0] != '\0')
		printf("%s: %s\n", HEADER_LUP, HEADER_LUP_VALUE);
	return EX_OK;
}

/* Open the mailto reference in `in` from the store into c. */
static int decode_ref(struct ctl *x, const char *in, int token_rc,
    struct token_claims *c)
{
	uint8_t ref[REF_LEN];
	int rc, detail;

	if (!ref_mailto(in, x->cfg.mailbox, ref))
		return ctl_fail(EX_NOTFOUND, "invalid token: %s",
		    token_strerror(token_rc));
	if ((rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	switch (ref_lookup(x->kr, x->st, ref, c, &detail)) {
	case REF_OK:
		return EX_OK;
	case REF_ESTORE:
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(detail));
	default:
		return ctl_fail(EX_NOTFOUND, "unknown mailto reference "
		    "(not minted with these keys into this store)");
	}
}

/* Print decoded claims as one JSON object; EX_OK or EX_CONFIG. */
static int decode_json(const struct token_claims *c, const char *when,
    int by_ref)
{
	char key[16];

	snprintf(key, sizeof(key), "%08lx", (unsigned long)c->key_id);
	return ctl_json_put(json_pack("{s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:b}",
	    "address", ctl_json_str(c->address), "list", ctl_json_str(c->list),
	    "scope", ctl_json_str(c->scope_all ? STORE_SCOPE_ALL : c->list),
	    "profile", ctl_json_str(c->profile),
	    "campaign", ctl_json_str(c->campaign), "issued", when, "key", key,
	    "reference", by_ref), NULL);
}

/* decode: verify a token (text, URL, or a mailto reference looked up in
 * the store) and show its contents. */
int cmd_decode(struct ctl *x)
{
	struct token_claims c;
	char when[TIMEFMT_LEN];
	const char *t, *slash;
	int rc, by_ref = 0;

	if (x->argc != 1)
		return ctl_fail(EX_USAGE, "expected one TOKEN");
	if ((rc = ctl_need_keys(x)) != EX_OK)
		return rc;
	t = x->argv[0];
	if ((slash = strrchr(t, '/')) != NULL)
		t = slash + 1;
	rc = token_open_text(x->kr, t, strcspn(t, "?>&# \t\n"), &c);
	if (rc != TOKEN_OK) {
		if ((rc = decode_ref(x, x->argv[0], rc, &c)) != EX_OK)
			return rc;
		by_ref = 1;
	}
	timefmt_rfc3339(c.issued, when);
	if (x->json)
		return decode_json(&c, when, by_ref);
	printf("address:  %s\nlist:     %s\nscope:    %s\n", c.address, c.list,
	    c.scope_all ? "all lists" : "this list");
	printf("profile:  %s\ncampaign: %s\n", c.profile[0] ? c.profile : "-",
	    c.campaign[0] ? c.campaign : "-");
	printf("issued:   %s\nkey:      %08lx\n", when, (unsigned long)c.key_id);
	if (by_ref)
		printf("found by: mailto reference (the token first minted for "
		    "this recipient and list)\n");
	return EX_OK;
}
