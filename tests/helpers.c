/* helpers: fixtures and the step invariant checker (see helpers.h). */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const default_costs[] = {
    "forward=1.2ms",  "backward-input=1.2ms", "backward-weight=1.2ms", "activation=64MiB",
    "optimizer=15ms", "link-latency=5us",     "link-bandwidth=50GBps", NULL};

const char *const v_step[] = {"pp=2",
                              "vp=2",
                              "layers=4",
                              "microbatches=4",
                              "forward=1ms",
                              "backward-input=1ms",
                              "backward-weight=1ms",
                              NULL};

enum sim_status fixture_run(struct sim_fixture *f, const char *const *sets)
{
    return fixture_run_with(f, sets, NULL);
}

enum sim_status fixture_run_with(struct sim_fixture *f, const char *const *sets,
                                 const char *const *more)
{
    memset(f, 0, sizeof *f);
    scn_defaults(&f->scn);
    enum sim_status st = SIM_OK;
    for (const char *const *s = sets; *s && st == SIM_OK; s++)
        st = scn_set_arg(&f->scn, *s, &f->err);
    for (const char *const *s = more; s && *s && st == SIM_OK; s++)
        st = scn_set_arg(&f->scn, *s, &f->err);
    if (st == SIM_OK)
        st = scn_check(&f->scn, &f->err);
    if (st == SIM_OK)
        st = layout_init(&f->layout, &f->scn, 0, &f->err);
    if (st == SIM_OK)
        st = costs_build_setup(&f->scn, &f->layout, &f->setup, &f->err);
    if (st == SIM_OK)
        st = pipe_run(&f->setup, &f->res, &f->err);
    return st;
}

int run_command(command_fn fn, const char *command, const char *const *args, char **out,
                char **errtext)
{
    char *argv[64] = {"stepsim", (char *)command};
    int argc = 2;
    for (; *args && argc < 62; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    FILE *o = tmpfile(), *e = tmpfile();
    cr_assert(o && e);
    int rc = fn(argc, argv, o, e);
    FILE *fps[2] = {o, e};
    char **dst[2] = {out, errtext};
    for (int k = 0; k < 2; k++) {
        long len = ftell(fps[k]);
        cr_assert(len >= 0);
        rewind(fps[k]);
        char *buf = calloc((size_t)len + 1, 1);
        cr_assert(buf);
        cr_assert_eq(fread(buf, 1, (size_t)len, fps[k]), (size_t)len);
        fclose(fps[k]);
        *dst[k] = buf;
    }
    return rc;
}

void fixture_release(struct sim_fixture *f)
{
    pipe_result_release(&f->res);
    pipe_setup_release(&f->setup);
    layout_release(&f->layout);
}

static int is_compute(const struct pipe_record *r)
{
    return r->peer < 0;
}

void assert_sane_step(const struct pipe_setup *setup, const struct pipe_result *res)
{
    int pp = res->pp, stages = res->pp * res->vp, m = res->microbatches;
    size_t cells = (size_t)stages * (size_t)m;
    simtime_t *rank_free = calloc((size_t)pp, sizeof *rank_free);
    simtime_t *link_free = calloc(2 * (size_t)pp, sizeof *link_free);
    simtime_t *act_at = calloc(cells, sizeof *act_at), *grad_at = calloc(cells, sizeof *grad_at);
    simtime_t *f_end = calloc(cells, sizeof *f_end), *b_end = calloc(cells, sizeof *b_end);
    int *nf = calloc(cells, sizeof *nf), *nb = calloc(cells, sizeof *nb);
    int *nw = calloc(cells, sizeof *nw);
    cr_assert(rank_free && link_free && act_at && grad_at && f_end && b_end && nf && nb && nw);
    for (size_t i = 0; i < cells; i++)
        act_at[i] = grad_at[i] = f_end[i] = b_end[i] = -1;

    /* Pass 1: arrivals and per-link serialisation. */
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (i > 0)
            cr_assert_geq(r->start, res->recs[i - 1].start, "records sorted by start (rec %zu)", i);
        cr_assert_leq(r->start, r->end);
        if (is_compute(r))
            continue;
        size_t cell = (size_t)r->stage * (size_t)m + (size_t)r->mb;
        if (r->kind == REC_SEND_ACT)
            act_at[cell] = r->end;
        else
            grad_at[cell] = r->end;
        int id = pipe_link_id(pp, r->rank, r->peer);
        cr_assert_geq(r->start, link_free[id], "link %d->%d carries two transfers at once", r->rank,
                      r->peer);
        const struct pipe_link *lk = &setup->links[id];
        simtime_t ser = lk->bw_Bps > 0 ? simtime_from_s(r->bytes / lk->bw_Bps) : 0;
        link_free[id] = r->start + ser;
        cr_assert_eq(r->end, r->start + ser + lk->lat, "transfer time = bytes/bw + latency");
    }
    /* Pass 2: compute ops. */
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (!is_compute(r))
            continue;
        cr_assert_geq(r->start, rank_free[r->rank], "rank %d runs two ops at once", r->rank);
        rank_free[r->rank] = r->end;
        if (r->kind == REC_OPT)
            continue;
        cr_assert_eq(r->stage, sched_stage_of(setup->schedule, pp, r->rank, r->chunk),
                     "chunk c on rank r is the schedule's placement of it");
        size_t cell = (size_t)r->stage * (size_t)m + (size_t)r->mb;
        int first, last; /* the micro-batch's route (every stage, or DualPipe's half) */
        sched_route(setup->schedule, &setup->sp, r->mb, &first, &last);
        cr_assert(r->stage >= first && r->stage <= last, "mb %d ran on stage %d off its route",
                  r->mb, r->stage);
        if (r->kind == REC_F) {
            nf[cell]++;
            f_end[cell] = r->end;
            if (r->stage > first) {
                simtime_t prev = f_end[cell - (size_t)m];
                cr_assert(prev >= 0 && r->start >= prev, "F(stage %d, mb %d) before F of stage %d",
                          r->stage, r->mb, r->stage - 1);
            }
            /* Same-rank hand-offs (pp=1) arrive at once and leave no transfer record. */
            if (r->stage > first && sched_rank_of(setup->schedule, pp, r->stage - 1) != r->rank &&
                act_at[cell] >= 0)
                cr_assert_geq(r->start, act_at[cell], "F before its activation arrived");
        } else if (r->kind == REC_B) {
            nb[cell]++;
            b_end[cell] = r->end;
            cr_assert(f_end[cell] >= 0 && r->start >= f_end[cell], "B before its own F");
            if (r->stage < last) {
                simtime_t next = b_end[cell + (size_t)m];
                cr_assert(next >= 0 && r->start >= next, "B(stage %d, mb %d) before B of stage %d",
                          r->stage, r->mb, r->stage + 1);
            }
        } else if (r->kind == REC_W) {
            nw[cell]++;
            cr_assert(b_end[cell] >= 0 && r->start >= b_end[cell], "W before its B");
            if (r->stage < last && grad_at[cell] >= 0)
                cr_assert_geq(r->start, grad_at[cell], "B before its gradient arrived");
        }
    }
    for (size_t i = 0; i < cells; i++) {
        int first, last, stage = (int)(i / (size_t)m);
        sched_route(setup->schedule, &setup->sp, (int)(i % (size_t)m), &first, &last);
        int on = stage >= first && stage <= last;
        cr_assert_eq(nf[i], on, "one F per (stage, micro-batch) of the route");
        cr_assert_eq(nb[i], on, "one B per (stage, micro-batch) of the route");
        cr_assert_eq(nw[i], on && setup->sp.split_backward,
                     "one W per (stage, micro-batch) when the backward is split, else none");
    }
    free(rank_free);
    free(link_free);
    free(act_at);
    free(grad_at);
    free(f_end);
    free(b_end);
    free(nf);
    free(nb);
    free(nw);
}

