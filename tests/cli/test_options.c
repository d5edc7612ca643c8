// test_options.c — the command line's option parser (cli/options.c) as a user meets it: bad arguments
// answered with one line on stderr and a non-zero exit, never a crash or a C++ backtrace.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"
#include "testutil.h"
#include "weights.h"

Test(cli_options, bad_arguments) {
    tu_expect_one_line_error((const char *[]){"print", "vgg17", NULL}, 2, "unknown architecture 'vgg17'");
    tu_expect_one_line_error((const char *[]){"print", "vgg16", "--classes", "0", NULL}, 2, "--classes");
    tu_expect_one_line_error((const char *[]){"print", "vgg16", "--classes", "two", NULL}, 2, "--classes");
    tu_expect_one_line_error((const char *[]){"print", "vgg16", "--classes", NULL}, 2, "--classes");
    tu_expect_one_line_error((const char *[]){"print", NULL}, 2, "which architecture");
    tu_expect_one_line_error((const char *[]){"print", "vgg16", "--colour", NULL}, 2, "unknown option '--colour'");
    tu_expect_one_line_error((const char *[]){"print", "vgg16", "resnet50", NULL}, 2, "unexpected argument");
    tu_expect_one_line_error((const char *[]){"summary", "resnet18", "--size", "7", NULL}, 2, "--size");
    tu_expect_one_line_error((const char *[]){"frobnicate", NULL}, 2, "unknown command");
}
