/* embedded: data files compiled into the binary by build-aux/embed.sh (see Makefile.am). */
#ifndef STEPSIM_EMBEDDED_H
#define STEPSIM_EMBEDDED_H

extern const char scenario_xsd[]; /* scenarios/scenario.xsd */
extern const char model_xsd[];    /* models/model.xsd */
extern const char hardware_xsd[]; /* hardware/hardware.xsd */
extern const char gantt_gp[];     /* plots/gantt.gp */
extern const char sweep_gp[];     /* plots/sweep.gp */
extern const char memory_gp[];    /* plots/memory.gp */
extern const char report_css[];   /* plots/report.css: inlined into --report pages */
extern const char report_js[];    /* plots/report.js: likewise */

#endif
