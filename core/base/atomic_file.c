// atomic_file.c — see atomic_file.h.
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "path.h"
#include "regular_file.h"

// ---------------------------------------------------------------------------------------------
// what may be written over

int atomic_file_check_kind(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode)) return 0;   // missing (or unreadable: open says why)
    errmsg_set(err, errlen, "%s is %s, not a regular file (frost writes only regular files)", path,
               regular_file_kind(st.st_mode));
    return -1;
}

int atomic_file_check(const char *path, char *err, size_t errlen) {
    if (!path || !*path) {
        errmsg_set(err, errlen, "no file name");
        return -1;
    }
    char *dir = path_folder(path);
    if (!dir) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (stat(dir, &st) != 0)
        errmsg_set(err, errlen, "%s: its folder %s does not exist", path, dir);
    else if (!S_ISDIR(st.st_mode))
        errmsg_set(err, errlen, "%s: %s is not a folder", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        errmsg_set(err, errlen, "%s: its folder %s cannot be written: %s", path, dir, strerror(errno));
    else
        rc = atomic_file_check_kind(path, err, errlen);
    free(dir);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// a whole file, atomically

int atomic_file_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) {   // not for a regular file; do not spin
            errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int atomic_file_sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd), e = errno;
    close(fd);
    if (rc != 0 && (e == EINVAL || e == ENOTSUP)) rc = 0;   // a file system that cannot: nothing more to do
    errno = e;
    return rc;
}

int atomic_file_sync_folder(const char *path) {
    char *dir = path_folder(path);
    if (!dir) {
        errno = ENOMEM;
        return -1;
    }
    int rc = atomic_file_sync_dir(dir), e = errno;
    free(dir);
    errno = e;
    return rc;
}

static void release(atomic_file *f) {
    free(f->path);
    free(f->tmp);
    f->path = f->tmp = NULL;
    f->fd = -1;
    f->stream = NULL;
}

int atomic_file_open(atomic_file *f, const char *path, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (!path || !*path) {
        errmsg_set(err, errlen, "no file name");
        return -1;
    }
    if (atomic_file_check_kind(path, err, errlen) != 0) return -1;
    size_t plen = strlen(path);
    f->path = strdup(path);
    f->tmp = malloc(plen + sizeof ".tmp.XXXXXX");
    if (!f->path || !f->tmp) {
        release(f);
        errmsg_set(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(f->tmp, path, plen);
    memcpy(f->tmp + plen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        errmsg_set(err, errlen, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        release(f);
        return -1;
    }
    (void)fcntl(f->fd, F_SETFD, FD_CLOEXEC);   // kept out of child processes
    // mkstemp makes the file 0600: a replaced file keeps its mode, a new one gets the usual 0644
    struct stat st;
    mode_t mode = lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 0777 : 0644;
    if (fchmod(f->fd, mode) != 0) {
        errmsg_set(err, errlen, "%s: cannot set the mode of the temporary file: %s", path, strerror(errno));
        atomic_file_abort(f);
        return -1;
    }
    return 0;
}

FILE *atomic_file_open_stream(atomic_file *f, const char *path, char *err, size_t errlen) {
    if (atomic_file_open(f, path, err, errlen) != 0) return NULL;
    if (!(f->stream = fdopen(f->fd, "wb"))) {
        errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
        atomic_file_abort(f);
    }
    return f->stream;
}

int atomic_file_close(atomic_file *f, char *err, size_t errlen) {
    int e = 0;
    if (f->stream) {
        if (fflush(f->stream) != 0 || ferror(f->stream)) e = errno ? errno : EIO;
        if (!e && fsync(fileno(f->stream)) != 0) e = errno;
        if (fclose(f->stream) != 0 && !e) e = errno;
    } else if (f->fd >= 0) {
        if (fsync(f->fd) != 0) e = errno;
        if (close(f->fd) != 0 && !e) e = errno;
    }
    f->stream = NULL;
    f->fd = -1;
    if (e) errmsg_set(err, errlen, "%s: write failed: %s", f->path, strerror(e));
    return e ? -1 : 0;
}

// tmp in place at path: rename (replace) or link + unlink (no replace; on a file system without hard
// links, the existence check and a rename).
static int put_in_place(const char *tmp, const char *path, int replace, char *err, size_t errlen) {
    if (atomic_file_check_kind(path, err, errlen) != 0) return -1;   // again: it may have changed meanwhile
    if (replace) {
        if (rename(tmp, path) == 0) return 0;
        errmsg_set(err, errlen, "%s: cannot put the file in place: %s", path, strerror(errno));
        return -1;
    }
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    int e = errno;
    struct stat st;
    if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EMLINK || e == ENOSYS)
        e = lstat(path, &st) == 0 ? EEXIST : rename(tmp, path) == 0 ? 0 : errno;
    if (e == 0) return 0;
    if (e == EEXIST)
        errmsg_set(err, errlen, "%s already exists (it is replaced only when overwriting is asked for)", path);
    else
        errmsg_set(err, errlen, "%s: cannot put the file in place: %s", path, strerror(e));
    return -1;
}

int atomic_file_commit(atomic_file *f, int replace, char *err, size_t errlen) {
    int rc = atomic_file_close(f, err, errlen);
    if (rc == 0) rc = put_in_place(f->tmp, f->path, replace, err, errlen);
    if (rc != 0) {
        unlink(f->tmp);
    } else if (atomic_file_sync_folder(f->path) != 0) {
        errmsg_set(err, errlen, "%s: written, but syncing its folder failed: %s", f->path, strerror(errno));
        rc = -1;
    }
    release(f);
    return rc;
}

void atomic_file_abort(atomic_file *f) {
    if (!f) return;
    if (f->stream)
        fclose(f->stream);
    else if (f->fd >= 0)
        close(f->fd);
    if (f->tmp) unlink(f->tmp);
    release(f);
}

int atomic_file_write(const char *path, const void *data, size_t len, char *err, size_t errlen) {
    atomic_file f;
    if (atomic_file_open(&f, path, err, errlen) != 0) return -1;
    if (atomic_file_write_all(f.fd, data, len) != 0) {
        errmsg_set(err, errlen, "%s: write failed: %s", path, strerror(errno));
        atomic_file_abort(&f);
        return -1;
    }
    return atomic_file_commit(&f, 1, err, errlen);
}

int atomic_file_rename(const char *from, const char *path, char *err, size_t errlen) {
    if (put_in_place(from, path, 1, err, errlen) != 0) return -1;
    if (atomic_file_sync_folder(path) != 0) {
        errmsg_set(err, errlen, "%s: written, but syncing its folder failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// a file written as it goes

int atomic_file_open_in_place(const char *path, int flags, mode_t mode, char *err, size_t errlen) {
    if (atomic_file_check_kind(path, err, errlen) != 0) return -1;
    int truncate = (flags & O_TRUNC) != 0;
    int fd = open(path, (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)   // a link put there since the check
            errmsg_set(err, errlen, "%s is a symbolic link, not a regular file (frost writes only regular files)",
                       path);
        else
            errmsg_set(err, errlen, "%s: cannot create it: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (fstat(fd, &st) == 0)
            errmsg_set(err, errlen, "%s is %s, not a regular file (frost writes only regular files)", path,
                       regular_file_kind(st.st_mode));
        else
            errmsg_set(err, errlen, "%s: cannot stat it: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if ((fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) || (truncate && ftruncate(fd, 0) != 0)) {
        errmsg_set(err, errlen, "%s: cannot create it: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
