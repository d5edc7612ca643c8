// i18n.c — the user's language and where frost's catalogues are (i18n.h).
#include "i18n.h"

#include <glob.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

// relative to the folder holding the program, then absolute; each holds LANG/LC_MESSAGES/frost.mo
static const char *const BESIDE_PROGRAM[] = {"locale", "../share/locale", NULL};
static const char *const SYSTEM[] = {"/usr/local/share/locale", "/usr/share/locale", NULL};

static char g_dir[4096];

// 1 when dir holds a catalogue of frost's in some language (the system's folders always exist: they
// are taken only when they hold frost's).
static int has_catalogue(const char *dir) {
    char pattern[4200];
    glob_t g = {0};
    snprintf(pattern, sizeof pattern, "%s/*/LC_MESSAGES/" I18N_DOMAIN ".mo", dir);
    int found = glob(pattern, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    return found;
}

static void find_dir(void) {
    g_dir[0] = '\0';
    const char *env = getenv(I18N_DIR_ENV);
    if (env && *env) {
        snprintf(g_dir, sizeof g_dir, "%s", env);
        return;
    }
    if (path_beside_program(g_dir, sizeof g_dir, BESIDE_PROGRAM, has_catalogue) == 0) return;
    for (size_t i = 0; SYSTEM[i]; i++)
        if (has_catalogue(SYSTEM[i])) {
            snprintf(g_dir, sizeof g_dir, "%s", SYSTEM[i]);
            return;
        }
}

void i18n_init(void) {
    setlocale(LC_CTYPE, "");
    setlocale(LC_MESSAGES, "");
    find_dir();
    if (g_dir[0]) bindtextdomain(I18N_DOMAIN, g_dir);
    bind_textdomain_codeset(I18N_DOMAIN, "UTF-8");
    textdomain(I18N_DOMAIN);
}

const char *i18n_dir(void) { return g_dir; }
