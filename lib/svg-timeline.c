/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * svg-timeline.c - a VM's vCPU timeline as SVG (svg-timeline.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "markup.h"
#include "svg-timeline.h"

#define LEFT 96.0
#define RIGHT 24.0
#define TOP 78.0
#define LANE 34.0
#define BAR 20.0

static const char *const fill[_VS_TL_STATE_MAX] = {
        [VS_TL_RUNNING] = "#3a9d4f",
        [VS_TL_PREEMPTED] = "#d7301f",
        [VS_TL_WOKEN] = "#f2a43a",
        [VS_TL_HALTED] = "#c9cdd3",
};

static const char *const legend[_VS_TL_STATE_MAX] = {
        [VS_TL_RUNNING] = "running",
        [VS_TL_PREEMPTED] = "preempted (runnable, no CPU)",
        [VS_TL_WOKEN] = "woken, waiting for a CPU",
        [VS_TL_HALTED] = "halted (sleeping)",
};

/* A tick step of 1, 2 or 5 x 10^k ns giving at most ~10 ticks over @span. */
static uint64_t tick_step(uint64_t span) {
        uint64_t step = 1;

        for (;;) {
                for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
                        if (span / (step * (uint64_t) m) <= 10)
                                return step * (uint64_t) m;
                }
                if (step > UINT64_MAX / 100)
                        return step;
                step *= 10;
        }
}

int vs_svg_timeline_write(const struct vs_timeline *t, const struct vs_tl_vm *vm, FILE *f) {
        uint64_t first, ws, we, span, step;
        double width = VS_SVG_TL_WIDTH, plot = width - LEFT - RIGHT, height;
        unsigned lanes = vm->n_lanes ? vm->n_lanes : 1;

        vs_timeline_window(t, &first, &ws, &we);
        span = we > ws ? we - ws : 1;
        height = TOP + lanes * LANE + 52;
#define X(ts) (LEFT + plot * (double) ((ts) - ws) / (double) span)
#define Y(lane) (TOP + (lane) * LANE + LANE / 2)

        fprintf(f,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
                width, height, width, height);
        fputs("<title>", f);
        vs_markup_xml(f, vm->name);
        fputs(" vCPU timeline</title>\n"
              "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
              "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f3f8f\"/></marker></defs>\n"
              "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);

        /* title and legend */
        fputs("<text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">VM ", f);
        vs_markup_xml(f, vm->name);
        fprintf(f, ": vCPU timeline, %.3f to %.3f ms of the trace, %zu IPI%s%s</text>\n", (ws - first) / 1e6,
                (we - first) / 1e6, vm->n_ipis, vm->n_ipis == 1 ? "" : "s",
                vm->truncated ? " (truncated: too many items)" : "");
        double lx = 12;
        for (int s = VS_TL_RUNNING; s < _VS_TL_STATE_MAX; s++) {
                fprintf(f, "<rect x=\"%.1f\" y=\"36\" width=\"14\" height=\"12\" fill=\"%s\"/>"
                           "<text x=\"%.1f\" y=\"46\">%s</text>\n", lx, fill[s], lx + 18, legend[s]);
                lx += 36 + 7.0 * (double) strlen(legend[s]);
        }
        fprintf(f, "<line x1=\"%.1f\" y1=\"42\" x2=\"%.1f\" y2=\"42\" stroke=\"#1f3f8f\" stroke-width=\"1.2\" "
                   "marker-end=\"url(#arrow)\"/><text x=\"%.1f\" y=\"46\">IPI (dashed: PV send-IPI)</text>\n",
                lx, lx + 30, lx + 36);

        /* lanes */
        for (unsigned k = 0; k < vm->n_lanes; k++) {
                const struct vs_tl_lane *l = &vm->lanes[k];
                double y = Y(k);

                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">vCPU %u</text>\n", LEFT - 8, y + 4, k);
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6ea\"/>\n", LEFT, y,
                        LEFT + plot, y);
                for (size_t i = 0; l->present && i < l->n_spans; i++) {
                        const struct vs_tl_span *s = &l->spans[i];
                        double x0 = X(s->start), x1 = X(s->end);
                        if (s->state >= _VS_TL_STATE_MAX || !fill[s->state])
                                continue;
                        fprintf(f, "<rect class=\"state-%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                                   "fill=\"%s\"/>\n",
                                vs_tl_state_name(s->state), x0, y - BAR / 2, fmax(x1 - x0, 0.3), BAR, fill[s->state]);
                }
        }

        /* IPIs over the lanes */
        for (size_t i = 0; i < vm->n_ipis; i++) {
                const struct vs_tl_ipi *p = &vm->ipis[i];
                double x = X(p->ts), y0 = Y(p->src), y1 = Y(p->dst);

                /* stop short of the receiver's lane centre so the head shows; a self-IPI is a small hook */
                if (p->src == p->dst)
                        y0 -= BAR / 2 + 8, y1 -= BAR / 2;
                else
                        y1 += y1 > y0 ? -BAR / 2 : BAR / 2;
                fprintf(f, "<line class=\"ipi\" data-src=\"%u\" data-dst=\"%u\" data-ts-ns=\"%" PRIu64 "\" "
                           "x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#1f3f8f\" stroke-width=\"1\"%s "
                           "marker-end=\"url(#arrow)\"/>\n",
                        p->src, p->dst, p->ts, x, y0, x, y1, p->pv ? " stroke-dasharray=\"3,2\"" : "");
        }

        /* time axis: ms since the first event of the trace */
        double ay = TOP + lanes * LANE + 8;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", LEFT, ay, LEFT + plot,
                ay);
        step = tick_step(span);
        for (uint64_t tk = (ws - first + step - 1) / step * step; first + tk <= we; tk += step) {
                double x = X(first + tk);
                fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"black\"/>"
                           "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                        x, ay, x, ay + 5, x, ay + 18, (double) tk / 1e6);
                if (tk > UINT64_MAX - step)
                        break;
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">ms</text>\n", LEFT + plot, ay + 34);
        fputs("</svg>\n", f);
#undef X
#undef Y
        return ferror(f) ? -EIO : 0;
}
