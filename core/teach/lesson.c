// lesson.c — lessons read, checked and followed (see lesson.h). The format is frost's own, a few
// "field: value" lines: no library reads it, and a general one (INI, YAML) would not say FILE:LINE for
// a step's action or keep a code line's indentation.
#include "lesson.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "frost_torch.h"
#include "i18n.h"
#include "path.h"
#include "regular_file.h"
#include "text_buf.h"
#include "text_escape.h"

// The biggest lesson file read: far beyond any lesson (the tutorial's is a few kilobytes).
#define LESSON_MAX_BYTES (1 << 20)

// ---------------------------------------------------------------------------------------------
// the actions: their names in a `do:` line, and what each takes

typedef struct {
    const char *name;
    lesson_action action;
    const char *const *args;   // the words it takes (NULL: none, or a number or an architecture)
} action_spec;

static const char *const SCREEN_WORDS[] = {"data", "model", "train", "predict", "runs", NULL};
static const char *const HEAD_WORDS[] = {"original", "replaced", NULL};
static const char *const TRAINABLE_WORDS[] = {"head", "all", "blocks", NULL};

static const action_spec ACTIONS[] = {
    {"read", LESSON_READ, NULL},
    {"screen", LESSON_SCREEN, SCREEN_WORDS},
    {"arch", LESSON_ARCH, NULL},
    {"head", LESSON_HEAD, HEAD_WORDS},
    {"trainable", LESSON_TRAINABLE, TRAINABLE_WORDS},
    {"code", LESSON_CODE, NULL},
    {"train", LESSON_TRAIN, NULL},
    {"layers", LESSON_LAYERS, NULL},
    {"evaluate", LESSON_EVALUATE, NULL},
    {"mistake", LESSON_MISTAKE, NULL},
    {"gradcam", LESSON_GRADCAM, NULL},
    {"lr-finder", LESSON_LR_FINDER, NULL},
    {"plan", LESSON_PLAN, NULL},
    {"block-lr", LESSON_BLOCK_LR, NULL},
};
#define N_ACTIONS (sizeof ACTIONS / sizeof ACTIONS[0])

static void join_words(const char *const *words, char *out, size_t len) {
    out[0] = '\0';
    for (size_t i = 0; words[i]; i++) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", i ? ", " : "", words[i]);
    }
}

static int word_index(const char *const *words, const char *w) {
    for (int i = 0; words[i]; i++)
        if (strcmp(words[i], w) == 0) return i;
    return -1;
}

