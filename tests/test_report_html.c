/* test_report_html: the --report pages -- well-formed, self-contained, every outside string
 * escaped, the layout and summary figures as the text report has them, the table pages. */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "helpers.h"
#include "patterns.h"
#include "report_html.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"

/* Well-formed (HTML5 written as XML), loads nothing, ends as a page does. */
static void assert_sane_page(const char *page)
{
    xmlDocPtr doc = xmlReadMemory(page, (int)strlen(page), "report.html", "UTF-8", XML_PARSE_NONET);
    cr_assert_not_null(doc, "the page is not well-formed");
    xmlFreeDoc(doc);
    cr_assert(strncmp(page, "<!DOCTYPE html>\n", 16) == 0);
    cr_assert_null(strstr(page, "http://"), "a page loads nothing");
    cr_assert_null(strstr(page, "https://"), "a page loads nothing");
    cr_assert_null(strstr(page, " src="), "a page loads nothing");
    cr_assert_null(strstr(page, "@import"), "a page loads nothing");
    size_t n = strlen(page);
    cr_assert(n > 8 && strcmp(page + n - 8, "</html>\n") == 0);
}

/* The name --set takes for a JSON field ("micro_batch": "micro-batch"), or the field's own
 * when no key sets it (dp). */
static const char *typed_name(const char *field)
{
    static char kebab[64];
    snprintf(kebab, sizeof kebab, "%s", field);
    for (char *c = kebab; *c; c++)
        *c = *c == '_' ? '-' : *c;
    return scn_key_find(kebab) >= 0 ? kebab : field;
}

/* Every chip of the Configuration section that names a key names it as --set takes it. */
static void assert_chips_by_key_name(const char *page)
{
    const char *at = strstr(page, "<section id=\"configuration\">");
    const char *end = at ? strstr(at, "</section>") : NULL;
    cr_assert(at && end);
    int chips = 0;
    while ((at = strstr(at, "<th>")) && at < end) {
        at += 4;
        char name[64];
        size_t len = strcspn(at, "<");
        cr_assert_lt(len, sizeof name);
        memcpy(name, at, len);
        name[len] = '\0';
        cr_assert_str_eq(typed_name(name), name, "a chip by a name --set does not take: %s",
                         name);
        chips++;
    }
    cr_assert_gt(chips, 10);
}

static char *step_page(const struct scenario *scn, const struct step_output *so)
{
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    cr_assert_eq(report_html_step(fp, scn, &so->res, &so->rep), 0);
    return capture(fp);
}

/* The page of a toy modelled step of `model` on 8-GPU nodes, checked sane. */
static char *toy_page(const char *model, const char *const *sets, struct scenario *scn,
                      struct step_output *so)
{
    toy_step(model, 8, sets, scn, so);
    char *page = step_page(scn, so);
    assert_sane_page(page);
    return page;
}

/* A step with explicit costs, from `key=value` settings: each of `sets`, then each of `more`
 * (NULL: none). */
