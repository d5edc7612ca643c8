/*
 * clock.h — the one clock frost measures durations with: monotonic seconds, as a double (to about
 * a nanosecond), unaffected by changes to the wall clock.
 */
#ifndef FROST_CLOCK_H
#define FROST_CLOCK_H

double clock_seconds(void);

#endif