// A `do:` line's value into step s: 0, or -1 with what is wrong in why.
static int parse_action(const char *value, lesson_step *s, char *why, size_t len) {
    char verb[32] = "", arg[64] = "", extra[8] = "";
    int n = sscanf(value, "%31s %63s %7s", verb, arg, extra);
    if (n < 1) {
        errmsg_set(why, len, "'do:' needs an action (read, when there is nothing to do)");
        return -1;
    }
    const action_spec *spec = NULL;
    for (size_t i = 0; i < N_ACTIONS; i++)
        if (strcmp(ACTIONS[i].name, verb) == 0) spec = &ACTIONS[i];
    if (!spec) {
        char names[256] = "";
        for (size_t i = 0; i < N_ACTIONS; i++) {
            size_t k = strlen(names);
            snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "", ACTIONS[i].name);
        }
        errmsg_set(why, len, "'do: %.60s': no such action (one of %s)", verb, names);
        return -1;
    }
    s->action = spec->action;
    s->arg = 0;
    int wants_arg = spec->args || spec->action == LESSON_ARCH || spec->action == LESSON_TRAIN;
    if (n == 3 || (n == 2 && !wants_arg)) {
        if (wants_arg)
            errmsg_set(why, len, "'do: %s' takes one word", verb);
        else
            errmsg_set(why, len, "'do: %s' takes nothing after it", verb);
        return -1;
    }
    if (!wants_arg) return 0;
    char words[160];
    if (n < 2) {
        if (spec->args) {   // (each a whole sentence, so that each translates as one)
            join_words(spec->args, words, sizeof words);
            errmsg_set(why, len, "'do: %s' needs a word (one of %s)", verb, words);
        } else if (spec->action == LESSON_ARCH) {
            errmsg_set(why, len, "'do: %s' needs an architecture", verb);
        } else {
            errmsg_set(why, len, "'do: %s' needs the epoch to wait for (do: train 1)", verb);
        }
        return -1;
    }
    if (spec->args) {
        if ((s->arg = word_index(spec->args, arg)) < 0) {
            join_words(spec->args, words, sizeof words);
            errmsg_set(why, len, "'do: %s %.60s': not one of %s", verb, arg, words);
            return -1;
        }
        return 0;
    }
    if (spec->action == LESSON_TRAIN) {
        char *end;
        long e = strtol(arg, &end, 10);
        if (*end || e < 1 || e > 1000) {
            errmsg_set(why, len, "'do: train %.60s': the epoch is a whole number from 1 to 1000", arg);
            return -1;
        }
        s->arg = (int)e;
        return 0;
    }
    for (size_t i = 0; i < ft_arch_count(); i++)
        if (strcmp(ft_arch_name(i), arg) == 0) {
            snprintf(s->arch, sizeof s->arch, "%s", arg);
            return 0;
        }
    char archs[512] = "";
    for (size_t i = 0; i < ft_arch_count(); i++) {
        size_t k = strlen(archs);
        snprintf(archs + k, sizeof archs - k, "%s%s", i ? ", " : "", ft_arch_name(i));
    }
    errmsg_set(why, len, "'do: arch %.60s': no such architecture (one of %s)", arg, archs);
    return -1;
}

// ---------------------------------------------------------------------------------------------
// reading

// A field's text in two languages while its step is read: the English lines and the lesson
// language's; the language's win when there are any.
typedef struct {
    text_buf en, own;
} two_texts;

static void two_free(two_texts *t) {
    free(text_buf_take(&t->en));
    free(text_buf_take(&t->own));
}

// The language's text when it has one, else the English (malloc'd; NULL when out of memory).
static char *two_take(two_texts *t) {
    text_buf *use = t->own.len ? &t->own : &t->en;
    char *s = text_buf_take(use);
    two_free(t);
    return s;
}

// Appends a line of prose: lines join with a space; an empty one starts a new paragraph.
static void put_prose(text_buf *b, const char *value) {
    if (!*value) {
        if (b->len && !(b->len >= 2 && strcmp(b->buf + b->len - 2, "\n\n") == 0)) text_buf_put(b, "\n\n");
        return;
    }
    int joins = b->len && b->buf[b->len - 1] != '\n';
    text_buf_put(b, "%s%s", joins ? " " : "", value);
}

typedef struct {
    const char *file;
    const char *lang;
    lesson *l;
    int in_step;
    lesson_step cur;
    int cur_has_do;
    two_texts title, text, code, lesson_title;
    size_t cap;
} reader;

static int lesson_fail(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int lesson_fail(char *err, size_t errlen, const char *file, int line, const char *fmt, ...) {
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, i18n_text(fmt), ap);
    va_end(ap);
    char shown[300];
    text_escape(shown, sizeof shown, file);
    if (line > 0)
        errmsg_set(err, errlen, "%s:%d: %s", shown, line, what);
    else
        errmsg_set(err, errlen, "%s: %s", shown, what);
    return -1;
}

