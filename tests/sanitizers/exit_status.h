// exit_status.h — the exit status each sanitizer ends a sanitized build's process with (exit_status.c
// sets them): none is 1 or 2, frost's own error exits, so a report never passes for one of them.
#ifndef FROST_EXIT_STATUS_H
#define FROST_EXIT_STATUS_H

#define SAN_EXIT_ASAN 81    // AddressSanitizer
#define SAN_EXIT_UBSAN 82   // UndefinedBehaviorSanitizer (halts at the first error)
#define SAN_EXIT_TSAN 83    // ThreadSanitizer
#define SAN_EXIT_LSAN 84    // LeakSanitizer (inside AddressSanitizer)

#endif
