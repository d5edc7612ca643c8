// help.c — `frost help`: the interface's usage, every command of the table (commands.c) with its
// synopsis and what it does, then what the data commands share. The man page (man.c) is made from
// the same tables.
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "text_wrap.h"
#include "transfer.h"

const char cli_help_notes[] =
    N_("\n"
       "Input pipeline: --size S (default 224) resizes to SxS as Resize([S,S]); --crop resizes\n"
       "the short side to S, then takes the centre SxS (Resize(S) + CenterCrop(S)); --resize exact\n"
       "(default) gives the same pixels as torchvision on PIL, --resize fast lets libjpeg-turbo\n"
       "shrink large JPEGs while decoding (pixels differ by a few levels); --norm 0.5 (mean and\n"
       "std 0.5, the tutorial's and the default) or imagenet (0.485,0.456,0.406 / 0.229,0.224,0.225).\n"
       "\n"
       "--weights FILE loads a state_dict strictly (after the head replacement): safetensors\n"
       "(torchvision's or timm's key names) or a .pth (torch.save zip or legacy format); every\n"
       "key, dtype and shape must match.\n"
       "\n");

// Each line of text, indented.
static void put_lines(FILE *out, const char *text, int indent) {
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(out, "%*s%.*s\n", indent, "", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

static void put_command(FILE *out, const cli_command *c) {
    if (c->group) {
        for (size_t k = 0; c->group[k]; k++) put_command(out, c->group[k]);
        if (c->help) put_lines(out, i18n_text(c->help), 8);   // what the group's commands share
        return;
    }
    if (c->one_line) {
        char head[64];
        snprintf(head, sizeof head, "%s%s", c->name, c->synopsis ? c->synopsis : "");
        fprintf(out, "  %-16s%s\n", head, i18n_text(c->help));
        return;
    }
    // the synopsis: its continuation lines under its first argument
    const char *syn = c->synopsis ? c->synopsis : "";
    size_t n = strcspn(syn, "\n");
    fprintf(out, "  %s%s%.*s\n", c->name, n ? " " : "", (int)n, syn);
    if (syn[n]) put_lines(out, syn + n + 1, 2 + (int)strlen(c->name) + 1);
    put_lines(out, i18n_text(c->help), 8);
}

// "usage: frost [DATASET] [--arch ARCH] ...": the interface's options, wrapped under the first.
static void put_usage(FILE *out) {
    const char *usage = _("usage: frost [DATASET]");
    fputs(usage, out);
    int col = text_columns(usage, strlen(usage)), usage_cols = col;
    for (const cli_option *o = cli_interface_options; o->type != OPT_END; o++) {
        char item[128];
        int n = snprintf(item, sizeof item, " [%s%s%s]", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (col + n > 90) col = fprintf(out, "\n%*s", usage_cols - (int)strlen("[DATASET]"), "");   // under it
        col += fprintf(out, "%s", item);
    }
    fputs(_("\n              the full-screen interface on DATASET (default sample_data); a folder named like a\n"
            "              command opens as a path: frost ./train\n"
            "       frost COMMAND [ARGS]\n"
            "       frost COMMAND --help (or -h, or frost help COMMAND): its options, their defaults, examples\n"),
          out);
}

void cli_help_write(FILE *out) {
    fprintf(out, "frost %s — %s\n\n", CLI_VERSION, _("transfer learning of convolutional networks, in the terminal"));
    put_usage(out);
    fprintf(out, "\n%s\n", _("commands:"));
    for (size_t i = 0; cli_commands[i]; i++) put_command(out, cli_commands[i]);
    fputs(_(cli_help_notes), out);
    char archs[512];
    transfer_arch_list(archs, sizeof archs);
    fprintf(out, _("architectures: %s\n"), archs);
}

typedef struct {
    int man;
    int completion;   // 0 none, else 1 + the index in SHELLS
} help_args;

static const char *const SHELLS[] = {"bash", "zsh", NULL};
static const int SHELL_VALUES[] = {1, 2};

static const cli_option options[] = {
    CLI_OPT("--man", OPT_FLAG, .offset = offsetof(help_args, man),
            .help = N_("the manual page instead (roff: man -l FILE shows it)")),
    CLI_OPT("--completion", OPT_CHOICE, .offset = offsetof(help_args, completion), .choices = SHELLS,
            .values = SHELL_VALUES, .arg = "bash|zsh", .error = N_("--completion is bash or zsh"),
            .help = N_("a completion script for the shell instead (make install puts both in place)"), .def = "none"),
    CLI_OPT_END,
};

static int run(int argc, char **argv) {
    help_args a = {0};
    int n = 0;
    const char *words[2];   // help COMMAND [WORD]: that command's help (--version and --help are commands too)
    if (cli_asks_help(argc, argv))
        words[0] = "help", n = 1;
    else if (argc == 2 && argv[1][0] == '-' && cli_find_command(argv[1]))
        words[0] = argv[1], n = 1;
    int rc = n ? 0 : cli_parse("help", options, argc, argv, &a, 2, words, &n);
    if (rc) return rc;
    if (n) {
        const cli_command *c = cli_find_command(words[0]);
        if (c && n == 2) c = cli_find_in_group(c, words[1]);
        if (!c || (n == 2 && c->group))
            return cli_fail(CLI_USAGE, "help: no command '%s%s%s' (see frost help)", words[0], n == 2 ? " " : "",
                            n == 2 ? words[1] : "");
        if (a.man || a.completion) return cli_fail(CLI_USAGE, "help: --man and --completion are for every command");
        cli_command_help(stdout, c);
        return CLI_OK;
    }
    if (a.completion)
        cli_completion_write(stdout, SHELLS[a.completion - 1]);
    else if (a.man)
        cli_man_write(stdout);
    else
        cli_help_write(stdout);
    return CLI_OK;
}

const cli_command cli_help = {
    .name = "help",
    .synopsis = ", --help",
    .help = N_("this text; help COMMAND (or COMMAND --help): one command's options and examples"),
    .examples = "frost help train\n"
                "frost help --man > frost.1 && man -l frost.1",
    .options = options,
    .one_line = 1,
    .run = run,
    .aliases = (const char *const[]){"--help", "-h", NULL},
};

static int run_version(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("frost " CLI_VERSION "\n");
    return CLI_OK;
}

const cli_command cli_version = {
    .name = "--version",
    .help = N_("the version"),
    .examples = "frost --version",
    .one_line = 1,
    .run = run_version,
};
