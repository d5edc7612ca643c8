// trainer_cache.c — the feature cache: when nothing before the head trains or is random, the
// backbone's output per image, computed once (trainer_loop.c fills it in a phase's first pass) and
// served afterwards; and its copy on disk (feature_store.h), read when the cache is decided and
// written when a phase filled it. Its state: trainer_cache and trainer_disk (trainer_parts.h).
#define _GNU_SOURCE   // sysconf(_SC_PHYS_PAGES), realpath
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "feature_store.h"
#include "i18n.h"
#include "path.h"
#include "precision_auto.h"
#include "trainer_parts.h"

// ---------------------------------------------------------------------------------------------
// the feature cache on disk (feature_store.h): read at decide_cache, written when a phase filled it

static const char *split_name(int phase) { return phase == PHASE_TRAIN ? "train" : "valid"; }

static const dataset_split *split_of(trainer *t, int phase) {
    return phase == PHASE_TRAIN ? &t->d->train : &t->d->valid;
}

static double mbytes(long long b) { return (double)b / 1e6; }

void trainer_disk_free(trainer *t) {
    for (int p = 0; p < 2; p++) {
        free(t->disk.path[p]);
        free(t->disk.ids[p]);
        free(t->disk.id_ok[p]);
        t->disk.path[p] = NULL;
        t->disk.ids[p] = NULL;
        t->disk.id_ok[p] = NULL;
    }
    free(t->disk.dir);
    free(t->disk.key);
    free(t->disk.root);
    t->disk.dir = t->disk.key = t->disk.root = NULL;
    t->disk.on = 0;
}

// What identifies an image apart from its label: its path inside its class folder (a relabelled image,
// moved to another class, keeps its features).
static const char *identity_name(trainer *t, const dataset_split *split, const dataset_item *it) {
    const char *base = split->dir ? split->dir : t->d->root;
    char *cdir = path_join(base, t->d->classes[it->label]);
    const char *name = it->path;
    size_t n = cdir ? strlen(cdir) : 0;
    if (cdir && strncmp(it->path, cdir, n) == 0 && it->path[n] == '/') name = it->path + n + 1;
    free(cdir);
    return name;
}

// The model's key, each split's entry and each image's identity. Off (said why) when it cannot be had.
static void disk_setup(trainer *t) {
    char from[4200], err[1024] = "";
    t->disk.cap = feature_store_cap(from, sizeof from, err, sizeof err);
    if (err[0]) trainer_post_text(t, EV_INFO, "feature cache: %s", err);
    if (t->disk.cap <= 0) return;   // turned off: memory only, as asked
    char dir[4096], weights[128], key[2048];
    const char *wpath = t->cfg.resume ? t->cfg.resume : t->cfg.weights;
    const char *dev = ft_model_device(t->m);
    feature_model fm = {.arch = t->cfg.arch,
                        .weights = weights,
                        .device = strncmp(dev, "cuda", 4) == 0 ? "cuda" : dev,
                        .tf = &t->prep.tf,
                        .dec = &t->prep.dec,
                        .bn_eval = t->cfg.bn_eval,
                        .precision = t->cfg.precision,
                        .feat = t->cache.feat};
    if (feature_store_dir(dir, sizeof dir, err, sizeof err) != 0 ||
        feature_weights_digest(wpath, t->cfg.seed, t->d->n_classes, weights, sizeof weights, err, sizeof err) != 0 ||
        (feature_model_key(&fm, key, sizeof key) != 0 && (errmsg_set(err, sizeof err, "its key is too long"), 1))) {
        trainer_post_text(t, EV_INFO, "feature cache: memory only: %s", err);
        return;
    }
    t->disk.dir = strdup(dir);
    t->disk.key = strdup(key);
    // the dataset by its real path: "data", "./data/" and "/home/me/data" are one dataset
    t->disk.root = realpath(t->d->root, NULL);
    if (!t->disk.root) t->disk.root = strdup(t->d->root);
    for (int p = 0; p < 2 && t->disk.dir && t->disk.key && t->disk.root; p++) {
        const dataset_split *split = split_of(t, p);
        size_t n = split->n_items ? split->n_items : 1;
        char path[4600];
        if (feature_entry_path(dir, key, t->cfg.arch, t->disk.root, split_name(p), path, sizeof path) != 0) break;
        t->disk.path[p] = strdup(path);
        t->disk.ids[p] = malloc(n * FEATURE_ID_LEN);
        t->disk.id_ok[p] = calloc(n, 1);
        if (!t->disk.path[p] || !t->disk.ids[p] || !t->disk.id_ok[p]) break;
        for (size_t i = 0; i < split->n_items; i++)
            t->disk.id_ok[p][i] = feature_file_id(split->items[i].path, identity_name(t, split, &split->items[i]),
                                                  t->disk.ids[p] + i * FEATURE_ID_LEN) == 0;
    }
    t->disk.on = 1;
    for (int p = 0; p < 2; p++) t->disk.on &= t->disk.path[p] && t->disk.ids[p] && t->disk.id_ok[p];
    if (!t->disk.on) {
        trainer_disk_free(t);
        trainer_post_text(t, EV_INFO, "feature cache: memory only: out of memory");
    }
}

