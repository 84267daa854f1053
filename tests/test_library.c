/* test_library: shipped model and hardware files found by name -- the source tree's folders,
 * $STEPSIM_DATADIR first when set, bare names only -- the names listed, the nearest to a typo;
 * and scenario values that use them (--set model=NAME, <model ref="NAME"/>). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "library.h"
#include "scenario.h"

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

Test(library, bare_names_resolve_in_the_source_tree)
{
    unsetenv("STEPSIM_DATADIR");
    char path[1024];
    cr_assert_eq(library_find("models", "llama3.1-70b", path, sizeof path), 0);
    cr_assert_str_eq(path, TOP_SRCDIR "/models/llama3.1-70b.xml");
    cr_assert_eq(library_find("models", "llama3.1-70b.xml", path, sizeof path), 0);
    cr_assert_str_eq(path, TOP_SRCDIR "/models/llama3.1-70b.xml");
    cr_assert_eq(library_find("hardware", "dgx-h100", path, sizeof path), 0);
    cr_assert(ends_with(path, "/hardware/dgx-h100.xml"), "%s", path);
    cr_assert_eq(library_find("models", "no-such-model", path, sizeof path), -1);
    cr_assert_eq(library_find("models", "../models/llama3.1-70b", path, sizeof path), -1,
                 "a path is not a name");
    cr_assert_eq(library_find("models", "", path, sizeof path), -1);
    cr_assert_eq(library_find("models", "..", path, sizeof path), -1);
    cr_assert_eq(library_find("models", "llama3.1-70b", path, 10), -1, "no room: not found");
    cr_assert(library_is_name("dgx-h100"));
    cr_assert(!library_is_name("./dgx-h100"));
    cr_assert(!library_is_name(""));
}

Test(library, names_are_listed_sorted_with_the_nearest_to_a_typo)
{
    unsetenv("STEPSIM_DATADIR");
    char near[64], list[1200];
    int n = library_names("hardware", "dgx-h10", near, sizeof near, list, sizeof list);
    cr_assert_geq(n, 7);
    cr_assert_str_eq(near, "'dgx-h100'");
    cr_assert(strstr(list, "dgx-a100-40gb, dgx-a100-80gb, dgx-b200, dgx-b300, dgx-h100,") != NULL,
              "%s", list);
    cr_assert(strstr(list, "hardware") == NULL, "the schema is not a name: %s", list);
    /* no typo away: the names that hold it, "one of" past four, whole names that fit */
    char wide[192];
    library_names("hardware", "h200", wide, sizeof wide, list, sizeof list);
    cr_assert_str_eq(wide, "'dgx-h200' or 'hgx-h200-4gpu'");
    library_names("hardware", "MI3", wide, sizeof wide, list, sizeof list);
    cr_assert_str_eq(wide, "'amd-mi300x', 'amd-mi325x', 'amd-mi350x' or 'amd-mi355x'");
    library_names("hardware", "h100", wide, sizeof wide, list, sizeof list);
    cr_assert_str_eq(wide, "one of 'dgx-h100', 'h100-400gbe', 'h100-nvl', 'meta-h100-96gb-500w', "
                           "'meta-h100-roce'");
    library_names("hardware", "h100", near, 40, list, sizeof list);
    cr_assert_str_eq(near, "one of 'dgx-h100', 'h100-400gbe', ...");
    n = library_names("models", "zzz", near, sizeof near, list, 20);
    cr_assert_geq(n, 30);
    cr_assert_str_empty(near);
    /* whole names only, the rest said to be cut */
    cr_assert_str_eq(list, "bloom-176b, ...", "cut at a whole name: %s", list);
}

/* $STEPSIM_DATADIR comes first: a private library overrides the shipped one. */
Test(library, the_environment_folder_comes_first)
{
    char dir[] = "/tmp/stepsim-test-lib-XXXXXX", sub[128], file[160], path[1024];
    cr_assert(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/models", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(file, sizeof file, "%s/llama3.1-70b.xml", sub);
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs("<model/>\n", f);
    fclose(f);
    setenv("STEPSIM_DATADIR", dir, 1);
    cr_assert_eq(library_find("models", "llama3.1-70b", path, sizeof path), 0);
    cr_assert_str_eq(path, file);
    cr_assert_eq(library_find("models", "llama3.1-8b", path, sizeof path), 0, "falls through");
    cr_assert_str_eq(path, TOP_SRCDIR "/models/llama3.1-8b.xml");
    unsetenv("STEPSIM_DATADIR");
    unlink(file);
    rmdir(sub);
    rmdir(dir);
}

Test(library, scenario_values_name_shipped_files)
{
    unsetenv("STEPSIM_DATADIR");
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set_arg(&scn, "model=llama3.1-70b", &err), SIM_OK, "%s", err.msg);
    cr_assert_str_eq(scn.model_path, TOP_SRCDIR "/models/llama3.1-70b.xml");
    cr_assert_eq(scn_set_arg(&scn, "hardware=dgx-b200", &err), SIM_OK, "%s", err.msg);
    cr_assert(ends_with(scn.hardware_path, "/hardware/dgx-b200.xml"), "%s", scn.hardware_path);
    /* In a file too (no such file next to it). */
    cr_assert_eq(scn_set(&scn, "model", "mixtral-8x7b", "/tmp/s.xml", 3, &err), SIM_OK, "%s",
                 err.msg);
    cr_assert_str_eq(scn.model_path, TOP_SRCDIR "/models/mixtral-8x7b.xml");
    /* A name the library lacks: the nearest, or the list. */
    cr_assert_eq(scn_set_arg(&scn, "model=llama3.1-7b", &err), SIM_EINPUT);
    cr_assert_str_eq(err.msg, "--set model=llama3.1-7b: 'llama3.1-7b' is neither a file nor a "
                              "shipped model: did you mean 'llama3.1-70b'?");
    cr_assert_eq(scn_set(&scn, "hardware", "tpu", "/tmp/s.xml", 4, &err), SIM_EINPUT);
    cr_assert_eq(err.line, 4);
    const char *want = "hardware: 'tpu' is neither a file nor a shipped hardware (shipped: ";
    cr_assert(strstr(err.msg, want) == err.msg && strstr(err.msg, "dgx-a100-40gb, dgx-a100-80gb, "),
              "%s", err.msg);
    /* A path stays a path: the loader reports it. */
    cr_assert_eq(scn_set_arg(&scn, "model=./nowhere.xml", &err), SIM_OK, "%s", err.msg);
    cr_assert_str_eq(scn.model_path, "./nowhere.xml");
}

/* At any buffer size the list holds whole names, ending "..." where it stops short -- the
 * last name too (it was cut mid-word at some sizes). */
Test(library, lists_hold_whole_names_at_any_size)
{
    char near[64], full[2048];
    int n = library_names("hardware", "x", near, sizeof near, full, sizeof full);
    cr_assert_gt(n, 5);
    for (size_t len = 8; len < strlen(full) + 8; len++) {
        char list[2048];
        library_names("hardware", "x", near, sizeof near, list, len);
        cr_assert_lt(strlen(list), len);
        size_t l = strlen(list);
        int cut = l >= 3 && strcmp(list + l - 3, "...") == 0;
        cr_assert(cut || strcmp(list, full) == 0, "len %zu: '%s'", len, list);
        if (cut && l > 3) /* what precedes ", ..." is a prefix of the whole list */
            cr_assert(strncmp(full, list, l - 5) == 0 && full[l - 5] == ',', "len %zu: '%s'",
                      len, list);
    }
}
