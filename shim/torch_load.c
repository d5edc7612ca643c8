/* torch_load.c — the shim's door, opened on first use: every ft_* function of frost_torch.h as a
 * call through a table filled once from libfrost_torch.so (the C++ shim and libtorch behind it).
 *
 * Why: linking libtorch into a program costs every process about 0.8 CPU-seconds before main()
 * (its 290-odd libraries are mapped and relocated, its operators registered), whether or not the
 * process ever touches a tensor. `frost help`, `frost doctor`, a completion, and each of the test
 * suite's processes (Criterion starts one per test) paid it. Loaded here on the first ft_* call,
 * only the processes that run a model pay. The definitions below must match the header's
 * declarations (the compiler checks each one), and a function added to the header without its
 * line here fails the link.
 *
 * Where: beside the program (build/frost, build/frost_tests), then PREFIX/lib/frost/ for an
 * installed PREFIX/bin/frost. A library that cannot be loaded ends the process with one line
 * saying which file and why (exit status 1): no call can go on without it.
 *
 * The architectures' names and families come from arch_list.h, the shim's own list, here too.
 * Calls that need no library — freeing or reading a NULL status, freeing a NULL object — are
 * answered here without loading it, so that clean-up paths do not load libtorch. */
#include "frost_torch.h"

#include "arch_list.h"

#include <assert.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* FT_FN(return type, name, (parameters), (arguments)); FT_VOID for functions without a result;
 * FT_OWN and FT_OWN_VOID for those whose public definition is written out below (their NULL cases). */
