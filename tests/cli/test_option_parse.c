// test_option_parse.c — the command line's option parser (cli/options.c) linked into the test binary:
// both value syntaxes, each range check at its ends and one past them, choices, a group's fields at
// its offset, positional arguments, and the one line a mistake gets. test_options.c meets the same
// parser through frost's commands; this one sees every case of the table without starting a process.
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "testutil.h"

typedef struct {
    int size;
    double lr;
} inner_args;

typedef struct {
    int verbose;
    int epochs;
    long steps;
    double momentum;
    const char *name;
    int mode;
    int even;
    int quiet;
    inner_args in;
} toy_args;

static const char *const MODES[] = {"eval", "train", "frozen", NULL};
static const int MODE_VALUES[] = {10, 20, 30};

// OPT_CALL with a value: even whole numbers only
static int take_even(void *field, const char *value) {
    char *end;
    long v = strtol(value, &end, 10);
    if (*end || v % 2) return -1;
    *(int *)field = (int)v;
    return 0;
}
// OPT_CALL without a value
static int set_quiet(void *field, const char *value) {
    *(int *)field = value ? -1 : 7;   // 7: called without a value, as a flag is
    return 0;
}

static const cli_option INNER[] = {
    CLI_OPT("--size", OPT_INT, .offset = offsetof(inner_args, size), .lo = 32, .hi = 1024),
    CLI_OPT("--lr", OPT_NUMBER, .offset = offsetof(inner_args, lr), .min = 0, .max = 1),
    CLI_OPT_END,
};

static const cli_option OPTS[] = {
    CLI_OPT("--verbose", OPT_FLAG, .offset = offsetof(toy_args, verbose)),
    CLI_OPT("--epochs", OPT_INT, .offset = offsetof(toy_args, epochs), .lo = 1, .hi = 100),
    CLI_OPT("--steps", OPT_LONG, .offset = offsetof(toy_args, steps), .lo = 0, .hi = 1L << 40),
    CLI_OPT("--momentum", OPT_NUMBER, .offset = offsetof(toy_args, momentum), .min = 0, .max = 1),
    CLI_OPT("--name", OPT_STRING, .offset = offsetof(toy_args, name), .nonempty = 1,
            .error = "--name needs a name, not '%s'"),
    CLI_OPT("--mode", OPT_CHOICE, .offset = offsetof(toy_args, mode), .choices = MODES, .values = MODE_VALUES),
    CLI_OPT("--even", OPT_CALL, .offset = offsetof(toy_args, even), .call = take_even),
    CLI_OPT("--quiet", OPT_CALL, .offset = offsetof(toy_args, quiet), .call = set_quiet, .flag = 1),
    CLI_OPT(NULL, OPT_GROUP, .offset = offsetof(toy_args, in), .group = INNER),
    CLI_OPT_END,
};

// (the tests that only count refusals keep the messages they print out of the suite's output)

// argv of up to 15 words, NULL-terminated; argv[0] is the command's name
static int parse(toy_args *a, const char **args, int *n, int max_args, const char *const *words) {
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"toy";
    for (; words[argc - 1]; argc++) argv[argc] = (char *)words[argc - 1];
    memset(a, 0, sizeof *a);
    return cli_parse("toy", OPTS, argc, argv, a, max_args, args, n);
}
#define PARSE(a, ...) parse((a), args, &n, 4, (const char *const[]){__VA_ARGS__, NULL})

Test(option_parse, both_value_syntaxes_and_every_type, .init = cr_redirect_stderr) {
    toy_args a;
    const char *args[4];
    int n;
    cr_assert_eq(PARSE(&a, "--verbose", "--epochs", "7", "--steps=1099511627776", "--momentum", "0.9", "--name=x",
                       "--mode", "frozen", "--even=12", "--quiet", "--size", "224", "--lr=0.5"),
                 0);
    cr_expect_eq(a.verbose, 1);
    cr_expect_eq(a.epochs, 7);
    cr_expect_eq(a.steps, 1L << 40);
    cr_expect_eq(a.momentum, 0.9);
    cr_expect_str_eq(a.name, "x");
    cr_expect_eq(a.mode, 30);
    cr_expect_eq(a.even, 12);
    cr_expect_eq(a.quiet, 7, "a flag-like OPT_CALL is called without a value");
    cr_expect_eq(a.in.size, 224, "a group's field is written at the group's offset");
    cr_expect_eq(a.in.lr, 0.5);
    cr_expect_eq(n, 0);
}

