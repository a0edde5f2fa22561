/* committer.c - unsub-httpd's writer thread.  A POST does not hold a
 * worker thread while its changes are synced to disk: the handler
 * suspends the connection and queues them here; this thread records
 * everything queued in one synced commit, logs each, and resumes each
 * connection to answer.  The workers go on serving while a commit runs,
 * and the next commit carries every change that arrived during it. */
#include <stdio.h>
#include <stdlib.h>

#include "httpd.h"

#define BATCH_MAX 256	/* changes in one commit at most */
_Static_assert(PREFS_MAX <= BATCH_MAX, "a POST's changes fit a commit");

struct committer {
	struct store *st;
	void (*recorded)(const struct post *);
	struct events *events;	/* woken after each commit */
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct post *head, **tail;
	int stopping;
	pthread_t thread;
	struct post *batch[BATCH_MAX];	/* their changes: BATCH_MAX at most */
	struct store_event ev[BATCH_MAX];
	int rc[BATCH_MAX], changed[BATCH_MAX];
};

/* Take queued posts with up to BATCH_MAX changes in all (a post has at
 * most PREFS_MAX), waiting for one; 0 once stopping and drained. */
static size_t take(struct committer *cm)
{
	size_t n = 0, changes = 0;

	pthread_mutex_lock(&cm->lock);
	while (cm->head == NULL && !cm->stopping)
		pthread_cond_wait(&cm->work, &cm->lock);
	for (; cm->head != NULL && changes + cm->head->n <= BATCH_MAX;
	    cm->head = cm->head->next) {
		changes += cm->head->n;
		cm->batch[n++] = cm->head;
	}
	if (cm->head == NULL)
		cm->tail = &cm->head;
	pthread_mutex_unlock(&cm->lock);
	return n;
}

/* Set a post's outcome from its changes' and log it. */
static void finish(struct committer *cm, struct post *p)
{
	p->rc = STORE_OK;
	for (size_t i = 0; i < p->n && p->rc == STORE_OK; i++)
		if (p->ch[i].rc != STORE_OK && p->ch[i].rc != STORE_ENOTFOUND)
			p->rc = p->ch[i].rc;
	if (p->rc != STORE_OK)
		snprintf(p->err, sizeof(p->err), "%s", store_strerror(p->rc));
	p->done = 1;
	cm->recorded(p);
}

/* Record each batch in one synced transaction, then let its requests
 * answer.  A post is the connection's again once resumed: not touched
 * after. */
static void *run(void *arg)
{
	struct committer *cm = arg;
	size_t n;

	while ((n = take(cm)) > 0) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < cm->batch[i]->n; j++)
				cm->ev[k++] = cm->batch[i]->ch[j].ev;
		int rc = store_record_batch(cm->st, cm->ev, k, cm->rc,
		    cm->changed);
		events_wake(cm->events);
		k = 0;
		for (size_t i = 0; i < n; i++) {
			struct post *p = cm->batch[i];
			for (size_t j = 0; j < p->n; j++, k++) {
				p->ch[j].ev = cm->ev[k];
				p->ch[j].rc = rc != STORE_OK ? rc : cm->rc[k];
				p->ch[j].changed = cm->changed[k];
			}
			finish(cm, p);
			MHD_resume_connection(p->conn);
		}
	}
	return NULL;
}

struct committer *committer_start(struct store *st,
    void (*recorded)(const struct post *), struct events *events)
{
	struct committer *cm = calloc(1, sizeof(*cm));

	if (cm == NULL)
		return NULL;
	cm->st = st;
	cm->recorded = recorded;
	cm->events = events;
	cm->tail = &cm->head;
	pthread_mutex_init(&cm->lock, NULL);
	pthread_cond_init(&cm->work, NULL);
	if (pthread_create(&cm->thread, NULL, run, cm) != 0) {
		pthread_cond_destroy(&cm->work);
		pthread_mutex_destroy(&cm->lock);
		free(cm);
		return NULL;
	}
	return cm;
}

int committer_submit(struct committer *cm, struct post *p)
{
	pthread_mutex_lock(&cm->lock);
	if (cm->stopping) {
		/* shutting down: record it here, on the request's thread */
		pthread_mutex_unlock(&cm->lock);
		for (size_t j = 0; j < p->n; j++)
			p->ch[j].rc = store_record(cm->st, &p->ch[j].ev,
			    &p->ch[j].changed);
		finish(cm, p);
		return 0;
	}
	/* suspended before it is queued, so never resumed before */
	MHD_suspend_connection(p->conn);
	p->done = 0;
	p->next = NULL;
	*cm->tail = p;
	cm->tail = &p->next;
	pthread_cond_signal(&cm->work);
	pthread_mutex_unlock(&cm->lock);
	return 1;
}

void committer_stop(struct committer *cm)
{
	pthread_mutex_lock(&cm->lock);
	if (cm->stopping) {
		pthread_mutex_unlock(&cm->lock);
		return;
	}
	cm->stopping = 1;
	pthread_cond_signal(&cm->work);
	pthread_mutex_unlock(&cm->lock);
	pthread_join(cm->thread, NULL);
}

void committer_free(struct committer *cm)
{
	if (cm == NULL)
		return;
	committer_stop(cm);
	pthread_cond_destroy(&cm->work);
	pthread_mutex_destroy(&cm->lock);
	free(cm);
}
