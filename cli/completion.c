// completion.c — `frost help --completion bash|zsh`: a shell completion script made from the same
// tables as `frost help` and the man page (the command table, each command's options, the
// interface's options, the architecture list), so the three cannot disagree. It completes commands
// (and a group's words: weights list|fetch|path|check), each command's options, an option's value
// (its choices, an architecture, a theme, a file or a folder, as the option's value is named) and a
// command's first argument (ARCH, DATASET, a checkpoint). Themes are listed when completing, from
// the folder frost itself would use ($FROST_THEMES_DIR, the installed share/frost/themes, ...).
// `make install` writes both scripts where bash-completion and zsh look for them.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "theme_file.h"
#include "transfer.h"

// What a value (an option's, or a command's first argument) completes to.
typedef enum { V_NONE, V_WORDS, V_ARCH, V_THEME, V_FILE, V_DIR } value_kind;

// A name of a value as the synopses and the option tables write it: "ARCH", "DATASET", "FILE", ...
static value_kind kind_of_name(const char *name, const char *option) {
    if (!name) return V_NONE;
    if (option && strcmp(option, "--theme") == 0) return V_THEME;
    if (strncmp(name, "ARCH", 4) == 0) return V_ARCH;
    if (strncmp(name, "DATASET", 7) == 0 || strncmp(name, "DIR", 3) == 0) return V_DIR;
    if (strncmp(name, "FILE", 4) == 0 || strncmp(name, "CKPT", 4) == 0 || strncmp(name, "IMAGE", 5) == 0) return V_FILE;
    if (strchr(name, '|')) return V_WORDS;   // "0.5|imagenet"
    return V_NONE;
}

static int takes_value(const cli_option *o) { return o->type != OPT_FLAG && !(o->type == OPT_CALL && o->flag); }

// The shell's ways of offering words, files, folders, architectures and themes.
typedef struct {
    const char *words_open, *words_close;   // around a list of words ("a b c") to offer
    const char *files, *dirs, *archs, *themes;
} shell;

static const shell BASH = {
    .words_open = "_frost_words \"",
    .words_close = "\"",
    .files = "_frost_files",
    .dirs = "_frost_dirs",
    .archs = "_frost_words \"$archs\"",
    .themes = "_frost_words \"$(_frost_themes)\"",
};

static const shell ZSH = {
    .words_open = "compadd -- ",
    .words_close = "",
    .files = "_files",
    .dirs = "_files -/",
    .archs = "compadd -- $archs",
    .themes = "compadd -- ${(f)\"$(_frost_themes)\"}",
};

// The words of an option's choices ("eval train"), or of a value name like "0.5|imagenet".
static void put_choice_words(FILE *out, const cli_option *o) {
    char buf[256] = "";
    size_t len = 0;
    if (o->choices) {
        for (size_t k = 0; o->choices[k]; k++)
            len += (size_t)snprintf(buf + len, len < sizeof buf ? sizeof buf - len : 0, "%s%s", k ? " " : "",
                                    o->choices[k]);
    } else if (o->arg) {
        int optional = 0;   // "cuda[:N]": the word without its optional part
        for (const char *p = o->arg; *p && len + 1 < sizeof buf; p++) {
            if (*p == '[' || *p == ']')
                optional = *p == '[';
            else if (!optional)
                buf[len++] = *p == '|' ? ' ' : *p;
        }
        buf[len < sizeof buf ? len : sizeof buf - 1] = '\0';
    }
    fputs(buf, out);
}

static void put_value(FILE *out, const shell *sh, value_kind k, const cli_option *o) {
    switch (k) {
    case V_WORDS:
        fputs(sh->words_open, out);
        put_choice_words(out, o);
        fputs(sh->words_close, out);
        break;
    case V_ARCH: fputs(sh->archs, out); break;
    case V_THEME: fputs(sh->themes, out); break;
    case V_FILE: fputs(sh->files, out); break;
    case V_DIR: fputs(sh->dirs, out); break;
    default: fputs(":", out); break;   // a number: nothing to offer
    }
}

static value_kind option_kind(const cli_option *o) {
    if (o->choices) return V_WORDS;
    return kind_of_name(o->arg, o->name);
}

// `case $prev in --opt) VALUE; return;; ... esac` for every option of opts that takes a value.
static void put_value_cases(FILE *out, const shell *sh, const cli_option *opts) {
    for (const cli_option *o = opts; o && o->type != OPT_END; o++) {
        if (o->type == OPT_GROUP) {
            put_value_cases(out, sh, o->group);
            continue;
        }
        if (!takes_value(o)) continue;
        fprintf(out, "        %s) ", o->name);
        put_value(out, sh, option_kind(o), o);
        fputs("; return;;\n", out);
    }
}

static void put_option_names(FILE *out, const cli_option *opts, int *first) {
    for (const cli_option *o = opts; o && o->type != OPT_END; o++) {
        if (o->type == OPT_GROUP) {
            put_option_names(out, o->group, first);
            continue;
        }
        fprintf(out, "%s%s", *first ? "" : " ", o->name);
        *first = 0;
    }
}

// One command's arm: values of its options, then its options or its first argument.
static void put_arm(FILE *out, const shell *sh, const char *pattern, const cli_option *opts, value_kind positional) {
    fprintf(out, "    %s)\n        case $prev in\n", pattern);
    put_value_cases(out, sh, opts);
    fputs("        esac\n        if [[ $cur == -* ]]; then ", out);
    int first = 1;
    fputs(sh->words_open, out);
    put_option_names(out, opts, &first);
    fputs(sh->words_close, out);
    fputs("; else ", out);
    put_value(out, sh, positional, NULL);
    fputs("; fi\n        ;;\n", out);
}

