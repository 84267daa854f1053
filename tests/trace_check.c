/* trace_check: the strict trace-event checker (rules in trace_check.h).
 *
 * Two stages.  A JSON reader parses one event at a time into a small tree in an arena that is
 * emptied after each event, checks it alone and keeps a compact record of it (times in
 * nanoseconds, interned names and keys).  The records are then sorted the way Perfetto's trace
 * sorter orders JSON events and replayed against per-track slice stacks, async stacks and
 * flow states.  Test code: allocation failures end the check with -1, nothing is printed. */
#include "trace_check.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON_DEPTH 64
#define PERFETTO_MAX_DEPTH 512

/* ---- arena: the tree of one event ------------------------------------------------------- */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct arena {
    struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > 65536 ? size : 65536;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

/* Keep the newest block, emptied. */
static void arena_reset(struct arena *a)
{
    if (!a->head)
        return;
    struct arena_block *b = a->head->next;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head->next = NULL;
    a->head->used = 0;
}

static void arena_free(struct arena *a)
{
    arena_reset(a);
    free(a->head);
    a->head = NULL;
}

/* ---- growable arrays and tables --------------------------------------------------------- */

/* p with room for `need` elements of `size` bytes (capacity doubling).  When out of memory,
 * *oom is set and p is returned unchanged (still the caller's). */
static void *reserve(void *p, size_t *cap, size_t need, size_t size, int *oom)
{
    if (need <= *cap)
        return p;
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(p, cap2 * size);
    if (!q) {
        *oom = 1;
        return p;
    }
    *cap = cap2;
    return q;
}

/* uint64 -> uint32, open addressing; key 0 is never stored (callers add 1 where needed). */
struct u64map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;
};

static size_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (size_t)k;
}

static uint32_t *map_slot(struct u64map *m, uint64_t key, int create)
{
    if (create && (m->n + 1) * 2 > m->cap) {
        struct u64map bigger = {0};
        bigger.cap = m->cap ? 2 * m->cap : 64;
        bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
        bigger.vals = calloc(bigger.cap, sizeof *bigger.vals);
        if (!bigger.keys || !bigger.vals) {
            free(bigger.keys);
            free(bigger.vals);
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = mix(m->keys[i]) & (bigger.cap - 1);
                while (bigger.keys[j])
                    j = (j + 1) & (bigger.cap - 1);
                bigger.keys[j] = m->keys[i];
                bigger.vals[j] = m->vals[i];
            }
        bigger.n = m->n;
        free(m->keys);
        free(m->vals);
        *m = bigger;
    }
    if (!m->cap)
        return NULL;
    size_t j = mix(key) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->keys[j]) {
        if (!create)
            return NULL;
        m->keys[j] = key;
        m->vals[j] = 0;
        m->n++;
    }
    return &m->vals[j];
}

static void map_free(struct u64map *m)
{
    free(m->keys);
    free(m->vals);
    *m = (struct u64map){0};
}

/* Interned strings: id 0 is "", ids index offs/lens into one pool. */
struct interner {
    char *pool;
    size_t used, cap;
    size_t *offs, *lens;
    size_t n, ocap, lcap;
    struct u64map by_hash; /* hash -> id + 1 of the first string with it; collisions probe on */
};

static uint64_t fnv(const char *s, size_t len, uint64_t salt)
{
    uint64_t h = UINT64_C(1469598103934665603) ^ salt;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return h ? h : 1;
}

/* The id of s, adding it when new; UINT32_MAX when out of memory. */
static uint32_t intern(struct interner *in, const char *s, size_t len)
{
    for (uint64_t salt = 0;; salt++) {
        uint32_t *slot = map_slot(&in->by_hash, fnv(s, len, salt), 1);
        if (!slot)
            return UINT32_MAX;
        if (*slot) {
            uint32_t id = *slot - 1;
            if (in->lens[id] == len && memcmp(in->pool + in->offs[id], s, len) == 0)
                return id;
            continue; /* another string has this hash: try the next salt */
        }
        int oom = 0;
        in->pool = reserve(in->pool, &in->cap, in->used + len + 1, 1, &oom);
        in->offs = reserve(in->offs, &in->ocap, in->n + 1, sizeof *in->offs, &oom);
        in->lens = reserve(in->lens, &in->lcap, in->n + 1, sizeof *in->lens, &oom);
        if (oom)
            return UINT32_MAX;
        memcpy(in->pool + in->used, s, len);
        in->pool[in->used + len] = '\0';
        in->offs[in->n] = in->used;
        in->lens[in->n] = len;
        in->used += len + 1;
        *slot = (uint32_t)in->n + 1;
        return (uint32_t)in->n++;
    }
}

static const char *interned(const struct interner *in, uint32_t id)
{
    return id < in->n ? in->pool + in->offs[id] : "";
}

static void interner_free(struct interner *in)
{
    free(in->pool);
    free(in->offs);
    free(in->lens);
    map_free(&in->by_hash);
}

/* ---- the checker's state ---------------------------------------------------------------- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    int t;
    int is_int;      /* J_NUM written without fraction or exponent */
    double num;      /* J_NUM, J_BOOL */
    const char *str; /* J_STR: unescaped, NUL-terminated */
    size_t len;
    struct jv *items;  /* J_ARR, J_OBJ: n values */
    const char **keys; /* J_OBJ: their keys */
    size_t n;
};