// The step being read is complete: checked and added.
static int end_step(reader *r, int line, char *err, size_t errlen) {
    if (!r->in_step) return 0;
    r->in_step = 0;
    lesson_step s = r->cur;
    int has_do = r->cur_has_do, has_text = r->text.en.len > 0;
    s.title = two_take(&r->title);
    s.text = two_take(&r->text);
    s.code = two_take(&r->code);
    if (!s.title || !s.text || !s.code) {
        free(s.title), free(s.text), free(s.code);
        return lesson_fail(err, errlen, r->file, line, "out of memory");
    }
    // a trailing paragraph break says nothing
    for (size_t n = strlen(s.text); n && s.text[n - 1] == '\n';) s.text[--n] = '\0';
    const char *missing = !has_do ? _("no 'do:' line (what the learner does; 'do: read' when there is nothing to do)")
                          : !has_text ? _("no 'text:' (in English: the other languages fall back to it)")
                                      : NULL;
    if (missing) {
        int at = s.line;
        char t[80];
        text_escape(t, sizeof t, s.title);
        free(s.title), free(s.text), free(s.code);
        return lesson_fail(err, errlen, r->file, at, "step '%s' has %s", t, missing);
    }
    if (r->l->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        lesson_step *grown = realloc(r->l->steps, cap * sizeof *grown);
        if (!grown) {
            free(s.title), free(s.text), free(s.code);
            return lesson_fail(err, errlen, r->file, line, "out of memory");
        }
        r->l->steps = grown;
        r->cap = cap;
    }
    r->l->steps[r->l->n++] = s;
    return 0;
}

// One line (NUL-terminated, no newline) of the file.
static int read_line(reader *r, char *line, int at, char *err, size_t errlen) {
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r') line[--n] = '\0';
    for (size_t i = 0; i < n;) {
        size_t k = text_plain_char((const unsigned char *)line + i);
        if (!k)
            return lesson_fail(err, errlen, r->file, at, "column %zu: %s", i + 1,
                               line[i] == '\t' ? "a tab (indent with spaces)"
                                               : "a control character or a byte that is not UTF-8");
        i += k;
    }
    const char *p = line;
    while (*p == ' ') p++;
    if (!*p || *p == '#') return 0;
    // the field's name, its [LANG] tag, the colon
    char name[32], tag[32] = "";
    size_t k = 0;
    while ((islower((unsigned char)p[k]) || p[k] == '-') && k < sizeof name - 1) k++;
    memcpy(name, p, k);
    name[k] = '\0';
    const char *q = p + k;
    if (*q == '[') {
        size_t t = 0;
        q++;
        while ((isalpha((unsigned char)q[t]) || q[t] == '_') && t < sizeof tag - 1) t++;
        if (q[t] != ']' || t == 0)
            return lesson_fail(err, errlen, r->file, at,
                               "a language tag is letters and '_' in brackets (text[zh_CN]:)");
        memcpy(tag, q, t);
        tag[t] = '\0';
        q += t + 1;
    }
    if (!k || *q != ':')
        return lesson_fail(err, errlen, r->file, at,
                           "a line is 'field: value' (title, step, text, code, do) or a # comment");
    q++;
    if (*q == ' ') q++;   // one space after the colon; a code line keeps the rest (its indentation)
    const char *value = q;
    int own = tag[0] && r->lang && strcmp(tag, r->lang) == 0;
    int english = !tag[0];
    int is_title = strcmp(name, "title") == 0, is_step = strcmp(name, "step") == 0, is_text = strcmp(name, "text") == 0,
        is_code = strcmp(name, "code") == 0, is_do = strcmp(name, "do") == 0;
    if (!is_title && !is_step && !is_text && !is_code && !is_do)
        return lesson_fail(err, errlen, r->file, at, "'%s' is not a field of a lesson (title, step, text, code, do)",
                           name);
    if (is_do && tag[0])
        return lesson_fail(err, errlen, r->file, at, "'do:' is the same in every language: no [%s]", tag);
    if ((is_title || is_step) && !*value) return lesson_fail(err, errlen, r->file, at, "'%s:' needs a title", name);
    if (is_title) {
        if (r->in_step || r->l->n)
            return lesson_fail(err, errlen, r->file, at, "the lesson's 'title:' comes before its first 'step:'");
        text_buf *b = own ? &r->lesson_title.own : english ? &r->lesson_title.en : NULL;
        if (b && b->len)
            return lesson_fail(err, errlen, r->file, at, "a second 'title%s%s%s:'", tag[0] ? "[" : "", tag,
                               tag[0] ? "]" : "");
        if (b) text_buf_put(b, "%s", value);
        return 0;
    }
    if (is_step && english) {
        if (end_step(r, at, err, errlen) != 0) return -1;
        memset(&r->cur, 0, sizeof r->cur);
        r->cur.line = at;
        r->cur_has_do = 0;
        r->in_step = 1;
        text_buf_put(&r->title.en, "%s", value);
        return 0;
    }
    if (!r->in_step) return lesson_fail(err, errlen, r->file, at, "'%s' before the first 'step:'", name);
    if (is_step) {   // the step's title in another language: after its English `step:`
        if (own) {
            if (r->title.own.len) return lesson_fail(err, errlen, r->file, at, "a second 'step[%s]:' in one step", tag);
            text_buf_put(&r->title.own, "%s", value);
        }
        return 0;
    }
    if (is_do) {
        if (r->cur_has_do) return lesson_fail(err, errlen, r->file, at, "a second 'do:' in one step");
        char why[400];
        if (parse_action(value, &r->cur, why, sizeof why) != 0) return lesson_fail(err, errlen, r->file, at, "%s", why);
        r->cur_has_do = 1;
        return 0;
    }
    two_texts *t = is_text ? &r->text : &r->code;
    text_buf *b = own ? &t->own : english ? &t->en : NULL;
    if (!b) return 0;   // another language's line
    if (is_text)
        put_prose(b, value);
    else
        text_buf_put(b, "%s%s", b->len ? "\n" : "", value);
    return 0;
}

