// clean.c — see clean.h. The journal (read, validated, appended), the moves (rename or copy), the
// recovery that settles what a killed process left, and the four operations on top.
#include "clean.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"
#include "path.h"

#define TMP_PREFIX ".frost-clean-"
#define RENAME_NOREPLACE_FLAG 1u   // RENAME_NOREPLACE of <linux/fs.h>
enum { MAX_SUFFIX = 100000 };      // "x (2).jpg" .. "x (100000).jpg"
enum { COPY_CHUNK = 1 << 16 };

typedef enum { OP_MOVE, OP_UNDO } op_kind;
typedef enum { ST_PENDING, ST_DONE, ST_ABORTED } op_state;

// One intent line (a move or an undo) with what became of it.
typedef struct {
    op_kind op;
    long long id, undoes;    // undoes: the move an undo moves back (0 for a move)
    clean_kind kind;         // moves: relabel or set aside
    char *from, *to, *tmp;   // relative to ROOT
    long long size, time;
    op_state state;
    int undone;   // moves: a completed undo names it
} jentry;

typedef struct {
    char *root;   // ROOT resolved (realpath)
    char *path;   // ROOT/.frost-clean.journal
    int fd;       // -1: there is no journal (yet)
    int writable;
    int has_train;   // ROOT/train is a folder: images are in ROOT/<split>/<class>/
    off_t end;       // where the last good line ends: appends start there
    int tail_bad;    // bytes after end (a torn or bad last line) are cut off before the next append
    jentry *v;
    size_t n, cap;
    long long last_id;
} journal;

typedef enum { J_READ, J_CREATE } open_mode;

// ---------------------------------------------------------------------------------------------
// small helpers

// Renames without ever replacing: renameat2(RENAME_NOREPLACE); where the file system lacks it, a
// hard link and an unlink (a crash in between leaves both names on one inode, which recovery
// settles); where it lacks hard links too, a check and a rename. -1 with errno (EEXIST: taken;
// EXDEV: another file system).
static int rename_noreplace(const char *from, const char *to) {
#ifdef SYS_renameat2
    if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE_FLAG) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
#endif
    if (link(from, to) == 0) return unlink(from);
    if (errno != EPERM && errno != EOPNOTSUPP) return -1;
    struct stat st;
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

// 1 when the two files hold the same bytes, 0 when not (or one cannot be read).
static int same_bytes(const char *a, const char *b) {
    int fa = open(a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), fb = open(b, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sa, sb;
    int same = fa >= 0 && fb >= 0 && fstat(fa, &sa) == 0 && fstat(fb, &sb) == 0 && S_ISREG(sa.st_mode) &&
               S_ISREG(sb.st_mode) && sa.st_size == sb.st_size;
    char *ba = NULL, *bb = NULL;
    if (same && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) goto out;   // one file, two names
    ba = same ? malloc(COPY_CHUNK) : NULL;
    bb = ba ? malloc(COPY_CHUNK) : NULL;
    if (!bb) same = 0;
    while (same) {
        ssize_t na = read(fa, ba, COPY_CHUNK), nb = na > 0 ? read(fb, bb, (size_t)na) : 0;
        if (na < 0 || nb != na) same = na == 0 && nb == 0;
        if (na <= 0 || !same) break;
        same = memcmp(ba, bb, (size_t)na) == 0;
    }
out:
    free(ba), free(bb);
    if (fa >= 0) close(fa);
    if (fb >= 0) close(fb);
    return same;
}

// A path from the journal: relative, no empty, "." or ".." part (a hostile journal must not reach
// outside ROOT).
static int rel_path_ok(const char *p) {
    if (!p || !*p || *p == '/') return 0;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
        s += n + (e ? 1 : 0);
        if (e && !*s) return 0;
    }
    return 1;
}

static void format_time(long long t, char *buf, size_t len) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) snprintf(buf, len, "?");
}

static int parse_time(const char *s, long long *out) {
    struct tm tm = {0};
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &z) != 7 ||
        z != 'Z')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (long long)timegm(&tm);
    return 0;
}

static const char *kind_word(clean_kind k) { return k == CLEAN_RELABEL ? "relabel" : "set-aside"; }

// ---------------------------------------------------------------------------------------------
// the journal: reading

static void jentry_free(jentry *e) {
    free(e->from);
    free(e->to);
    free(e->tmp);
}

static jentry *find_entry(journal *j, long long id) {
    for (size_t i = j->n; i-- > 0;)
        if (j->v[i].id == id) return &j->v[i];
    return NULL;
}

static int push_entry(journal *j, const jentry *e) {
    if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        jentry *grown = realloc(j->v, cap * sizeof *grown);
        if (!grown) return -1;
        j->v = grown;
        j->cap = cap;
    }
    j->v[j->n++] = *e;
    if (e->id > j->last_id) j->last_id = e->id;
    return 0;
}