/* A slice open on a track. */
struct open_slice {
    int64_t start, end;
    uint32_t name;
    uint32_t ev;
};

struct track {
    uint32_t pid, tid;
    struct open_slice *stack;
    size_t depth, cap;
    uint32_t *pending; /* flows whose f (without bp) waits for the next slice here */
    size_t npending, pcap;
    uint32_t *opened; /* B/E pairing: open B events */
    size_t nopened, ocap;
};

struct ev {
    int64_t ts, dur;
    int64_t order; /* Perfetto's tie-break at equal ts */
    uint32_t track, name, key, index;
    uint32_t peer; /* B: its E + 1; E: its B + 1 */
    char ph;
    uint8_t bind_enclosing;
    uint8_t thread_slice; /* X, B, or a thread-scoped instant */
};

struct flow_state {
    uint8_t started, ended, bound_end;
};

struct checker {
    struct tc_result *res;
    struct arena arena;
    struct interner names;
    struct ev *evs;
    size_t nevs, evcap;
    struct track *tracks;
    size_t ntracks, tcap;
    struct u64map track_of;     /* (pid << 32 | tid) + 1 -> track */
    struct u64map pid_flags;    /* pid + 1 -> 1 used | 2 named */
    struct u64map tid_pid;      /* tid + 1 -> pid + 1 */
    struct u64map thread_named; /* (pid << 32 | tid) + 1 -> 1 */
    struct flow_state *flows;   /* [nkeys] by interned key */
    uint32_t *async_open;       /* [nkeys] open b of each async key */
    size_t nkeys;
    int oom;
    size_t event_index;  /* of the event being read */
    const char *base;    /* start of the buffer, for byte offsets */
    const char *p, *end; /* JSON reader */
    int utf8_bad;        /* the string being read had invalid UTF-8 */
};

static void violate(struct checker *c, enum tc_rule rule, const char *fmt, ...)
{
    struct tc_result *r = c->res;
    r->by_rule[rule]++;
    r->violations++;
    if (r->nmessages >= TC_MESSAGES)
        return;
    char *m = r->message[r->nmessages++];
    int k = snprintf(m, sizeof r->message[0], "%s: ", tc_rule_name(rule));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m + k, sizeof r->message[0] - (size_t)k, fmt, ap);
    va_end(ap);
}

const char *tc_rule_name(enum tc_rule rule)
{
    static const char *const names[TC_RULES] = {"json",  "utf8",    "field", "time",
                                                "id",    "overlap", "depth", "begin_end",
                                                "async", "flow",    "names"};
    return rule < TC_RULES ? names[rule] : "?";
}

/* ---- JSON reader ------------------------------------------------------------------------ */

