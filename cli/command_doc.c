// command_doc.c — one command's documentation, from the command table: its synopsis, what it does,
// every option (groups unfolded, in the table's order) with its value, meaning and default, and its
// examples. cli_doc_command hands the pieces to a writer; this file's writer makes the text of
// `frost CMD --help`, man.c's makes the command's section of the manual, so the two say the same.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "text_wrap.h"

static int takes_value(const cli_option *o) { return o->type != OPT_FLAG && !(o->type == OPT_CALL && o->flag); }

// The names said so far: a group can hold an option the command defines again before it (train's
// --norm), and the parser takes the first, so that is the one said.
typedef struct {
    const char *names[256];
    size_t n;
} said;

static int said_before(said *s, const char *name) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0) return 1;
    if (s->n < sizeof s->names / sizeof s->names[0]) s->names[s->n++] = name;
    return 0;
}

static void doc_options(const cli_option *opts, const cli_doc_writer *w, void *user, said *seen) {
    for (const cli_option *o = opts; o && o->type != OPT_END; o++) {
        if (o->type == OPT_GROUP) {
            doc_options(o->group, w, user, seen);
            continue;
        }
        if (said_before(seen, o->name)) continue;
        char value[256] = "", meaning[1024];
        if (takes_value(o) && o->arg) {
            snprintf(value, sizeof value, "%s", o->arg);
        } else if (takes_value(o) && o->choices) {   // "eval|train"
            size_t used = 0;
            for (size_t k = 0; o->choices[k] && used < sizeof value; k++)
                used += (size_t)snprintf(value + used, sizeof value - used, "%s%s", k ? "|" : "", o->choices[k]);
        }
        if (o->def)
            snprintf(meaning, sizeof meaning, _("%s (default: %s)"), o->help ? i18n_text(o->help) : "",
                     i18n_text(o->def));
        else
            snprintf(meaning, sizeof meaning, "%s", o->help ? i18n_text(o->help) : "");
        w->option(user, o->name, takes_value(o) ? value : NULL, meaning);
    }
}

void cli_doc_command(const cli_command *c, const cli_doc_writer *w, void *user) {
    w->synopsis(user, c);
    if (c->help) w->text(user, i18n_text(c->help));
    cli_doc_options(c->options, w, user);
    for (const char *p = c->examples; p && *p;) {
        size_t n = strcspn(p, "\n");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        w->example(user, line);
        p += n + (p[n] == '\n');
    }
}

void cli_doc_options(const cli_option *opts, const cli_doc_writer *w, void *user) {
    said seen = {.n = 0};
    doc_options(opts, w, user, &seen);
}

int cli_asks_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// as text: `frost CMD --help`

enum { WIDTH = 80, OPTION_COL = 28 };   // the text's width (a terminal's); where an option's meaning starts

typedef struct {
    FILE *out;
    int options, examples;   // headings written
} text_doc;

// text from column `indent` (the first line from column `first`, already written up to there),
// wrapped at WIDTH
static void put_wrapped(FILE *out, const char *text, int first, int indent) {
    for (size_t at = 0, line = 0; text[at]; line++) {
        size_t next, n = text_wrap_line(text + at, WIDTH - (line ? indent : first), &next);
        fprintf(out, "%*s%.*s\n", line ? indent : 0, "", (int)n, text + at);
        at += next;
    }
    if (!text[0]) fputc('\n', out);
}

static void text_synopsis(void *user, const cli_command *c) {
    text_doc *d = user;
    // the synopsis: its continuation lines under its first argument
    const char *syn = c->synopsis ? c->synopsis : "";
    size_t n = strcspn(syn, "\n");
    char head[256];
    snprintf(head, sizeof head, _("usage: frost %s%s"), c->name, syn[0] == ',' || !n ? "" : " ");
    fputs(head, d->out);
    int indent = text_columns(head, strlen(head));   // (columns: "usage" may be a word of wide characters)
    fprintf(d->out, "%.*s\n", (int)n, syn);
    for (const char *p = syn + n; *p;) {
        p++;
        size_t k = strcspn(p, "\n");
        fprintf(d->out, "%*s%.*s\n", indent, "", (int)k, p);
        p += k;
    }
}

static void text_text(void *user, const char *text) {
    text_doc *d = user;
    // the lines are `frost help`'s, broken for its indent: one paragraph here, broken again
    char para[2048];
    snprintf(para, sizeof para, "%s", text);
    for (char *p = para; *p; p++)
        if (*p == '\n') *p = ' ';
    fputc('\n', d->out);
    put_wrapped(d->out, para, 0, 0);
}

static void text_option(void *user, const char *name, const char *value, const char *meaning) {
    text_doc *d = user;
    if (!d->options++) fprintf(d->out, "\n%s\n", _("options:"));
    int col = fprintf(d->out, "  %s%s%s", name, value ? " " : "", value ? value : "");
    if (col > OPTION_COL - 2) {   // a long name and value: the meaning on the next line
        fputc('\n', d->out);
        col = 0;
    }
    fprintf(d->out, "%*s", OPTION_COL - col, "");
    put_wrapped(d->out, meaning, OPTION_COL, OPTION_COL);
}

static void text_example(void *user, const char *line) {
    text_doc *d = user;
    if (!d->examples++) fprintf(d->out, "\n%s\n", _("examples:"));
    fprintf(d->out, "  %s\n", line);
}

static const cli_doc_writer TEXT = {text_synopsis, text_text, text_option, text_example};

void cli_command_help(FILE *out, const cli_command *c) {
    if (c->group) {   // each command of the group, then what they share
        for (size_t k = 0; c->group[k]; k++) {
            if (k) fputc('\n', out);
            cli_command_help(out, c->group[k]);
        }
        if (c->help) text_text(&(text_doc){.out = out}, i18n_text(c->help));
        return;
    }
    text_doc d = {.out = out};
    cli_doc_command(c, &TEXT, &d);
}
