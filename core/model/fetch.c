// fetch.c — weight files from the caches or over HTTP(S) with libcurl: .part, resume, sha256
// (OpenSSL EVP), rename into place. See fetch.h for the contract.
#include "fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"
#include "i18n.h"
#include "path.h"
#include "regular_file.h"

// ---------------------------------------------------------------------------------------------
// folders

// $XDG_CACHE_HOME, else $HOME/.cache
static int xdg_cache(char *out, size_t len, char *err, size_t errlen) {
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int rc;
    if (x && x[0] == '/')
        rc = (size_t)snprintf(out, len, "%s", x) >= len ? -1 : 0;
    else if (home && *home)
        rc = path_join_to(out, len, home, ".cache");
    else {
        errmsg_set(err, errlen, "no cache folder: set XDG_CACHE_HOME or HOME");
        return -1;
    }
    if (rc) errmsg_set(err, errlen, "the cache folder's path is too long");
    return rc;
}

int fetch_cache_dir(char *out, size_t len, char *err, size_t errlen) {
    char base[4096];
    if (xdg_cache(base, sizeof base, err, errlen)) return -1;
    if (path_join_to(out, len, base, "frost")) {
        errmsg_set(err, errlen, "the cache folder's path is too long");
        return -1;
    }
    return 0;
}

int fetch_torch_cache_dir(char *out, size_t len, char *err, size_t errlen) {
    char base[4096], cache[4096];
    const char *th = getenv("TORCH_HOME");
    if (th && *th)
        snprintf(base, sizeof base, "%s", th);
    else if (xdg_cache(cache, sizeof cache, err, errlen) || path_join_to(base, sizeof base, cache, "torch"))
        return -1;
    if (path_join_to(out, len, base, "hub/checkpoints")) {
        errmsg_set(err, errlen, "torchvision's cache folder's path is too long");
        return -1;
    }
    return 0;
}

// A weights file found in a cache: a regular file with something in it (an empty one is a download
// that never started).
static int is_file(const char *path) { return path_file_size(path) > 0; }

// Hugging Face's cache: models--timm--<arch>.<tag>/snapshots/<any revision>/model.safetensors
static int find_hf_cached(const weights_entry *e, char *out, size_t len) {
    char hub[4096], dir[4096];
    const char *v;
    if ((v = getenv("HF_HUB_CACHE")) && *v)
        snprintf(hub, sizeof hub, "%s", v);
    else if ((v = getenv("HF_HOME")) && *v)
        snprintf(hub, sizeof hub, "%s/hub", v);
    else if (xdg_cache(hub, sizeof hub - 20, NULL, 0) == 0)
        strcat(hub, "/huggingface/hub");
    else
        return 0;
    int n = snprintf(dir, sizeof dir, "%s/models--timm--%s.%s/snapshots", hub, e->arch, e->tag);
    if (n < 0 || (size_t)n >= sizeof dir) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        n = snprintf(out, len, "%s/%s/model.safetensors", dir, de->d_name);
        found = n > 0 && (size_t)n < len && is_file(out);
    }
    closedir(d);
    return found;
}

int fetch_find_cached(const weights_entry *e, char *out, size_t len) {
    char dir[4096];
    if (fetch_cache_dir(dir, sizeof dir, NULL, 0) == 0 && path_join_to(out, len, dir, e->file) == 0 && is_file(out))
        return 1;
    if (strcmp(e->source, "timm") != 0) {
        if (fetch_torch_cache_dir(dir, sizeof dir, NULL, 0) == 0 && path_join_to(out, len, dir, e->file) == 0 &&
            is_file(out))
            return 1;
    } else if (find_hf_cached(e, out, len)) {
        return 1;
    }
    if (len) out[0] = '\0';
    return 0;
}

// ---------------------------------------------------------------------------------------------
// urls and hashes

