/*
 * config.h — the user's own defaults: $XDG_CONFIG_HOME/frost/config (default ~/.config/frost/config),
 * a plain text file of "key = value" lines ('#' starts a comment line):
 *
 *   theme   = light            the interface's colours (a name in the themes folder, or a path)
 *   arch    = resnet50         the architecture (the interface, frost train)
 *   device  = cpu              auto, cpu, cuda or cuda:N (the Train screen, frost train, summary --cost)
 *   workers = 4                image loader threads (frost train, doctor, bench-data, the Train screen)
 *   weights = imagenet         the Train screen's weights: imagenet or none
 *   dataset = ~/data/dogs      the folder the interface opens when given none
 *   feature_cache_mb = 4096    the feature cache's cap on disk in MB, 0 off (feature_store.h;
 *                              $FROST_FEATURE_CACHE_MB wins over it)
 *   runs = off                 no run history (core/history/; $FROST_RUNS=0 turns it off too)
 *
 * The command line wins over the file, and the file over the built-in defaults (for the theme,
 * $FROST_THEME wins over the file too). A mistake in a line is said in one line, FILE:LINE: what,
 * and that setting keeps its built-in default; the file's other lines still count.
 */
#ifndef FROST_CONFIG_H
#define FROST_CONFIG_H

#include <stddef.h>

typedef struct frost_config {
    char path[4096];   // the file read ("": there is none)
    char theme[256];   // "" unset, in every text field
    char arch[32];
    char device[16];
    int workers;                  // 0 unset
    int weights;                  // -1 unset, 0 none, 1 ImageNet's
    char dataset[4096];           // "~/" expanded
    long long feature_cache_mb;   // -1 unset
    int runs;                     // the run history: -1 unset (on), 0 off, 1 on
} frost_config;

// The file's path: 0, or -1 with err when neither $XDG_CONFIG_HOME nor $HOME says where it is.
int config_path(char *out, size_t len, char *err, size_t errlen);

// Reads the user's file into c (every setting unset first; a missing file sets none). 0; or -1 with
// "FILE:LINE: ..." (or "FILE: ..." for a file that cannot be read) in err, c holding the good lines.
int config_load(frost_config *c, char *err, size_t errlen);

// The same for text, the contents of file (named in messages).
int config_parse(frost_config *c, const char *text, const char *file, char *err, size_t errlen);

#endif
