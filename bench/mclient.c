/* mclient.c - a milter load generator speaking the MTA side of the milter
 * protocol (version 6, as Postfix does): C connections in parallel, each
 * sending M messages, so two filters can be compared under the same load.
 * usage: mclient SOCKET CONNS MSGS bulk|new|plain   (SOCKET: unix:/path or
 * inet:port@127.0.0.1).  bulk cycles through 1000 recipients, new sends
 * each message to a recipient never used before (a list's first mailing).
 * Prints msgs/s and what the filter answered. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define OFFER_PROTO (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |	\
	SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH |	\
	SMFIP_NR_HDR | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP |	\
	SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |	\
	SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define OFFER_ACTS 0x1ff

static const char *sockspec;
static int msgs_per_conn, bulk, fresh;
static atomic_uint fresh_seq;
static char body[4096];
static unsigned long replies[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Connect to unix:/path or inet:port@host, with TCP_NODELAY as Postfix. */
static int dial(void)
{
	int fd, one = 1;

	if (strncmp(sockspec, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockspec + 5);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			die("connect unix");
		return fd;
	}
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_port = htons((uint16_t)atoi(sockspec + 5));
	inet_pton(AF_INET, strchr(sockspec, '@') + 1, &sin.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect inet");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

/* The MTA's side of a connection: replies are read through a buffer, as
 * Postfix reads them (VSTREAM), not a read() per packet field. */
struct conn {
	int fd;
	size_t off, len;
	char buf[16384];
};

static void read_all(struct conn *c, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		size_t take;
		if (c->off == c->len) {
			ssize_t n = read(c->fd, c->buf, sizeof(c->buf));
			if (n <= 0)
				die("read");
			c->off = 0;
			c->len = (size_t)n;
		}
		take = c->len - c->off < len ? c->len - c->off : len;
		memcpy(p, c->buf + c->off, take);
		c->off += take;
		p += take;
		len -= take;
	}
}

/* Send one packet: length, command, data (two parts joined). */
static void send_pkt(int fd, char cmd, const void *a, size_t alen,
    const void *b, size_t blen)
{
	char buf[8192];
	uint32_t len = htonl((uint32_t)(1 + alen + blen));

	if (5 + alen + blen > sizeof(buf))
		die("packet too big");
	memcpy(buf, &len, 4);
	buf[4] = cmd;
	memcpy(buf + 5, a, alen);
	if (blen)
		memcpy(buf + 5 + alen, b, blen);
	write_all(fd, buf, 5 + alen + blen);
}

/* Read one reply packet; returns its command. */
static char read_reply(struct conn *c, char *data, size_t datasz)
{
	uint32_t len;
	char cmd;

	read_all(c, &len, 4);
	len = ntohl(len);
	if (len == 0 || len - 1 > datasz)
		die("reply too big");
	read_all(c, &cmd, 1);
	read_all(c, data, len - 1);
	return cmd;
}

/* Read replies until a final one, skipping progress and edits. */
static char final_reply(struct conn *conn)
{
	char data[8192], c;

	do
		c = read_reply(conn, data, sizeof(data));
	while (strchr("phim+-2bqel", c) != NULL);
	return c;
}

/* One step: send, then read a reply unless the filter waived it. */
static char step(struct conn *c, uint32_t proto, uint32_t skip,
    uint32_t noreply, char cmd, const void *a, size_t alen)
{
	if (proto & skip)
		return 'c';
	send_pkt(c->fd, cmd, a, alen, NULL, 0);
	return proto & noreply ? 'c' : final_reply(c);
}

/* Send one message of the load; returns the end-of-message reply. */
static char message(struct conn *c, uint32_t proto, int seq)
{
	static const char *const hdrs[][2] = {
		{ "From", "News <news@sender.example>" },
		{ "To", "reader@example.com" },
		{ "Subject", "This week's news" },
		{ "Date", "Tue, 24 Nov 2026 10:00:00 +0000" },
		{ "Message-ID", "<bench@sender.example>" },
		{ "MIME-Version", "1.0" },
		{ "Content-Type", "text/plain; charset=utf-8" },
	};
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "i%cBENCH%d%c", 0, seq, 0);
	send_pkt(c->fd, SMFIC_MACRO, "M", 1, buf, (size_t)n);
	step(c, proto, SMFIP_NOMAIL, SMFIP_NR_MAIL, SMFIC_MAIL,
	    "<news@sender.example>", 22);
	/* 1000 distinct recipients, reused: the steady state of a list. */
	if (fresh)
		n = snprintf(buf, sizeof(buf), "<new%ld-%u@example.com>",
		    (long)getpid(), atomic_fetch_add(&fresh_seq, 1));
	else
		n = snprintf(buf, sizeof(buf), "<reader%d@example.com>",
		    seq % 1000);
	step(c, proto, SMFIP_NORCPT, SMFIP_NR_RCPT, SMFIC_RCPT, buf,
	    (size_t)n + 1);
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		n = snprintf(buf, sizeof(buf), "%s%c%s", hdrs[i][0], 0,
		    hdrs[i][1]);
		step(c, proto, SMFIP_NOHDRS, SMFIP_NR_HDR, SMFIC_HEADER, buf,
		    (size_t)n + 1);
	}
	if (bulk)
		step(c, proto, SMFIP_NOHDRS, SMFIP_NR_HDR, SMFIC_HEADER,
		    "X-Unsub-List\0news", 18);
	step(c, proto, SMFIP_NOEOH, SMFIP_NR_EOH, SMFIC_EOH, "", 0);
	step(c, proto, SMFIP_NOBODY, SMFIP_NR_BODY, SMFIC_BODY, body,
	    sizeof(body));
	send_pkt(c->fd, SMFIC_BODYEOB, "", 0, NULL, 0);
	return final_reply(c);
}

