/* trace_check: a strict checker of Chrome trace-event JSON files, written to the Trace Event
 * Format spec and to what Perfetto's JSON importer does with them (its tokenizer, sorter,
 * slice, flow and process trackers), so that a trace it passes is shown whole.
 *
 * The file is parsed as JSON (RFC 8259) and every event is checked alone:
 *  - json    the file is JSON: an object with a "traceEvents" array (or a bare array of
 *            events), every event an object; displayTimeUnit, when given, "ms" or "ns";
 *  - utf8    every string and key is valid UTF-8 after unescaping (no stray or truncated
 *            sequence, no overlong form, no surrogate, nothing beyond U+10FFFF, \u escapes
 *            paired as surrogates must be);
 *  - field   the fields its phase needs, of the right type: ph one known character; pid,
 *            tid; name (E may omit it); ts except on metadata; dur on X; id and cat on async
 *            (b e n) and flow (s t f) events, a flow id an integer or hex string; bp only
 *            "e"; args an object; counter args numbers; metadata one of process_name,
 *            thread_name (args.name a non-empty string), process_sort_index,
 *            thread_sort_index (args.sort_index an integer), process_labels;
 *  - time    ts and dur are numbers, finite, non-negative and within Perfetto's int64
 *            nanoseconds, which are taken as Perfetto takes them: integers x 1000, other
 *            values llround(us x 1000);
 *  - id      pid and tid are integers in [1, 2^32): Perfetto reads tid 0 as "no tid" and
 *            files the event under the thread whose tid is the pid, pid 0 is the kernel's
 *            idle process; and each tid belongs to one pid, as on Linux.
 * Then every event in Perfetto's order (ts; at equal ts E first, then X longest first, then
 * the rest; then file order), tracking each thread's slice stack as Perfetto does:
 *  - overlap a complete slice (X, a B/E pair, a thread-scoped instant) that starts inside
 *            the open slice on top of its track and ends after it (Perfetto drops it, or
 *            spills it to an overflow track and records an import error);
 *  - depth   nesting deeper than Perfetto's 512 levels;
 *  - begin_end every E closes an open B on its track (its name, when given, matching),
 *            innermost first, and every B is closed;
 *  - async   every e closes an open b of the same pid, cat, id and name; every b is closed;
 *  - flow    a flow (cat, name, id) has one s and then one f; t and f come after the s; s, t
 *            and an f with bp "e" land inside the slice on top of their track (Perfetto binds
 *            them to that slice, ended or not); an f without bp finds a later slice;
 *  - names   every pid used has a process_name and every (pid, tid) a thread_name.
 * The checker reads the whole file into memory; fine for traces of some hundred MB. */
#ifndef STEPSIM_TRACE_CHECK_H
#define STEPSIM_TRACE_CHECK_H

#include <stddef.h>

enum tc_rule {
    TC_JSON,
    TC_UTF8,
    TC_FIELD,
    TC_TIME,
    TC_ID,
    TC_OVERLAP,
    TC_DEPTH,
    TC_BEGIN_END,
    TC_ASYNC,
    TC_FLOW,
    TC_NAMES,
    TC_RULES
};

#define TC_MESSAGES 8

struct tc_result {
    size_t events;   /* trace events read */
    size_t slices;   /* complete slices on thread tracks (X, B/E pairs, instants) */
    size_t async;    /* async slices (b/e pairs) */
    size_t flows;    /* flows with both ends */
    size_t counters; /* counter events */
    size_t threads, processes;
    size_t by_rule[TC_RULES];       /* violations of each rule */
    size_t violations;              /* their sum */
    char message[TC_MESSAGES][240]; /* the first violations, "rule: what (event #i)" */
    int nmessages;
};

/* Check `len` bytes of trace.  Returns 0 when it passes, 1 when it breaks a rule (counts and
 * the first messages in *out), -1 when out of memory. */
int tc_check_buffer(const char *buf, size_t len, struct tc_result *out);
/* The same for a file; -1 also when it cannot be read (message[0] says why). */
int tc_check_file(const char *path, struct tc_result *out);
const char *tc_rule_name(enum tc_rule rule);

#endif