static void explicit_step_with(const char *const *sets, const char *const *more,
                               struct scenario *scn, struct step_output *so)
{
    struct sim_error err;
    scn_defaults(scn);
    err_clear(&err);
    for (const char *const *s = sets; *s; s++)
        cr_assert_eq(scn_set_arg(scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
    for (const char *const *s = more; s && *s; s++)
        cr_assert_eq(scn_set_arg(scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
    cr_assert_eq(step_run(scn, so, &err), SIM_OK, "%s", err.msg);
}

static void explicit_step(const char *const *sets, struct scenario *scn, struct step_output *so)
{
    explicit_step_with(sets, NULL, scn, so);
}

/* The page of that step, checked sane. */
static char *explicit_page(const char *const *sets, const char *const *more, struct scenario *scn,
                           struct step_output *so)
{
    explicit_step_with(sets, more, scn, so);
    char *page = step_page(scn, so);
    assert_sane_page(page);
    return page;
}

Test(report_html, explicit_costs_page_escapes_a_hostile_name)
{
    const char *sets[] = {
        "pp=4",        "layers=8",           "microbatches=8",
        "forward=1ms", "backward-input=2ms", "name=<script>alert(1)</script>&\"\xff",
        NULL};
    struct scenario scn;
    struct step_output so;
    char *page = explicit_page(sets, NULL, &scn, &so);
    cr_assert_null(strstr(page, "<script>alert"), "the name went out unescaped");
    cr_assert(strstr(page, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;\xef\xbf\xbd</h1>"),
              "%.300s", strstr(page, "<h1>"));
    cr_assert(strstr(page, "<th>step time</th><td>0.066000 s</td>"), "(8+3) x (2 + 4) ms");
    cr_assert(strstr(page, "<th>schedule</th><td>1f1b</td>"));
    cr_assert(strstr(page, "<th>microbatches</th><td>8</td>"));
    cr_assert_null(strstr(page, "id=\"breakdown\""), "no breakdown without the cost model");
    cr_assert_null(strstr(page, "id=\"layers\""), "no layer table without the cost model");
    cr_assert(strstr(page, "class=\"gantt-svg\""));
    /* the notes say only what applies without the cost model */
    cr_assert(strstr(page, "<p class=\"note\">64 ops and transfers, each drawn as a box of its "
                           "own.</p>"),
              "%.200s", strstr(page, "ops and transfers"));
    cr_assert_null(strstr(page, "gradient reductions"), "explicit costs reduce no gradients");
    cr_assert_null(strstr(page, "MFU"), "no FLOPs without the cost model");
    cr_assert_null(strstr(page, "GiB under a rank"), "no memory labels without the cost model");
    cr_assert_null(strstr(page, "<dt>memory</dt>"), "no memory without the cost model");
    cr_assert_null(strstr(page, "data-parallel"));
    cr_assert(strstr(page, "<dt>step time</dt><dd>first op start to the last optimizer end</dd>"));
    free(page);
    step_release(&so);
}

/* The timeline's legend names the V placements' chunks by direction, dualpipe's words for the
 * same placement: chunk 0 runs down the ranks and chunk 1 back up under dualpipe-v and zb-v as
 * under dualpipe (their legends had said "chunk 0" and "chunk 1"). */
Test(report_html, the_v_placements_name_their_chunks_by_direction)
{
    const char *const schedules[] = {"schedule=dualpipe", "schedule=dualpipe-v", "schedule=zb-v"};
    for (size_t i = 0; i < sizeof schedules / sizeof *schedules; i++) {
        const char *const more[] = {schedules[i], NULL};
        struct scenario scn;
        struct step_output so;
        char *page = explicit_page(v_step, more, &scn, &so);
        cr_expect(strstr(page, "F forward, down") &&
                      strstr(page, "B backward (input gradient), up"),
                  "%s: no down/up", schedules[i]);
        cr_expect_null(strstr(page, "F forward, chunk 0"), "%s: chunk 0", schedules[i]);
        free(page);
        step_release(&so);
    }
}

/* The heading and the title name the scenario's file beside its name, escaped; without a file
 * (a scenario built in code) the heading is the name alone and the JSON's scenario_file null. */
Test(report_html, the_heading_names_the_file_escaped)
{
    const char *sets[] = {"pp=2",        "layers=2",     "microbatches=2",
                          "forward=1ms", "name=default", NULL};
    struct scenario scn;
    struct step_output so;
    explicit_step(sets, &scn, &so);
    char *json = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&json, &len);
    cr_assert_not_null(f);
    cr_assert_eq(report_write_json(f, &scn, &so.rep), 0);
    fclose(f);
    cr_assert(strstr(json, "\"scenario_file\": null,\n"), "%.120s", json);
    free(json);
    snprintf(scn.file, sizeof scn.file, "%s", "dir/<b>&\xff.xml");
    char *page = step_page(&scn, &so);
    assert_sane_page(page);
    cr_assert(strstr(page, "<title>stepsim: default (dir/&lt;b&gt;&amp;\xef\xbf\xbd.xml)</title>"),
              "%.200s", strstr(page, "<title>"));
    cr_assert(strstr(page, "<h1>default <span class=\"file\">dir/&lt;b&gt;&amp;\xef\xbf\xbd.xml"
                           "</span></h1>"),
              "%.200s", strstr(page, "<h1>"));
    free(page);
    /* what --set changed, as the text report's first line has it, after the file */
    snprintf(so.rep.sets_note, sizeof so.rep.sets_note, "%s", "--set pp=2 name=a<b");
    page = step_page(&scn, &so);
    assert_sane_page(page);
    cr_assert(strstr(page, "<title>stepsim: default (dir/&lt;b&gt;&amp;\xef\xbf\xbd.xml) (--set "
                           "pp=2 name=a&lt;b)</title>"),
              "%.200s", strstr(page, "<title>"));
    cr_assert(strstr(page, "</span> <span class=\"file\">(--set pp=2 name=a&lt;b)</span></h1>"),
              "%.200s", strstr(page, "<h1>"));
    free(page);
    step_release(&so);
}

/* No busy time: the page's bubble overhead is n/a, as the text report's (it read 0.0000). */
Test(report_html, bubble_overhead_without_busy_time_is_na)
{
    const char *sets[] = {"pp=2", "layers=2", "microbatches=4", "forward=0s",
                          "backward-input=0s", "backward-weight=0s", "activation=1MB",
                          "link-bandwidth=1GBps", NULL};
    struct scenario scn;
    struct step_output so;
    explicit_step(sets, &scn, &so);
    char *page = step_page(&scn, &so);
    assert_sane_page(page);
    cr_assert(strstr(page, "<th>bubble overhead</th><td>n/a (Megatron: idle / ideal time; no "
                           "busy time)</td>"),
              "%.200s", strstr(page, "bubble overhead"));
    free(page);
    step_release(&so);
}

/* 16 ranks x 512 micro-batches, some 33,000 ops, merge by columns of a pixel: the note says
 * "one pixel", not "1/1 pixel" or "1 pixels". */
Test(report_html, merged_runs_are_named_in_words)
{
    const char *sets[] = {"pp=16",
                          "schedule=interleaved",
                          "vp=2",
                          "layers=32",
                          "forward=1ms",
                          "backward-input=2ms",
                          "microbatches=512",
                          NULL};
    struct scenario scn;
    struct step_output so;
    explicit_step(sets, &scn, &so);
    char *page = step_page(&scn, &so);
    const char *note = strstr(page, "ops narrower than");
    cr_assert_not_null(note, "the step merges ops");
    const char *want = "ops narrower than one pixel at full view, side by side, are merged";
    cr_assert(strncmp(note, want, strlen(want)) == 0, "%.80s", note);
    cr_assert_null(strstr(page, "1/1 pixel"));
    cr_assert_null(strstr(page, "1 pixels"));
    free(page);
    step_release(&so);
}

/* The page's tables have the headers of their number columns right-aligned over the numbers
 * (report.css th.n), the others' left: the breakdown's seconds and share, the layer table's
 * milliseconds, the ranks' times and memory; every header had stood left-aligned. */
Test(report_html, number_headers_align_with_their_numbers)
{
    const char *sets[] = {"gpus=16", "tp=2", "pp=4", "global-batch=64", "seq=1024", NULL};
    struct scenario scn;
    struct step_output so;
    char *page = toy_page(MODEL("llama2-7b"), sets, &scn, &so);
    const char *want[] = {
        "<th>part</th><th class=\"n\">seconds</th><th class=\"n\">share</th>",
        "<th>layer</th><th>pass</th><th class=\"n\">",
        "<th class=\"n\">rank</th><th class=\"n\">busy s</th>",
        "<th class=\"n\">total GiB</th><th>fits</th>",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(page, want[i]), "no %s", want[i]);
    cr_expect_null(strstr(page, "<th>seconds</th>"));
    free(page);
    step_release(&so);
}

Test(report_html, modelled_page_states_the_layout_summary_and_memory)
{
    const char *sets[] = {
        "gpus=16",  "tp=2",       "pp=4", "schedule=interleaved", "vp=2", "global-batch=64",
        "seq=1024", "dtype=bf16", NULL};
    struct scenario scn;
    struct step_output so;
    toy_step(MODEL("llama2-7b"), 8, sets, &scn, &so);
    char *page = step_page(&scn, &so);
    assert_sane_page(page);
    /* the layout fields, as the JSON report's layout object has them */
    struct report_field f[REPORT_LAYOUT_FIELDS];
    int n = report_layout_fields(&scn, &so.rep, f);
    cr_assert_eq(n, 17, "a dense bf16 model: no ep, etp, edp, fp8_recipe or other extras");
    for (int i = 0; i < n; i++) {
        char want[160];
        snprintf(want, sizeof want, "<th>%s</th><td>%s</td>", typed_name(f[i].key), f[i].value);
        cr_assert(strstr(page, want), "layout field missing: %s", want);
    }
    cr_assert(strstr(page, "<th>tp</th><td>2</td>") && strstr(page, "<th>dp</th><td>2</td>"));
    /* by the names --set takes, as the "also given" facts: micro_batch read as another key */
    cr_assert(strstr(page, "<th>micro-batch</th><td>1</td>") &&
              strstr(page, "<th>global-batch</th><td>64</td>") &&
              strstr(page, "<th>grad-accumulation</th><td>"));
    assert_chips_by_key_name(page);
    char layout[512], want[700];
    report_layout_line(&scn, &so.rep, layout, sizeof layout);
    snprintf(want, sizeof want, "<p class=\"layout\">%s</p>", layout);
    cr_assert(strstr(page, want), "the text report's layout line: %s", layout);
    snprintf(want, sizeof want, "<th>MFU</th><td>%.2f%%", 100.0 * so.rep.mfu);
    cr_assert(strstr(page, want), "%s", want);
    cr_assert(strstr(page, "<th>fits in memory</th><td>yes</td>"));
    cr_assert(strstr(page, "id=\"breakdown\"") && strstr(page, "pipeline bubble"));
    char row[96]; /* the one-layer table: layer 0's forward GEMMs, in ms */
    snprintf(row, sizeof row, "<td>dense 0</td><td>forward</td><td class=\"n\">%.3f</td>",
             1e3 * so.rep.layer_view[0].gemm_fwd);
    cr_assert(strstr(page, "id=\"layers\"") && strstr(page, row), "%s", row);
    cr_assert(strstr(page, "<h3>Memory per GPU</h3>"));
    cr_assert(strstr(page, "F forward, chunk 1"), "the legend names both chunks");
    /* dp 2: the chart leaves out the gradient reductions and says where they are */
    cr_assert(strstr(page, "data-parallel gradient reductions, on each rank's communication "
                           "stream, are not drawn: the --trace file has them."));
    cr_assert(strstr(page, "<dt>MFU, HFU</dt>") && strstr(page, "<dt>memory</dt>"));
    free(page);
    step_release(&so);
}

/* Every value the scenario or --set gave is on the page: the layout's fields (moe_dispatch_dtype
 * among them), then the keys they do not state (recompute-modules, a hardware knob) as
 * `stepsim keys` names them -- and the name only as the heading, a default not at all. */
Test(report_html, every_given_key_is_stated)
{
    const char *sets[] = {"ep=8",
                          "moe-dispatcher=deepep",
                          "moe-dispatch-dtype=fp8",
                          "recompute=selective",
                          "recompute-modules=layernorm+moe_act",
                          "overlap-p2p=true",
                          "hw.hbm-reserve=3GiB",
                          "seq=1024",
                          "microbatches=1",
                          "name=given <keys>",
                          NULL};
    struct scenario scn;
    struct step_output so;
    char *page = toy_page(MODEL("mixtral-8x7b"), sets, &scn, &so);
    const char *given = strstr(page, "as <code>stepsim keys</code> names them:</p>");
    cr_assert_not_null(given);
    const char *want[] = {"<th>moe-dispatcher</th><td>deepep</td>",
                          "<th>recompute-modules</th><td>moe_act,layernorm</td>",
                          "<th>overlap-p2p</th><td>true</td>",
                          "<th>hw.hbm-reserve</th><td>3GiB</td>"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(strstr(given, want[i]), "missing: %s", want[i]);
    /* stated once: by the layout's field, not again under the key's own name */
    cr_assert(strstr(page, "<th>ep</th><td>8</td>") && !strstr(given, "<th>ep</th>"));
    cr_assert(strstr(page, "<th>moe-dispatch-dtype</th><td>fp8</td>") &&
              !strstr(given, "<th>moe-dispatch-dtype</th>"));
    cr_assert(strstr(page, "<th>recompute</th><td>selective</td>"));
    cr_assert_null(strstr(given, "<th>recompute</th>"));
    cr_assert(strstr(page, "<th>seq</th><td>1024</td>") && !strstr(given, "<th>seq</th>"));
    cr_assert_null(strstr(given, "<th>name</th>"), "the name is the heading");
    cr_assert_null(strstr(given, "<th>seed</th>"), "a default is not given");
    cr_assert_null(strstr(given, "<th>model</th>"), "the model is the layout's field");
    free(page);
    step_release(&so);
}

/* The text report's kinds, stages and memory header lines are on the page too: an uneven split
 * by hand (32 layers, pp 4: 5, then 16 over two stages, then 11). */
Test(report_html, kinds_stages_and_reserve_as_the_text_report_has_them)
{
    const char *sets[] = {"gpus=8",
                          "tp=2",
                          "pp=4",
                          "first-stage-layers=5",
                          "last-stage-layers=11",
                          "seq=2048",
                          "microbatches=4",
                          "hw.hbm-reserve=3GiB",
                          NULL};
    struct scenario scn;
    struct step_output so;
    char *page = toy_page(MODEL("llama3.1-8b"), sets, &scn, &so);
    cr_assert(strstr(page, "<th>layers per virtual stage</th><td>5, 2 x 8, 11 "
                           "(first/last-stage-layers)</td>"),
              "%.200s", strstr(page, "virtual stage"));
    char text[REPORT_MEMORY_TEXT], want[REPORT_MEMORY_TEXT + 64];
    report_memory_text(&scn, &so.rep, text, sizeof text);
    cr_assert(strncmp(text, "HBM ", 4) == 0 && strstr(text, " usable (reserve "), "%s", text);
    snprintf(want, sizeof want, "<h3>Memory per GPU</h3>\n<p class=\"note\">In GiB: %s.</p>",
             text);
    cr_assert(strstr(page, want), "%s", want);
    cr_assert_neq(so.rep.patterns, 0u);
    char kinds[160];
    patterns_text(so.rep.patterns, ", ", kinds, sizeof kinds);
    snprintf(want, sizeof want, "<th>kinds</th><td>%s (how published runs", kinds);
    cr_assert(strstr(page, want), "%s", want);
    /* the chart's small lane labels are explained: the memory under each rank, the links */
    cr_assert(strstr(page, " \xc2\xb7 GiB under a rank: its peak memory per GPU"));
    cr_assert(strstr(page, " \xc2\xb7 lane i\xe2\x87\x84j: the P2P link between ranks i and j"));
    free(page);
    step_release(&so);
}

/* With fp8 GEMMs the layout names the scaling recipe after the dtype (the JSON layout object's
 * fp8_recipe): two fp8 runs of one layout with different recipes are different runs. */
Test(report_html, fp8_layout_names_its_recipe)
{
    const char *sets[] = {"dtype=fp8", "fp8-recipe=current", "seq=2048", "microbatches=1", NULL};
    struct scenario scn;
    struct step_output so;
    toy_step(MODEL("llama3.1-8b"), 8, sets, &scn, &so);
    struct report_field f[REPORT_LAYOUT_FIELDS];
    int n = report_layout_fields(&scn, &so.rep, f);
    cr_assert_eq(n, 18, "a dense fp8 model: no ep, etp, edp or other extras");
    int dtype = -1, recipe = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(f[i].key, "dtype"))
            dtype = i;
        if (!strcmp(f[i].key, "fp8_recipe"))
            recipe = i;
    }
    cr_assert(dtype >= 0 && recipe == dtype + 1, "fp8_recipe right after dtype");
    cr_assert_str_eq(f[dtype].value, "fp8");
    cr_assert_str_eq(f[recipe].value, "current");
    char *page = step_page(&scn, &so);
    cr_assert(strstr(page, "<th>fp8-recipe</th><td>current</td>"));
    free(page);
    step_release(&so);
}

/* The value of layout field `key` in f[0..n), or NULL when the layout leaves it out. */
static const char *field_value(const struct report_field *f, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i].key, key))
            return f[i].value;
    return NULL;
}