/* One connection: negotiate, connect info, then the messages. */
static void *conn_main(void *arg)
{
	uint32_t offer[3] = { htonl(6), htonl(OFFER_ACTS), htonl(OFFER_PROTO) };
	unsigned long mine[256] = { 0 };
	char data[1024];
	uint32_t proto;
	struct conn *c = calloc(1, sizeof(*c));

	(void)arg;
	if (c == NULL)
		die("calloc");
	c->fd = dial();
	send_pkt(c->fd, SMFIC_OPTNEG, offer, sizeof(offer), NULL, 0);
	if (read_reply(c, data, sizeof(data)) != SMFIC_OPTNEG)
		die("negotiation");
	memcpy(&proto, data + 8, 4);
	proto = ntohl(proto);
	send_pkt(c->fd, SMFIC_MACRO, "C", 1, "j\0mta.example\0", 14);
	/* hostname, family '4', port (2 bytes), address */
	step(c, proto, SMFIP_NOCONNECT, SMFIP_NR_CONN, SMFIC_CONNECT,
	    "client.example\0" "4" "\0\31" "127.0.0.1", 28);
	for (int i = 0; i < msgs_per_conn; i++)
		mine[(unsigned char)message(c, proto, i)]++;
	send_pkt(c->fd, SMFIC_QUIT, "", 0, NULL, 0);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < 256; i++)
		replies[i] += mine[i];
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[256];
	struct timespec t0, t1;
	int conns;
	double secs;

	if (argc != 5)
		fprintf(stderr, "usage: mclient SOCKET CONNS MSGS "
		    "bulk|new|plain\n"),
		    exit(2);
	sockspec = argv[1];
	conns = atoi(argv[2]);
	msgs_per_conn = atoi(argv[3]);
	fresh = strcmp(argv[4], "new") == 0;
	bulk = fresh || strcmp(argv[4], "bulk") == 0;
	if (conns < 1 || conns > 256 || msgs_per_conn < 1)
		exit(2);
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < conns; i++)
		pthread_create(&tid[i], NULL, conn_main, NULL);
	for (int i = 0; i < conns; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f msgs/s (%d msgs in %.2f s); replies:",
	    conns * msgs_per_conn / secs, conns * msgs_per_conn, secs);
	for (int i = 0; i < 256; i++)
		if (replies[i])
			printf(" %c=%lu", i, replies[i]);
	printf("\n");
	return 0;
}
