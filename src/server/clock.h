/* The two clocks the server reads: monotonic milliseconds for intervals and
 * deadlines, wall-clock milliseconds for timestamps. The only place that
 * reads them; everything else takes the time as a parameter. */
#ifndef SRV_CLOCK_H
#define SRV_CLOCK_H

#include <stdint.h>

int64_t srv_clock_mono_ms(void);
int64_t srv_clock_wall_ms(void);

#endif
