// regular_file.c — see regular_file.h.
#include "regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "i18n.h"

const char *regular_file_kind(mode_t m) {
    return S_ISREG(m)                 ? _("a regular file")
           : S_ISDIR(m)               ? _("a folder")
           : S_ISLNK(m)               ? _("a symbolic link")
           : S_ISFIFO(m)              ? _("a FIFO")
           : S_ISSOCK(m)              ? _("a socket")
           : S_ISCHR(m) || S_ISBLK(m) ? _("a device")
                                      : _("a special file");
}

int regular_file_open(const char *path, struct stat *st, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        struct stat lst;
        if (e == ELOOP)
            errmsg_set(err, errlen, "symbolic link loop (too many levels of symbolic links)");
        else if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
            errmsg_set(err, errlen, "dangling symbolic link (its target does not exist)");
        else if (e == ENOENT)
            errmsg_set(err, errlen, "%s", strerror(ENOENT));
        else if (e == EACCES)
            errmsg_set(err, errlen, "unreadable file (permission denied)");
        else if (e == EISDIR)
            errmsg_set(err, errlen, "not a regular file (a folder)");
        else
            errmsg_set(err, errlen, "cannot open it: %s", strerror(e));
        return -1;
    }
    if (fstat(fd, st) != 0) {
        errmsg_set(err, errlen, "cannot stat it: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        errmsg_set(err, errlen, "not a regular file (%s)", regular_file_kind(st->st_mode));
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}
