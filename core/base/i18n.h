/*
 * i18n.h — frost's text in the user's language, through GNU gettext (the catalogues are po/LANG.po,
 * compiled by the build into LOCALE/LANG/LC_MESSAGES/frost.mo). English is the source and the
 * default; a text without a translation, or a language without a catalogue, stays English.
 *
 * Mark a text for translation with _() where it is used, or N_() where it sits in a table that is
 * translated where it is shown. The catalogue's checks (the build's po rule) fail on an untranslated
 * or fuzzy entry, and on a translation whose printf arguments differ from the English text's.
 */
#ifndef FROST_I18N_H
#define FROST_I18N_H

#include <libintl.h>

#define _(text) gettext(text)
#define N_(text) text

// gettext for a text that may be NULL or "" (a table's empty field: gettext("") would be the
// catalogue's header): those stay as they are.
static inline const char *i18n_text(const char *text) { return text && *text ? gettext(text) : text; }

#define I18N_DOMAIN "frost"
#define I18N_DIR_ENV "FROST_LOCALEDIR"

// The user's language for messages and character classes (LC_MESSAGES and LC_CTYPE from LANG,
// LC_ALL, LC_MESSAGES; never LC_NUMERIC: numbers are written and read with a '.' in every
// language, JSON and the config file included), and where the catalogues are: $FROST_LOCALEDIR when
// set, else the first folder that exists of the program's own (locale/ beside it in a checkout's
// build/, ../share/locale when installed) and the system's. Call once, first thing in main.
void i18n_init(void);

// The folder i18n_init bound the catalogues to ("" when none was found: everything English).
const char *i18n_dir(void);

#endif