// The split's rows from its entry into the memory cache. When every image is there (features, or known
// not to decode), the phase runs from the cache from the first epoch on.
static void disk_load(trainer *t, int phase) {
    const dataset_split *split = split_of(t, phase);
    if (!t->disk.on || split->n_items == 0) return;
    feature_entry *e = NULL;
    char err[1024];
    feature_entry_info info = {
        .key = t->disk.key, .root = t->disk.root, .split = split_name(phase), .feat = t->cache.feat};
    int rc = feature_entry_open(t->disk.path[phase], &info, &e, err, sizeof err);
    if (rc < 0)
        trainer_post_text(t, EV_INFO, "feature cache: the %s entry %s is %s: computing it again", split_name(phase),
                          t->disk.path[phase], err);
    if (rc <= 0) return;
    assert(t->cache.rows[phase] && t->cache.cached[phase]);   // decide_cache allocated them first
    size_t served = 0, bad = 0, width = (size_t)t->cache.feat;
    for (size_t i = 0; i < split->n_items; i++) {
        const float *row = NULL;
        const char *reason = NULL;
        int found =
            t->disk.id_ok[phase][i] ? feature_entry_find(e, t->disk.ids[phase] + i * FEATURE_ID_LEN, &row, &reason) : 0;
        if (found == 1) {
            memcpy(t->cache.rows[phase] + i * width, row, width * sizeof(float));
            t->cache.cached[phase][i] = CACHED_FEATURES;
            served++;
        } else if (found == 2) {
            t->cache.cached[phase][i] = CACHED_BAD;
            badfiles_add(&t->bad, split->items[i].path, reason);
            bad++;
        }
    }
    feature_entry_close(e);
    char known_bad[64] = "";
    if (bad) snprintf(known_bad, sizeof known_bad, _(" and %zu known not to decode"), bad);
    if (served + bad == split->n_items) {
        t->cache.filled[phase] = 1;
        trainer_post_text(t, EV_INFO, "feature cache: %zu of %zu %s images from disk%s (%s)", served, split->n_items,
                          split_name(phase), known_bad, t->disk.path[phase]);
        trainer_report_skipped(t);
    } else {
        trainer_post_text(t, EV_INFO,
                          "feature cache: %zu of %zu %s images from disk%s; the backbone computes the other %zu",
                          served, split->n_items, split_name(phase), known_bad, split->n_items - served - bad);
    }
}

// The reason a file of the split was skipped, from the run's list, or NULL.
static char *bad_reason(trainer *t, const char *path) {
    char p[4096], r[1024];
    for (size_t k = 0; badfiles_get(&t->bad, k, p, sizeof p, r, sizeof r) == 0; k++)
        if (strcmp(p, path) == 0) return strdup(r);
    return NULL;
}

