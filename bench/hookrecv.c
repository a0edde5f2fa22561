/* hookrecv.c - a webhook receiver for bench/webhook.sh: answers every
 * POST 204 once its body is read, on 127.0.0.1:PORT, until SIGTERM.
 * It verifies nothing (tests/sync/receiver.py does): it is the fast
 * receiver the delivery rate is measured against. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <microhttpd.h>

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *data, size_t *len, void **state)
{
	static int started;
	struct MHD_Response *r;
	enum MHD_Result rc;

	(void)cls; (void)url; (void)method; (void)version; (void)data;
	if (*state == NULL) {
		*state = &started;	/* headers only: the body comes next */
		return MHD_YES;
	}
	if (*len != 0) {
		*len = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	rc = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return rc;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (argc != 2) {
		fprintf(stderr, "usage: hookrecv PORT\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "hookrecv: cannot listen on port %s\n", argv[1]);
		return 1;
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