void lesson_free(lesson *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->steps[i].title);
        free(l->steps[i].text);
        free(l->steps[i].code);
    }
    free(l->steps);
    free(l->title);
    memset(l, 0, sizeof *l);
}

int lesson_parse(const char *text, const char *file, const char *lang, lesson *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *base = path_base(file);
    size_t bn = strlen(base);
    if (bn > 7 && strcmp(base + bn - 7, ".lesson") == 0) bn -= 7;
    snprintf(out->name, sizeof out->name, "%.*s", (int)(bn < sizeof out->name ? bn : sizeof out->name - 1), base);
    reader r = {.file = file, .lang = lang && *lang ? lang : NULL, .l = out};
    int rc = 0, at = 0;
    for (const char *p = text; *p && rc == 0;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = malloc(n + 1);
        if (!line) {
            rc = lesson_fail(err, errlen, file, 0, "out of memory");
            break;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        rc = read_line(&r, line, ++at, err, errlen);
        free(line);
        p = nl ? nl + 1 : p + n;
    }
    if (rc == 0) rc = end_step(&r, at, err, errlen);
    if (rc == 0 && !r.lesson_title.en.len)
        rc = lesson_fail(err, errlen, file, 1, "no 'title:' (the lesson's, before its steps)");
    if (rc == 0 && out->n == 0)
        rc = lesson_fail(err, errlen, file, at, "no steps ('step: TITLE', then its text, code and do)");
    if (rc == 0 && !(out->title = two_take(&r.lesson_title))) rc = lesson_fail(err, errlen, file, 0, "out of memory");
    two_free(&r.title), two_free(&r.text), two_free(&r.code), two_free(&r.lesson_title);
    if (rc != 0) lesson_free(out);
    return rc;
}

int lesson_load(const char *path, const char *lang, lesson *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    if (fd < 0) return lesson_fail(err, errlen, path, 0, "%s", why);
    if (st.st_size > LESSON_MAX_BYTES) {
        close(fd);
        return lesson_fail(err, errlen, path, 0, "%lld bytes: too big for a lesson (at most %d)", (long long)st.st_size,
                           LESSON_MAX_BYTES);
    }
    char *text = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    ssize_t k = 0;
    while (text && got < (size_t)st.st_size && (k = read(fd, text + got, (size_t)st.st_size - got)) > 0)
        got += (size_t)k;
    int read_errno = k < 0 ? errno : 0;
    close(fd);
    if (!text) return lesson_fail(err, errlen, path, 0, "out of memory");
    if (read_errno) {
        free(text);
        return lesson_fail(err, errlen, path, 0, "cannot read it: %s", strerror(read_errno));
    }
    text[got] = '\0';
    if (strlen(text) != got) {
        free(text);
        return lesson_fail(err, errlen, path, 0, "a NUL byte: not a text file");
    }
    int rc = lesson_parse(text, path, lang, out, err, errlen);
    free(text);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// where they are

const char *lesson_language(void) {
    static char lang[16];
    const char *loc = setlocale(LC_MESSAGES, NULL);
    if (!loc || strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0 || strncmp(loc, "C.", 2) == 0) return "";
    // gettext's own order: $LANGUAGE (its first language) comes before the locale's
    const char *language = getenv("LANGUAGE");
    const char *from = language && *language ? language : loc;
    size_t n = strcspn(from, ".@:");
    if (n >= sizeof lang) n = sizeof lang - 1;
    memcpy(lang, from, n);
    lang[n] = '\0';
    return strncmp(lang, "en", 2) == 0 ? "" : lang;
}

#define LESSON_DIR_ENV "FROST_LESSON_DIR"

int lesson_dir(char *out, size_t len) {
    static const char *const beside[] = {"../lessons", "../share/frost/lessons", NULL};
    static const char *const system[] = {"/usr/local/share/frost/lessons", "/usr/share/frost/lessons", NULL};
    const char *env = getenv(LESSON_DIR_ENV);
    if (env && *env) return (size_t)snprintf(out, len, "%s", env) < len ? 0 : -1;
    if (path_beside_program(out, len, beside, path_is_dir) == 0) return 0;
    for (size_t i = 0; system[i]; i++)
        if (path_is_dir(system[i])) return (size_t)snprintf(out, len, "%s", system[i]) < len ? 0 : -1;
    if (len) out[0] = '\0';
    return -1;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void lesson_names(char *out, size_t len) {
    if (!len) return;
    out[0] = '\0';
    char dir[1024];
    if (lesson_dir(dir, sizeof dir) != 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[64];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 64;) {
        size_t k = strlen(e->d_name);
        if (k > 7 && e->d_name[0] != '.' && strcmp(e->d_name + k - 7, ".lesson") == 0 &&
            (names[n] = strndup(e->d_name, k - 7)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(out);
        snprintf(out + k, len - k, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
}

int lesson_find(const char *name, char *out, size_t len, char *err, size_t errlen) {
    char dir[1024];
    if (lesson_dir(dir, sizeof dir) != 0)
        return lesson_fail(err, errlen, name, 0, "no lessons folder found (set %s, or give --lesson-file FILE)",
                           LESSON_DIR_ENV);
    int plain = *name && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(name);
    char file[128];
    if (plain && (size_t)snprintf(file, sizeof file, "%s.lesson", name) < sizeof file &&
        path_join_to(out, len, dir, file) == 0 && path_file_size(out) >= 0)
        return 0;
    char names[512];
    lesson_names(names, sizeof names);
    return lesson_fail(err, errlen, name, 0, "no such lesson (the lessons: %s; a file of your own: --lesson-file FILE)",
                       names[0] ? names : "none");
}

// ---------------------------------------------------------------------------------------------
// following

static const char *screen_name(int s) {
    switch (s) {
    case LESSON_SCREEN_DATA: return _("bring the Data screen to the front: press 1");
    case LESSON_SCREEN_MODEL: return _("bring the Model screen to the front: press 2");
    case LESSON_SCREEN_TRAIN: return _("bring the Train screen to the front: press 3");
    case LESSON_SCREEN_PREDICT: return _("bring the Predict screen to the front: press 4");
    default: return _("bring the Runs screen to the front: press 5");
    }
}

void lesson_instruction(const lesson_step *s, char *out, size_t len) {
    switch (s->action) {
    case LESSON_READ: snprintf(out, len, "%s", _("read, then press n")); break;
    case LESSON_SCREEN: snprintf(out, len, "%s", screen_name(s->arg)); break;
    case LESSON_ARCH:
        snprintf(out, len, _("choose %s on the Model screen: press a (or A) until it shows"), s->arch);
        break;
    case LESSON_HEAD:
        snprintf(out, len, "%s",
                 s->arg ? _("show the new head: press h on the Model screen")
                        : _("show the network as torchvision builds it: press h on the Model screen"));
        break;
    case LESSON_TRAINABLE:
        snprintf(out, len, "%s",
                 s->arg == LESSON_TRAIN_HEAD  ? _("freeze everything but the head: press f on the Model screen")
                 : s->arg == LESSON_TRAIN_ALL ? _("thaw everything: press u on the Model screen")
                                              : _("thaw the last block: press ] on the Model screen"));
        break;
    case LESSON_CODE: snprintf(out, len, "%s", _("open the code pane: press P on the Model or Train screen")); break;
    case LESSON_TRAIN:
        snprintf(out, len, _("start training: Enter on the Train screen; this step waits for epoch %d"), s->arg);
        break;
    case LESSON_LAYERS:
        snprintf(out, len, "%s", _("see what training did to each layer: press 2 for the Model screen's meters"));
        break;
    case LESSON_EVALUATE: snprintf(out, len, "%s", _("evaluate the valid split: press e on the Predict screen")); break;
    case LESSON_MISTAKE:
        snprintf(out, len, "%s",
                 _("open a mistake: the evaluation's results on the Predict screen (Tab goes to them)"));
        break;
    case LESSON_GRADCAM:
        snprintf(out, len, "%s", _("show where the model looked: press g on the Predict screen"));
        break;
    case LESSON_LR_FINDER:
        snprintf(out, len, "%s", _("run the lr finder: press l on the Train screen, and wait for its suggestion"));
        break;
    case LESSON_PLAN:
        snprintf(out, len, "%s", _("choose a plan of stages: select \"unfreezing\" on the Train form, then Right"));
        break;
    case LESSON_BLOCK_LR:
        snprintf(out, len, "%s",
                 _("give the blocks learning rates: select \"block lrs\" on the Train form, then Right"));
        break;
    }
}

int lesson_step_done(const lesson_step *s, const lesson_facts *f) {
    const char *t = f->trainable ? f->trainable : "";
    switch (s->action) {
    case LESSON_READ: return 1;
    case LESSON_SCREEN: return f->screen == s->arg;
    case LESSON_ARCH: return f->arch && strcmp(f->arch, s->arch) == 0;
    case LESSON_HEAD: return f->head_replaced == s->arg;
    case LESSON_TRAINABLE:
        if (!f->head_replaced) return 0;   // the freeze choice is the new head's
        return s->arg == LESSON_TRAIN_HEAD  ? !*t
               : s->arg == LESSON_TRAIN_ALL ? strcmp(t, "all") == 0
                                            : *t && strcmp(t, "all") != 0 && strcmp(t, "none") != 0;
    case LESSON_CODE: return f->code_open;
    case LESSON_TRAIN: return f->epochs_done >= s->arg;
    case LESSON_LAYERS: return f->layers_shown;
    case LESSON_EVALUATE: return f->evaluated;
    case LESSON_MISTAKE: return f->mistake_shown;
    case LESSON_GRADCAM: return f->cam_shown;
    case LESSON_LR_FINDER: return f->lr_found;
    case LESSON_PLAN: return f->plan;
    case LESSON_BLOCK_LR: return f->block_lr;
    }
    return 0;
}