// After a phase filled the memory cache from images: its rows into the split's entry (replacing what
// was there), then the oldest entries evicted down to the cap. A failure is said, never fatal.
void trainer_disk_save(trainer *t, int phase) {
    const dataset_split *split = split_of(t, phase);
    if (!t->disk.on || split->n_items == 0) return;
    assert(t->disk.path[phase] && t->disk.ids[phase] && t->disk.id_ok[phase] && t->cache.cached[phase]);
    size_t n = 0, good = 0, width = (size_t)t->cache.feat;
    feature_row *rows = calloc(split->n_items, sizeof *rows);
    char **reasons = calloc(split->n_items, sizeof *reasons);
    if (!rows || !reasons) {
        free(rows);
        free(reasons);
        trainer_post_text(t, EV_INFO, "feature cache: not written to disk: out of memory");
        return;
    }
    for (size_t i = 0; i < split->n_items; i++) {
        if (!t->disk.id_ok[phase][i]) continue;
        feature_row *r = &rows[n];
        r->id = t->disk.ids[phase] + i * FEATURE_ID_LEN;
        if (t->cache.cached[phase][i] == CACHED_FEATURES) {
            r->row = t->cache.rows[phase] + i * width;
            good++;
        } else if ((reasons[i] = bad_reason(t, split->items[i].path)) != NULL) {
            r->reason = reasons[i];
        } else {
            continue;   // neither loaded nor skipped: not known, not written
        }
        n++;
    }
    long long need = (long long)(good * width * sizeof(float)), free_bytes = feature_store_free_bytes(t->disk.dir);
    char err[1024];
    long long bytes = 0;
    if (need > t->disk.cap) {
        trainer_post_text(t, EV_INFO,
                          "feature cache: not written to disk: the %s split's %.1f MB exceed the cap of %.0f MB",
                          split_name(phase), mbytes(need), mbytes(t->disk.cap));
    } else if (free_bytes >= 0 && need > free_bytes / 2) {
        trainer_post_text(t, EV_INFO,
                          "feature cache: not written to disk: %.1f MB would take over half of the %.1f MB free",
                          mbytes(need), mbytes(free_bytes));
    } else {
        feature_entry_info info = {
            .key = t->disk.key, .root = t->disk.root, .split = split_name(phase), .feat = t->cache.feat};
        if (feature_entry_write(t->disk.path[phase], &info, rows, n, &bytes, err, sizeof err) != 0) {
            trainer_post_text(t, EV_INFO, "feature cache: not written to disk: %s", err);
        } else {
            trainer_post_text(t, EV_INFO, "feature cache: wrote %.1f MB for %zu %s images (%s)", mbytes(bytes), n,
                              split_name(phase), t->disk.path[phase]);
            long long freed = 0;
            size_t removed = 0;
            if (feature_store_evict(t->disk.dir, t->disk.cap, &freed, &removed, err, sizeof err) != 0)
                trainer_post_text(t, EV_INFO, "feature cache: %s", err);
            else if (removed)
                trainer_post_text(t, EV_INFO,
                                  ngettext("feature cache: %zu least recently used entry removed (%.1f MB) to stay "
                                           "under %.0f MB",
                                           "feature cache: %zu least recently used entries removed (%.1f MB) to stay "
                                           "under %.0f MB",
                                           removed),
                                  removed, mbytes(freed), mbytes(t->disk.cap));
        }
    }
    for (size_t i = 0; i < split->n_items; i++) free(reasons[i]);
    free(reasons);
    free(rows);
}

// ---------------------------------------------------------------------------------------------
// the feature cache in memory

// 1 when the model has a BatchNorm layer.
static int model_has_batchnorm(ft_model *m) {
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_nodes(m, &nodes, &n);
    int found = !s && transfer_has_batchnorm(nodes, n);
    ft_status_free(s);
    return found;
}

// 1 when the feature cache gives the same numbers as running the backbone: nothing before the head
// trains, and no BatchNorm there uses batch statistics.
int trainer_cache_exact(trainer *t) {
    return ft_model_backbone_frozen(t->m) && (t->cfg.bn_eval || !model_has_batchnorm(t->m));
}

// Frees the feature cache; the run goes on without it.
void trainer_drop_cache(trainer *t) {
    for (int k = 0; k < 2; k++) {
        free(t->cache.rows[k]);
        free(t->cache.cached[k]);
        t->cache.rows[k] = NULL;
        t->cache.cached[k] = NULL;
        t->cache.filled[k] = 0;
    }
    t->cache.on = 0;
}

// ---------------------------------------------------------------------------------------------
// deciding: on when exact and it fits, with what the disk already holds

