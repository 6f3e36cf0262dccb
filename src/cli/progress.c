/*
 * progress.c — qemu-img's progress lines (see progress.h).
 */
#include "src/cli/progress.h"

static void line(struct progress *p, double pct)
{
	(void)fprintf(p->out, "    (%.2f/100%%)\r", pct);
	(void)fflush(p->out);
	p->shown = pct;
	p->open = true;
}

void progress_start(struct progress *p, FILE *out, bool on)
{
	p->out = out;
	p->on = on;
	p->open = false;
	p->shown = 0.0;
	if (on)
		line(p, 0.0);
}

void progress_update(void *ctx, uint32_t done_65536)
{
	struct progress *p = ctx;
	double pct;

	if (p == NULL || !p->on || !p->open)
		return;
	if (done_65536 > 65536u)
		done_65536 = 65536u;
	/* Below 100 until the end says it is done. */
	pct = (double)done_65536 * 100.0 / 65536.0;
	if (pct > 99.99)
		pct = 99.99;
	if (pct >= p->shown + 1.0)
		line(p, pct);
}

void progress_end(struct progress *p, bool done)
{
	if (!p->on || !p->open)
		return;
	if (done)
		line(p, 100.0);
	(void)fputc('\n', p->out);
	(void)fflush(p->out);
	p->open = false;
}