int fetch_mirror_url(const char *url, char *out, size_t len) {
    const char *m = getenv("FROST_WEIGHTS_MIRROR"), *scheme = strstr(url, "://");
    int n;
    if (m && *m && scheme) {
        const char *path = strchr(scheme + 3, '/');
        size_t mlen = strlen(m);
        while (mlen > 0 && m[mlen - 1] == '/') mlen--;
        n = snprintf(out, len, "%.*s%s", (int)mlen, m, path ? path : "/");
    } else {
        n = snprintf(out, len, "%s", url);
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

// "host[:port]" of url
static void url_host(const char *url, char *out, size_t len) {
    const char *s = strstr(url, "://");
    s = s ? s + 3 : url;
    size_t n = strcspn(s, "/?#");
    snprintf(out, len, "%.*s", (int)n, s);
}

int fetch_sha256_file(const char *path, char hex[65], char *err, size_t errlen) {
    hex[0] = '\0';
    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    if (fd < 0) {
        errmsg_set(err, errlen, "%s: %s", path, why);
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
    static const size_t bufsize = 1 << 20;
    unsigned char *buf = malloc(bufsize);
    if (rc || !buf) {
        errmsg_set(err, errlen, "sha256: out of memory");
        rc = -1;
    }
    while (rc == 0) {
        ssize_t got = read(fd, buf, bufsize);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
            rc = -1;
        }
        if (got <= 0) break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)got) != 1) rc = -1;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)) {
        errmsg_set(err, errlen, "sha256: libcrypto failed");
        rc = -1;
    }
    if (rc == 0)
        for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    free(buf);
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rc;
}