#define FT_FUNCTIONS(FT_FN, FT_VOID, FT_OWN, FT_OWN_VOID)                                                             \
    FT_OWN(ft_code, ft_status_code, (const ft_status *s), (s))                                                        \
    FT_OWN(const char *, ft_status_message, (const ft_status *s), (s))                                                \
    FT_OWN_VOID(ft_status_free, (ft_status * s), (s))                                                                 \
    FT_FN(ft_status *, ft_model_create, (const char *arch, ft_model **out), (arch, out))                              \
    FT_OWN_VOID(ft_model_free, (ft_model * m), (m))                                                                   \
    FT_FN(const char *, ft_model_arch, (const ft_model *m), (m))                                                      \
    FT_FN(int64_t, ft_model_num_classes, (const ft_model *m), (m))                                                    \
    FT_FN(const char *, ft_model_head_path, (const ft_model *m), (m))                                                 \
    FT_FN(ft_status *, ft_model_replace_head, (ft_model * m, int64_t n_classes), (m, n_classes))                      \
    FT_FN(ft_status *, ft_model_set_trainable, (ft_model * m, const char *path, int trainable), (m, path, trainable)) \
    FT_VOID(ft_model_set_training, (ft_model * m, int training), (m, training))                                       \
    FT_FN(ft_status *, ft_model_nodes, (ft_model * m, const ft_node **nodes, size_t *n), (m, nodes, n))               \
    FT_FN(ft_status *, ft_model_trace, (ft_model * m, int64_t size), (m, size))                                       \
    FT_FN(int, ft_cuda_available, (void), ())                                                                         \
    FT_FN(int, ft_cuda_device_count, (void), ())                                                                      \
    FT_VOID(ft_set_num_threads, (int n), (n))                                                                         \
    FT_FN(int, ft_get_num_threads, (void), ())                                                                        \
    FT_VOID(ft_cpu_memory_stats, (ft_cpu_memory * out), (out))                                                        \
    FT_FN(void *, ft_cpu_block_new, (size_t nbytes), (nbytes))                                                        \
    FT_OWN_VOID(ft_cpu_block_free, (void *p), (p))                                                                    \
    FT_FN(ft_status *, ft_model_to_device, (ft_model * m, const char *device), (m, device))                           \
    FT_FN(const char *, ft_model_device, (const ft_model *m), (m))                                                    \
    FT_FN(ft_status *, ft_model_forward,                                                                              \
          (ft_model * m, const float *input, int64_t n, int64_t c, int64_t h, int64_t w, float *out, size_t out_len), \
          (m, input, n, c, h, w, out, out_len))                                                                       \
    FT_FN(size_t, ft_model_state_count, (const ft_model *m), (m))                                                     \
    FT_FN(ft_status *, ft_model_state_info, (const ft_model *m, size_t i, ft_tensor_info *out), (m, i, out))          \
    FT_FN(ft_status *, ft_model_state_get, (const ft_model *m, size_t i, void *dst, size_t nbytes),                   \
          (m, i, dst, nbytes))                                                                                        \
    FT_FN(ft_status *, ft_model_state_set, (ft_model * m, size_t i, const void *src, size_t nbytes),                  \
          (m, i, src, nbytes))                                                                                        \
    FT_VOID(ft_model_set_mode, (ft_model * m, int training, int frozen_bn_eval), (m, training, frozen_bn_eval))       \
    FT_FN(int, ft_model_backbone_frozen, (const ft_model *m), (m))                                                    \
    FT_FN(int64_t, ft_model_feature_size, (const ft_model *m), (m))                                                   \
    FT_FN(ft_status *, ft_model_set_class_weights, (ft_model * m, const float *w, int64_t n), (m, w, n))              \
    FT_VOID(ft_manual_seed, (uint64_t seed), (seed))                                                                  \
    FT_VOID(ft_opt_params_default, (ft_opt_params * p), (p))                                                          \
    FT_FN(ft_status *, ft_optimizer_create, (ft_model * m, const ft_opt_params *p, ft_optimizer **out), (m, p, out))  \
    FT_FN(ft_status *, ft_optimizer_create_groups,                                                                    \
          (ft_model * m, const ft_opt_params *p, const ft_param_group *groups, size_t n_groups, ft_optimizer **out),  \
          (m, p, groups, n_groups, out))                                                                              \
    FT_FN(size_t, ft_optimizer_group_count, (const ft_optimizer *o), (o))                                             \
    FT_FN(ft_status *, ft_optimizer_group_get, (const ft_optimizer *o, size_t i, ft_group_info *out), (o, i, out))    \
    FT_FN(const char *, ft_optimizer_param_name, (const ft_optimizer *o, size_t i), (o, i))                           \
    FT_FN(ft_status *, ft_optimizer_group_set, (ft_optimizer * o, size_t i, double lr, double momentum),              \
          (o, i, lr, momentum))                                                                                       \
    FT_OWN_VOID(ft_optimizer_free, (ft_optimizer * o), (o))                                                           \
    FT_VOID(ft_optimizer_set_fused, (ft_optimizer * o, int on), (o, on))                                              \
    FT_FN(int64_t, ft_optimizer_fused_steps, (const ft_optimizer *o), (o))                                            \
    FT_FN(ft_status *, ft_train_step,                                                                                 \
          (ft_model * m, ft_optimizer * o, const float *x, const int64_t *labels, int64_t n, int64_t c, int64_t h,    \
           int64_t w, ft_step_result *r),                                                                             \
          (m, o, x, labels, n, c, h, w, r))                                                                           \
    FT_FN(ft_status *, ft_eval_step,                                                                                  \
          (ft_model * m, const float *x, const int64_t *labels, int64_t n, int64_t c, int64_t h, int64_t w,           \
           ft_step_result *r),                                                                                        \
          (m, x, labels, n, c, h, w, r))                                                                              \
    FT_FN(ft_status *, ft_model_features,                                                                             \
          (ft_model * m, const float *x, int64_t n, int64_t c, int64_t h, int64_t w, float *out, size_t out_len),     \
          (m, x, n, c, h, w, out, out_len))                                                                           \
    FT_FN(                                                                                                            \
        ft_status *, ft_head_train_step,                                                                              \
        (ft_model * m, ft_optimizer * o, const float *features, const int64_t *labels, int64_t n, ft_step_result *r), \
        (m, o, features, labels, n, r))                                                                               \
    FT_FN(ft_status *, ft_head_eval_step,                                                                             \
          (ft_model * m, const float *features, const int64_t *labels, int64_t n, ft_step_result *r),                 \
          (m, features, labels, n, r))                                                                                \
    FT_FN(ft_status *, ft_model_set_precision, (ft_model * m, ft_precision p), (m, p))                                \
    FT_FN(ft_precision, ft_model_precision, (const ft_model *m), (m))                                                 \
    FT_FN(int, ft_cpu_has_bf16, (void), ())                                                                           \
    FT_FN(size_t, ft_optimizer_state_count, (ft_optimizer * o), (o))                                                  \
    FT_FN(ft_status *, ft_optimizer_state_info, (ft_optimizer * o, size_t i, ft_tensor_info * out), (o, i, out))      \
    FT_FN(ft_status *, ft_optimizer_state_get, (ft_optimizer * o, size_t i, void *dst, size_t nbytes),                \
          (o, i, dst, nbytes))                                                                                        \
    FT_FN(ft_status *, ft_optimizer_state_set,                                                                        \
          (ft_optimizer * o, const char *name, ft_dtype dtype, int ndim, const int64_t *shape, const void *src,       \
           size_t nbytes, int *used),                                                                                 \
          (o, name, dtype, ndim, shape, src, nbytes, used))                                                           \
    FT_FN(ft_status *, ft_snapshot_take, (ft_model * m, ft_snapshot * *out), (m, out))                                \
    FT_OWN_VOID(ft_snapshot_free, (ft_snapshot * s), (s))                                                             \
    FT_FN(ft_status *, ft_model_changes, (ft_model * m, const ft_snapshot *s, ft_state_change *out, size_t n),        \
          (m, s, out, n))                                                                                             \
    FT_FN(ft_status *, ft_model_calls, (ft_model * m, int64_t size, const ft_call **calls, size_t *n),                \
          (m, size, calls, n))                                                                                        \
    FT_FN(ft_status *, ft_model_module_info, (ft_model * m, size_t node, ft_module_info * out), (m, node, out))       \
    FT_FN(ft_status *, ft_model_gradcam,                                                                              \
          (ft_model * m, const float *x, int64_t size, const char *layer, int64_t cls, float *map, size_t map_len,    \
           int64_t *h, int64_t *w, int64_t *used_cls, float *logits_out),                                             \
          (m, x, size, layer, cls, map, map_len, h, w, used_cls, logits_out))                                         \
    FT_FN(const char *, ft_model_gradcam_default_layer, (ft_model * m), (m))

