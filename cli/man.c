// man.c — `frost help --man`: the manual page (roff, man(7) macros), made from the same tables as
// `frost help`: the interface's options, then every command of the command table as `frost CMD --help`
// says it (command_doc.c: synopsis, what it does, each option with its default, examples), then what
// the data commands share, the architectures, the environment and the exit status. Dated by the
// source (FROST_SOURCE_DATE, which the Makefile writes), so the same source makes the same page.
//
//   frost help --man > frost.1 && man -l frost.1      (make man builds build/frost.1)
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "source_date.h"   // FROST_SOURCE_DATE: the source's date (the Makefile writes it)
#include "transfer.h"

// Text for roff: backslashes and hyphens escaped, a line starting with '.' or '\'' guarded; a "\n"
// in s becomes a space (help texts are wrapped for the terminal, roff fills lines itself).
static void put_text(FILE *out, const char *s, int at_line_start) {
    for (const char *p = s; *p; p++) {
        if (at_line_start && (*p == '.' || *p == '\'')) fputs("\\&", out);
        at_line_start = 0;
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-')
            fputs("\\-", out);
        else if (*p == '\n')
            fputc(' ', out);
        else
            fputc(*p, out);
    }
}

static void put_line(FILE *out, const char *s) {
    put_text(out, s, 1);
    fputc('\n', out);
}

// An option's value as the manual names it: its .arg, or its choices ("0.5|imagenet").
static void put_value(FILE *out, const cli_option *o) {
    if (o->arg) {
        fputs(" \\fI", out);
        put_text(out, o->arg, 0);
        fputs("\\fR", out);
    } else if (o->choices) {
        fputc(' ', out);
        for (size_t k = 0; o->choices[k]; k++) {
            if (k) fputc('|', out);
            fputs("\\fI", out);
            put_text(out, o->choices[k], 0);
            fputs("\\fR", out);
        }
    }
}

// A command's section, from the same pieces as `frost CMD --help` (command_doc.c).
typedef struct {
    FILE *out;
    int examples;   // the heading written
} man_doc;

static void man_synopsis(void *user, const cli_command *c) {
    FILE *out = ((man_doc *)user)->out;
    fputs(".SS \"", out);
    put_text(out, c->name, 0);
    if (c->synopsis && c->synopsis[0]) {
        fputs(c->synopsis[0] == ',' ? "" : " ", out);
        put_text(out, c->synopsis, 0);
    }
    fputs("\"\n", out);
}

static void man_text(void *user, const char *text) { put_line(((man_doc *)user)->out, text); }

static void man_option(void *user, const char *name, const char *value, const char *meaning) {
    FILE *out = ((man_doc *)user)->out;
    fputs(".TP\n\\fB", out);
    put_text(out, name, 0);
    fputs("\\fR", out);
    if (value) {   // "eval|train": each word in italics
        fputc(' ', out);
        for (const char *p = value; *p;) {
            size_t n = strcspn(p, "|");
            char word[256];
            snprintf(word, sizeof word, "%.*s", (int)n, p);
            fputs("\\fI", out);
            put_text(out, word, 0);
            fputs("\\fR", out);
            p += n;
            if (*p) fputc(*p++, out);
        }
    }
    fputc('\n', out);
    put_line(out, meaning);
}

static void man_example(void *user, const char *line) {
    man_doc *d = user;
    if (!d->examples++) fprintf(d->out, ".PP\n%s\n", _("Examples:"));
    fputs(".RS 4\n.nf\n", d->out);
    put_line(d->out, line);
    fputs(".fi\n.RE\n", d->out);
}

static const cli_doc_writer MAN = {man_synopsis, man_text, man_option, man_example};

static void put_command(FILE *out, const cli_command *c) {
    if (c->group) {
        for (size_t k = 0; c->group[k]; k++) put_command(out, c->group[k]);
        if (c->help) {
            fputs(".PP\n", out);
            put_line(out, c->help);
        }
        return;
    }
    man_doc d = {.out = out};
    cli_doc_command(c, &MAN, &d);
}

