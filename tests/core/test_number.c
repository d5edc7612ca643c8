// test_number.c — numbers read from text with their range checked (core/base/number.c): each end of
// the range and one past it, trailing text, empty text, overflow, and NaN. C's own strtoll/strtod
// are the oracle for what a number's text means; these tests check what frost adds to them.
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>

#include "number.h"

Test(number, whole_numbers_in_range_only) {
    long long v = -7;
    cr_expect_eq(number_parse_int("1", 1, 256, &v), 0);
    cr_expect_eq(v, 1);
    cr_expect_eq(number_parse_int("256", 1, 256, &v), 0);
    cr_expect_eq(v, 256);
    v = -7;
    cr_expect_eq(number_parse_int("0", 1, 256, &v), -1);
    cr_expect_eq(number_parse_int("257", 1, 256, &v), -1);
    cr_expect_eq(number_parse_int("-3", -3, 3, &v), 0);
    cr_expect_eq(v, -3);
    v = -7;
    cr_expect_eq(number_parse_int("12x", 0, 100, &v), -1, "trailing text");
    cr_expect_eq(number_parse_int("1.5", 0, 100, &v), -1, "not whole");
    cr_expect_eq(number_parse_int("", 0, 100, &v), -1);
    cr_expect_eq(number_parse_int(NULL, 0, 100, &v), -1);
    cr_expect_eq(number_parse_int("99999999999999999999", 0, LLONG_MAX, &v), -1, "too large for long long");
    cr_expect_eq(v, -7, "a refused number leaves *out as it was");
}

Test(number, decimals_in_range_only) {
    double d = -7;
    cr_expect_eq(number_parse_double("0.5", 0, 1, &d), 0);
    cr_expect_float_eq(d, 0.5, 0);
    cr_expect_eq(number_parse_double("1e-3", 1e-3, 1, &d), 0, "the low end is in");
    cr_expect_eq(number_parse_double("1", 0, 1, &d), 0, "the high end is in");
    d = -7;
    cr_expect_eq(number_parse_double("1.0001", 0, 1, &d), -1);
    cr_expect_eq(number_parse_double("-0.1", 0, 1, &d), -1);
    cr_expect_eq(number_parse_double("nan", -INFINITY, INFINITY, &d), -1, "NaN is in no range");
    cr_expect_eq(number_parse_double("0.5s", 0, 1, &d), -1, "trailing text");
    cr_expect_eq(number_parse_double("", 0, 1, &d), -1);
    cr_expect_eq(number_parse_double("1e999", 0, 1e300, &d), -1, "too large reads as infinity");
    cr_expect_eq(d, -7);
}