static const char *get_str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

// Applies one line to the journal: 0, -1 when it is not a journal entry (why says why; nothing
// changed), -2 when memory ran out.
static int apply_line(journal *j, const char *text, size_t len, char *why, size_t whylen) {
    json_error_t jerr;
    json_t *o = json_loadb(text, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        errmsg_set(why, whylen, "not a JSON object");
        json_decref(o);
        return -1;
    }
    int rc = -1;
    const char *op = get_str(o, "op");
    json_t *idv = json_object_get(o, "id");
    long long id = json_is_integer(idv) ? (long long)json_integer_value(idv) : 0;
    if (!op || id < 1) {
        errmsg_set(why, whylen, "no \"op\" or no \"id\"");
        goto out;
    }
    if (strcmp(op, "move") == 0 || strcmp(op, "undo") == 0) {
        jentry e = {.op = strcmp(op, "move") == 0 ? OP_MOVE : OP_UNDO, .id = id, .state = ST_PENDING};
        const char *from = get_str(o, "from"), *to = get_str(o, "to"), *tmp = get_str(o, "tmp"),
                   *when = get_str(o, "time"), *kind = get_str(o, "kind");
        json_t *size = json_object_get(o, "size");
        if (id <= j->last_id) {
            errmsg_set(why, whylen, "id %lld does not follow %lld", id, j->last_id);
            goto out;
        }
        if (!rel_path_ok(from) || !rel_path_ok(to) || !rel_path_ok(tmp) || !when || parse_time(when, &e.time) != 0 ||
            !json_is_integer(size)) {
            errmsg_set(why, whylen, "a %s without a good from, to, tmp, size or time", op);
            goto out;
        }
        e.size = (long long)json_integer_value(size);
        // recovery removes tmp: it must be this entry's own temporary, beside "to"
        char want[64];
        snprintf(want, sizeof want, TMP_PREFIX "%lld.tmp", id);
        const char *to_base = path_base(to), *tmp_base = path_base(tmp);
        if (strcmp(tmp_base, want) != 0 || tmp_base - tmp != to_base - to ||
            strncmp(tmp, to, (size_t)(to_base - to)) != 0) {
            errmsg_set(why, whylen, "\"tmp\" is not %s beside \"to\"", want);
            goto out;
        }
        if (e.op == OP_MOVE) {
            if (!kind || (strcmp(kind, "relabel") != 0 && strcmp(kind, "set-aside") != 0)) {
                errmsg_set(why, whylen, "a move of no known kind");
                goto out;
            }
            e.kind = strcmp(kind, "relabel") == 0 ? CLEAN_RELABEL : CLEAN_SET_ASIDE;
        } else {
            json_t *u = json_object_get(o, "undoes");
            e.undoes = json_is_integer(u) ? (long long)json_integer_value(u) : 0;
            jentry *m = find_entry(j, e.undoes);
            if (!m || m->op != OP_MOVE || strcmp(m->from, to) != 0 || strcmp(m->to, from) != 0) {
                errmsg_set(why, whylen, "an undo of no move, or not back to where it came from");
                goto out;
            }
            e.kind = m->kind;
        }
        e.from = strdup(from);
        e.to = strdup(to);
        e.tmp = strdup(tmp);
        if (!e.from || !e.to || !e.tmp || push_entry(j, &e) != 0) {
            jentry_free(&e);
            errmsg_set(why, whylen, "out of memory");
            rc = -2;
            goto out;
        }
        rc = 0;
    } else if (strcmp(op, "done") == 0 || strcmp(op, "abort") == 0) {
        jentry *e = find_entry(j, id);
        if (!e || e->state != ST_PENDING) {
            errmsg_set(why, whylen, "%s of id %lld, which is not under way", op, id);
            goto out;
        }
        e->state = strcmp(op, "done") == 0 ? ST_DONE : ST_ABORTED;
        if (e->state == ST_DONE && e->op == OP_UNDO) find_entry(j, e->undoes)->undone = 1;
        rc = 0;
    } else {
        errmsg_set(why, whylen, "unknown op \"%s\"", op);
    }
out:
    json_decref(o);
    return rc;
}