static int is_hex64(const char *s) {
    size_t i = 0;
    for (; s[i]; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return i == 64;
}

// ---------------------------------------------------------------------------------------------
// one transfer

typedef struct {
    const fetch_request *r;
    CURL *c;
    int fd;
    uint64_t offset;     // bytes already in the .part when this transfer started
    uint64_t received;   // bytes written by this transfer
    int started, write_errno;
    char server_sha[65];   // from X-Linked-Etag
} transfer;

static size_t on_data(char *p, size_t size, size_t nmemb, void *user) {
    transfer *t = user;
    size_t len = size * nmemb, left = len;
    if (!t->started) {
        t->started = 1;
        long code = 0;
        curl_easy_getinfo(t->c, CURLINFO_RESPONSE_CODE, &code);
        if (code != 206 && t->offset > 0) {   // the server ignored the Range: start over
            if (ftruncate(t->fd, 0) != 0) {
                t->write_errno = errno;
                return 0;
            }
            t->offset = 0;
        }
    }
    while (left > 0) {
        ssize_t w = write(t->fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            t->write_errno = w < 0 ? errno : EIO;
            return 0;   // libcurl stops with CURLE_WRITE_ERROR
        }
        p += w;
        left -= (size_t)w;
    }
    t->received += len;
    return len;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *user) {
    transfer *t = user;
    size_t len = size * nmemb;
    static const char name[] = "x-linked-etag:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        char v[128];
        size_t k = 0;
        for (size_t i = sizeof name - 1; i < len && k + 1 < sizeof v; i++)
            if (isxdigit((unsigned char)p[i]))
                v[k++] = (char)tolower((unsigned char)p[i]);
            else if (p[i] != '"' && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
                break;
        v[k] = '\0';
        if (is_hex64(v)) memcpy(t->server_sha, v, 65);
    }
    return len;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    transfer *t = user;
    if (t->r->cancel && atomic_load(t->r->cancel)) return 1;
    if (t->r->progress)
        t->r->progress(t->r->user, t->offset + (uint64_t)dlnow, dltotal > 0 ? t->offset + (uint64_t)dltotal : 0);
    return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static double mb(uint64_t b) { return (double)b / 1e6; }

static int is_no_network(CURLcode rc) {
    return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_COULDNT_CONNECT ||
           rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR;
}

// Outcome of one attempt: 0 done (file complete in .part), -1 failed (err set), 1 try once more
// from zero (the server refused the Range of a stale .part).
static int transfer_once(const fetch_request *r, const char *url, const char *part, const char *dir, transfer *t,
                         char *err, size_t errlen) {
    char host[256], cerr[CURL_ERROR_SIZE] = "";
    url_host(url, host, sizeof host);
    struct stat st;
    t->offset = fstat(t->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    t->received = 0;
    t->started = 0;
    t->write_errno = 0;
    CURL *c = t->c = curl_easy_init();
    if (!c) {
        errmsg_set(err, errlen, "libcurl could not start");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    // the hub redirects to its CDN; a redirect may not lead to anything but HTTP(S). file:// is
    // allowed as the mirror itself (FROST_WEIGHTS_MIRROR=file:///srv/weights: a local folder).
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);   // safe on a background thread
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);   // a stalled connection: 60 s without a byte
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "frost (weights fetch)");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    // CURLOPT_RANGE rather than RESUME_FROM: a server that ignores it answers 200 with the whole
    // file, which on_data takes from the start instead of failing
    char range[32];
    snprintf(range, sizeof range, "%llu-", (unsigned long long)t->offset);
    if (t->offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_off_t clen = -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
    curl_easy_cleanup(c);
    t->c = NULL;
    uint64_t have = t->offset + t->received, total = clen > 0 ? t->offset + (uint64_t)clen : 0;
    if (!cerr[0]) snprintf(cerr, sizeof cerr, "%s", curl_easy_strerror(rc));

    if (rc == CURLE_OK) {
        if (code != 200 && code != 206 && strncmp(url, "file:", 5) != 0) {
            errmsg_set(err, errlen, "%s answered HTTP %ld for %s (expected the file)", host, code, url);
            return -1;
        }
        return 0;
    }
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        if (code == 416 && t->offset > 0) return 1;
        if (code == 404)
            errmsg_set(err, errlen, "%s has no such file (HTTP 404 Not Found): %s", host, url);
        else
            errmsg_set(err, errlen, "%s answered HTTP %ld for %s", host, code, url);
        return -1;
    }
    if (rc == CURLE_FILE_COULDNT_READ_FILE) {
        errmsg_set(err, errlen, "the mirror has no such file: %s", url);
        return -1;
    }
    if (rc == CURLE_WRITE_ERROR || t->write_errno) {
        int e = t->write_errno ? t->write_errno : EIO;
        int full = e == ENOSPC || e == EFBIG || e == EDQUOT;
        unlink(part);
        errmsg_set(
            err, errlen,
            "%s writing %s after %.1f MB (%s); the partial download was removed, free some space and fetch again",
            full ? _("disk full or over a size limit") : _("cannot write"), part, mb(have), strerror(e));
        return -1;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        errmsg_set(err, errlen, "download cancelled after %.1f MB; %s is kept and the next fetch resumes it", mb(have),
                   part);
        return -1;
    }
    if (have == t->offset && is_no_network(rc)) {
        // what to do before libcurl's own words, whose length varies (libcurl 8, Debian 13's, says more
        // than 7.88): a one-line display that clips the message keeps the advice
        errmsg_set(err, errlen, "cannot reach %s: copy %s into %s by hand (it is served at %s); %s", host, r->file, dir,
                   r->url, cerr);
        return -1;
    }
    if (total)
        errmsg_set(err, errlen,
                   "the connection to %s dropped after %.1f of %.1f MB (%s); %s is kept and the next fetch resumes it",
                   host, mb(have), mb(total), cerr, part);
    else
        errmsg_set(err, errlen,
                   "the connection to %s dropped after %.1f MB (%s); %s is kept and the next fetch resumes it", host,
                   mb(have), cerr, part);
    return -1;
}

int fetch_download(const fetch_request *r, fetch_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    if (!r->url || !r->file || !*r->file || strchr(r->file, '/')) {
        errmsg_set(err, errlen, "fetch: no URL or a bad file name");
        return -1;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        errmsg_set(err, errlen, "libcurl could not start: %s", curl_easy_strerror(curl_init_rc));
        return -1;
    }
    char dir[4096], final[4096], part[4200], url[4096];
    if (fetch_cache_dir(dir, sizeof dir, err, errlen)) return -1;
    if (fetch_mirror_url(r->url, url, sizeof url)) {
        errmsg_set(err, errlen, "FROST_WEIGHTS_MIRROR makes too long a URL");
        return -1;
    }
    if (path_mkdirs(dir) != 0) {
        errmsg_set(err, errlen, "cannot create the cache folder %s: %s", dir, strerror(errno));
        return -1;
    }
    if (path_join_to(final, sizeof final, dir, r->file)) {
        errmsg_set(err, errlen, "the cache path is too long");
        return -1;
    }
    snprintf(part, sizeof part, "%s.part", final);

    // the file and its .part are frost's own names, but what is there may not be a file (checked
    // before a byte is downloaded): the .part is appended to in place, then renamed over the file
    if (atomic_file_check_kind(final, err, errlen) != 0) return -1;
    int fd = atomic_file_open_in_place(part, O_WRONLY | O_CREAT | O_APPEND, 0644, err, errlen);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        errmsg_set(err, errlen, "%s is being downloaded by another frost already", r->file);
        return -1;
    }
    struct stat st;
    res->resumed = fstat(fd, &st) == 0 && st.st_size > 0;
    transfer t = {.r = r, .fd = fd};
    int rc = transfer_once(r, url, part, dir, &t, err, errlen);
    if (rc == 1) {   // the .part was stale (complete, or longer than the file): start again
        res->resumed = 0;
        rc = ftruncate(fd, 0) == 0 ? transfer_once(r, url, part, dir, &t, err, errlen) : -1;
        if (rc == 1) {
            errmsg_set(err, errlen, "the server refused the download of %s (HTTP 416)", r->file);
            rc = -1;
        }
    }
    if (rc == 0 && fsync(fd) != 0) {
        int e = errno;
        unlink(part);
        errmsg_set(err, errlen, "cannot write %s (%s); the partial download was removed", part, strerror(e));
        rc = -1;
    }
    if (rc != 0) {
        // an empty .part is no help to a resume
        if (access(part, F_OK) == 0 && fstat(fd, &st) == 0 && st.st_size == 0) unlink(part);
        close(fd);
        return -1;
    }

    // verify the whole file, then move it into place
    char got[65];
    if (fetch_sha256_file(part, got, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    const char *want = r->sha256          ? r->sha256
                       : r->sha256_prefix ? r->sha256_prefix
                       : t.server_sha[0]  ? t.server_sha
                                          : NULL;
    res->check = r->sha256          ? FETCH_FULL
                 : r->sha256_prefix ? FETCH_PREFIX
                 : t.server_sha[0]  ? FETCH_FULL
                                    : FETCH_UNVERIFIED;
    if (want && strncasecmp(got, want, strlen(want)) != 0) {
        unlink(part);
        close(fd);
        errmsg_set(err, errlen,
                   "sha256 mismatch for %s: got %.16s..., expected %.16s...; the download was corrupt or not the "
                   "published file, removed it",
                   r->file, got, want);
        return -1;
    }
    char why[1024];
    if (atomic_file_rename(part, final, why, sizeof why) != 0) {
        unlink(part);
        close(fd);
        errmsg_set(err, errlen, "cannot move %s into place: %s", part, why);
        return -1;
    }
    close(fd);
    snprintf(res->path, sizeof res->path, "%s", final);
    memcpy(res->sha256, got, sizeof got);
    res->downloaded = 1;
    return 0;
}

int fetch_weights(const weights_entry *e, fetch_progress_fn progress, void *user, const atomic_int *cancel,
                  fetch_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    if (fetch_find_cached(e, res->path, sizeof res->path)) return 0;
    fetch_request r = {.url = e->url,
                       .file = e->file,
                       .sha256 = e->sha256,
                       .sha256_prefix = e->sha256_prefix,
                       .progress = progress,
                       .user = user,
                       .cancel = cancel};
    return fetch_download(&r, res, err, errlen);
}
