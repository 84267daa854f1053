/* flops: FLOP counts (stub). */
#include "flops.h"
