// weights_table.c — the known pretrained weights per architecture (see weights_table.h for what is
// verified and what cannot be offline). Facts from torchvision 0.14's models/vgg.py and resnet.py.
#include "weights_table.h"

#include <string.h>

#define TV "https://download.pytorch.org/models/"
#define HF "https://huggingface.co/timm/"

// torchvision: file name "<arch>-<prefix>.pth"
#define TV1(arch, prefix, acc) \
    { arch, "torchvision", "IMAGENET1K_V1", arch "-" prefix ".pth", TV arch "-" prefix ".pth", NULL, prefix, acc, 1 }
#define TV2(arch, prefix, acc) \
    { arch, "torchvision-v2", "IMAGENET1K_V2", arch "-" prefix ".pth", TV arch "-" prefix ".pth", NULL, prefix, acc, 0 }
#define TIMM(arch)                                                                                                     \
    {                                                                                                                  \
        arch, "timm", "tv_in1k", arch ".tv_in1k.safetensors", HF arch ".tv_in1k/resolve/main/model.safetensors", NULL, \
            NULL, 0, 0                                                                                                 \
    }

static const weights_entry table[] = {
    TV1("vgg11", "8a719046", 69.020),
    TIMM("vgg11"),
    TV1("vgg11_bn", "6002323d", 70.370),
    TIMM("vgg11_bn"),
    TV1("vgg13", "19584684", 69.928),
    TIMM("vgg13"),
    TV1("vgg13_bn", "abd245e5", 71.586),
    TIMM("vgg13_bn"),
    TV1("vgg16", "397923af", 71.592),
    TIMM("vgg16"),
    TV1("vgg16_bn", "6c64b313", 73.360),
    TIMM("vgg16_bn"),
    TV1("vgg19", "dcbb9e9d", 72.376),
    TIMM("vgg19"),
    TV1("vgg19_bn", "c79401a0", 74.218),
    TIMM("vgg19_bn"),
    TV1("resnet18", "f37072fd", 69.758),
    TIMM("resnet18"),
    TV1("resnet34", "b627a593", 73.314),
    TIMM("resnet34"),
    TV1("resnet50", "0676ba61", 76.130),
    TV2("resnet50", "11ad3fa6", 80.858),
    TIMM("resnet50"),
    TV1("resnet101", "63fe2227", 77.374),
    TV2("resnet101", "cd907fc2", 81.886),
    TIMM("resnet101"),
    TV1("resnet152", "394f9c45", 78.312),
    TV2("resnet152", "f82ba261", 82.284),
    TIMM("resnet152"),
};

size_t weights_table_count(void) { return sizeof table / sizeof table[0]; }

const weights_entry *weights_table_get(size_t i) { return i < weights_table_count() ? &table[i] : NULL; }

const weights_entry *weights_table_find(const char *arch, const char *source) {
    if (!arch) return NULL;
    for (size_t i = 0; i < weights_table_count(); i++) {
        const weights_entry *e = &table[i];
        if (strcmp(e->arch, arch) != 0) continue;
        if (source ? strcmp(e->source, source) == 0 : e->is_default) return e;
    }
    return NULL;
}

const char *weights_table_sources(void) { return "torchvision, torchvision-v2, timm"; }
