# Tests: one Criterion program per module, run through automake's TAP driver, plus a shell
# script that drives the CLI on good and bad inputs.
TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
AM_TESTS_ENVIRONMENT = CRITERION_OUTPUTS='tap:-' CRITERION_NO_EARLY_EXIT=1 \
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
	LSAN_OPTIONS="suppressions=$(abs_top_srcdir)/tests/lsan.supp $${LSAN_OPTIONS-}"; \
	export CRITERION_OUTPUTS CRITERION_NO_EARLY_EXIT top_srcdir top_builddir LSAN_OPTIONS;
AM_TESTS_FD_REDIRECT = 9>&2

criterion_tests = tests/test_units tests/test_eventq tests/test_link tests/test_engine tests/test_schedule \
	tests/test_pipeline tests/test_scenario tests/test_layout tests/test_report tests/test_outputs \
	tests/test_model tests/test_flops tests/test_hardware tests/test_costmodel \
	tests/test_collective tests/test_sweep tests/test_plan tests/test_plan_bound tests/test_plan_space tests/test_cm_work tests/test_graphs \
	tests/test_module_precision tests/test_offload_modules tests/test_peft tests/test_dsa tests/test_dsv4 \
	tests/test_pplayout tests/test_groups tests/test_xsdhint \
	tests/test_cm_comm \
	tests/test_derive tests/test_library tests/test_import tests/test_framework \
	tests/test_parallel tests/test_trace tests/test_html tests/test_svg_gantt \
	tests/test_report_html tests/test_gantt tests/test_runtable tests/test_patterns
if HAVE_CRITERION
criterion_checks = $(criterion_tests)
endif
# tests/trace_check FILE.json...: the strict trace-event checker (tests/trace_check.h) as a
# command, for the CLI tests and for checking any trace by hand; it needs no Criterion.
check_PROGRAMS = $(criterion_checks) tests/trace_check
TESTS = $(criterion_checks) tests/run_cli_tests.sh tests/probe_io.sh tests/hostile_outputs.sh tests/interrupt.sh tests/model_library.sh \
	tests/moe_guide.sh tests/readme_check.sh tests/readme_commands.sh tests/html_report.sh \
	tests/html_chromium.sh tests/validate_table.sh

# Every test program links the library and Criterion and knows the source folder; a test
# built from more than its own tests/test_X.c lists its sources below.
AM_CPPFLAGS += $(CRITERION_CFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
LDADD = libstepsim.la $(CRITERION_LIBS)
tests_test_schedule_SOURCES = tests/test_schedule.c tests/helpers.h tests/helpers.c
tests_test_pipeline_SOURCES = tests/test_pipeline.c tests/helpers.h tests/helpers.c
tests_test_scenario_SOURCES = tests/test_scenario.c tests/helpers.h tests/helpers.c
tests_test_report_SOURCES = tests/test_report.c tests/helpers.h tests/helpers.c
tests_test_outputs_SOURCES = tests/test_outputs.c tests/helpers.h tests/helpers.c
tests_test_gantt_SOURCES = tests/test_gantt.c tests/helpers.h tests/helpers.c
tests_test_cm_work_SOURCES = tests/test_cm_work.c tests/helpers.h tests/helpers.c
tests_test_graphs_SOURCES = tests/test_graphs.c tests/helpers.h tests/helpers.c
tests_test_module_precision_SOURCES = tests/test_module_precision.c tests/helpers.h \
	tests/helpers.c
tests_test_offload_modules_SOURCES = tests/test_offload_modules.c tests/helpers.h \
	tests/helpers.c
tests_test_peft_SOURCES = tests/test_peft.c tests/helpers.h tests/helpers.c
tests_test_flops_SOURCES = tests/test_flops.c tests/helpers.h tests/helpers.c
tests_test_dsa_SOURCES = tests/test_dsa.c tests/helpers.h tests/helpers.c
tests_test_pplayout_SOURCES = tests/test_pplayout.c
tests_test_dsv4_SOURCES = tests/test_dsv4.c tests/helpers.h tests/helpers.c
tests_test_model_SOURCES = tests/test_model.c tests/helpers.h tests/helpers.c
tests_test_cm_comm_SOURCES = tests/test_cm_comm.c tests/helpers.h tests/helpers.c
tests_test_sweep_SOURCES = tests/test_sweep.c tests/helpers.h tests/helpers.c
tests_test_plan_SOURCES = tests/test_plan.c tests/helpers.h tests/helpers.c
tests_test_plan_bound_SOURCES = tests/test_plan_bound.c tests/helpers.h tests/helpers.c
tests_test_plan_space_SOURCES = tests/test_plan_space.c tests/helpers.h tests/helpers.c
tests_test_import_SOURCES = tests/test_import.c tests/helpers.h tests/helpers.c
tests_test_trace_SOURCES = tests/test_trace.c tests/trace_check.h tests/trace_check.c \
	tests/helpers.h tests/helpers.c
tests_trace_check_SOURCES = tests/trace_check_main.c tests/trace_check.h tests/trace_check.c
tests_trace_check_LDADD = -lm
tests_test_html_SOURCES = tests/test_html.c tests/helpers.h tests/helpers.c
tests_test_svg_gantt_SOURCES = tests/test_svg_gantt.c tests/helpers.h tests/helpers.c
tests_test_report_html_SOURCES = tests/test_report_html.c tests/helpers.h tests/helpers.c