// --precision auto (precision_auto.h): measured and picked now, on the run's weights, images and threads;
// without the feature cache there is no frozen backbone to run at another precision: fp32.
static int decide_precision(trainer *t) {
    train_event e = {.kind = EV_PRECISION};
    if (!t->cache.on) {
        t->cfg.precision = FT_PRECISION_FP32;
        e.precision.pick = FT_PRECISION_FP32;
        errmsg_set(e.text, sizeof e.text,
                   "--precision auto: fp32 (this run has no feature cache: the precision is the frozen backbone's)");
        trainer_post(t, &e);
        return RUN_DONE;
    }
    precision_auto_spec spec = {.arch = t->cfg.arch,
                                .weights = t->cfg.weights,
                                .device = t->cfg.device,
                                .batch = t->cfg.batch_size,
                                .prep = &t->prep,
                                .split = t->d->train.n_items ? &t->d->train : &t->d->valid};
    char err[1024];
    if (precision_auto_decide(&spec, &e.precision, err, sizeof err) != 0)
        return trainer_fail(t, FIX_NONE, "--precision auto: %s", err);
    t->cfg.precision = (int)e.precision.pick;
    precision_auto_line(&e.precision, e.text, sizeof e.text);
    trainer_post(t, &e);
    if (t->cfg.profile)
        trainer_post_text(t, EV_INFO,
                          "profile: --precision auto: the speeds %s in %.2f s; agreement on %zu images in %.2f s",
                          e.precision.measured ? _("measured now") : _("read from the calibration file"),
                          e.precision.speed_seconds, e.precision.fig[0].images, e.precision.agree_seconds);
    return RUN_DONE;
}

int trainer_decide_cache(trainer *t) {
    int exact = trainer_cache_exact(t);
    if (t->cfg.cache == 1 && !exact) {
        return trainer_fail(t, FIX_BN_EVAL, "the feature cache needs a frozen backbone with BatchNorm in eval mode");
    }
    t->cache.on = t->cfg.cache != 0 && exact;
    if (t->cfg.precision == TRAINER_PRECISION_AUTO && decide_precision(t) != RUN_DONE) return RUN_FAILED;
    if (!t->cache.on) {
        if (t->cfg.precision != FT_PRECISION_FP32)
            return trainer_fail(
                t, t->cfg.cache == 0 ? FIX_NONE : FIX_BN_EVAL,
                "--precision fast or bf16 is for the frozen backbone the feature cache runs; this run has no "
                "cache (%s)",
                t->cfg.cache == 0 ? "--cache off" : "the backbone trains, or BatchNorm runs in train mode");
        trainer_post_text(t, EV_INFO, "feature cache off: %s",
                          t->cfg.cache == 0 ? "asked" : "the backbone is not fixed");
        return RUN_DONE;
    }
    if (t->cfg.precision != FT_PRECISION_FP32) {
        ft_status *s = ft_model_set_precision(t->m, (ft_precision)t->cfg.precision);
        if (s) return trainer_fail_status(t, "--precision", s);
        trainer_post_text(
            t, EV_INFO, "precision: the frozen backbone runs %s",
            t->cfg.precision == FT_PRECISION_BF16
                ? "in bfloat16 with BatchNorm folded into the convolutions, channels_last (the head stays float32)"
                : "with BatchNorm folded into the convolutions, channels_last (float32: rounding differs from "
                  "the exact path)");
    }
    t->cache.feat = ft_model_feature_size(t->m);
    size_t items[2] = {t->d->train.n_items, t->d->valid.n_items};
    double bytes = (double)(items[0] + items[1]) * (double)t->cache.feat * sizeof(float);
    double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (phys > 0 && bytes > phys / 4) {
        if (t->cfg.cache == 1) {
            return trainer_fail(t, FIX_NONE, "the feature cache would need %.0f MB, more than a quarter of memory",
                                bytes / 1e6);
        }
        t->cache.on = 0;
        trainer_post_text(t, EV_INFO, "feature cache off: it would need %.0f MB", bytes / 1e6);
        return RUN_DONE;
    }
    for (int p = 0; p < 2; p++) {
        t->cache.rows[p] = malloc((items[p] ? items[p] : 1) * (size_t)t->cache.feat * sizeof(float));
        t->cache.cached[p] = calloc(items[p] ? items[p] : 1, 1);
        if (!t->cache.rows[p] || !t->cache.cached[p]) {
            return trainer_fail(t, FIX_NONE, "out of memory for the feature cache (%.0f MB)", bytes / 1e6);
        }
    }
    trainer_post_text(t, EV_INFO, "feature cache on: the backbone runs once per image (%.1f MB of features)",
                      bytes / 1e6);
    if (t->cfg.cache_disk && !t->cfg.lr_find) {
        disk_setup(t);
        for (int p = 0; p < 2; p++) disk_load(t, p);
    }
    return RUN_DONE;
}
