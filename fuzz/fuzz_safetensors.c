// fuzz_safetensors.c — libFuzzer target: bytes as a safetensors file (header length, JSON header,
// data offsets), opened from an in-memory file, then every tensor and metadata entry looked up.
#define _GNU_SOURCE   // memfd_create
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    int fd = memfd_create("fuzz.safetensors", 0);
    if (fd < 0) return 0;
    if (len && write(fd, data, len) != (ssize_t)len) {
        close(fd);
        return 0;
    }
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    safet_file f;
    if (safet_open(&f, path, err, sizeof err) == 0) {
        for (size_t i = 0; i < f.n_tensors; i++) {
            const safet_tensor *t = safet_find(&f, f.tensors[i].name);
            if (t) (void)safet_numel(t);
        }
        safet_meta(&f, "format");
        safet_close(&f);
    }
    close(fd);
    return 0;
}
