/* The two clocks the server reads: monotonic milliseconds for intervals and
 * deadlines, wall-clock milliseconds for timestamps. The only place that
 * reads them; everything else takes the time as a parameter. */
#ifndef LL_SERVER_CLOCK_H
#define LL_SERVER_CLOCK_H

#include <stdint.h>

int64_t ll_clock_mono_ms(void);
int64_t ll_clock_wall_ms(void);

#endif
