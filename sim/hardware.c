/* hardware: loading hardware descriptions (stub). */
#include "hardware.h"

enum sim_status hw_load(struct hardware *hw, const char *path, struct sim_error *err)
{
    (void)hw;
    return err_set(err, SIM_EFAIL, path, 0, "hardware loading not implemented yet");
}
