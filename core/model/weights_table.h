/*
 * weights_table.h — the pretrained weights frost knows for each architecture it builds: where they
 * are served, the file name they are cached under, and how to verify them.
 *
 * Sources:
 *   torchvision     torchvision's IMAGENET1K_V1 files (what `pretrained=True` loads, and the default
 *                   of `frost train --pretrained`), https://download.pytorch.org/models/<file>.pth.
 *   torchvision-v2  IMAGENET1K_V2 where torchvision has it (resnet50/101/152).
 *   timm            the Hugging Face hub's timm/<arch>.tv_in1k safetensors (torchvision's V1 weights
 *                   re-saved by timm), .../resolve/main/model.safetensors.
 *
 * What is known and what is not: the torchvision URLs, ImageNet top-1 accuracies and the sha256
 * prefixes in the file names are facts read from torchvision 0.14's models/vgg.py and resnet.py
 * (torchvision checks the same prefix when it downloads). The full sha256 of those files is not
 * recorded anywhere offline, so only the prefix is checked (as torchvision does). For timm nothing
 * can be verified offline: neither that every repository exists (timm's model tables list
 * <arch>.tv_in1k for resnet18..152 and vgg11..19 with and without _bn), nor the file's hash; the
 * downloader takes the sha256 the hub itself sends (X-Linked-Etag) when there is one.
 * The table is plain data; the tests verify its shape (every architecture has a default, every
 * torchvision file name carries its prefix).
 */
#ifndef FROST_WEIGHTS_TABLE_H
#define FROST_WEIGHTS_TABLE_H

#include <stddef.h>

typedef struct {
    const char *arch;            // as ft_arch_name
    const char *source;          // "torchvision", "torchvision-v2" or "timm"
    const char *tag;             // torchvision's enum name or timm's pretrained tag
    const char *file;            // the name it is cached under (torchvision's own for its files)
    const char *url;             // where it is served
    const char *sha256;          // the full hex digest when known, else NULL
    const char *sha256_prefix;   // the digest's first hex digits (from the file name), else NULL
    double acc1;                 // ImageNet top-1 accuracy in %, as its publisher reports it; 0 unknown
    int is_default;              // what --pretrained takes for this architecture
} weights_entry;

size_t weights_table_count(void);
const weights_entry *weights_table_get(size_t i);   // NULL past the end

// The entry of arch from source (NULL: the architecture's default); NULL when there is none.
const weights_entry *weights_table_find(const char *arch, const char *source);

// The source names, comma separated, for messages.
const char *weights_table_sources(void);

#endif
