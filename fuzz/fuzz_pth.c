// fuzz_pth.c — libFuzzer target: bytes as a torch.save file (the zip format, or the legacy pickle
// stream: whichever the magic says), read into tensor records; and the same bytes straight into
// the restricted unpickler.
#include <stdint.h>

#include "pickle.h"
#include "pth_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    char err[512];
    pth_file f;
    if (pth_open_mem(&f, data, len, "fuzz.pth", err, sizeof err) == 0) pth_close(&f);
    pk_arena a = {0};
    size_t used;
    pk_obj *obj;
    pk_load(&a, data, len, &used, &obj, err, sizeof err);
    pk_arena_free(&a);
    return 0;
}
