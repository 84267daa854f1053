/* test_report: derived figures (bubble ratio, Megatron bubble overhead, throughput) and the
 * text / JSON renderings. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "report.h"

static void run_report(struct sim_fixture *f, struct report *rep, const char *const *sets)
{
    cr_assert_eq(fixture_run(f, sets), SIM_OK, "%s", f->err.msg);
    cr_assert_eq(report_compute(&f->scn, &f->res, rep, &f->err), SIM_OK);
}

Test(report, megatron_bubble_overhead_is_p_minus_1_over_m_for_uniform_1f1b)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 16; m++) {
            char sp[32], sm[32], sl[32];
            snprintf(sp, sizeof sp, "pp=%d", p);
            snprintf(sm, sizeof sm, "microbatches=%d", m);
            snprintf(sl, sizeof sl, "layers=%d", p);
            const char *sets[] = {sp, sm, sl, "forward=1ms", "backward-input=2ms", NULL};
            struct sim_fixture f;
            struct report rep;
            run_report(&f, &rep, sets);
            cr_assert_float_eq(rep.bubble_overhead, (double)(p - 1) / m, 1e-12, "p=%d m=%d", p, m);
            cr_assert_float_eq(rep.bubble_ratio, (double)(p - 1) / (m + p - 1), 1e-12);
            double busy = 0;
            for (int r = 0; r < p; r++) {
                busy += rep.ranks[r].busy_s;
                cr_assert_float_eq(rep.ranks[r].busy_s + rep.ranks[r].idle_s, rep.makespan_s,
                                   1e-12);
            }
            cr_assert_float_eq(busy, 3e-3 * m * p, 1e-12, "each of p ranks is busy m * (f + b)");
            report_release(&rep);
            fixture_release(&f);
        }
}

Test(report, throughput_counts_samples_and_tokens)
{
    const char *sets[] = {"pp=2", "microbatches=4", "micro-batch=8", "seq=2048", "layers=2",
                          "forward=1ms", "backward-input=2ms", "optimizer=5ms", NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    /* makespan (4+1)*3 ms = 15 ms, step 20 ms with the optimizer. */
    cr_assert_float_eq(rep.makespan_s, 0.015, 1e-15);
    cr_assert_float_eq(rep.step_s, 0.020, 1e-15);
    cr_assert_eq(rep.samples, 32);
    cr_assert_eq(rep.tokens, 32 * 2048);
    cr_assert_float_eq(rep.samples_per_s, 32 / 0.020, 1e-9);
    cr_assert_float_eq(rep.tokens_per_s, 32 * 2048 / 0.020, 1e-6);
    report_release(&rep);
    fixture_release(&f);
}

Test(report, unknown_seq_gives_no_tokens)
{
    const char *sets[] = {"forward=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    cr_assert_lt(rep.tokens_per_s, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    report_write_json(mem, &f.scn, &rep);
    fclose(mem);
    cr_assert(strstr(buf, "\"tokens_per_s\": null") != NULL, "%s", buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}

Test(report, json_has_every_figure_and_escapes_the_name)
{
    const char *sets[] = {"name=a\"b\\c", "pp=2", "layers=2", "microbatches=3", "seq=16",
                          "forward=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(report_write_json(mem, &f.scn, &rep), 0);
    fclose(mem);
    const char *keys[] = {"\"step_time_s\"", "\"makespan_s\"", "\"bubble_ratio\"",
                          "\"bubble_overhead\"", "\"samples_per_s\"", "\"tokens_per_s\": 1",
                          "\"peak_inflight\"", "\"idle_s\"", "\"a\\\"b\\\\c\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(strstr(buf, keys[i]) != NULL, "missing %s in %s", keys[i], buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}

Test(report, text_names_each_rank)
{
    const char *sets[] = {"pp=3", "layers=3", "microbatches=3", "forward=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(report_write_text(mem, &f.scn, &rep), 0);
    fclose(mem);
    cr_assert(strstr(buf, "bubble ratio       0.4000") != NULL, "%s", buf);
    cr_assert(strstr(buf, "bubble overhead    0.6667") != NULL, "%s", buf);
    cr_assert(strstr(buf, "\n   2  ") != NULL, "rank 2 row: %s", buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}
