/* model: loading model descriptions (stub: filled in by the model work). */
#include "model.h"

enum sim_status model_load(struct model *m, const char *path, struct sim_error *err)
{
    (void)m;
    return err_set(err, SIM_EFAIL, path, 0, "model loading not implemented yet");
}
