/* sweep: `stepsim sweep` -- one scenario over the cartesian product of --vary lists.
 *
 * Each --vary KEY=LIST is an axis.  LIST is values separated by commas ("1,2,4", "1f1b,gpipe";
 * passed as text to scn_set) or an integer range: geometric "8:128:x2" (8, 16, ..., 128) or
 * arithmetic "1:16:+1"; a range stops at the last value <= its end.  A linked axis varies
 * several keys together: "KEY1,KEY2=A1:A2,B1:B2" (keys separated by commas before the '=',
 * then tuples separated by commas, one field per key separated by colons; no ranges) -- e.g.
 * "schedule,vp=1f1b:1,interleaved:4,zb-v:2".  The comma in the key part is what makes an axis
 * linked, so a single key's list and ranges read as before.  Configs are numbered in
 * row-major order: the first --vary varies slowest, the last fastest.  The output is one CSV
 * row per config in that order, whatever the number of threads. */
#ifndef STEPSIM_SWEEP_H
#define STEPSIM_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

#define SWEEP_MAX_AXES 16
#define SWEEP_MAX_LINKED 8       /* keys on one linked axis */
#define SWEEP_MAX_CONFIGS 100000 /* product cap: rows are held in memory until written */

/* keys[] value of a hardware knob (hw.NAME): not in the scenario key table. */
#define SWEEP_HW_KNOB (-1)

struct sweep_axis {
    int nkeys;                  /* 1, or the keys of a linked axis */
    int keys[SWEEP_MAX_LINKED]; /* enum scn_key, or SWEEP_HW_KNOB for hw.NAME, [nkeys] */
    char key_names[SWEEP_MAX_LINKED][48]; /* each key as --set spells it: "pp", "hw.hbm-reserve" */
    char name[256];             /* the keys as given: "pp", "schedule,vp" */
    int nvalues;                /* >= 1 after a successful parse */
    char **values;              /* [nvalues] texts as given ("8", "interleaved:4"), owned */
    char **fields;              /* [nvalues * nkeys]: key j's value in value i at i * nkeys + j */
    char *buf;                  /* owned storage of the texts */
    int geometric; /* given as a geometric range (the plot then uses a log x axis) */
};

/* Parse "KEY=LIST" or "KEY1,KEY2=TUPLES" (the argument of --vary).  On failure `ax` holds
 * nothing to release. */
enum sim_status sweep_axis_parse(struct sweep_axis *ax, const char *arg, struct sim_error *err);
/* Free what sweep_axis_parse allocated; accepts a zeroed or released axis. */
void sweep_axis_release(struct sweep_axis *ax);
/* Number of configs in the product of `naxes` axes; an SIM_EINPUT error when it is above
 * SWEEP_MAX_CONFIGS. */
enum sim_status sweep_count(const struct sweep_axis *axes, int naxes, size_t *count,
                            struct sim_error *err);
/* Value index on each axis of config number `config` (row-major, first axis slowest). */
void sweep_config_index(const struct sweep_axis *axes, int naxes, size_t config, int *idx);

/* The y range of a --plot panel showing values from lo to hi: from 0 (or a little below a
 * negative lo), unless that squeezes the data into the top half of the panel, which would draw
 * differences of a few % as flat lines; then 15% of the data's spread beyond each end (5% of
 * hi when all values are equal). */
void sweep_panel_range(double lo, double hi, double *from, double *to);

/* The sweep command: argv[0] is "stepsim", argv[1] "sweep".  Returns the exit status. */
int sweep_main(int argc, char **argv, FILE *out, FILE *errout);
extern const char sweep_usage[]; /* its synopsis, for `stepsim --help` too */

#endif
