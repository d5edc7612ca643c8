/*
 * fetch.h — pretrained weight files: found in the caches, or downloaded with libcurl.
 *
 * Caches, in the order they are searched:
 *   frost's         $XDG_CACHE_HOME/frost (default ~/.cache/frost); downloads go here.
 *   torchvision's   $TORCH_HOME/hub/checkpoints (default $XDG_CACHE_HOME/torch, ~/.cache/torch), as
 *                   torch.hub computes it; a file there is used as it is (torch checked it when it
 *                   downloaded it).
 *   Hugging Face's  for timm files: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub,
 *                   models--timm--<arch>.<tag>/snapshots/<rev>/model.safetensors.
 *
 * A download is written to <cache>/<file>.part, resumed with an HTTP Range request when a .part is
 * there, verified (sha256 of the whole file: the full digest when known, else the prefix in the file
 * name as torchvision checks it, else the digest the server sends in X-Linked-Etag as the Hugging
 * Face hub does), and only then renamed to <file>. A bad digest or a write error (disk full) removes
 * the .part; a dropped connection or a cancel keeps it for the next fetch to resume. The final name
 * never holds a partial or unverified-but-wrong file.
 *
 * FROST_WEIGHTS_MIRROR=http://host:port[/prefix] replaces the scheme and host of every weights URL
 * (for a local mirror, and for the tests); file:///folder makes a local folder the mirror. Proxies
 * follow libcurl's usual variables (https_proxy, no_proxy).
 *
 * Threads: fetch_* may run on any thread (the UI runs it on a background one); the progress callback
 * is called on that thread; cancel is read there. Nothing here prints. The sha256 comes from
 * OpenSSL's libcrypto (a well-kept implementation rather than our own).
 */
#ifndef FROST_FETCH_H
#define FROST_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "weights_table.h"

// done and total in bytes of the whole file (a resumed download starts at the .part's size);
// total is 0 while unknown.
typedef void (*fetch_progress_fn)(void *user, uint64_t done, uint64_t total);

typedef struct {
    const char *url;              // where it is served (FROST_WEIGHTS_MIRROR applies)
    const char *file;             // the name in frost's cache (no '/')
    const char *sha256;           // the full hex digest expected, or NULL
    const char *sha256_prefix;    // else the digest's first hex digits, or NULL
    fetch_progress_fn progress;   // may be NULL
    void *user;
    const atomic_int *cancel;   // may be NULL; nonzero stops the download (the .part is kept)
} fetch_request;

typedef enum { FETCH_UNVERIFIED = 0, FETCH_PREFIX = 1, FETCH_FULL = 2 } fetch_check;

typedef struct {
    char path[4096];     // the file to load
    int downloaded;      // 1 when it was downloaded now, 0 when found in a cache
    int resumed;         // 1 when the download continued a .part
    fetch_check check;   // how the download was verified
    char sha256[65];     // the downloaded file's digest (empty when found in a cache)
} fetch_result;

// The folders (without a trailing '/'). 0, or -1 with one line in err (no HOME and no XDG_CACHE_HOME).
int fetch_cache_dir(char *out, size_t len, char *err, size_t errlen);
int fetch_torch_cache_dir(char *out, size_t len, char *err, size_t errlen);

// Looks for e's file in the caches: 1 with its path in out, 0 when it is in none.
int fetch_find_cached(const weights_entry *e, char *out, size_t len);

// Downloads r into frost's cache (see above). 0 with *res filled, or -1 with one line in err.
int fetch_download(const fetch_request *r, fetch_result *res, char *err, size_t errlen);

// e's file from a cache, else downloaded. 0 with *res filled, or -1 with one line in err.
int fetch_weights(const weights_entry *e, fetch_progress_fn progress, void *user, const atomic_int *cancel,
                  fetch_result *res, char *err, size_t errlen);

// url with FROST_WEIGHTS_MIRROR applied (url itself when unset); 0, or -1 when out is too small.
int fetch_mirror_url(const char *url, char *out, size_t len);

// The sha256 of a file as 64 lowercase hex digits. 0, or -1 with one line in err.
int fetch_sha256_file(const char *path, char hex[65], char *err, size_t errlen);

#endif