/* Everything the text report's layout line says is a field of the JSON report's layout
 * object (and the page's configuration), named only where the line names it: a power cap,
 * Muon, an fp8 dispatch, the fused grouped MLP, modules and edge layers kept in bf16 and what
 * CUDA graphs capture.  The JSON had left all of these out, so a script could not tell a
 * capped or a Muon run from a plain one. */
Test(report_html, layout_fields_hold_all_the_layout_line_says)
{
    const char *sets[] = {"model=" MODEL("mixtral-8x7b"),
                          "hardware=" TOP_SRCDIR "/hardware/dgx-b200.xml",
                          "gpus=8", "ep=8", "global-batch=8", "seq=4096", "dtype=fp8",
                          "fp8-recipe=mxfp8", "bf16-first-layers=1", "bf16-last-layers=2",
                          "bf16-modules=attn_proj", "cuda-graphs=modules",
                          "cuda-graph-scope=attn", "optimizer-algorithm=muon",
                          "moe-fused-grouped-mlp=true", "moe-dispatcher=deepep",
                          "moe-dispatch-dtype=fp8", "distributed-optimizer=true", NULL};
    struct scenario scn;
    struct step_output so;
    explicit_step(sets, &scn, &so);
    struct report_field f[REPORT_LAYOUT_FIELDS];
    int n = report_layout_fields(&scn, &so.rep, f);
    char line[512];
    report_layout_line(&scn, &so.rep, line, sizeof line);
    cr_assert(strstr(line, "muon, fp8 dispatch, fused grouped MLP, attn_proj in bf16, bf16 layers "
                           "first 1 last 2, CUDA graphs attn;"),
              "%s", line);
    static const char *const want[][2] = {
        {"optimizer_algorithm", "muon"}, {"moe_dispatch_dtype", "fp8"},
        {"moe_fused_grouped_mlp", "true"}, {"bf16_modules", "attn_proj"},
        {"bf16_first_layers", "1"}, {"bf16_last_layers", "2"}, {"cuda_graphs", "attn"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *v = field_value(f, n, want[i][0]);
        cr_assert(v && !strcmp(v, want[i][1]), "%s: %s", want[i][0], v ? v : "missing");
    }
    cr_assert_null(field_value(f, n, "mxfp8_modules"), "no module set: not named");
    cr_assert_null(field_value(f, n, "power_cap_w"), "not capped: not named");
    char *page = step_page(&scn, &so);
    cr_assert(strstr(page, "<th>cuda-graphs</th><td>attn</td>"));
    free(page);
    step_release(&so);
    const char *capped[] = {"model=" MODEL("llama3.1-8b"),
                            "hardware=" TOP_SRCDIR "/hardware/dgx-h100.xml", "gpus=8",
                            "global-batch=8", "seq=4096", "hw.power-cap=500W", NULL};
    explicit_step(capped, &scn, &so);
    n = report_layout_fields(&scn, &so.rep, f);
    report_layout_line(&scn, &so.rep, line, sizeof line);
    cr_assert(strstr(line, "dgx-h100 at 500 W:"), "%s", line);
    const char *cap = field_value(f, n, "power_cap_w");
    cr_assert(cap && !strcmp(cap, "500"), "power_cap_w: %s", cap ? cap : "missing");
    cr_assert_eq(n, 18, "a dense bf16 run: no ep, etp, edp, fp8_recipe or other extras");
    step_release(&so);
}

/* A hybrid model's layers are named by what they hold, in layer order, with the note on what
 * a Mamba layer's attention column is. */
Test(report_html, hybrid_layers_are_named_by_their_block)
{
    const char *sets[] = {"seq=4096", "microbatches=1", NULL};
    struct scenario scn;
    struct step_output so;
    char *page = toy_page(MODEL("nemotron-h-8b"), sets, &scn, &so);
    const char *mamba = strstr(page, "<td>Mamba 0</td><td>forward</td>");
    const char *mlp = strstr(page, "<td>MLP 1</td><td>forward</td>");
    const char *attn = strstr(page, "<td>attention 7</td><td>forward</td>");
    cr_assert(mamba && mlp && attn && mamba < mlp && mlp < attn, "rows in layer order");
    cr_assert(strstr(page, "a Mamba layer's attention column is its SSD scan"));
    free(page);
    step_release(&so);
}

Test(report_html, out_of_memory_is_flagged)
{
    const char *sets[] = {"gpus=4",
                          "tp=1",
                          "pp=4",
                          "global-batch=64",
                          "seq=4096",
                          "hw.hbm=4GiB",
                          "hw.hbm-reserve=0GiB",
                          NULL};
    struct scenario scn;
    struct step_output so;
    toy_step(MODEL("llama2-7b"), 8, sets, &scn, &so);
    cr_assert(so.rep.oom);
    char *page = step_page(&scn, &so);
    assert_sane_page(page);
    cr_assert(strstr(page, "<p class=\"oom\">OUT OF MEMORY: rank "));
    cr_assert(strstr(page, "<th>fits in memory</th><td>NO: rank "));
    cr_assert(strstr(page, "<td class=\"bad\">OUT OF MEMORY</td>"));
    free(page);
    step_release(&so);
}

/* A step from a shipped scenario file with `key=value` settings over it. */
static void scenario_step(const char *file, const char *const *sets, struct scenario *scn,
                          struct step_output *so)
{
    struct sim_error err;
    char path[256];
    snprintf(path, sizeof path, "%s/scenarios/%s", TOP_SRCDIR, file);
    scn_defaults(scn);
    err_clear(&err);
    cr_assert_eq(scn_load(scn, path, &err), SIM_OK, "%s", err.msg);
    for (const char *const *s = sets; *s; s++)
        cr_assert_eq(scn_set_arg(scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
    cr_assert_eq(step_run(scn, so, &err), SIM_OK, "%s", err.msg);
}

/* Out of the host's memory alone (O3's offload of half the activations and the optimizer state
 * on a host of 100 GiB a GPU, the HBM not full): the page says so as the text report does, not
 * out of memory (its banner had read "OUT OF MEMORY: rank 0 needs 160.3 GiB of 184.8 GiB
 * usable", the rank's cell "OUT OF MEMORY"). */
Test(report_html, out_of_host_memory_is_flagged_as_such)
{
    const char *sets[] = {"hw.host-memory=100GiB", NULL};
    struct scenario scn;
    struct step_output so;
    scenario_step("validation/o3.xml", sets, &scn, &so);
    cr_assert(so.rep.oom && so.rep.oom_host && so.rep.oom_rank == 0);
    cr_assert_leq(so.rep.mem[0].total, so.rep.hbm_usable_bytes, "the HBM fits");
    char *page = step_page(&scn, &so), want[160];
    assert_sane_page(page);
    snprintf(want, sizeof want,
             "<p class=\"oom\">OUT OF HOST MEMORY: rank 0 offloads %.1f GiB per GPU of the "
             "100.0 GiB the host has</p>",
             so.rep.mem[0].host / 1073741824.0);
    cr_assert(strstr(page, want), "%s", want);
    cr_assert(strstr(page, "<td class=\"bad\">OUT OF HOST MEMORY</td>"));
    cr_assert_null(strstr(page, "OUT OF MEMORY"));
    cr_assert(strstr(page, "<th>fits in memory</th><td>NO: rank 0 offloads "));
    free(page);
    step_release(&so);
}

/* The rest of the text report's line that starts with `head`, as a page's fact would hold it:
 * "<th>KEY</th><td>REST</td>" into `want`. */
static void text_line_as_fact(const char *text, const char *head, const char *key, char *want,
                              size_t len)
{
    const char *line = strstr(text, head);
    cr_assert_not_null(line, "the text report has no '%s'", head);
    line += strlen(head);
    int n = (int)strcspn(line, "\n");
    snprintf(want, len, "<th>%s</th><td>%.*s</td>", key, n, line);
}

/* What the text report says of a step, and its page. */
static void text_and_page(const struct scenario *scn, const struct step_output *so, char **text,
                          char **page)
{
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    cr_assert_eq(report_write_text(fp, scn, &so->rep), 0);
    *text = capture(fp);
    *page = step_page(scn, so);
    assert_sane_page(*page);
}

/* dgx-h100.xml priced per GPU-hour, in a temp file whose name lands in `path`. */
static void priced_dgx_h100(char *path, size_t len)
{
    FILE *fp = fopen(TOP_SRCDIR "/hardware/dgx-h100.xml", "r");
    cr_assert_not_null(fp);
    static char xml[65536];
    size_t n = fread(xml, 1, sizeof xml - 1, fp);
    cr_assert(n > 0 && n < sizeof xml - 1 && !ferror(fp));
    fclose(fp);
    xml[n] = '\0';
    char *end = strstr(xml, "</hardware>");
    cr_assert_not_null(end);
    *end = '\0';
    static char priced[sizeof xml + 64];
    snprintf(priced, sizeof priced,
             "%s  <price per-gpu-hour=\"2.49\" currency=\"USD\"/>\n"
             "</hardware>\n",
             xml);
    write_temp_text(path, len, priced);
}

/* --tokens with a priced hardware file: the page's training line ends with the cost, as the
 * text report's does (it had stopped at the GPU-hours). */
Test(report_html, training_cost_as_the_text_report_has_it)
{
    char hw[256], set_hw[300];
    priced_dgx_h100(hw, sizeof hw);
    snprintf(set_hw, sizeof set_hw, "hardware=%s", hw);
    const char *sets[] = {set_hw, NULL};
    struct scenario scn;
    struct step_output so;
    scenario_step("llama3.1-70b-h100.xml", sets, &scn, &so);
    unlink(hw);
    report_add_training(&so.rep, &so.cm, 1e12);
    cr_assert_gt(so.rep.train_cost, 0, "priced");
    char *text, *page, want[256];
    text_and_page(&scn, &so, &text, &page);
    text_line_as_fact(text, "\ntraining ", "training", want, sizeof want);
    cr_assert(strstr(want, " USD</td>"), "%s", want);
    cr_assert(strstr(page, want), "%s", want);
    free(text);
    free(page);
    step_release(&so);
}

/* What offload moves to the host, as the text report's line says it (G17's activations, O3's
 * optimizer state and activations on GB300 and GB200 hosts). */
Test(report_html, host_offload_as_the_text_report_has_it)
{
    const char *const files[] = {"validation/g17.xml", "validation/o3.xml"};
    const char *none[] = {NULL};
    for (int i = 0; i < 2; i++) {
        struct scenario scn;
        struct step_output so;
        scenario_step(files[i], none, &scn, &so);
        char *text, *page, want[256];
        text_and_page(&scn, &so, &text, &page);
        text_line_as_fact(text, "\noffloaded to the host: ", "offloaded to the host", want,
                          sizeof want);
        cr_assert(strstr(want, " GiB the host has per GPU</td>"), "%s", want);
        cr_assert(strstr(page, want), "%s: %s", files[i], want);
        free(text);
        free(page);
        step_release(&so);
    }
}

Test(report_html, allocation_failures_are_errors)
{
    const char *sets[] = {"pp=2",        "layers=2",     "microbatches=2",
                          "forward=1ms", "name=default", NULL};
    struct sim_fixture f;
    struct report rep;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    cr_assert_eq(report_compute(&f.scn, &f.layout, &f.res, &rep, &f.err), SIM_OK);
    int failed = 0;
    /* the page's three, the configuration's one, the chart's eight, then none */
    for (long k = 1; k <= 13; k++) {
        FILE *fp = tmpfile();
        mem_fail_after(k);
        failed += report_html_step(fp, &f.scn, &f.res, &rep) != 0;
        mem_fail_after(0);
        fclose(fp);
    }
    cr_assert_eq(failed, 12);
    report_release(&rep);
    fixture_release(&f);
}

static int three_rows(FILE *out, const void *user)
{
    (void)user;
    fputs("pp,status,step_time_s,error\n2,ok,1.5,\n4,ok,0.75,\n8,error,,\"pp=8 <bad>\"\n", out);
    return 0;
}

static int failing_writer(FILE *out, const void *user)
{
    (void)out;
    (void)user;
    return -1;
}

Test(report_html, table_page)
{
    const struct html_fact facts[] = {{"--vary", "pp=2,4,8"}};
    struct report_html_table page = {
        "sweep", "sw<e>ep", facts, 1, three_rows, NULL, "step_time_s", 0, "One row per config.", 0,
        NULL, 0};
    FILE *fp = tmpfile();
    cr_assert_eq(report_html_table(fp, &page), 0);
    char *s = capture(fp);
    assert_sane_page(s);
    cr_assert(strstr(s, "<h1>stepsim sweep: sw&lt;e&gt;ep</h1>"));
    cr_assert(strstr(s, "<th>--vary</th><td>pp=2,4,8</td>"));
    cr_assert(strstr(s, "data-sort=\"step_time_s\" data-desc=\"0\""));
    /* a failed row's status links to its reason, listed under the table by its config: in the
     * last column, cut to one line, it stood off-screen (and had wrapped the row 9 lines tall) */
    cr_assert(strstr(s, "<tr class=\"s-error\"><td class=\"n\">8</td><td><a href=\"#fail-1\" "
                        "title=\"pp=8 &lt;bad&gt;\">error</a></td><td></td><td class=\"why\" "
                        "title=\"pp=8 &lt;bad&gt;\">pp=8 &lt;bad&gt;</td></tr>"),
              "%s", s);
    const char *list = strstr(s, "</table></div>\n<h3 id=\"failed\">Failed configs</h3>\n"
                                 "<ul class=\"fails\">\n<li id=\"fail-1\"><b>pp=8</b> error: "
                                 "pp=8 &lt;bad&gt;</li>\n</ul>\n");
    cr_assert(list, "%s", s);
    cr_assert_eq(count_of(s, "<li id=\"fail-"), 1, "the ok rows are not listed");
    cr_assert(!strstr(s, "left out"), "every row is in the table");
    free(s);
    /* A command that writes only its first rows says how many it has: the page counts the
     * rest as left out, in the --out CSV when there is one, else where --out would put them
     * (the page had sent the reader to an --out CSV the command was not given). */
    static const char *const note[2] = {
        "The first 3 of 10 rows; 7 left out, which <code>--out FILE.csv</code> writes with "
        "the rest.",
        "The first 3 of 10 rows; 7 left out, which the command's --out CSV has."};
    page.rows_total = 10;
    for (int given = 0; given < 2; given++) {
        page.csv_given = given;
        fp = tmpfile();
        cr_assert_eq(report_html_table(fp, &page), 0);
        s = capture(fp);
        cr_assert(strstr(s, note[given]), "%s", s);
        cr_assert(given || !strstr(s, "--out CSV has"), "no --out was given");
        free(s);
    }
    page.csv_given = 0;
    page.rows_total = 0;
    page.write_csv = failing_writer;
    fp = tmpfile();
    cr_assert_eq(report_html_table(fp, &page), -1, "the CSV writer's failure is the page's");
    fclose(fp);
}

/* The step's bar is drawn in ms, and in seconds from a 10 s step on (a 22 s step's axis read
 * "10000 20000 ms"). */
Test(report_html, the_step_bar_is_in_seconds_from_ten_seconds)
{
    const char *small[] = {"gpus=8", "tp=2", "pp=2", "global-batch=16", "seq=1024", NULL};
    const char *large[] = {"gpus=8", "tp=2", "pp=2", "global-batch=4096", "seq=4096", NULL};
    const char *const *sets[] = {small, large};
    for (int k = 0; k < 2; k++) {
        struct scenario scn;
        struct step_output so;
        toy_step(MODEL("llama2-7b"), 8, sets[k], &scn, &so);
        cr_assert(k == 0 ? so.rep.step_s < 10.0 : so.rep.step_s >= 10.0, "step %g s",
                  so.rep.step_s);
        char *page = step_page(&scn, &so);
        const char *unit = strstr(page, "<text class=\"unit\"");
        cr_assert(unit, "no bar axis");
        unit = strchr(unit, '>') + 1;
        cr_expect(strncmp(unit, k == 0 ? "ms<" : "s<", k == 0 ? 3 : 2) == 0,
                  "a %g s step's bar in '%.3s'", so.rep.step_s, unit);
        free(page);
        step_release(&so);
    }
}

/* The page defines peak in-flight as the text report does: with overlap-ep-comm's pairs it
 * says that a pair counts one (MZ6), and without them it does not (O3). */
Test(report_html, peak_in_flight_says_what_an_overlapped_pair_counts)
{
    const char *const runs[] = {"validation/mz6.xml", "validation/o3.xml"}, *none[] = {NULL};
    for (int i = 0; i < 2; i++) {
        struct scenario scn;
        struct step_output so;
        scenario_step(runs[i], none, &scn, &so);
        char *page = step_page(&scn, &so);
        int noted = strstr(page, "held at once (" REPORT_HANDOVER_NOTE ").</p>") != NULL;
        cr_assert_eq(noted, i == 0, "%s: note %s", runs[i], noted ? "given" : "missing");
        cr_assert_eq(report_pairs_hand_over(&scn), i == 0, "%s", runs[i]);
        free(page);
        step_release(&so);
    }
}