static value_kind positional_of(const cli_command *c) {
    return c->synopsis && c->synopsis[0] != '[' && c->synopsis[0] != '-' ? kind_of_name(c->synopsis, NULL) : V_NONE;
}

static void put_names(FILE *out, const cli_command *const *list) {
    for (size_t i = 0; list[i]; i++) {
        const char *own = strrchr(list[i]->name, ' ') ? strrchr(list[i]->name, ' ') + 1 : list[i]->name;
        if (own[0] == '-') continue;   // --version: among the options
        fprintf(out, "%s%s", i ? " " : "", own);
    }
}

static void put_themes_function(FILE *out, const shell *sh) {
    // the folders frost reads themes from, in its order (theme_dir_find, core/settings/theme_file.h)
    fputs("_frost_themes() {\n"
          "    local d bin\n"
          "    bin=$(command -v frost 2>/dev/null)\n"
          "    for d in \"${" THEME_DIR_ENV ":-}\"",
          out);
    for (size_t k = 0; theme_dirs_beside_program[k]; k++)
        fprintf(out, " \"${bin%%/*}/%s\"", theme_dirs_beside_program[k]);
    fputs(" \\\n       ", out);
    for (size_t k = 0; theme_dirs_system[k]; k++) fprintf(out, " %s", theme_dirs_system[k]);
    fprintf(out,
            "; do\n"
            "        if [[ -n $d && -d $d ]]; then\n"
            "            for f in \"$d\"/*.theme%s; do [[ -e $f ]] && f=${f##*/} && printf '%%s\\n' \"${f%%.theme}\"; "
            "done\n"
            "            return\n"
            "        fi\n"
            "    done\n"
            "    printf '%%s\\n' dark mono\n"
            "}\n\n",
            sh == &ZSH ? "(N)" : "");   // zsh: no match is an empty list, not an error
}

static void put_script(FILE *out, const shell *sh) {
    char archs[512];
    transfer_arch_list(archs, sizeof archs);
    for (char *p = archs, *q = archs;; p++) {   // "vgg11, vgg13" -> "vgg11 vgg13"
        if (*p != ',') *q++ = *p;
        if (!*p) break;
    }
    if (sh == &ZSH) fputs("#compdef frost\n", out);
    fprintf(out,
            "# %s completion for frost: commands, each command's options, architectures, themes and paths.\n"
            "# Made by `frost help --completion %s` from frost's command table; made again, not edited.\n\n",
            sh == &BASH ? "bash" : "zsh", sh == &BASH ? "bash" : "zsh");
    put_themes_function(out, sh);
    if (sh == &BASH) {
        fputs("_frost_words() { COMPREPLY=($(compgen -W \"$1\" -- \"$cur\")); }\n"
              "_frost_files() { compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); }\n"
              "_frost_dirs() { compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\")); }\n\n"
              "_frost() {\n"
              "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]}\n"
              "    local n=$COMP_CWORD w2=${COMP_WORDS[2]}\n",
              out);
        fprintf(out, "    local archs=\"%s\"\n    COMPREPLY=()\n", archs);
    } else {
        fputs("_frost() {\n"
              "    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} cmd=${words[2]}\n"
              "    local n=$((CURRENT - 1)) w2=${words[3]}\n",
              out);
        fprintf(out, "    local -a archs=(%s)\n", archs);
    }
    // the first word: a command, a dataset folder, or an interface option
    fputs("    if (( n == 1 )); then\n        if [[ $cur == -* ]]; then ", out);
    int first = 1;
    fputs(sh->words_open, out);
    put_option_names(out, cli_interface_options, &first);
    fputs(" --help --version", out);
    fputs(sh->words_close, out);
    fputs("; else ", out);
    fputs(sh == &BASH ? "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -W \"" : "compadd -- ", out);
    put_names(out, cli_commands);
    fputs(sh == &BASH ? "\" -- \"$cur\") $(compgen -d -- \"$cur\"))" : "; _files -/", out);
    fputs("; fi\n        return\n    fi\n", out);
    // a group's second word
    for (size_t i = 0; cli_commands[i]; i++) {
        const cli_command *c = cli_commands[i];
        if (!c->group) continue;
        fprintf(out, "    if [[ $cmd == %s ]]; then\n        if (( n == 2 )); then ", c->name);
        fputs(sh->words_open, out);
        put_names(out, c->group);
        fputs(sh->words_close, out);
        fputs("; return; fi\n        cmd=\"$cmd $w2\"\n    fi\n", out);
    }
    fputs("    case $cmd in\n", out);
    for (size_t i = 0; cli_commands[i]; i++) {
        const cli_command *c = cli_commands[i];
        if (c->group) {
            for (size_t k = 0; c->group[k]; k++) {
                char pattern[96];
                snprintf(pattern, sizeof pattern, "\"%s\"", c->group[k]->name);
                put_arm(out, sh, pattern, c->group[k]->options, positional_of(c->group[k]));
            }
            continue;
        }
        if (c->name[0] == '-' || !c->options) continue;
        char pattern[96];
        snprintf(pattern, sizeof pattern, "\"%s\"", c->name);
        put_arm(out, sh, pattern, c->options, positional_of(c));
    }
    // anything else is the interface: frost DATASET [--arch ARCH] ...
    put_arm(out, sh, "*", cli_interface_options, V_DIR);
    fputs("    esac\n}\n\n", out);
    if (sh == &BASH)
        fputs("complete -F _frost frost\n", out);
    else
        fputs("_frost \"$@\"\n", out);
}

int cli_completion_write(FILE *out, const char *shell_name) {
    if (strcmp(shell_name, "bash") == 0)
        put_script(out, &BASH);
    else if (strcmp(shell_name, "zsh") == 0)
        put_script(out, &ZSH);
    else
        return -1;
    return 0;
}