void cli_man_write(FILE *out) {
    // (in the user's language: the build writes the Chinese page with LANGUAGE=zh_CN)
    fprintf(out, ".TH FROST 1 \"" FROST_SOURCE_DATE "\" \"frost " CLI_VERSION "\" \"%s\"\n", _("User Commands"));
    fprintf(out, ".SH %s\nfrost \\- ", _("NAME"));
    put_line(out, _("transfer learning of convolutional networks, in the terminal"));
    fprintf(out, ".SH %s\n.B frost\n[\\fIDATASET\\fR]", _("SYNOPSIS"));
    for (const cli_option *o = cli_interface_options; o->type != OPT_END; o++) {
        fputs(" [\\fB", out);
        put_text(out, o->name, 0);
        fputs("\\fR", out);
        put_value(out, o);
        fputc(']', out);
    }
    fputs("\n.br\n.B frost\n\\fICOMMAND\\fR [\\fIARGS\\fR]\n", out);

    fprintf(out, ".SH %s\n", _("DESCRIPTION"));
    put_line(out, _("frost transfers VGG and ResNet networks trained on ImageNet to a folder of images in "
                    "torchvision's ImageFolder layout (DATASET/train/CLASS/*.jpg, DATASET/valid/CLASS/*.jpg): it "
                    "prints the network exactly as PyTorch does, freezes and thaws layers, replaces the classifier "
                    "head and trains it, on the GPU when there is one."));
    fputs(".PP\n", out);
    put_line(out, _("With no command, or a dataset folder first, frost opens its full-screen interface on DATASET "
                    "(default sample_data): the data, the model with its frozen and trainable layers, a training "
                    "run with live loss and accuracy, and predictions. Press ? in it for its keys."));
    man_doc d = {.out = out};
    cli_doc_options(cli_interface_options, &MAN, &d);

    fprintf(out, ".SH %s\n", _("COMMANDS"));
    for (size_t i = 0; cli_commands[i]; i++) put_command(out, cli_commands[i]);

    fprintf(out, ".SH %s\n", _("INPUT PIPELINE AND WEIGHTS"));
    // the notes of `frost help`, paragraph by paragraph (the first needs no .PP after the heading)
    int first = 1;
    for (const char *p = _(cli_help_notes); *p;) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char para[2048];
        snprintf(para, sizeof para, "%.*s", (int)n, p);
        if (para[strspn(para, "\n")]) {
            if (!first) fputs(".PP\n", out);
            first = 0;
            put_line(out, para + strspn(para, "\n"));
        }
        p += n;
        p += strspn(p, "\n");
    }

    fprintf(out, ".SH %s\n", _("ARCHITECTURES"));
    char archs[512];
    transfer_arch_list(archs, sizeof archs);
    put_line(out, archs);

    fprintf(out, ".SH %s\n", _("ENVIRONMENT"));
    static const char *const ENV[][2] = {
        {"FROST_THEME", N_("the interface's colours when --theme is not given (default dark)")},
        {"FROST_THEMES_DIR", N_("where themes are looked up by name (default: the themes folder)")},
        {"FROST_ASCII", N_("1: the interface draws with plain ASCII instead of Unicode")},
        {"NO_COLOR", N_("set: the interface draws with attributes only")},
        {"XDG_CACHE_HOME", N_("frost's weights go to $XDG_CACHE_HOME/frost (default ~/.cache/frost)")},
        {"TORCH_HOME", N_("torchvision's cache ($TORCH_HOME/hub/checkpoints), whose files are used as they are")},
        {"HF_HOME, HF_HUB_CACHE", N_("the Hugging Face cache, for timm's weights")},
        {"FROST_WEIGHTS_MIRROR", N_("http://host:port: downloads come from this mirror instead")},
        {"FROST_HUGEPAGES", N_("0: libtorch's CPU memory without transparent huge pages")},
        {"FROST_BLOCK_REUSE", N_("0: libtorch's large CPU blocks mapped afresh each time, none kept for reuse")},
    };
    for (size_t i = 0; i < sizeof ENV / sizeof ENV[0]; i++) {
        fputs(".TP\n\\fB", out);
        put_text(out, ENV[i][0], 0);
        fputs("\\fR\n", out);
        put_line(out, _(ENV[i][1]));
    }

    fprintf(out, ".SH %s\n.TP\n0\n", _("EXIT STATUS"));
    put_line(out, _("success"));
    fputs(".TP\n1\n", out);
    put_line(out, _("the work failed (an unreadable file, a model that does not fit, a full disk), with one line on "
                    "standard error saying why"));
    fputs(".TP\n2\n", out);
    put_line(out, _("the command line was wrong"));
    fprintf(out, ".SH %s\n", _("SEE ALSO"));
    put_line(out, _("The README.md of frost: the interface's keys, every option of train, the benchmarks."));
}