/* one slot per function, in the list's order */
#define FT_SLOT(ret, name, params, args) SLOT_##name,
#define FT_SLOT_VOID(name, params, args) SLOT_##name,
enum { FT_FUNCTIONS(FT_SLOT, FT_SLOT_VOID, FT_SLOT, FT_SLOT_VOID) SLOT_COUNT };

#define FT_NAME(ret, name, params, args) #name,
#define FT_NAME_VOID(name, params, args) #name,
static const char *const slot_names[SLOT_COUNT] = {FT_FUNCTIONS(FT_NAME, FT_NAME_VOID, FT_NAME, FT_NAME_VOID)};

static void *slots[SLOT_COUNT];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;   // set once the table is full; read without the once by the NULL cases

/* The folder this program lives in ("" when /proc is not there to say). */
static void program_dir(char *dir, size_t n) {
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    dir[0] = '\0';
    if (len <= 0) return;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = '\0';
    snprintf(dir, n, "%s", exe);
}

static void load_library(void) {
    char dir[PATH_MAX], path[PATH_MAX + 64], tried[2 * (PATH_MAX + 64)] = "";
    const char *const places[] = {"%s/libfrost_torch.so", "%s/../lib/frost/libfrost_torch.so"};
    void *lib = NULL;
    char why[512] = "";   // a copy: dlerror's text is freed by the next dlopen
    program_dir(dir, sizeof dir);
    for (size_t i = 0; i < sizeof places / sizeof places[0] && !lib; i++) {
        snprintf(path, sizeof path, places[i], dir);
        lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char *e = dlerror();
            size_t used = strlen(tried);
            snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", path);
            // the first place's reason, unless it is only absent there
            if (i == 0 || (why[0] == '\0' || strstr(why, "No such file"))) snprintf(why, sizeof why, "%s", e ? e : "");
        }
    }
    if (!lib) {
        fprintf(stderr, "frost: cannot load its libtorch part (tried %s): %s\n", tried, why);
        exit(1);
    }
    for (size_t i = 0; i < SLOT_COUNT; i++) {
        slots[i] = dlsym(lib, slot_names[i]);
        if (!slots[i]) {
            fprintf(stderr, "frost: %s has no %s: it is from another build of frost (run make again)\n", path,
                    slot_names[i]);
            exit(1);
        }
    }
    __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
}

