/* events.c - the long-poll of GET /api/v1/events.  A request with
 * nothing past its cursor suspends its connection (it holds no worker
 * thread) and waits here; one thread resumes it as soon as the feed's
 * last id passes its cursor, or at its deadline, and the handler, called
 * again, answers.  The committer says when it has committed
 * (events_wake): waiters see its events at once.  Events from other
 * processes (the milter, unsubctl, unsub-sync) are seen by reading the
 * feed's last id every POLL_MS while anyone waits, and never otherwise. */
#include <stdlib.h>
#include <time.h>

#include "daemon.h"
#include "httpd.h"

#define POLL_MS 10

struct events {
	struct store *st;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct events_waiter *head;
	int kick;		/* committed: look now */
	int stopping;
	pthread_t thread;
};

int64_t events_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Unlink the waiters that are done (last past their cursor, deadline
 * passed, or stopping) into *done; the lock is held. */
static void take_done(struct events *e, uint64_t last, int64_t now,
    struct events_waiter **done)
{
	struct events_waiter **pp = &e->head, *w;

	while ((w = *pp) != NULL) {
		if (e->stopping || last > w->after || now >= w->deadline) {
			*pp = w->next;
			w->next = *done;
			*done = w;
		} else
			pp = &w->next;
	}
}

/* The thread: while anyone waits, look at the feed's end every POLL_MS or
 * when kicked, and resume whoever may answer (outside the lock). */
static void *run(void *arg)
{
	struct events *e = arg;
	struct events_waiter *done, *w;
	uint64_t last;
	int stop = 0;

	while (!stop) {
		pthread_mutex_lock(&e->lock);
		while (e->head == NULL && !e->stopping)
			pthread_cond_wait(&e->cond, &e->lock);
		if (!e->kick && !e->stopping) {
			struct timespec until;
			daemon_deadline(CLOCK_MONOTONIC, POLL_MS, &until);
			pthread_cond_timedwait(&e->cond, &e->lock, &until);
		}
		e->kick = 0;
		pthread_mutex_unlock(&e->lock);
		if (store_events_last(e->st, &last) != STORE_OK)
			last = 0;	/* deadlines only, until it reads */
		done = NULL;
		pthread_mutex_lock(&e->lock);
		take_done(e, last, events_now_ms(), &done);
		stop = e->stopping && e->head == NULL;
		pthread_mutex_unlock(&e->lock);
		while ((w = done) != NULL) {
			done = w->next;	/* w is the request's again once resumed */
			MHD_resume_connection(w->conn);
		}
	}
	return NULL;
}

struct events *events_start(struct store *st)
{
	struct events *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;

	if (e == NULL)
		return NULL;
	e->st = st;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&e->thread, NULL, run, e) != 0) {
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->lock);
		free(e);
		return NULL;
	}
	return e;
}

int events_wait(struct events *e, struct events_waiter *w,
    struct MHD_Connection *c)
{
	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	/* suspended before it is listed, so never resumed before */
	MHD_suspend_connection(c);
	w->conn = c;
	w->next = e->head;
	e->head = w;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	return 1;
}

void events_wake(struct events *e)
{
	pthread_mutex_lock(&e->lock);
	if (e->head != NULL) {
		e->kick = 1;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
}

void events_stop(struct events *e)
{
	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		pthread_mutex_unlock(&e->lock);
		return;
	}
	e->stopping = 1;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
}

void events_free(struct events *e)
{
	if (e == NULL)
		return;
	events_stop(e);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
