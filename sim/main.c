/* main: the only place stepsim exits. */
#include <libxml/parser.h>
#include <gsl/gsl_errno.h>

#include "cleanup.h"
#include "cli.h"

int main(int argc, char **argv)
{
    gsl_set_error_handler_off(); /* GSL's default handler aborts; we check status codes */
    cleanup_install();           /* SIGINT/TERM/HUP remove temp files and end gnuplot */
    xmlInitParser();
    int rc = cli_main(argc, argv, stdout, stderr);
    xmlCleanupParser();
    return rc;
}
