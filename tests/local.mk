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

criterion_tests = tests/test_units tests/test_eventq tests/test_engine tests/test_schedule \
	tests/test_pipeline tests/test_scenario tests/test_report tests/test_outputs \
	tests/test_model tests/test_flops tests/test_hardware tests/test_costmodel \
	tests/test_collective tests/test_sweep tests/test_plan
if HAVE_CRITERION
check_PROGRAMS = $(criterion_tests)
endif
TESTS = $(check_PROGRAMS) tests/run_cli_tests.sh

TEST_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
TEST_LDADD = libstepsim.la $(CRITERION_LIBS)

tests_test_units_SOURCES = tests/test_units.c
tests_test_units_CFLAGS = $(TEST_CFLAGS)
tests_test_units_LDADD = $(TEST_LDADD)
tests_test_eventq_SOURCES = tests/test_eventq.c
tests_test_eventq_CFLAGS = $(TEST_CFLAGS)
tests_test_eventq_LDADD = $(TEST_LDADD)
tests_test_engine_SOURCES = tests/test_engine.c
tests_test_engine_CFLAGS = $(TEST_CFLAGS)
tests_test_engine_LDADD = $(TEST_LDADD)
tests_test_schedule_SOURCES = tests/test_schedule.c tests/helpers.h tests/helpers.c
tests_test_schedule_CFLAGS = $(TEST_CFLAGS)
tests_test_schedule_LDADD = $(TEST_LDADD)
tests_test_pipeline_SOURCES = tests/test_pipeline.c tests/helpers.h tests/helpers.c
tests_test_pipeline_CFLAGS = $(TEST_CFLAGS)
tests_test_pipeline_LDADD = $(TEST_LDADD)
tests_test_scenario_SOURCES = tests/test_scenario.c tests/helpers.h tests/helpers.c
tests_test_scenario_CFLAGS = $(TEST_CFLAGS)
tests_test_scenario_LDADD = $(TEST_LDADD)
tests_test_report_SOURCES = tests/test_report.c tests/helpers.h tests/helpers.c
tests_test_report_CFLAGS = $(TEST_CFLAGS)
tests_test_report_LDADD = $(TEST_LDADD)
tests_test_outputs_SOURCES = tests/test_outputs.c tests/helpers.h tests/helpers.c
tests_test_outputs_CFLAGS = $(TEST_CFLAGS)
tests_test_outputs_LDADD = $(TEST_LDADD)
tests_test_model_SOURCES = tests/test_model.c
tests_test_model_CFLAGS = $(TEST_CFLAGS)
tests_test_model_LDADD = $(TEST_LDADD)
tests_test_flops_SOURCES = tests/test_flops.c
tests_test_flops_CFLAGS = $(TEST_CFLAGS)
tests_test_flops_LDADD = $(TEST_LDADD)
tests_test_hardware_SOURCES = tests/test_hardware.c
tests_test_hardware_CFLAGS = $(TEST_CFLAGS)
tests_test_hardware_LDADD = $(TEST_LDADD)
tests_test_costmodel_SOURCES = tests/test_costmodel.c
tests_test_costmodel_CFLAGS = $(TEST_CFLAGS)
tests_test_costmodel_LDADD = $(TEST_LDADD)
tests_test_collective_SOURCES = tests/test_collective.c
tests_test_collective_CFLAGS = $(TEST_CFLAGS)
tests_test_collective_LDADD = $(TEST_LDADD)
tests_test_sweep_SOURCES = tests/test_sweep.c
tests_test_sweep_CFLAGS = $(TEST_CFLAGS)
tests_test_sweep_LDADD = $(TEST_LDADD)
tests_test_plan_SOURCES = tests/test_plan.c
tests_test_plan_CFLAGS = $(TEST_CFLAGS)
tests_test_plan_LDADD = $(TEST_LDADD)