// Reads the whole journal into j->v.
static int journal_read(journal *j, char *err, size_t errlen) {
    struct stat st;
    if (fstat(j->fd, &st) != 0) {
        errmsg_set(err, errlen, "%s: %s", j->path, strerror(errno));
        return -1;
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    if (!buf) {
        errmsg_set(err, errlen, "%s: out of memory", j->path);
        return -1;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(j->fd, buf + got, len - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    len = got;   // a journal that shrank meanwhile cannot happen under the lock; read what is there
    size_t pos = 0, line = 0;
    int rc = 0;
    while (pos < len) {
        line++;
        char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl) {   // a torn last line: its write never finished, so what it began never started
            j->tail_bad = 1;
            break;
        }
        size_t end = (size_t)(nl - buf) + 1;
        char why[256];
        int applied = apply_line(j, buf + pos, end - 1 - pos, why, sizeof why);
        if (applied == -2) {
            errmsg_set(err, errlen, "%s: out of memory", j->path);
            rc = -1;
            break;
        }
        if (applied != 0) {
            if (end == len) {   // the last line: ignored, cut off before the next append
                j->tail_bad = 1;
                break;
            }
            errmsg_set(err, errlen, "%s: line %zu is broken (%s); fix or remove that line", j->path, line, why);
            rc = -1;
            break;
        }
        pos = end;
        j->end = (off_t)end;
    }
    free(buf);
    return rc;
}

static void journal_close(journal *j) {
    if (j->fd >= 0) close(j->fd);   // releases the lock
    for (size_t i = 0; i < j->n; i++) jentry_free(&j->v[i]);
    free(j->v);
    free(j->root);
    free(j->path);
    memset(j, 0, sizeof *j);
    j->fd = -1;
}

static int cannot_write(int e) { return e == EACCES || e == EPERM || e == EROFS; }

// Resolves root, opens and locks its journal and reads it. J_CREATE makes it and must be able to write
// it; J_READ takes a missing one as empty and one it cannot write as read-only (j->writable 0: then
// appending fails with one line). Call journal_close in every case.
static int journal_open(journal *j, const char *root, open_mode mode, char *err, size_t errlen) {
    memset(j, 0, sizeof *j);
    j->fd = -1;
    if (!root || !*root) {
        errmsg_set(err, errlen, "no dataset folder given");
        return -1;
    }
    j->root = realpath(root, NULL);
    if (!j->root) {
        errmsg_set(err, errlen, "%s: %s", root, strerror(errno));
        return -1;
    }
    if (!path_is_dir(j->root)) {
        errmsg_set(err, errlen, "%s: not a folder", root);
        return -1;
    }
    j->path = path_join(j->root, CLEAN_JOURNAL);
    char *train = path_join(j->root, "train");
    if (!j->path || !train) {
        free(train);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    j->has_train = path_is_dir(train);
    free(train);
    // the journal is a file: anything else in its place (a link, a FIFO, a device) is refused unchanged
    if (atomic_file_check_kind(j->path, err, errlen) != 0) return -1;
    char why[1024];
    j->fd =
        atomic_file_open_in_place(j->path, O_RDWR | O_APPEND | (mode == J_CREATE ? O_CREAT : 0), 0644, why, sizeof why);
    j->writable = j->fd >= 0;
    if (j->fd < 0 && mode == J_READ && cannot_write(errno))
        j->fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (j->fd < 0) {
        if (errno == ENOENT && mode != J_CREATE) return 0;   // no journal yet: nothing was ever moved
        if (cannot_write(errno))
            errmsg_set(err, errlen, "%s cannot be written (%s): nothing was changed", root, strerror(errno));
        else
            errmsg_set(err, errlen, "%s: %s", j->path, strerror(errno));
        return -1;
    }
    while (flock(j->fd, j->writable ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) {
            errmsg_set(err, errlen, "%s: cannot lock: %s", j->path, strerror(errno));
            return -1;
        }
    }
    struct stat st;
    if (mode == J_CREATE && fstat(j->fd, &st) == 0 && st.st_size == 0)
        (void)atomic_file_sync_dir(j->root);   // a new journal stays
    return journal_read(j, err, errlen);
}

// ---------------------------------------------------------------------------------------------
// the journal: appending

// Appends one line and fsyncs it. A bad tail is cut off first, so the line starts on a fresh line.
static int journal_append(journal *j, json_t *o, char *err, size_t errlen) {
    if (!o) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    if (!j->writable) {
        json_decref(o);
        errmsg_set(err, errlen, "%s cannot be written: an interrupted move waits to be settled", j->root);
        return -1;
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    size_t len = text ? strlen(text) : 0;
    char *line = text ? realloc(text, len + 2) : NULL;
    if (!line) {
        free(text);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    line[len++] = '\n';
    line[len] = '\0';
    int rc = 0;
    if (j->tail_bad && ftruncate(j->fd, j->end) != 0) rc = -1;
    if (rc == 0) j->tail_bad = 0;
    if (rc == 0 && atomic_file_write_all(j->fd, line, len) != 0) {
        rc = -1;
        j->tail_bad = 1;   // part of the line may be there: cut it off next time
    }
    if (rc == 0 && fsync(j->fd) != 0) rc = -1;
    free(line);
    if (rc != 0) {
        errmsg_set(err, errlen, "%s: cannot write: %s", j->path, strerror(errno));
        return -1;
    }
    j->end += (off_t)len;
    return 0;
}

// Writes the intent line of a move (undoes == 0) or an undo and adds it to j as pending.
static jentry *journal_intent(journal *j, clean_kind kind, long long undoes, const char *from, const char *to,
                              long long size, char *err, size_t errlen) {
    jentry e = {.op = undoes ? OP_UNDO : OP_MOVE,
                .id = j->last_id + 1,
                .undoes = undoes,
                .kind = kind,
                .size = size,
                .time = (long long)time(NULL),
                .state = ST_PENDING};
    char *dir = path_folder(to), name[64];
    snprintf(name, sizeof name, TMP_PREFIX "%lld.tmp", e.id);
    e.from = strdup(from);
    e.to = strdup(to);
    e.tmp = dir ? (strcmp(dir, ".") == 0 ? strdup(name) : path_join(dir, name)) : NULL;
    free(dir);
    if (!e.from || !e.to || !e.tmp) {
        jentry_free(&e);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    // JSON holds UTF-8 only (json_string refuses other bytes): such a name cannot be journalled
    json_t *jfrom = json_string(from), *jto = json_string(to), *jtmp = json_string(e.tmp);
    if (!jfrom || !jto || !jtmp) {
        json_decref(jfrom), json_decref(jto), json_decref(jtmp);
        errmsg_set(err, errlen, "%s: the name is not UTF-8, which the journal cannot record: nothing was moved",
                   jfrom ? to : from);
        jentry_free(&e);
        return NULL;
    }
    char when[32];
    format_time(e.time, when, sizeof when);
    json_t *o = undoes ? json_pack("{s:s,s:I,s:I,s:o,s:o,s:o,s:I,s:s}", "op", "undo", "id", (json_int_t)e.id, "undoes",
                                   (json_int_t)undoes, "from", jfrom, "to", jto, "tmp", jtmp, "size", (json_int_t)size,
                                   "time", when)
                       : json_pack("{s:s,s:I,s:s,s:o,s:o,s:o,s:I,s:s}", "op", "move", "id", (json_int_t)e.id, "kind",
                                   kind_word(kind), "from", jfrom, "to", jto, "tmp", jtmp, "size", (json_int_t)size,
                                   "time", when);
    if (journal_append(j, o, err, errlen) != 0) {
        jentry_free(&e);
        return NULL;
    }
    if (push_entry(j, &e) != 0) {   // the line is written: the next call's recovery settles it
        jentry_free(&e);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    return &j->v[j->n - 1];
}

// Writes the done or abort line of the pending entry at index i.
static int journal_settle(journal *j, size_t i, op_state state, const char *why, int recovered, char *err,
                          size_t errlen) {
    json_t *o = json_pack("{s:s,s:I}", "op", state == ST_DONE ? "done" : "abort", "id", (json_int_t)j->v[i].id);
    if (o && why) json_object_set_new(o, "why", json_string(why));
    if (o && recovered) json_object_set_new(o, "recovered", json_true());
    if (journal_append(j, o, err, errlen) != 0) return -1;
    jentry *e = &j->v[i];
    e->state = state;
    if (state == ST_DONE && e->op == OP_UNDO) find_entry(j, e->undoes)->undone = 1;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// moving a file

typedef struct {
    char *src, *dst, *tmp;   // absolute
    char *src_dir, *dst_dir;
} move_paths;

static void move_paths_free(move_paths *p) {
    free(p->src), free(p->dst), free(p->tmp), free(p->src_dir), free(p->dst_dir);
    memset(p, 0, sizeof *p);
}

static int move_paths_make(const journal *j, const jentry *e, move_paths *p) {
    p->src = path_join(j->root, e->from);
    p->dst = path_join(j->root, e->to);
    p->tmp = path_join(j->root, e->tmp);
    p->src_dir = p->src ? path_folder(p->src) : NULL;
    p->dst_dir = p->dst ? path_folder(p->dst) : NULL;
    if (p->src && p->dst && p->tmp && p->src_dir && p->dst_dir) return 0;
    move_paths_free(p);
    return -1;
}

// Copies the regular file src into a new tmp (mode, owner and times kept) and fsyncs it. On failure
// tmp is gone again.
static int copy_to_tmp(const char *src, const char *tmp) {
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, saved = 0;
    char *buf = malloc(COPY_CHUNK);
    struct stat st;
    if (!buf || in < 0 || fstat(in, &st) != 0) goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto fail;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) goto fail;
    for (;;) {
        ssize_t r = read(in, buf, COPY_CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) goto fail;
        if (r == 0) break;
        if (atomic_file_write_all(out, buf, (size_t)r) != 0) goto fail;
    }
    // the owner is kept where this process may give it (root); elsewhere the copy is the mover's
    if (fchown(out, st.st_uid, st.st_gid) != 0) errno = 0;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (fchmod(out, st.st_mode & 07777) != 0 || futimens(out, times) != 0 || fsync(out) != 0) goto fail;
    int rc = close(out);
    out = -2;   // closed, still ours
    if (rc != 0) goto fail;
    close(in);
    free(buf);
    return 0;
fail:
    saved = errno;
    if (out >= 0) close(out);
    if (out != -1) unlink(tmp);
    if (in >= 0) close(in);
    free(buf);
    errno = saved;
    return -1;
}

// Moves e->from to e->to as clean.h says. On failure (with err): -1 when no file changed, -2 when
// the disk may be anywhere between (the caller settles the entry from what is on disk).
static int run_move(journal *j, const jentry *e, char *err, size_t errlen) {
    move_paths p;
    if (move_paths_make(j, e, &p) != 0) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1;
    if (path_mkdirs(p.dst_dir) != 0) {
        errmsg_set(err, errlen, "cannot make %s: %s", p.dst_dir, strerror(errno));
        goto out;
    }
    int moved = rename_noreplace(p.src, p.dst) == 0;
    if (!moved) {   // link + unlink may have stopped half way (both names on one file): ask the disk
        int saved = errno;
        struct stat ss, ds;
        if (lstat(p.src, &ss) == 0 && lstat(p.dst, &ds) == 0 && ss.st_ino == ds.st_ino && ss.st_dev == ds.st_dev)
            rc = -2;
        errno = saved;
    }
    if (moved) {
        (void)atomic_file_sync_dir(p.dst_dir);
        if (strcmp(p.src_dir, p.dst_dir) != 0) (void)atomic_file_sync_dir(p.src_dir);
        rc = 0;
        goto out;
    }
    if (errno != EXDEV) {
        errmsg_set(err, errlen, "cannot move %s to %s: %s", e->from, e->to,
                   errno == EEXIST ? "that name was taken meanwhile" : strerror(errno));
        goto out;
    }
    // another file system: a whole, synced copy is put in place before the source goes
    if (copy_to_tmp(p.src, p.tmp) != 0) {
        errmsg_set(err, errlen, "cannot copy %s to %s: %s", e->from, e->tmp, strerror(errno));
        goto out;
    }
    if (rename_noreplace(p.tmp, p.dst) != 0) {
        int saved = errno;
        if (unlink(p.tmp) != 0) rc = -2;
        errmsg_set(err, errlen, "cannot move %s to %s: %s", e->from, e->to,
                   saved == EEXIST ? "that name was taken meanwhile" : strerror(saved));
        goto out;
    }
    (void)atomic_file_sync_dir(p.dst_dir);
    if (unlink(p.src) != 0) {
        errmsg_set(err, errlen, "copied %s to %s but cannot remove it: %s", e->from, e->to, strerror(errno));
        rc = unlink(p.dst) == 0 ? -1 : -2;   // our own copy goes: the file stays where it was
        (void)atomic_file_sync_dir(p.dst_dir);
        goto out;
    }
    (void)atomic_file_sync_dir(p.src_dir);
    rc = 0;
out:
    move_paths_free(&p);
    return rc;
}

// Settles the pending entry at index i from what is on disk (see clean.h): 0, or -1 when it cannot be
// settled now (it stays pending).
static int settle_from_disk(journal *j, size_t i, int recovered, char *err, size_t errlen) {
    const jentry *e = &j->v[i];
    move_paths p;
    if (move_paths_make(j, e, &p) != 0) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1;
    struct stat ss, ds, ts;
    int s = lstat(p.src, &ss) == 0, d = lstat(p.dst, &ds) == 0, t = lstat(p.tmp, &ts) == 0;
    if (t && !s && !d && S_ISREG(ts.st_mode) && ts.st_size == e->size && rename_noreplace(p.tmp, p.dst) == 0) {
        // the source vanished (not by frost: it goes only after the copy is in place); a whole copy is
        // all that is left of it
        d = 1, t = 0;
        (void)atomic_file_sync_dir(p.dst_dir);
    }
    if (t) {
        if (unlink(p.tmp) != 0 && errno != ENOENT) {
            errmsg_set(err, errlen, "cannot remove the temporary %s: %s", e->tmp, strerror(errno));
            goto out;
        }
        (void)atomic_file_sync_dir(p.dst_dir);
    }
    const char *why = NULL;
    if (s && d) {
        if ((ss.st_dev == ds.st_dev && ss.st_ino == ds.st_ino) || same_bytes(p.src, p.dst)) {
            if (unlink(p.src) != 0) {   // the copy is in place: the source goes, as the move meant
                errmsg_set(err, errlen, "cannot finish moving %s: %s", e->from, strerror(errno));
                goto out;
            }
            (void)atomic_file_sync_dir(p.src_dir);
            s = 0;
        } else {
            why = "the target is another file";
        }
    } else if (!s && !d) {
        why = "the file is at neither place";
    }
    op_state state = d && !s ? ST_DONE : ST_ABORTED;
    if (state == ST_ABORTED && !why) why = "interrupted before the move";
    rc = journal_settle(j, i, state, state == ST_DONE ? NULL : why, recovered, err, errlen);
out:
    move_paths_free(&p);
    return rc;
}

// Settles every pending entry: how many, or -1.
static int recover_all(journal *j, char *err, size_t errlen) {
    int n = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (j->v[i].state != ST_PENDING) continue;
        if (!j->writable) {
            errmsg_set(err, errlen, "%s cannot be written, and an interrupted move (%s) waits to be settled", j->root,
                       j->v[i].from);
            return -1;
        }
        if (settle_from_disk(j, i, 1, err, errlen) != 0) return -1;
        n++;
    }
    return n;
}

// Writes the intent, moves, writes done (or settles a failed move from the disk). 0 or -1.
static int journalled_move(journal *j, clean_kind kind, long long undoes, const char *from, const char *to,
                           long long size, char *err, size_t errlen) {
    if (!journal_intent(j, kind, undoes, from, to, size, err, errlen)) return -1;
    size_t i = j->n - 1;
    int moved = run_move(j, &j->v[i], err, errlen);
    if (moved != 0) {
        char ignored[256];
        if (moved == -1)   // nothing changed: the move did not happen
            journal_settle(j, i, ST_ABORTED, err, 0, ignored, sizeof ignored);
        else   // else the next call's recovery settles it
            settle_from_disk(j, i, 0, ignored, sizeof ignored);
        return -1;
    }
    if (journal_settle(j, i, ST_DONE, NULL, 0, err, errlen) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", err ? err : "");
        errmsg_set(err, errlen, "moved %s to %s, but the journal did not record it yet (%s)", from, to, msg);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// where an image is

typedef struct {
    char *rel;          // relative to ROOT
    char *split;        // "train" ("" when ROOT holds class folders only)
    char *cls;          // its class folder
    const char *name;   // its file name (in rel)
    long long size;
} image_place;

static void image_place_free(image_place *p) {
    free(p->rel), free(p->split), free(p->cls);
    memset(p, 0, sizeof *p);
}

// A class name given by the user: one visible folder name.
static int plain_name(const char *s) { return s && *s && *s != '.' && !strchr(s, '/'); }

static int locate(const journal *j, const char *path, image_place *pl, char *err, size_t errlen) {
    memset(pl, 0, sizeof *pl);
    if (!path || !*path) {
        errmsg_set(err, errlen, "no image given");
        return -1;
    }
    const char *base = path_base(path);
    char *dir = path_folder(path), *rdir = dir ? realpath(dir, NULL) : NULL, *full = NULL;
    int rc = -1;
    struct stat st;
    if (!*base || !rdir) {
        errmsg_set(err, errlen, "%s: %s", path, !*base ? "not a file" : strerror(errno));
        goto out;
    }
    full = path_join(rdir, base);
    if (!full) goto oom;
    if (lstat(full, &st) != 0) {
        errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        errmsg_set(err, errlen, "%s: %s", path,
                   S_ISLNK(st.st_mode) ? "a symbolic link, not an image file" : "not a file");
        goto out;
    }
    size_t rl = strcmp(j->root, "/") == 0 ? 0 : strlen(j->root);
    if (strncmp(full, j->root, rl) != 0 || full[rl] != '/') {
        errmsg_set(err, errlen, "%s is not inside the dataset %s", path, j->root);
        goto out;
    }
    const char *rel = full + rl + 1;
    // its parts: [split/]class/.../name, none hidden
    size_t parts = 0;
    for (const char *s = rel; s; s = strchr(s, '/'), s = s ? s + 1 : NULL) {
        if (*s == '.') {
            errmsg_set(err, errlen, "%s is hidden or in a hidden folder, which frost does not read", path);
            goto out;
        }
        parts++;
    }
    const char *first_end = strchr(rel, '/');
    if (j->has_train) {
        size_t sl = first_end ? (size_t)(first_end - rel) : 0;
        int split_ok =
            parts >= 3 && ((sl == 5 && strncmp(rel, "train", 5) == 0) || (sl == 5 && strncmp(rel, "valid", 5) == 0) ||
                           (sl == 3 && strncmp(rel, "val", 3) == 0));
        if (!split_ok) {
            errmsg_set(err, errlen, "%s is not in a class folder of the dataset (%s/train/<class>/ or valid/<class>/)",
                       path, j->root);
            goto out;
        }
        const char *cls = first_end + 1, *cls_end = strchr(cls, '/');
        pl->split = strndup(rel, sl);
        pl->cls = strndup(cls, (size_t)(cls_end - cls));
    } else {
        if (parts < 2) {
            errmsg_set(err, errlen, "%s is not in a class folder of the dataset %s", path, j->root);
            goto out;
        }
        pl->split = strdup("");
        pl->cls = strndup(rel, (size_t)(first_end - rel));
    }
    pl->rel = strdup(rel);
    if (!pl->split || !pl->cls || !pl->rel) goto oom;
    pl->name = path_base(pl->rel);
    pl->size = (long long)st.st_size;
    rc = 0;
    goto out;
oom:
    errmsg_set(err, errlen, "out of memory");
out:
    if (rc != 0) image_place_free(pl);
    free(dir), free(rdir), free(full);
    return rc;
}

// dir_rel + "/" + name, or the first free "STEM (k).EXT" in that folder (relative to ROOT). NULL with err.
static char *free_name(const journal *j, const char *dir_rel, const char *name, char *err, size_t errlen) {
    const char *dot = strrchr(name, '.');
    size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    for (int k = 1; k <= MAX_SUFFIX; k++) {
        char cand[PATH_MAX];
        int w = k == 1 ? snprintf(cand, sizeof cand, "%s/%s", dir_rel, name)
                       : snprintf(cand, sizeof cand, "%s/%.*s (%d)%s", dir_rel, (int)stem, name, k, name + stem);
        if (w < 0 || (size_t)w >= sizeof cand) break;
        char *abs = path_join(j->root, cand);
        if (!abs) break;
        struct stat st;
        int taken = lstat(abs, &st) == 0 || errno != ENOENT;
        free(abs);
        if (!taken) return strdup(cand);
    }
    errmsg_set(err, errlen, "no free name for %s in %s", name, dir_rel);
    return NULL;
}

// The folder (or its nearest existing parent, for one still to be made) can take new names.
static int can_write_in(const char *dir) {
    char *d = strdup(dir);
    while (d && access(d, F_OK) != 0 && errno == ENOENT && strcmp(d, "/") != 0 && strcmp(d, ".") != 0) {
        char *up = path_folder(d);
        free(d);
        d = up;
    }
    int ok = d && access(d, W_OK | X_OK) == 0;
    free(d);
    return ok;
}

// Both folders of a move can be written; else one line naming the folder.
static int check_writable(const journal *j, const char *from, const char *to, char *err, size_t errlen) {
    const char *rels[2] = {from, to};
    for (int k = 0; k < 2; k++) {
        char *abs = path_join(j->root, rels[k]), *dir = abs ? path_folder(abs) : NULL;
        int ok = dir && can_write_in(dir);
        if (!ok)
            errmsg_set(err, errlen, "%s cannot be written (%s): nothing was changed", dir ? dir : rels[k],
                       strerror(errno));
        free(abs), free(dir);
        if (!ok) return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// the operations

static int move_image(const char *root, const char *path, clean_kind kind, const char *to_class, char **new_path,
                      char *err, size_t errlen) {
    if (new_path) *new_path = NULL;
    if (err && errlen) *err = '\0';
    journal j;
    image_place pl = {0};
    char *dir_rel = NULL, *to = NULL;
    int rc = -1;
    if (journal_open(&j, root, J_CREATE, err, errlen) != 0 || recover_all(&j, err, errlen) < 0) goto out;
    if (locate(&j, path, &pl, err, errlen) != 0) goto out;
    const char *sep = *pl.split ? "/" : "";
    char buf[PATH_MAX];
    if (strlen(pl.rel) + (to_class ? strlen(to_class) : 0) + sizeof CLEAN_SET_ASIDE_DIR + 2 > sizeof buf) {
        errmsg_set(err, errlen, "%s: the path is too long", path);
        goto out;
    }
    if (kind == CLEAN_RELABEL) {
        if (!plain_name(to_class)) {
            errmsg_set(err, errlen, "'%s' is not a class name", to_class ? to_class : "");
            goto out;
        }
        snprintf(buf, sizeof buf, "%s%s%s", pl.split, sep, to_class);
        char *abs = path_join(j.root, buf);
        int is_dir = abs && path_is_dir(abs);
        free(abs);
        if (!is_dir) {
            if (*pl.split)
                errmsg_set(err, errlen, "%s has no class '%s' in %s/ (make the folder %s/%s/%s first)", root, to_class,
                           pl.split, root, pl.split, to_class);
            else
                errmsg_set(err, errlen, "%s has no class '%s' (make the folder %s/%s first)", root, to_class, root,
                           to_class);
            goto out;
        }
        if (strcmp(to_class, pl.cls) == 0) {
            errmsg_set(err, errlen, "%s is already in class '%s'", path, to_class);
            goto out;
        }
    } else {
        snprintf(buf, sizeof buf, "%s/%s%s%s", CLEAN_SET_ASIDE_DIR, pl.split, sep, pl.cls);
    }
    dir_rel = strdup(buf);
    if (!dir_rel || !(to = free_name(&j, dir_rel, pl.name, err, errlen))) goto out;
    if (check_writable(&j, pl.rel, to, err, errlen) != 0) goto out;
    if (journalled_move(&j, kind, 0, pl.rel, to, pl.size, err, errlen) != 0) goto out;
    if (new_path && !(*new_path = path_join(root, to))) {
        errmsg_set(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    image_place_free(&pl);
    free(dir_rel), free(to);
    journal_close(&j);
    return rc;
}

int clean_relabel(const char *root, const char *path, const char *to_class, char **new_path, char *err, size_t errlen) {
    return move_image(root, path, CLEAN_RELABEL, to_class, new_path, err, errlen);
}

int clean_set_aside(const char *root, const char *path, char **new_path, char *err, size_t errlen) {
    return move_image(root, path, CLEAN_SET_ASIDE, NULL, new_path, err, errlen);
}

int clean_undo(const char *root, char *what, size_t whatlen, char *err, size_t errlen) {
    if (what && whatlen) *what = '\0';
    if (err && errlen) *err = '\0';
    journal j;
    int rc = -1;
    if (journal_open(&j, root, J_READ, err, errlen) != 0 || recover_all(&j, err, errlen) < 0) goto out;
    const jentry *m = NULL;
    for (size_t i = j.n; i-- > 0 && !m;)
        if (j.v[i].op == OP_MOVE && j.v[i].state == ST_DONE && !j.v[i].undone) m = &j.v[i];
    if (!m) {
        rc = 0;
        goto out;
    }
    // m stays valid only until the next entry is added: keep what is needed
    long long id = m->id;
    clean_kind kind = m->kind;
    char *from = strdup(m->to), *to = strdup(m->from);
    char *src = from ? path_join(j.root, from) : NULL, *dst = to ? path_join(j.root, to) : NULL;
    struct stat moved, old;
    const char *word = kind == CLEAN_RELABEL ? "relabel" : "set-aside";
    if (!src || !dst) {
        errmsg_set(err, errlen, "out of memory");
    } else if (lstat(src, &moved) != 0 || !S_ISREG(moved.st_mode)) {
        errmsg_set(err, errlen, "cannot undo the %s of %s: the moved file %s is gone", word, to, from);
    } else if (lstat(dst, &old) == 0 || errno != ENOENT) {
        errmsg_set(err, errlen, "cannot undo the %s of %s: that name is taken by another file now", word, to);
    } else if (check_writable(&j, from, to, err, errlen) == 0 &&
               journalled_move(&j, kind, id, from, to, (long long)moved.st_size, err, errlen) == 0) {
        if (what && whatlen)
            errmsg_set(what, whatlen, "%s %s -> %s", kind == CLEAN_RELABEL ? "relabel" : "set aside", to, from);
        rc = 1;
    }
    free(from), free(to), free(src), free(dst);
out:
    journal_close(&j);
    return rc;
}

int clean_list(const char *root, clean_entry **out, size_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    if (err && errlen) *err = '\0';
    journal j;
    int rc = -1;
    if (journal_open(&j, root, J_READ, err, errlen) != 0) goto done;
    if (recover_all(&j, err, errlen) < 0) goto done;   // settled first, so the list says where files are
    size_t count = 0;
    for (size_t i = 0; i < j.n; i++) count += j.v[i].op == OP_MOVE && j.v[i].state == ST_DONE;
    clean_entry *v = count ? calloc(count, sizeof *v) : NULL;
    if (count && !v) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < j.n; i++) {
        const jentry *e = &j.v[i];
        if (e->op != OP_MOVE || e->state != ST_DONE) continue;
        v[k] = (clean_entry){.id = e->id,
                             .kind = e->kind,
                             .from = strdup(e->from),
                             .to = strdup(e->to),
                             .time = e->time,
                             .undone = e->undone};
        if (!v[k++].from || !v[k - 1].to) {
            clean_entries_free(v, k);
            errmsg_set(err, errlen, "out of memory");
            goto done;
        }
    }
    *out = v;
    *n = count;
    rc = 0;
done:
    journal_close(&j);
    return rc;
}

void clean_entries_free(clean_entry *e, size_t n) {
    if (!e) return;
    for (size_t i = 0; i < n; i++) free(e[i].from), free(e[i].to);
    free(e);
}

int clean_recover(const char *root, char *err, size_t errlen) {
    if (err && errlen) *err = '\0';
    journal j;
    int rc = journal_open(&j, root, J_READ, err, errlen) != 0 ? -1 : recover_all(&j, err, errlen);
    journal_close(&j);
    return rc;
}
