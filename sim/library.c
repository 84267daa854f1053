/* library: shipped model and hardware files by name (see library.h). */
#include "library.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "nearest.h"

#ifndef STEPSIM_SRCDIR
#define STEPSIM_SRCDIR ""
#endif
#ifndef STEPSIM_PKGDATADIR
#define STEPSIM_PKGDATADIR ""
#endif

#define LIBRARY_PATH_MAX 1024

/* The folders searched, in order; empty entries are skipped. */
static int library_dirs(const char **dirs)
{
    int n = 0;
    const char *env = getenv("STEPSIM_DATADIR");
    if (env && *env)
        dirs[n++] = env;
    dirs[n++] = STEPSIM_SRCDIR;
    dirs[n++] = STEPSIM_PKGDATADIR;
    return n;
}

static int is_regular(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int library_is_name(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL;
}

int library_find(const char *kind, const char *name, char *out, size_t len)
{
    if (!library_is_name(name) || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -1;
    const char *dirs[3];
    int ndirs = library_dirs(dirs);
    static const char *const suffixes[] = {".xml", ""};
    for (int d = 0; d < ndirs; d++) {
        if (!dirs[d][0])
            continue;
        for (size_t s = 0; s < sizeof suffixes / sizeof suffixes[0]; s++) {
            char path[LIBRARY_PATH_MAX];
            int w = snprintf(path, sizeof path, "%s/%s/%s%s", dirs[d], kind, name, suffixes[s]);
            if (w < 0 || (size_t)w >= sizeof path || (size_t)w >= len || !is_regular(path))
                continue;
            memcpy(out, path, (size_t)w + 1);
            return 0;
        }
    }
    return -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Add the *.xml names of one folder to names[] (up to LIBRARY_MAX_NAMES, each once). */
static void add_folder(const char *folder, char (*store)[NEAREST_MAX_LEN], const char **names,
                       int *n)
{
    DIR *dir = opendir(folder);
    if (!dir)
        return;
    for (struct dirent *de; (de = readdir(dir)) != NULL && *n < LIBRARY_MAX_NAMES;) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || len - 4 >= NEAREST_MAX_LEN || strcmp(de->d_name + len - 4, ".xml") != 0)
            continue;
        char name[NEAREST_MAX_LEN];
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), de->d_name);
        int dup = 0;
        for (int i = 0; i < *n && !dup; i++)
            dup = strcmp(names[i], name) == 0;
        if (dup)
            continue;
        memcpy(store[*n], name, strlen(name) + 1);
        names[*n] = store[*n];
        (*n)++;
    }
    closedir(dir);
}

int library_list(const char *kind, struct library_names *out)
{
    const char *names[LIBRARY_MAX_NAMES];
    int n = 0;
    const char *dirs[3];
    int ndirs = library_dirs(dirs);
    for (int d = 0; d < ndirs; d++) {
        char folder[LIBRARY_PATH_MAX];
        int w = snprintf(folder, sizeof folder, "%s/%s", dirs[d], kind);
        if (dirs[d][0] && w > 0 && (size_t)w < sizeof folder)
            add_folder(folder, out->name, names, &n);
    }
    qsort(names, (size_t)n, sizeof names[0], by_name);
    char sorted[LIBRARY_MAX_NAMES][NEAREST_MAX_LEN];
    for (int i = 0; i < n; i++)
        memcpy(sorted[i], names[i], strlen(names[i]) + 1);
    memcpy(out->name, sorted, (size_t)n * sizeof sorted[0]);
    out->n = n;
    return n;
}

/* The names that hold `typed` whole (h200: dgx-h200, hgx-h200-4gpu), for 3 or more letters, as
 * a phrase: "'a'", "'a' or 'b'", "'a', 'b' or 'c'", past FEW of them "one of 'a', 'b', ..." (whole
 * names that fit).  A user who types the GPU or the model's family means one of those. */
enum { FEW = 4 };
static int holds(const char *name, const char *typed)
{
    size_t n = strlen(name), t = strlen(typed);
    for (size_t at = 0; at + t <= n; at++) {
        size_t i = 0;
        while (i < t && tolower((unsigned char)name[at + i]) == tolower((unsigned char)typed[i]))
            i++;
        if (i == t)
            return 1;
    }
    return 0;
}

static void names_holding(const char *typed, const char *const *names, int n, char *near,
                          size_t nlen)
{
    int hit[LIBRARY_MAX_NAMES], nhit = 0;
    for (int i = 0; i < n && strlen(typed) >= 3; i++)
        if (holds(names[i], typed))
            hit[nhit++] = i;
    size_t used = 0;
    if (nhit > FEW)
        used = (size_t)snprintf(near, nlen, "one of ");
    for (int j = 0; j < nhit; j++) {
        const char *sep = j == 0 ? "" : j + 1 < nhit || nhit > FEW ? ", " : " or ";
        size_t need = strlen(sep) + strlen(names[hit[j]]) + 2 + (j + 1 < nhit ? 5 : 0);
        if (used + need >= nlen) { /* room kept for ", ..." */
            snprintf(near + used, nlen - used, ", ...");
            return;
        }
        used += (size_t)snprintf(near + used, nlen - used, "%s'%s'", sep, names[hit[j]]);
    }
}

int library_names(const char *kind, const char *name, char *near, size_t nlen, char *list,
                  size_t llen)
{
    if (nlen)
        near[0] = '\0';
    if (llen)
        list[0] = '\0';
    struct library_names *all = mem_calloc(1, sizeof *all); /* 16 KiB: off the stack */
    if (!all)
        return 0;
    int n = library_list(kind, all);
    const char *names[LIBRARY_MAX_NAMES];
    for (int i = 0; i < n; i++)
        names[i] = all->name[i];
    int k = nearest_word(name, names, (size_t)n);
    if (k >= 0 && nlen)
        snprintf(near, nlen, "'%s'", names[k]);
    else if (nlen)
        names_holding(name, names, n, near, nlen);
    /* whole names only: the first that would not fit (with room for ", ...") ends the list */
    size_t used = 0;
    for (int i = 0; i < n && llen > 0; i++) {
        /* this name, and room for ", ..." after it unless it is the last */
        size_t need = strlen(names[i]) + (i ? 2 : 0) + (i + 1 < n ? 5 : 0);
        if (used + need >= llen) {
            snprintf(list + used, llen - used, "%s...", i ? ", " : "");
            break;
        }
        used += (size_t)snprintf(list + used, llen - used, "%s%s", i ? ", " : "", names[i]);
    }
    mem_free(all);
    return n;
}
