/*
 * number.h — numbers read from text (options, config files, checkpoints' metadata, environment
 * variables, plans) with their range checked, the same way everywhere in frost: the whole text is
 * the number (nothing after it), and it lies within [lo, hi].
 */
#ifndef FROST_NUMBER_H
#define FROST_NUMBER_H

// A whole decimal number in [lo, hi] (strtoll's syntax: leading blanks and a sign allowed). 0 with
// *out, or -1 (NULL, empty, not all digits, too large for long long, or out of range).
int number_parse_int(const char *s, long long lo, long long hi, long long *out);

// A number in [lo, hi] (strtod's syntax). 0 with *out, or -1 (NULL, empty, trailing text, NaN or out
// of range). A value too large for a double reads as infinity and one too small as 0, as strtod reads
// them; then the range decides.
int number_parse_double(const char *s, double lo, double hi, double *out);

#endif