static void skip_ws(struct checker *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int json_error(struct checker *c, const char *what)
{
    violate(c, TC_JSON, "%s at byte %zu", what, (size_t)(c->p - c->base));
    return -1;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Bytes of the well-formed UTF-8 sequence at p (Unicode 15, table 3-7), or 0. */
static size_t utf8_well_formed(const unsigned char *p, const unsigned char *end)
{
    unsigned char b = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else if (b == 0xe0)
        n = 3, lo = 0xa0;
    else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
        n = 3;
    else if (b == 0xed)
        n = 3, hi = 0x9f;
    else if (b == 0xf0)
        n = 4, lo = 0x90;
    else if (b >= 0xf1 && b <= 0xf3)
        n = 4;
    else if (b == 0xf4)
        n = 4, hi = 0x8f;
    else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* A string at c->p (on its opening quote), unescaped into the arena. */
static int parse_string(struct checker *c, const char **out, size_t *outlen)
{
    const char *start = ++c->p;
    const char *q = start;
    while (q < c->end && *q != '"') /* an upper bound of the unescaped length */
        q += *q == '\\' && q + 1 < c->end ? 2 : 1;
    char *buf = arena_alloc(&c->arena, (size_t)(q - start) + 1);
    if (!buf) {
        c->oom = 1;
        return -1;
    }
    size_t n = 0;
    int bad = 0;
    for (;;) {
        if (c->p >= c->end)
            return json_error(c, "unterminated string");
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            break;
        }
        if (ch < 0x20)
            return json_error(c, "control character in a string");
        if (ch == '\\') {
            if (c->end - c->p < 2)
                return json_error(c, "unterminated escape");
            char e = c->p[1];
            c->p += 2;
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *simple = e != '\0' ? strchr(from, e) : NULL;
            if (simple) {
                buf[n++] = to[simple - from];
                continue;
            }
            uint32_t cp, lo;
            if (e != 'u' || c->end - c->p < 4 || hex4(c->p, &cp))
                return json_error(c, "bad escape in a string");
            c->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && c->end - c->p >= 6 && c->p[0] == '\\' &&
                c->p[1] == 'u' && hex4(c->p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                c->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                bad = 1; /* a lone surrogate: no character */
                cp = 0xfffd;
            }
            n += put_utf8(buf + n, cp);
            continue;
        }
        size_t k = utf8_well_formed((const unsigned char *)c->p, (const unsigned char *)c->end);
        if (k == 0) {
            bad = 1;
            buf[n++] = '?';
            c->p++;
            continue;
        }
        memcpy(buf + n, c->p, k);
        n += k;
        c->p += k;
    }
    buf[n] = '\0';
    if (bad) {
        c->utf8_bad = 1;
        violate(c, TC_UTF8, "a string that is not valid UTF-8 (\"%.40s\") before byte %zu", buf,
                (size_t)(c->p - c->base));
    }
    *out = buf;
    *outlen = n;
    return 0;
}

static int parse_number(struct checker *c, struct jv *v)
{
    const char *s = c->p;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return json_error(c, "bad number");
    if (*c->p == '0')
        c->p++;
    else
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    v->is_int = 1;
    if (c->p < c->end && *c->p == '.') {
        v->is_int = 0;
        c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return json_error(c, "bad number");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        v->is_int = 0;
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return json_error(c, "bad number");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    size_t len = (size_t)(c->p - s);
    char *copy = arena_alloc(&c->arena, len + 1);
    if (!copy) {
        c->oom = 1;
        return -1;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    v->t = J_NUM;
    v->num = strtod(copy, NULL);
    return 0;
}

/* After an item of an array or object: 1 at a ',' (another item follows), 0 at `close`
 * (consumed), -1 (a JSON violation) at anything else. */
static int next_item(struct checker *c, char close, const char *what)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        return 1;
    }
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    return json_error(c, what);
}

static int parse_value(struct checker *c, struct jv *v, int depth);

/* An array or object: values (and keys) collected in doubling arena arrays. */
static int parse_container(struct checker *c, struct jv *v, int depth)
{
    int obj = *c->p == '{';
    char close = obj ? '}' : ']';
    c->p++;
    v->t = obj ? J_OBJ : J_ARR;
    size_t cap = 0;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        if (v->n == cap) {
            size_t cap2 = cap ? 2 * cap : 8;
            struct jv *items = arena_alloc(&c->arena, cap2 * sizeof *items);
            const char **keys = obj ? arena_alloc(&c->arena, cap2 * sizeof *keys) : NULL;
            if (!items || (obj && !keys)) {
                c->oom = 1;
                return -1;
            }
            if (v->n) {
                memcpy(items, v->items, v->n * sizeof *items);
                if (obj)
                    memcpy(keys, v->keys, v->n * sizeof *keys);
            }
            v->items = items;
            v->keys = keys;
            cap = cap2;
        }
        skip_ws(c);
        if (obj) {
            size_t klen;
            if (c->p >= c->end || *c->p != '"')
                return json_error(c, "expected a key");
            if (parse_string(c, &v->keys[v->n], &klen))
                return -1;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ':')
                return json_error(c, "expected ':'");
            c->p++;
        }
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        if (parse_value(c, &v->items[v->n], depth + 1))
            return -1;
        v->n++;
        int more = next_item(c, close, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        if (more <= 0)
            return more;
    }
}

static int literal(struct checker *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return json_error(c, "unexpected character");
    c->p += n;
    return 0;
}

static int parse_value(struct checker *c, struct jv *v, int depth)
{
    memset(v, 0, sizeof *v);
    skip_ws(c);
    if (depth > MAX_JSON_DEPTH)
        return json_error(c, "values nested too deep");
    if (c->p >= c->end)
        return json_error(c, "unexpected end");
    switch (*c->p) {
    case '{':
    case '[': return parse_container(c, v, depth);
    case '"': v->t = J_STR; return parse_string(c, &v->str, &v->len);
    case 't': v->t = J_BOOL, v->num = 1; return literal(c, "true");
    case 'f': v->t = J_BOOL; return literal(c, "false");
    case 'n': v->t = J_NULL; return literal(c, "null");
    default: return parse_number(c, v);
    }
}

/* ---- one event -------------------------------------------------------------------------- */

static const struct jv *get(const struct jv *obj, const char *key)
{
    const struct jv *found = NULL;
    for (size_t i = 0; obj->t == J_OBJ && i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            found = &obj->items[i]; /* the last of duplicate keys, as most readers take */
    return found;
}

static int is_string(const struct jv *v)
{
    return v && v->t == J_STR;
}

static int nonempty_string(const struct jv *v)
{
    return is_string(v) && v->len > 0;
}

static int integer_in(const struct jv *v, double lo, double hi)
{
    return v && v->t == J_NUM && v->num == trunc(v->num) && v->num >= lo && v->num <= hi;
}

/* ts or dur in Perfetto's nanoseconds; 0 ok, else a violation is recorded. */
static int time_ns(struct checker *c, const struct jv *v, const char *field, int64_t *out)
{
    if (!v || v->t != J_NUM) {
        violate(c, TC_TIME, "%s is %s (event #%zu)", field, v ? "not a number" : "missing",
                c->event_index);
        return -1;
    }
    double d = v->num;
    if (!isfinite(d) || d < 0 || d * 1000.0 >= 9.2e18) {
        violate(c, TC_TIME, "%s %g is not finite, non-negative int64 nanoseconds (event #%zu)",
                field, d, c->event_index);
        return -1;
    }
    *out = v->is_int || d == trunc(d) ? (int64_t)d * 1000 : (int64_t)llround(d * 1000.0);
    return 0;
}

static uint32_t track_of(struct checker *c, uint32_t pid, uint32_t tid)
{
    uint32_t *slot = map_slot(&c->track_of, ((uint64_t)pid << 32 | tid) + 1, 1);
    if (!slot) {
        c->oom = 1;
        return 0;
    }
    if (*slot == 0) {
        c->tracks = reserve(c->tracks, &c->tcap, c->ntracks + 1, sizeof *c->tracks, &c->oom);
        if (c->oom)
            return 0;
        c->tracks[c->ntracks] = (struct track){.pid = pid, .tid = tid};
        *slot = (uint32_t)++c->ntracks;
    }
    return *slot - 1;
}

static void check_metadata(struct checker *c, const struct jv *e, const char *name, uint32_t pid,
                           uint32_t tid)
{
    const struct jv *args = get(e, "args");
    if (!args || args->t != J_OBJ) {
        violate(c, TC_FIELD, "metadata %s without an args object (event #%zu)", name,
                c->event_index);
        return;
    }
    if (strcmp(name, "process_name") == 0 || strcmp(name, "thread_name") == 0) {
        if (!nonempty_string(get(args, "name"))) {
            violate(c, TC_FIELD, "%s without a non-empty args.name (event #%zu)", name,
                    c->event_index);
            return;
        }
        uint32_t *slot = name[0] == 'p'
                             ? map_slot(&c->pid_flags, (uint64_t)pid + 1, 1)
                             : map_slot(&c->thread_named, ((uint64_t)pid << 32 | tid) + 1, 1);
        if (!slot)
            c->oom = 1;
        else
            *slot |= 2;
    } else if (strcmp(name, "process_sort_index") == 0 || strcmp(name, "thread_sort_index") == 0) {
        if (!integer_in(get(args, "sort_index"), -2147483648.0, 2147483647.0))
            violate(c, TC_FIELD, "%s without an integer args.sort_index (event #%zu)", name,
                    c->event_index);
    } else if (strcmp(name, "process_labels") == 0) {
        if (!is_string(get(args, "labels")))
            violate(c, TC_FIELD, "process_labels without a string args.labels (event #%zu)",
                    c->event_index);
    } else {
        violate(c, TC_FIELD, "unknown metadata \"%.40s\" (event #%zu)", name, c->event_index);
    }
}

/* Keys join an event's parts with a byte no name is expected to hold, so that "a|b" + "c" and
 * "a" + "b|c" stay apart; messages show the parts labelled instead (key_text): the byte is a
 * control character, which a terminal shows as nothing. */
#define KEY_SEP "\x1f"

/* `key`'s parts named by `labels` (NULL-terminated), "cat d, name act, id 1", in buf. */
static const char *key_text(const char *key, const char *const *labels, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; labels[i] && at < len; i++) {
        const char *sep = strchr(key, KEY_SEP[0]);
        int n = sep ? (int)(sep - key) : (int)strlen(key);
        int k = snprintf(buf + at, len - at, "%s%s %.*s", i ? ", " : "", labels[i], n, key);
        if (k < 0 || !sep)
            break;
        at += (size_t)k;
        key = sep + 1;
    }
    return buf;
}

/* The key of an async event, "pid|cat|id|name" (| the KEY_SEP byte; a number id as written, a
 * string id quoted, an id2 as "global ..." or "local ..."), or UINT32_MAX (violation
 * recorded). */
static uint32_t async_key(struct checker *c, const struct jv *e, uint32_t pid, const char *cat,
                          const char *name)
{
    const struct jv *id = get(e, "id"), *id2 = get(e, "id2");
    char idtext[160]; /* "global \"" + 120 bytes + "\"" */
    if (id && id->t == J_NUM && id->num == trunc(id->num))
        snprintf(idtext, sizeof idtext, "%.17g", id->num);
    else if (is_string(id))
        snprintf(idtext, sizeof idtext, "\"%.120s\"", id->str);
    else if (!id && id2 && id2->t == J_OBJ && (get(id2, "local") || get(id2, "global"))) {
        const struct jv *l = get(id2, "local"), *g = get(id2, "global"), *x = g ? g : l;
        if (is_string(x))
            snprintf(idtext, sizeof idtext, "%s \"%.120s\"", g ? "global" : "local", x->str);
        else if (x->t == J_NUM)
            snprintf(idtext, sizeof idtext, "%s %.17g", g ? "global" : "local", x->num);
        else
            idtext[0] = '\0';
    } else {
        idtext[0] = '\0';
    }
    if (!idtext[0]) {
        violate(c, TC_FIELD, "async event without an id (event #%zu)", c->event_index);
        return UINT32_MAX;
    }
    size_t len = strlen(cat) + strlen(name) + strlen(idtext) + 32;
    char *key = arena_alloc(&c->arena, len);
    if (!key) {
        c->oom = 1;
        return UINT32_MAX;
    }
    snprintf(key, len, "%" PRIu32 KEY_SEP "%s" KEY_SEP "%s" KEY_SEP "%s", pid, cat, idtext, name);
    uint32_t k = intern(&c->names, key, strlen(key));
    if (k == UINT32_MAX)
        c->oom = 1;
    return k;
}

/* The key of a flow event, "cat|name|id" (| the KEY_SEP byte) with the id as Perfetto reads it
 * (an integer, or a string of hex digits), or UINT32_MAX. */
static uint32_t flow_key(struct checker *c, const struct jv *e, const char *cat, const char *name)
{
    const struct jv *id = get(e, "id");
    uint64_t v = 0;
    int ok = 0;
    if (id && id->t == J_NUM) {
        ok = id->num == trunc(id->num) && id->num >= 0 && id->num < 1.8e19;
        v = ok ? (uint64_t)id->num : 0;
    } else if (is_string(id) && id->len > 0) {
        char *endp;
        v = strtoull(id->str, &endp, 16);
        ok = *endp == '\0' && id->str[0] != '-' && id->str[0] != '+' && id->str[0] != ' ';
    }
    if (!ok) {
        violate(c, TC_FIELD, "flow event without an integer or hex-string id (event #%zu)",
                c->event_index);
        return UINT32_MAX;
    }
    size_t len = strlen(cat) + strlen(name) + 48;
    char *key = arena_alloc(&c->arena, len);
    if (!key) {
        c->oom = 1;
        return UINT32_MAX;
    }
    snprintf(key, len, "%s" KEY_SEP "%s" KEY_SEP "%" PRIu64, cat, name, v);
    uint32_t k = intern(&c->names, key, strlen(key));
    if (k == UINT32_MAX)
        c->oom = 1;
    return k;
}

/* Check one event alone and keep what the replay needs. */
static void check_event(struct checker *c, const struct jv *e)
{
    c->res->events++;
    size_t at = c->event_index;
    if (e->t != J_OBJ) {
        violate(c, TC_JSON, "event #%zu is not an object", at);
        return;
    }
    const struct jv *ph = get(e, "ph");
    static const char phases[] = "XBEiIbensftCM";
    if (!is_string(ph) || ph->len != 1 || !strchr(phases, ph->str[0])) {
        violate(c, TC_FIELD, "event #%zu has %s", at,
                is_string(ph) ? "a phase this checker does not know" : "no ph string");
        return;
    }
    char phase = ph->str[0];
    const struct jv *args = get(e, "args");
    if (args && args->t != J_OBJ)
        violate(c, TC_FIELD, "args is not an object (event #%zu)", at);
    const struct jv *pidv = get(e, "pid"), *tidv = get(e, "tid");
    int ids_ok = 1;
    if (!integer_in(pidv, 1, 4294967295.0) || !integer_in(tidv, 1, 4294967295.0)) {
        const char *why = !pidv || !tidv ? "lacks pid or tid"
                          : integer_in(tidv, 0, 0) && integer_in(pidv, 1, 4294967295.0)
                              ? "has tid 0, which Perfetto reads as no tid (the event lands on the "
                                "thread whose tid is the pid)"
                              : "has a pid or tid that is not an integer in [1, 2^32)";
        violate(c, !pidv || !tidv ? TC_FIELD : TC_ID, "event #%zu %s", at, why);
        ids_ok = 0;
    }
    uint32_t pid = ids_ok ? (uint32_t)pidv->num : 0, tid = ids_ok ? (uint32_t)tidv->num : 0;
    const struct jv *namev = get(e, "name");
    if (namev && !is_string(namev)) {
        violate(c, TC_FIELD, "name is not a string (event #%zu)", at);
        return;
    }
    const char *name = namev ? namev->str : "";
    if (phase == 'M') {
        if (!nonempty_string(namev))
            violate(c, TC_FIELD, "metadata without a name (event #%zu)", at);
        else if (ids_ok)
            check_metadata(c, e, name, pid, tid);
        return;
    }
    if (!ids_ok)
        return;
    /* The thread belongs to one process, and both are used. */
    uint32_t *owner = map_slot(&c->tid_pid, (uint64_t)tid + 1, 1);
    uint32_t *pflags = map_slot(&c->pid_flags, (uint64_t)pid + 1, 1);
    if (!owner || !pflags) {
        c->oom = 1;
        return;
    }
    *pflags |= 1;
    if (*owner == 0)
        *owner = pid + 1;
    else if (*owner != pid + 1 && *owner != UINT32_MAX) {
        violate(c, TC_ID,
                "tid %" PRIu32 " is in pid %" PRIu32 " and pid %" PRIu32
                " (event #%zu): Perfetto may file one under the other",
                tid, *owner - 1, pid, at);
        *owner = UINT32_MAX; /* said once */
    }
    if (phase != 'E' && !nonempty_string(namev)) {
        violate(c, TC_FIELD, "'%c' event without a name (event #%zu)", phase, at);
        return;
    }
    struct ev ev = {.ph = phase, .index = (uint32_t)at, .order = INT64_MAX};
    if (time_ns(c, get(e, "ts"), "ts", &ev.ts))
        return;
    ev.track = track_of(c, pid, tid);
    uint32_t nid = intern(&c->names, name, strlen(name));
    if (nid == UINT32_MAX) {
        c->oom = 1;
        return;
    }
    ev.name = nid;
    const struct jv *catv = get(e, "cat");
    if (catv && !is_string(catv)) {
        violate(c, TC_FIELD, "cat is not a string (event #%zu)", at);
        return;
    }
    const char *cat = catv ? catv->str : "";
    switch (phase) {
    case 'X':
        if (time_ns(c, get(e, "dur"), "dur", &ev.dur))
            return;
        ev.order = INT64_MAX - ev.dur;
        ev.thread_slice = 1;
        break;
    case 'B': ev.thread_slice = 1; break;
    case 'E': ev.order = INT64_MIN; break;
    case 'i':
    case 'I': {
        const struct jv *s = get(e, "s");
        if (s && (!is_string(s) || s->len != 1 || !strchr("gpt", s->str[0]))) {
            violate(c, TC_FIELD, "instant scope is not g, p or t (event #%zu)", at);
            return;
        }
        ev.thread_slice = !s || s->str[0] == 't';
        break;
    }
    case 'b':
    case 'e':
    case 'n':
        if (!catv) {
            violate(c, TC_FIELD, "async event without cat (event #%zu)", at);
            return;
        }
        if ((ev.key = async_key(c, e, pid, cat, name)) == UINT32_MAX)
            return;
        break;
    case 's':
    case 't':
    case 'f': {
        const struct jv *bp = get(e, "bp");
        if (!catv) {
            violate(c, TC_FIELD, "flow event without cat (event #%zu)", at);
            return;
        }
        if (bp && (!is_string(bp) || strcmp(bp->str, "e") != 0 || phase != 'f')) {
            violate(c, TC_FIELD, "bp other than \"e\" on an f (event #%zu)", at);
            return;
        }
        ev.bind_enclosing = bp != NULL;
        if ((ev.key = flow_key(c, e, cat, name)) == UINT32_MAX)
            return;
        break;
    }
    case 'C':
        if (!args || args->t != J_OBJ || args->n == 0) {
            violate(c, TC_FIELD, "counter without args (event #%zu)", at);
            return;
        }
        for (size_t i = 0; i < args->n; i++)
            if (args->items[i].t != J_NUM || !isfinite(args->items[i].num)) {
                violate(c, TC_FIELD, "counter value %s is not a finite number (event #%zu)",
                        args->keys[i], at);
                return;
            }
        c->res->counters++;
        break;
    }
    c->evs = reserve(c->evs, &c->evcap, c->nevs + 1, sizeof *c->evs, &c->oom);
    if (c->oom)
        return;
    c->evs[c->nevs++] = ev;
}

/* ---- the replay in Perfetto's order ----------------------------------------------------- */

static int by_perfetto_order(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static const char *track_text(const struct checker *c, uint32_t t, char *buf, size_t len)
{
    snprintf(buf, len, "pid %" PRIu32 " tid %" PRIu32, c->tracks[t].pid, c->tracks[t].tid);
    return buf;
}

/* B/E pairs: every E closes the innermost open B of its name (any, without a name). */
static void pair_begin_end(struct checker *c)
{
    for (size_t i = 0; i < c->nevs && !c->oom; i++) {
        struct ev *e = &c->evs[i];
        struct track *t = &c->tracks[e->track];
        if (e->ph == 'B') {
            t->opened = reserve(t->opened, &t->ocap, t->nopened + 1, sizeof *t->opened, &c->oom);
            if (c->oom)
                return;
            t->opened[t->nopened++] = (uint32_t)i;
            continue;
        }
        if (e->ph != 'E')
            continue;
        size_t k = t->nopened;
        while (k > 0 && e->name != 0 && c->evs[t->opened[k - 1]].name != e->name)
            k--;
        char where[64];
        if (k == 0) {
            violate(c, TC_BEGIN_END, "E \"%s\" on %s closes no open B (event #%" PRIu32 ")",
                    interned(&c->names, e->name), track_text(c, e->track, where, sizeof where),
                    e->index);
            continue;
        }
        if (k < t->nopened)
            violate(c, TC_BEGIN_END,
                    "E \"%s\" on %s closes a B while %zu B inside it are open (event #%" PRIu32 ")",
                    interned(&c->names, e->name), track_text(c, e->track, where, sizeof where),
                    t->nopened - k, e->index);
        struct ev *b = &c->evs[t->opened[k - 1]];
        b->dur = e->ts - b->ts;
        b->peer = (uint32_t)i + 1;
        e->peer = t->opened[k - 1] + 1;
        t->nopened = k - 1;
    }
    for (size_t t = 0; t < c->ntracks; t++)
        for (size_t k = 0; k < c->tracks[t].nopened; k++) {
            char where[64];
            const struct ev *b = &c->evs[c->tracks[t].opened[k]];
            violate(c, TC_BEGIN_END, "B \"%s\" on %s is never closed (event #%" PRIu32 ")",
                    interned(&c->names, b->name), track_text(c, (uint32_t)t, where, sizeof where),
                    b->index);
        }
}

/* Perfetto's SliceTracker on one thread track: pop what ended (a slice ending where the new
 * one starts ends before it, unless both are instants), then refuse a slice that starts
 * inside the top one and ends after it. */
static void begin_slice(struct checker *c, size_t i)
{
    struct ev *e = &c->evs[i];
    struct track *t = &c->tracks[e->track];
    int64_t end = e->dur > INT64_MAX - e->ts ? INT64_MAX : e->ts + e->dur;
    while (t->depth > 0) {
        const struct open_slice *top = &t->stack[t->depth - 1];
        int64_t top_end = top->end;
        int both_instants = top_end == top->start && e->dur == 0;
        if (top_end < e->ts || (top_end == e->ts && !both_instants))
            t->depth--;
        else
            break;
    }
    char where[64];
    if (t->depth > 0) {
        const struct open_slice *top = &t->stack[t->depth - 1];
        if (e->ts < top->end && end > top->end) {
            violate(c, TC_OVERLAP,
                    "\"%s\" [%" PRId64 ", %" PRId64 ") ns on %s starts inside \"%s\" [%" PRId64
                    ", %" PRId64 ") and ends after it (events #%" PRIu32 ", #%" PRIu32 ")",
                    interned(&c->names, e->name), e->ts, end,
                    track_text(c, e->track, where, sizeof where), interned(&c->names, top->name),
                    top->start, top->end, c->evs[top->ev].index, e->index);
            return;
        }
    }
    if (t->depth >= PERFETTO_MAX_DEPTH) {
        violate(c, TC_DEPTH, "\"%s\" on %s would nest %d deep (event #%" PRIu32 ")",
                interned(&c->names, e->name), track_text(c, e->track, where, sizeof where),
                PERFETTO_MAX_DEPTH + 1, e->index);
        return;
    }
    t->stack = reserve(t->stack, &t->cap, t->depth + 1, sizeof *t->stack, &c->oom);
    if (c->oom)
        return;
    t->stack[t->depth++] = (struct open_slice){e->ts, end, e->name, (uint32_t)i};
    c->res->slices++;
    for (size_t k = 0; k < t->npending; k++)
        c->flows[t->pending[k]].bound_end = 1; /* an f without bp binds to this slice */
    t->npending = 0;
}

/* Does the slice on top of the track (as Perfetto leaves it: not popped) hold the flow end? */
static void bind_flow(struct checker *c, const struct ev *e)
{
    const struct track *t = &c->tracks[e->track];
    char where[64];
    track_text(c, e->track, where, sizeof where);
    if (t->depth == 0) {
        violate(c, TC_FLOW,
                "'%c' of \"%s\" at %" PRId64 " ns on %s has no slice to bind to (event #%" PRIu32
                ")",
                e->ph, interned(&c->names, e->name), e->ts, where, e->index);
        return;
    }
    const struct open_slice *top = &t->stack[t->depth - 1];
    int inside = top->start <= e->ts && (e->ts < top->end || top->end == top->start);
    if (!inside)
        violate(c, TC_FLOW,
                "'%c' of \"%s\" at %" PRId64 " ns on %s binds to \"%s\" [%" PRId64 ", %" PRId64
                "), which does not hold it (event #%" PRIu32 ")",
                e->ph, interned(&c->names, e->name), e->ts, where, interned(&c->names, top->name),
                top->start, top->end, e->index);
}

static void flow_event(struct checker *c, const struct ev *e)
{
    assert(e->key < c->nkeys);
    struct flow_state *f = &c->flows[e->key];
    if (e->ph == 's') {
        if (f->started)
            violate(c, TC_FLOW, "a second s for flow \"%s\" (event #%" PRIu32 ")",
                    interned(&c->names, e->name), e->index);
        else
            bind_flow(c, e);
        f->started = 1;
        return;
    }
    if (!f->started || f->ended) {
        violate(c, TC_FLOW, "'%c' of flow \"%s\" %s (event #%" PRIu32 ")", e->ph,
                interned(&c->names, e->name), f->ended ? "after its f" : "before any s", e->index);
        return;
    }
    if (e->ph == 't') {
        bind_flow(c, e);
        return;
    }
    f->ended = 1;
    c->res->flows++;
    if (e->bind_enclosing) {
        bind_flow(c, e);
        f->bound_end = 1;
        return;
    }
    struct track *t = &c->tracks[e->track];
    t->pending = reserve(t->pending, &t->pcap, t->npending + 1, sizeof *t->pending, &c->oom);
    if (c->oom)
        return;
    t->pending[t->npending++] = e->key;
}

static void async_event(struct checker *c, const struct ev *e)
{
    if (e->ph == 'n')
        return;
    assert(e->key < c->nkeys);
    uint32_t *open = &c->async_open[e->key];
    if (e->ph == 'b') {
        (*open)++;
        return;
    }
    if (*open == 0) {
        violate(c, TC_ASYNC,
                "e \"%s\" at %" PRId64
                " ns matches no open b of its pid, cat and id (event #%" PRIu32 ")",
                interned(&c->names, e->name), e->ts, e->index);
        return;
    }
    (*open)--;
    c->res->async++;
}

static void replay(struct checker *c)
{
    if (c->nevs > 1)
        qsort(c->evs, c->nevs, sizeof *c->evs, by_perfetto_order);
    pair_begin_end(c);
    /* Key tables are indexed by interned id: size them (zeroed) once. */
    size_t keys = c->names.n;
    c->flows = calloc(keys ? keys : 1, sizeof *c->flows);
    c->async_open = calloc(keys ? keys : 1, sizeof *c->async_open);
    if (!c->flows || !c->async_open) {
        c->oom = 1;
        return;
    }
    c->nkeys = keys;
    for (size_t i = 0; i < c->nevs && !c->oom; i++) {
        struct ev *e = &c->evs[i];
        switch (e->ph) {
        case 'X':
        case 'i':
        case 'I':
            if (e->thread_slice)
                begin_slice(c, i);
            break;
        case 'B':
            if (e->peer)
                begin_slice(c, i);
            break;
        case 'E': {
            /* Perfetto pops the closed B when it is on top. */
            struct track *t = &c->tracks[e->track];
            if (e->peer && t->depth > 0 && t->stack[t->depth - 1].ev == e->peer - 1)
                t->depth--;
            break;
        }
        case 'b':
        case 'e':
        case 'n': async_event(c, e); break;
        case 's':
        case 't':
        case 'f': flow_event(c, e); break;
        default: break;
        }
    }
    static const char *const flow_parts[] = {"cat", "name", "id", NULL};
    static const char *const async_parts[] = {"pid", "cat", "id", "name", NULL};
    char text[200];
    for (size_t k = 0; k < keys && !c->oom; k++) {
        const char *key = interned(&c->names, (uint32_t)k);
        if (c->flows[k].started && !c->flows[k].ended)
            violate(c, TC_FLOW, "flow \"%s\" has an s but no f",
                    key_text(key, flow_parts, text, sizeof text));
        else if (c->flows[k].ended && !c->flows[k].bound_end)
            violate(c, TC_FLOW, "flow \"%s\" ends with an f that no later slice takes",
                    key_text(key, flow_parts, text, sizeof text));
        if (c->async_open[k])
            violate(c, TC_ASYNC, "%" PRIu32 " b of \"%s\" never closed", c->async_open[k],
                    key_text(key, async_parts, text, sizeof text));
    }
}

/* Every pid used has a process_name, every (pid, tid) a thread_name. */
static void check_names(struct checker *c)
{
    for (size_t i = 0; i < c->pid_flags.cap; i++)
        if (c->pid_flags.keys[i] && (c->pid_flags.vals[i] & 1)) {
            c->res->processes++;
            if (!(c->pid_flags.vals[i] & 2))
                violate(c, TC_NAMES, "pid %" PRIu64 " has no process_name",
                        c->pid_flags.keys[i] - 1);
        }
    for (size_t t = 0; t < c->ntracks; t++) {
        c->res->threads++;
        uint32_t *named = map_slot(&c->thread_named,
                                   ((uint64_t)c->tracks[t].pid << 32 | c->tracks[t].tid) + 1, 0);
        if (!named || !(*named & 2))
            violate(c, TC_NAMES, "pid %" PRIu32 " tid %" PRIu32 " has no thread_name",
                    c->tracks[t].pid, c->tracks[t].tid);
    }
}

/* ---- the file --------------------------------------------------------------------------- */

static void check_top_value(struct checker *c, const char *key, const struct jv *v)
{
    if (strcmp(key, "displayTimeUnit") == 0 &&
        !(is_string(v) && (strcmp(v->str, "ms") == 0 || strcmp(v->str, "ns") == 0)))
        violate(c, TC_JSON, "displayTimeUnit is not \"ms\" or \"ns\"");
}

/* The traceEvents array at c->p, one event at a time. */
static int parse_events(struct checker *c)
{
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 0;
    }
    for (;;) {
        struct jv e;
        if (parse_value(c, &e, 1))
            return -1;
        check_event(c, &e);
        c->event_index++;
        arena_reset(&c->arena);
        if (c->oom)
            return -1;
        int more = next_item(c, ']', "expected ',' or ']' between events");
        if (more <= 0)
            return more;
    }
}

static int parse_file(struct checker *c)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == '[')
        return parse_events(c);
    if (c->p >= c->end || *c->p != '{')
        return json_error(c, "a trace is an object with traceEvents or an array of events");
    c->p++;
    int seen = 0;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}')
        return json_error(c, "no traceEvents");
    for (;;) {
        skip_ws(c);
        const char *key;
        size_t klen;
        if (c->p >= c->end || *c->p != '"')
            return json_error(c, "expected a key");
        if (parse_string(c, &key, &klen))
            return -1;
        skip_ws(c);
        if (c->p >= c->end || *c->p != ':')
            return json_error(c, "expected ':'");
        c->p++;
        skip_ws(c);
        if (strcmp(key, "traceEvents") == 0) {
            if (c->p >= c->end || *c->p != '[')
                return json_error(c, "traceEvents is not an array");
            if (parse_events(c))
                return -1;
            seen = 1;
        } else {
            size_t copy = klen < 63 ? klen : 63;
            char name[64];
            memcpy(name, key, copy);
            name[copy] = '\0';
            struct jv v;
            if (parse_value(c, &v, 1))
                return -1;
            check_top_value(c, name, &v);
            arena_reset(&c->arena);
        }
        int more = next_item(c, '}', "expected ',' or '}'");
        if (more < 0)
            return -1;
        if (more == 0)
            break;
    }
    skip_ws(c);
    if (c->p != c->end)
        return json_error(c, "text after the trace");
    if (!seen)
        return json_error(c, "no traceEvents");
    return 0;
}