static int is_loaded(void) { return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE); }

static void *slot(int i) {
    pthread_once(&load_once, load_library);
    // load_library returns only with the table full (it ends the process otherwise)
    assert(i >= 0 && i < SLOT_COUNT && slots[i] && is_loaded());
    return slots[i];
}

/* The calls through the table (the pointer-to-function copy is POSIX's dlsym contract): public for
 * FT_FN and FT_VOID, a static name##_through for FT_OWN and FT_OWN_VOID. */
#define FT_BODY(ret, name, params, args) \
    {                                    \
        typedef ret(*fn_t) params;       \
        fn_t fn;                         \
        void *sym_ = slot(SLOT_##name);  \
        memcpy(&fn, &sym_, sizeof fn);   \
        return fn args;                  \
    }
#define FT_BODY_VOID(name, params, args) \
    {                                    \
        typedef void(*fn_t) params;      \
        fn_t fn;                         \
        void *sym_ = slot(SLOT_##name);  \
        memcpy(&fn, &sym_, sizeof fn);   \
        fn args;                         \
    }
#define FT_CALL(ret, name, params, args) ret name params FT_BODY(ret, name, params, args)
#define FT_CALL_VOID(name, params, args) void name params FT_BODY_VOID(name, params, args)
#define FT_CALL_OWN(ret, name, params, args) static ret name##_through params FT_BODY(ret, name, params, args)
#define FT_CALL_OWN_VOID(name, params, args) static void name##_through params FT_BODY_VOID(name, params, args)
FT_FUNCTIONS(FT_CALL, FT_CALL_VOID, FT_CALL_OWN, FT_CALL_OWN_VOID)

/* Without the library nothing can have been made: there is nothing to read or to free. */
ft_code ft_status_code(const ft_status *s) { return s ? ft_status_code_through(s) : FT_OK; }
const char *ft_status_message(const ft_status *s) { return s ? ft_status_message_through(s) : ""; }
void ft_status_free(ft_status *s) {
    if (s) ft_status_free_through(s);
}
void ft_model_free(ft_model *m) {
    if (m || is_loaded()) ft_model_free_through(m);
}
void ft_optimizer_free(ft_optimizer *o) {
    if (o || is_loaded()) ft_optimizer_free_through(o);
}
void ft_snapshot_free(ft_snapshot *s) {
    if (s || is_loaded()) ft_snapshot_free_through(s);
}
void ft_cpu_block_free(void *p) {
    if (p) ft_cpu_block_free_through(p);
}

#define FT_ARCH_NAME(name, family, config, batch_norm) name,
#define FT_ARCH_FAMILY(name, family, config, batch_norm) family,
static const char *const arch_names[] = {FROST_ARCHS(FT_ARCH_NAME)};
static const ft_family arch_families[] = {FROST_ARCHS(FT_ARCH_FAMILY)};

size_t ft_arch_count(void) { return sizeof arch_names / sizeof arch_names[0]; }
const char *ft_arch_name(size_t i) { return i < ft_arch_count() ? arch_names[i] : NULL; }
ft_family ft_arch_family(const char *arch) {
    for (size_t i = 0; arch && i < ft_arch_count(); i++)
        if (strcmp(arch, arch_names[i]) == 0) return arch_families[i];
    return FT_FAMILY_NONE;
}