void load_shipped_model(struct model *m, const char *name)
{
    char path[1024];
    struct sim_error err;
    snprintf(path, sizeof path, "%s/models/%s.xml", TOP_SRCDIR, name);
    err_clear(&err);
    cr_assert_eq(model_load(m, path, &err), SIM_OK, "%s: %s", path, err.msg);
}

void write_temp_text(char *path, size_t len, const char *text)
{
    snprintf(path, len, "%s/stepsim-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

void assert_model_rejected(const char *text, int line, const char *frag)
{
    char path[256];
    write_temp_text(path, sizeof path, text);
    struct model m;
    struct sim_error err;
    err_clear(&err);
    enum sim_status st = model_load(&m, path, &err);
    unlink(path);
    cr_assert_eq(st, SIM_EINPUT, "accepted; expected '%s'", frag);
    cr_assert_eq(err.line, line, "line %d, expected %d (%s)", err.line, line, err.msg);
    cr_assert_str_eq(err.file, path);
    cr_assert(strstr(err.msg, frag) != NULL, "message '%s' lacks '%s'", err.msg, frag);
    cr_assert_eq(m.layers, 0, "a failed load leaves the model zeroed");
}

const char *toy_hardware(char *path, size_t len, int node_gpus)
{
    return toy_hardware_with(path, len, node_gpus, "");
}

const char *toy_hardware_with(char *path, size_t len, int node_gpus, const char *gpu_attrs)
{
    return toy_hardware_xml(path, len, node_gpus, gpu_attrs, "");
}

const char *toy_hardware_xml(char *path, size_t len, int node_gpus, const char *gpu_attrs,
                             const char *node_children)
{
    static int serial;
    snprintf(path, len, "/tmp/stepsim-toy-hw-%ld-%d.xml", (long)getpid(), serial++);
    FILE *o = fopen(path, "w");
    cr_assert_not_null(o);
    fprintf(o,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<hardware name=\"toy\">\n"
            "  <gpu name=\"toy\" hbm=\"1000GiB\" hbm-bandwidth=\"1000000TBps\"\n"
            "       memory-efficiency=\"1\" training-efficiency=\"1\" kernel-overhead=\"0us\"\n"
            "       overlap-interference=\"0\" %s>\n"
            "    <peak dtype=\"bf16\" flops=\"1000TFLOPS\"/>\n"
            "    <peak dtype=\"fp32\" flops=\"1000TFLOPS\"/>\n"
            "    <peak dtype=\"fp8\" flops=\"2000TFLOPS\"/>\n"
            "    <peak dtype=\"nvfp4\" flops=\"4000TFLOPS\"/>\n"
            "    <matmul-efficiency><point flops=\"1e9\" efficiency=\"0.5\"/></matmul-efficiency>\n"
            "    <fp8-matmul-efficiency><point flops=\"1e9\" efficiency=\"0.4\"/>"
            "</fp8-matmul-efficiency>\n"
            "    <nvfp4-matmul-efficiency><point flops=\"1e9\" efficiency=\"0.3\"/>"
            "</nvfp4-matmul-efficiency>\n"
            "    <attention-efficiency><point flops=\"1e9\" efficiency=\"0.25\"/>"
            "</attention-efficiency>\n"
            "  </gpu>\n"
            "  <node gpus=\"%d\" nvlink-bandwidth=\"100GBps\" nvlink-latency=\"0us\"\n"
            "        nvlink-efficiency=\"1\" host-bandwidth=\"10GBps\"\n"
            "        host-memory-bandwidth=\"20GBps\">%s</node>\n"
            "  <network nic-bandwidth=\"400Gbps\" latency=\"0us\" efficiency=\"1\"\n"
            "           topology=\"fat-tree\"/>\n"
            "</hardware>\n",
            gpu_attrs, node_gpus, node_children);
    fclose(o);
    return path;
}

void toy_step(const char *model, int node_gpus, const char *const *sets, struct scenario *scn,
              struct step_output *out)
{
    toy_step_on(model, node_gpus, "", sets, scn, out);
}

void toy_step_on(const char *model, int node_gpus, const char *gpu_attrs,
                 const char *const *sets, struct scenario *scn, struct step_output *out)
{
    toy_step_xml(model, node_gpus, gpu_attrs, "", sets, scn, out);
}

void toy_step_xml(const char *model, int node_gpus, const char *gpu_attrs,
                  const char *node_children, const char *const *sets, struct scenario *scn,
                  struct step_output *out)
{
    char hw[256];
    struct sim_error err;
    scn_defaults(scn);
    err_clear(&err);
    toy_hardware_xml(hw, sizeof hw, node_gpus, gpu_attrs, node_children);
    cr_assert_eq(scn_set(scn, "model", model, NULL, 0, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn_set(scn, "hardware", hw, NULL, 0, &err), SIM_OK, "%s", err.msg);
    for (const char *const *s = sets; *s; s++)
        cr_assert_eq(scn_set_arg(scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
    enum sim_status st = step_run(scn, out, &err);
    unlink(hw);
    cr_assert_eq(st, SIM_OK, "%s", err.msg);
}

void toy_rule_error(const char *model, const char *gpu_attrs, const char *const *sets,
                    const char *want, struct scenario *scn, struct step_output *out)
{
    char hw[256];
    struct sim_error err;
    scn_defaults(scn);
    err_clear(&err);
    toy_hardware_xml(hw, sizeof hw, 8, gpu_attrs, "");
    cr_assert_eq(scn_set(scn, "model", model, NULL, 0, &err), SIM_OK);
    cr_assert_eq(scn_set(scn, "hardware", hw, NULL, 0, &err), SIM_OK);
    for (const char *const *s = sets; *s; s++)
        cr_assert_eq(scn_set_arg(scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
    cr_assert_eq(step_run(scn, out, &err), SIM_EINPUT);
    unlink(hw);
    cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
}

char *capture(FILE *fp)
{
    cr_assert_eq(fflush(fp), 0);
    long len = ftell(fp);
    cr_assert_geq(len, 0);
    rewind(fp);
    char *buf = malloc((size_t)len + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
    buf[len] = '\0';
    fclose(fp);
    return buf;
}

size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

double json_number(const char *json, const char *key)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\": ", key);
    const char *at = strstr(json, quoted);
    cr_assert(at != NULL, "no %s in %s", key, json);
    char *end;
    double v = strtod(at + strlen(quoted), &end);
    cr_assert(end > at + strlen(quoted), "%s is not a number in %s", key, json);
    return v;
}
