/*
 * pth_file.h — read the tensors of a PyTorch .pth file (what torch.save writes for a state_dict).
 *
 * Two formats:
 * - zip (torch.save since PyTorch 1.6): a zip holding <name>/data.pkl, the pickled object whose
 *   tensors name their storages by key, and <name>/data/<key>, each storage's raw little-endian
 *   bytes. The zip is read with libzip (CRCs checked); the pickle with pickle.h's restricted reader.
 * - legacy (torch.save(..., _use_new_zipfile_serialization=False), and old files such as
 *   vgg16-397923af.pth): pickled magic number 0x1950a86a20f9469cfc6c, protocol 1001, a system-info
 *   dict, the object, the list of storage keys, then per storage an int64 element count and its bytes.
 *
 * The object must be a dict (an OrderedDict state_dict) of str -> tensor; anything else (a whole
 * pickled model, an optimizer, a checkpoint dict with epochs) is refused with a message saying so.
 * Tensors come out contiguous, in the file's order, as safet_tensor records (the same type as a
 * safetensors file's, so one loader serves both). A tensor viewing its storage with strides or an
 * offset is copied into a contiguous buffer; a contiguous one points into the storage. Data is
 * little-endian and handed out as is. Only little-endian files are read.
 */
#ifndef FROST_PTH_FILE_H
#define FROST_PTH_FILE_H

#include <stddef.h>

#include "safetensors.h"

typedef enum { PTH_ZIP = 1, PTH_LEGACY = 2 } pth_format;

typedef struct {
    pth_format format;
    safet_tensor *tensors;   // names and data owned by the file; data may be unaligned
    size_t n_tensors;
    // private
    void *map;   // the whole file when opened by path
    size_t map_len;
    void **owned;   // buffers to free: storages read from the zip, contiguous copies
    size_t n_owned, owned_cap;
} pth_file;

// The format of a file that starts with these bytes (at least 2 are looked at), or 0 when it is
// neither .pth format.
pth_format pth_sniff(const void *head, size_t len);
const char *pth_format_name(pth_format f);   // "torch.save zip" / "legacy torch.save"

// Zero-inits f first; on error f is left closed. Returns 0, or -1 with one line in err that starts
// with the path.
int pth_open(pth_file *f, const char *path, char *err, size_t errlen);
// The same from memory; buf must outlive f (tensors may point into it). `name` names it in messages.
int pth_open_mem(pth_file *f, const void *buf, size_t len, const char *name, char *err, size_t errlen);
void pth_close(pth_file *f);   // accepts a zeroed or closed struct

#endif