int tc_check_buffer(const char *buf, size_t len, struct tc_result *out)
{
    memset(out, 0, sizeof *out);
    struct checker c = {.res = out, .base = buf, .p = buf, .end = buf + len};
    if (intern(&c.names, "", 0) == UINT32_MAX)
        c.oom = 1;
    if (!c.oom && parse_file(&c) == 0 && !c.oom) {
        replay(&c);
        if (!c.oom)
            check_names(&c);
    }
    arena_free(&c.arena);
    interner_free(&c.names);
    for (size_t t = 0; t < c.ntracks; t++) {
        free(c.tracks[t].stack);
        free(c.tracks[t].pending);
        free(c.tracks[t].opened);
    }
    free(c.tracks);
    free(c.evs);
    free(c.flows);
    free(c.async_open);
    map_free(&c.track_of);
    map_free(&c.pid_flags);
    map_free(&c.tid_pid);
    map_free(&c.thread_named);
    if (c.oom)
        return -1;
    return out->violations ? 1 : 0;
}

int tc_check_file(const char *path, struct tc_result *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(out->message[0], sizeof out->message[0], "cannot open %s", path);
        out->nmessages = 1;
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        int oom = 0;
        buf = reserve(buf, &cap, len + 65536, 1, &oom);
        if (oom) {
            free(buf);
            fclose(fp);
            return -1;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        snprintf(out->message[0], sizeof out->message[0], "cannot read %s", path);
        out->nmessages = 1;
        return -1;
    }
    int rc = tc_check_buffer(buf, len, out);
    free(buf);
    return rc;
}