Test(option_parse, ranges_hold_at_their_ends_and_refuse_past_them, .init = cr_redirect_stderr) {
    toy_args a;
    const char *args[4];
    int n;
    cr_expect_eq(PARSE(&a, "--epochs", "1"), 0);
    cr_expect_eq(a.epochs, 1);
    cr_expect_eq(PARSE(&a, "--epochs", "100"), 0);
    cr_expect_eq(a.epochs, 100);
    cr_expect_eq(PARSE(&a, "--momentum=0"), 0);
    cr_expect_eq(PARSE(&a, "--momentum=1"), 0);
    cr_expect_eq(a.momentum, 1.0);
    const char *bad[][2] = {
        {"--epochs", "0"},
        {"--epochs", "101"},
        {"--epochs", "7x"},
        {"--epochs", ""},
        {"--epochs", "2.5"},
        {"--steps", "-1"},
        {"--steps", "99999999999999999999"},
        {"--momentum", "1.01"},
        {"--momentum", "-0"},
        {"--momentum", "nan"},
        {"--momentum", "0.5 "},
        {"--name", ""},
        {"--mode", "Train"},
        {"--mode", "trai"},
        {"--even", "3"},
        {"--size", "31"},
        {"--size", "1025"},
        {"--lr", "inf"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = PARSE(&a, bad[i][0], bad[i][1]);
        // "-0" is 0 as a double: it is in range; every other value here is refused
        if (strcmp(bad[i][1], "-0") == 0)
            cr_expect_eq(rc, 0, "--momentum -0");
        else
            cr_expect_eq(rc, CLI_USAGE, "%s '%s' was taken", bad[i][0], bad[i][1]);
    }
}

Test(option_parse, names_match_whole_and_values_can_be_missing, .init = cr_redirect_stderr) {
    toy_args a;
    const char *args[4];
    int n;
    cr_expect_eq(PARSE(&a, "--epoch", "3"), CLI_USAGE, "a prefix is not the option");
    cr_expect_eq(PARSE(&a, "--epochsx", "3"), CLI_USAGE);
    cr_expect_eq(PARSE(&a, "--verbose=1"), CLI_USAGE, "a flag takes no value");
    cr_expect_eq(PARSE(&a, "--quiet=1"), CLI_USAGE, "nor does a flag-like call");
    cr_expect_eq(PARSE(&a, "--epochs"), CLI_USAGE, "the value is missing at the end");
    cr_expect_eq(PARSE(&a, "--name", "--verbose"), 0, "the next word is the value, whatever it looks like");
    cr_expect_str_eq(a.name, "--verbose");
    cr_expect_eq(a.verbose, 0);
}

Test(option_parse, positional_arguments_up_to_the_most, .init = cr_redirect_stderr) {
    toy_args a;
    const char *args[4];
    int n;
    cr_assert_eq(PARSE(&a, "one", "--epochs=2", "-", "two"), 0);
    cr_expect_eq(n, 3);
    cr_expect_str_eq(args[0], "one");
    cr_expect_str_eq(args[1], "-", "a lone '-' is an argument (stdin), not an option");
    cr_expect_str_eq(args[2], "two");
    cr_expect_eq(a.epochs, 2);
    cr_expect_eq(PARSE(&a, "1", "2", "3", "4", "5"), CLI_USAGE, "a fifth argument where four fit");
    char *argv[] = {"toy", "a", "b", NULL};
    const char *many[2];
    cr_expect_eq(cli_parse("toy", NULL, 3, argv, &a, -1, many, &n), 0, "-1: any number");
    cr_expect_eq(n, 2);
}

// the one line each mistake gets, on stderr
static void parse_in_child(const void *arg) {
    toy_args a;
    const char *args[4];
    int n;
    const char *const *words = arg;
    exit(parse(&a, args, &n, 1, words));
}

static void expect_message(const char *const *words, const char *want) {
    char *err = NULL;
    int status = tu_child_stderr(parse_in_child, words, &err);
    cr_expect_eq(status, CLI_USAGE, "exit status for '%s'", words[0]);
    cr_expect_str_eq(err, want);
    free(err);
}

Test(option_parse, each_mistake_gets_one_line) {
    expect_message((const char *const[]){"--colour", NULL}, "frost: toy: unknown option '--colour' (see frost help)\n");
    expect_message((const char *const[]){"a", "b", NULL}, "frost: toy: unexpected argument 'b'\n");
    expect_message((const char *const[]){"--epochs", "0", NULL},
                   "frost: toy: --epochs needs a whole number from 1 to 100\n");
    expect_message((const char *const[]){"--momentum", "2", NULL},
                   "frost: toy: --momentum needs a number from 0 to 1\n");
    expect_message((const char *const[]){"--mode", "x", NULL}, "frost: toy: --mode is eval, train or frozen\n");
    expect_message((const char *const[]){"--name=", NULL}, "frost: toy: --name needs a name, not ''\n");
    expect_message((const char *const[]){"--even", NULL}, "frost: toy: --even needs a value\n");
}
