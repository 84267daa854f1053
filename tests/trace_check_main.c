/* trace_check FILE...: run the strict trace-event checker (trace_check.h) on each file and
 * print its counts and first violations.  Exit 0 when every file passes, 1 when one breaks a
 * rule, 2 when one cannot be read. */
#include <stdio.h>

#include "trace_check.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: trace_check FILE.json...\n");
        return 2;
    }
    int worst = 0;
    for (int i = 1; i < argc; i++) {
        struct tc_result r;
        int rc = tc_check_file(argv[i], &r);
        if (rc < 0) {
            fprintf(stderr, "trace_check: %s: %s\n", argv[i],
                    r.nmessages ? r.message[0] : "out of memory");
            worst = 2;
            continue;
        }
        printf("%s: %zu events, %zu slices, %zu async slices, %zu flows, %zu counter events, "
               "%zu processes, %zu threads: %zu violations\n",
               argv[i], r.events, r.slices, r.async, r.flows, r.counters, r.processes, r.threads,
               r.violations);
        for (int k = 0; k < TC_RULES; k++)
            if (r.by_rule[k])
                printf("  %-9s %zu\n", tc_rule_name((enum tc_rule)k), r.by_rule[k]);
        for (int k = 0; k < r.nmessages; k++)
            printf("  %s\n", r.message[k]);
        if (rc > 0 && worst < 1)
            worst = 1;
    }
    return worst;
}
