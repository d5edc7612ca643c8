// options.c — the one option parser of the command line (see cli.h), table-driven like git's
// parse-options: a command describes its options as data and gets the same value syntax
// ("--name VALUE" or "--name=VALUE"), range checks and one-line messages as every other command.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "number.h"

// An option found by name, with where its value goes (offsets of enclosing groups added up).
typedef struct {
    const cli_option *o;
    size_t offset;
} found;

static int find(const cli_option *opts, size_t base, const char *arg, found *out) {
    for (const cli_option *o = opts; o->type != OPT_END; o++) {
        if (o->type == OPT_GROUP) {
            if (find(o->group, base + o->offset, arg, out)) return 1;
            continue;
        }
        size_t n = strlen(o->name);
        if (strncmp(arg, o->name, n) != 0) continue;
        int takes_value = o->type != OPT_FLAG && !(o->type == OPT_CALL && o->flag);
        if (arg[n] == '\0' || (arg[n] == '=' && takes_value)) {
            *out = (found){o, base + o->offset};
            return 1;
        }
    }
    return 0;
}

// "frost: CMD: " + the option's message (its "%s" replaced by the value), or a message made from its type.
static int bad_value(const char *cmd, const cli_option *o, const char *value) {
    char msg[1024];
    const char *error = i18n_text(o->error);   // the tables mark theirs with N_
    if (error) {
        const char *at = strstr(error, "%s");
        if (at)
            snprintf(msg, sizeof msg, "%.*s%s%s", (int)(at - error), error, value ? value : "", at + 2);
        else
            snprintf(msg, sizeof msg, "%s", error);
    } else if (o->type == OPT_INT || o->type == OPT_LONG) {
        snprintf(msg, sizeof msg, _("%s needs a whole number from %ld to %ld"), o->name, o->lo, o->hi);
    } else if (o->type == OPT_NUMBER) {
        snprintf(msg, sizeof msg, _("%s needs a number from %g to %g"), o->name, o->min, o->max);
    } else if (o->type == OPT_CHOICE) {
        // TRANSLATORS: an option's choices: "%s is" a, b or c (the option's name, then its choices)
        size_t used = (size_t)snprintf(msg, sizeof msg, _("%s is"), o->name);
        for (size_t k = 0; o->choices[k] && used < sizeof msg; k++)
            used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s",
                                     k == 0 ? " "
                                     // TRANSLATORS: between two of an option's choices
                                     : o->choices[k + 1] ? _(", ")
                                                         // TRANSLATORS: before the last of an option's choices
                                                         : _(" or "),
                                     o->choices[k]);
    } else {
        snprintf(msg, sizeof msg, _("%s needs a value"), o->name);
    }
    return cmd ? cli_fail(CLI_USAGE, "%s: %s", cmd, msg) : cli_fail(CLI_USAGE, "%s", msg);
}

// Stores value (NULL when missing) for o into field. 0, or -1 when it is not a value o takes.
static int store(const cli_option *o, void *field, const char *value) {
    if (o->type == OPT_FLAG) {
        *(int *)field = 1;
        return 0;
    }
    if (o->type == OPT_CALL && o->flag) return o->call(field, NULL);
    if (!value) return -1;
    long long l;
    double d;
    switch (o->type) {
    case OPT_INT:
        if (number_parse_int(value, o->lo, o->hi, &l) != 0) return -1;
        *(int *)field = (int)l;
        return 0;
    case OPT_LONG:
        if (number_parse_int(value, o->lo, o->hi, &l) != 0) return -1;
        *(long *)field = (long)l;
        return 0;
    case OPT_NUMBER:
        if (number_parse_double(value, o->min, o->max, &d) != 0) return -1;
        *(double *)field = d;
        return 0;
    case OPT_STRING:
        if (o->nonempty && !*value) return -1;
        *(const char **)field = value;
        return 0;
    case OPT_CHOICE:
        for (size_t k = 0; o->choices[k]; k++)
            if (strcmp(value, o->choices[k]) == 0) {
                *(int *)field = o->values[k];
                return 0;
            }
        return -1;
    case OPT_CALL: return o->call(field, value);
    default: return -1;
    }
}

int cli_parse(const char *cmd, const cli_option *opts, int argc, char **argv, void *args_struct, int max_args,
              const char **args, int *n_args) {
    *n_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        found f;
        if (arg[0] == '-' && arg[1] != '\0') {
            if (!opts || !find(opts, 0, arg, &f)) {
                if (cmd) return cli_fail(CLI_USAGE, "%s: unknown option '%s' (see frost help)", cmd, arg);
                return cli_fail(CLI_USAGE, "unknown option '%s' (see frost help)", arg);
            }
            const char *eq = strchr(arg, '='), *value = NULL;
            int takes_value = f.o->type != OPT_FLAG && !(f.o->type == OPT_CALL && f.o->flag);
            if (takes_value) value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (store(f.o, (char *)args_struct + f.offset, value) != 0) return bad_value(cmd, f.o, value);
            continue;
        }
        if (max_args >= 0 && *n_args >= max_args) {
            if (cmd) return cli_fail(CLI_USAGE, "%s: unexpected argument '%s'", cmd, arg);
            return cli_fail(CLI_USAGE, "unexpected argument '%s'", arg);
        }
        args[(*n_args)++] = arg;
    }
    return 0;
}
