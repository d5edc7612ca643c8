// torch_code.c — the PyTorch code of frost's state now (see torch_code.h).
#include "torch_code.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "text_buf.h"
#include "train_recipe.h"
#include "transfer.h"
#include "weights_table.h"

// ---------------------------------------------------------------------------------------------
// small writers

// A module path as Python reaches it: "layer4.1.conv2" -> model.layer4[1].conv2.
static void put_module(text_buf *t, const char *path) {
    text_buf_put(t, "model");
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ".");
        int digits = n > 0;
        for (size_t i = 0; i < n; i++) digits = digits && isdigit((unsigned char)p[i]);
        text_buf_put(t, digits ? "[%.*s]" : ".%.*s", (int)n, p);
        p += n + (p[n] == '.');
    }
}

// x as the shortest decimal that reads back as the same float32 (torch normalises in float32: 0.485
// there is frost's 0.485f).
static void put_float32(text_buf *t, float x) {
    char s[40];
    for (int p = 1; p <= 9; p++) {
        snprintf(s, sizeof s, "%.*g", p, (double)x);
        if (strtof(s, NULL) == x) break;
    }
    text_buf_put(t, "%s%s", s, strpbrk(s, ".eninf") ? "" : ".0");
}

// A Python list of strings (module paths and names are plain ASCII: no escaping needed).
static void put_names(text_buf *t, const char *list) {
    text_buf_put(t, "[");
    int first = 1;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n) text_buf_put(t, "%s\"%.*s\"", first ? "" : ", ", (int)n, p);
        first = first && !n;
        p += n + (p[n] == ',');
    }
    text_buf_put(t, "]");
}

// torchvision's weights enum for arch: "vgg16_bn" -> VGG16_BN_Weights, "resnet50" -> ResNet50_Weights.
static void put_weights_enum(text_buf *t, const char *arch, const char *tag) {
    text_buf_put(t, "models.");
    if (strncmp(arch, "resnet", 6) == 0) {
        text_buf_put(t, "ResNet%s", arch + 6);
    } else {
        for (const char *p = arch; *p; p++) text_buf_put(t, "%c", toupper((unsigned char)*p));
    }
    text_buf_put(t, "_Weights.%s", tag);
}

// ---------------------------------------------------------------------------------------------
// the parts of the program

static void put_header(text_buf *t, const torch_code_input *in, const train_recipe *r, int epochs) {
    const trainer_config *c = in->cfg;
    text_buf_put(t,
                 "# The PyTorch code of what frost holds now: %s for %zu classes%s%s.\n"
                 "# python3 this.py trains on DATA/train/<class>/*, validates on DATA/valid/.\n"
                 "import os\n\nimport torch\nimport torch.nn as nn\nfrom torch.optim import lr_scheduler\n"
                 "from torchvision import datasets, models, transforms\n\n",
                 c->arch, in->n_classes, r->has_plan ? ",\n# unfrozen in stages" : "",
                 train_recipe_groups(r) ? (r->has_plan ? ", an lr per block" : ",\n# an lr per block") : "");
    text_buf_put(t, "DATA = \"%s\"\nNUM_CLASSES = %zu\nEPOCHS = %d\n", in->data ? in->data : "DATASET", in->n_classes,
                 epochs);
    const weights_entry *e = in->pretrained ? weights_table_find(c->arch, NULL) : NULL;
    if (e && strncmp(e->source, "torchvision", 11) == 0) {
        text_buf_put(t, "# ImageNet's weights, as the tutorial's pretrained=True\nWEIGHTS = ");
        put_weights_enum(t, c->arch, e->tag);
        text_buf_put(t, "\n");
    } else if (c->weights) {
        text_buf_put(t, "WEIGHTS = None   # the file's weights are loaded in build_model\n");
    } else {
        text_buf_put(t, "WEIGHTS = None   # torchvision's random initialisation\n");
    }
}

static void put_transforms(text_buf *t, const transform_params *tf) {
    text_buf_put(
        t, "\n# what frost does to every image (training and validation alike)\ntransform = transforms.Compose([\n");
    if (tf->fit == TRANSFORM_SHORT_CROP)
        text_buf_put(t, "    transforms.Resize(%d),\n    transforms.CenterCrop(%d),\n", tf->size, tf->size);
    else
        text_buf_put(t, "    transforms.Resize([%d, %d]),\n", tf->size, tf->size);
    text_buf_put(t, "    transforms.ToTensor(),\n    transforms.Normalize(");
    for (int k = 0; k < 2; k++) {
        const float *v = k ? tf->std : tf->mean;
        text_buf_put(t, k ? ",\n                         std=[" : "mean=[");
        for (int i = 0; i < 3; i++) {
            if (i) text_buf_put(t, ", ");
            put_float32(t, v[i]);
        }
        text_buf_put(t, "]");
    }
    text_buf_put(t, "),\n])\n");
}

// The statements that make exactly `list` (transfer_trainable_list's form) train, at indent.
static void put_thaw(text_buf *t, const char *list, const char *indent) {
    if (strcmp(list, "all") == 0) {
        text_buf_put(t, "%smodel.requires_grad_(True)   # every parameter trains\n", indent);
        return;
    }
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        char path[256];
        snprintf(path, sizeof path, "%.*s", (int)(n < sizeof path ? n : sizeof path - 1), p);
        p += n + (p[n] == ',');
        if (!path[0] || strcmp(path, "none") == 0) continue;
        text_buf_put(t, "%s", indent);
        put_module(t, path);
        text_buf_put(t, ".requires_grad_(True)\n");
    }
}

static void put_build(text_buf *t, const torch_code_input *in, ft_model *m, const char *now) {
    const trainer_config *c = in->cfg;
    const char *head = ft_model_head_path(m);
    text_buf_put(t, "\n\ndef build_model(weights=WEIGHTS):\n    model = models.%s(weights=weights)\n", c->arch);
    if (c->weights)
        text_buf_put(t, "    # frost loaded %s into the 1000-class network (strict), before the new head\n",
                     c->weights);
    text_buf_put(t, "    # the tutorial's freeze: every parameter frozen...\n"
                    "    for param in model.parameters():\n        param.requires_grad = False\n"
                    "    # ...and a new head for the dataset's classes (new layers train)\n");
    if (ft_arch_family(c->arch) == FT_FAMILY_VGG)
        text_buf_put(t, "    model.classifier = nn.Sequential(\n"
                        "        nn.Linear(512 * 7 * 7, 4096),\n        nn.ReLU(),\n        nn.Dropout(p=0.5),\n"
                        "        nn.Linear(4096, 4096),\n        nn.ReLU(),\n        nn.Dropout(p=0.5),\n"
                        "        nn.Linear(4096, NUM_CLASSES),\n    )\n");
    else
        text_buf_put(t, "    model.fc = nn.Linear(model.fc.in_features, NUM_CLASSES)\n");
    if (now[0]) {   // not the tutorial's choice: exactly this trains (freeze all, thaw the named)
        text_buf_put(t, "    # what trains: %s%s\n    model.requires_grad_(False)\n",
                     strcmp(now, "none") == 0 ? "nothing" : now,
                     strcmp(now, "all") == 0 || strstr(now, head) ? "" : " (the head stays frozen)");
        put_thaw(t, now, "    ");
    }
    text_buf_put(t, "    return model\n");
}

// The plan's stages: what each trains, for how many epochs, and set_stage.
static int put_stages(text_buf *t, const train_recipe *r, ft_model *m, char *err, size_t errlen) {
    text_buf_put(t,
                 "\n\n# staged unfreezing: (what trains, for how many epochs; 0: the rest of the run)\nSTAGES = [\n");
    for (int s = 0; s < r->plan.n; s++) {
        char list[4096], why[1024];
        if (train_plan_trainable(&r->plan, s, m, list, sizeof list, why, sizeof why) != 0) {
            errmsg_set(err, errlen, "plan stage %d (%s): %s", s + 1, r->plan.stages[s].what, why);
            return -1;
        }
        text_buf_put(t, "    (");
        if (strcmp(list, "all") == 0)
            text_buf_put(t, "\"all\"");
        else
            put_names(t, list);
        text_buf_put(t, ", %d),   # %s\n", r->plan.stages[s].epochs, r->plan.stages[s].what);
    }
    text_buf_put(t, "]\n\n\ndef set_stage(model, stage):\n"
                    "    \"\"\"Freezes everything, then thaws what STAGES[stage] trains.\"\"\"\n"
                    "    what = STAGES[stage][0]\n    model.requires_grad_(False)\n"
                    "    for path in ([\"\"] if what == \"all\" else what):\n"
                    "        model.get_submodule(path).requires_grad_(True)\n\n\n"
                    "def stage_at(epoch):\n    \"\"\"The stage (0-based) that epoch (1-based) trains in.\"\"\"\n"
                    "    end = 0\n    for k, (_, epochs) in enumerate(STAGES):\n        end += epochs\n"
                    "        if epochs == 0 or epoch <= end:\n            return k\n    return len(STAGES) - 1\n");
    return 0;
}

static void put_optimizer(text_buf *t, const trainer_config *c, ft_optimizer *o) {
    const ft_opt_params *p = &c->opt;
    size_t ng = ft_optimizer_group_count(o);
    ft_group_info g[TRANSFER_MAX_BLOCKS + 1];
    char held[8192] = "";   // every group's modules: the last group ("") holds what trains outside them
    size_t used = 0;
    for (size_t i = 0; i < ng && i <= TRANSFER_MAX_BLOCKS; i++) {
        ft_status *s = ft_optimizer_group_get(o, i, &g[i]);
        if (s) {
            ft_status_free(s);
            g[i].modules = "";
        }
        int w = snprintf(held + used, sizeof held - used, "%s%s", used ? "," : "", g[i].modules);
        if (w > 0 && (size_t)w < sizeof held - used) used += (size_t)w;
    }
    if (ng > TRANSFER_MAX_BLOCKS + 1) ng = TRANSFER_MAX_BLOCKS + 1;
    text_buf_put(t, "\n\ndef make_optimizer(model):\n");
    if (ng == 1 && !g[0].modules[0]) {   // the tutorial's: what trains now, one lr
        text_buf_put(t, "    params = [p for p in model.parameters() if p.requires_grad]\n");
    } else {
        text_buf_put(t, "    # a group per block, each with its lr: frozen parameters wait in their\n"
                        "    # group (no gradient, no step) until a stage thaws them\n    params = [\n");
        for (size_t i = 0; i < ng; i++) {
            text_buf_put(t, "        {\"params\": ");
            if (!g[i].modules[0]) {
                text_buf_put(t, "[p for n, p in model.named_parameters()\n                    if p.requires_grad and "
                                "not any(n.startswith(m + \".\") for m in ");
                put_names(t, held);
                text_buf_put(t, ")]");
            } else if (!strchr(g[i].modules, ',')) {
                put_module(t, g[i].modules);
                text_buf_put(t, ".parameters()");
            } else {   // a VGG stage: its layers with parameters
                int first = 1;
                for (const char *q = g[i].modules; *q;) {
                    size_t n = strcspn(q, ",");
                    char path[256];
                    snprintf(path, sizeof path, "%.*s", (int)(n < sizeof path ? n : sizeof path - 1), q);
                    q += n + (q[n] == ',');
                    text_buf_put(t, first ? "[*" : ",\n                    *");
                    put_module(t, path);
                    text_buf_put(t, ".parameters()");
                    first = 0;
                }
                text_buf_put(t, "]");
            }
            text_buf_put(t, ",\n         \"lr\": ");
            text_buf_float(t, g[i].lr);
            text_buf_put(t, "},\n");
        }
        text_buf_put(t, "    ]\n");
    }
    char lr[48], wd[48], m[48], b2[48], eps[48];
    text_float(lr, sizeof lr, p->lr);
    text_float(wd, sizeof wd, p->weight_decay);
    if (p->kind == FT_OPT_SGD)
        text_buf_put(t, "    return torch.optim.SGD(params, lr=%s, momentum=%s,\n%27sweight_decay=%s)\n", lr,
                     text_float(m, sizeof m, p->momentum), "", wd);
    else
        text_buf_put(t, "    return torch.optim.Adam(params, lr=%s, betas=(%s, %s),\n%28seps=%s, weight_decay=%s)\n",
                     lr, text_float(m, sizeof m, p->beta1), text_float(b2, sizeof b2, p->beta2), "",
                     text_float(eps, sizeof eps, p->eps), wd);
}

static void put_scheduler(text_buf *t, const lr_schedule *sc) {
    text_buf_put(t, "\n\ndef make_scheduler(optimizer, steps_per_epoch):\n"
                    "    \"\"\"Stepped after every optimizer step (None: the lr stays).\"\"\"\n"
                    "    total = steps_per_epoch * EPOCHS\n");
    char warm[48];
    if (sc->warmup_steps < 0)
        snprintf(warm, sizeof warm, "steps_per_epoch");
    else
        snprintf(warm, sizeof warm, "%ld", sc->warmup_steps);
    const char *S = "lr_scheduler";
    switch (sc->kind) {
    case LR_COSINE:
        if (sc->warmup_steps == 0) {
            text_buf_put(t, "    return %s.CosineAnnealingLR(optimizer, T_max=total)\n", S);
        } else {
            text_buf_put(
                t,
                "    warm = %s   # linear warm-up steps, then cosine\n    return %s.SequentialLR(optimizer, [\n"
                "        %s.LinearLR(optimizer, start_factor=",
                warm, S, S);
            text_buf_float(t, sc->warmup_start);
            text_buf_put(t,
                         ",\n                        end_factor=1.0, total_iters=warm),\n"
                         "        %s.CosineAnnealingLR(optimizer, T_max=total - warm),\n    ], milestones=[warm])\n",
                         S);
        }
        break;
    case LR_ONE_CYCLE:
        text_buf_put(t,
                     "    max_lr = [group[\"lr\"] for group in optimizer.param_groups]\n"
                     "    return %s.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total)\n",
                     S);
        break;
    case LR_WARMUP:
        text_buf_put(t, "    warm = %s   # linear warm-up steps, then constant\n", warm);
        text_buf_put(t, "    return %s.LinearLR(optimizer, start_factor=", S);
        text_buf_float(t, sc->warmup_start);
        text_buf_put(t, ",\n                                 end_factor=1.0, total_iters=warm)\n");
        break;
    default: text_buf_put(t, "    return None\n"); break;
    }
}

static void put_train_mode(text_buf *t, int bn_eval) {
    text_buf_put(t, "\n\ndef train_mode(model):\n    model.train()\n");
    if (bn_eval)
        text_buf_put(t, "    # frost's rule: a BatchNorm whose parameters are all frozen keeps its\n"
                        "    # running statistics (eval mode)\n    for module in model.modules():\n"
                        "        frozen = not any(p.requires_grad for p in module.parameters())\n"
                        "        if isinstance(module, nn.BatchNorm2d) and frozen:\n            module.eval()\n");
    else
        text_buf_put(t, "    # the tutorial's: every BatchNorm in train mode, frozen ones too (their\n"
                        "    # running statistics move)\n");
}

static void put_loop(text_buf *t, const trainer_config *c, const train_recipe *r) {
    text_buf_put(t,
                 "\n\ndef main():\n    torch.manual_seed(%llu)\n"
                 "    device = torch.device(\"cuda\" if torch.cuda.is_available() else \"cpu\")\n"
                 "    data = {split: datasets.ImageFolder(os.path.join(DATA, split), transform)\n"
                 "            for split in (\"train\", \"valid\")}\n"
                 "    loaders = {split: torch.utils.data.DataLoader(data[split], batch_size=%d,\n"
                 "                                                  shuffle=True)\n"
                 "               for split in data}\n"
                 "    model = build_model()\n",
                 (unsigned long long)c->seed, c->batch_size);
    if (c->weights)
        text_buf_put(t, "    # frost started from %s (load it with model.load_state_dict before the head)\n",
                     c->weights);
    text_buf_put(t, "    model = model.to(device)\n    optimizer = make_optimizer(model)\n"
                    "    scheduler = make_scheduler(optimizer, len(loaders[\"train\"]))\n");
    const char *cw = r->class_weights_text;
    if (cw[0] && strcmp(cw, "none") != 0 && strcmp(cw, "auto") != 0)
        text_buf_put(t, "    criterion = nn.CrossEntropyLoss(weight=torch.tensor([%s]).to(device))\n", cw);
    else if (strcmp(cw, "auto") == 0)
        text_buf_put(t, "    # N / (C n_c): each class weighs as if the classes were balanced\n"
                        "    counts = torch.bincount(torch.tensor(data[\"train\"].targets),\n"
                        "                            minlength=NUM_CLASSES)\n"
                        "    weight = len(data[\"train\"]) / (NUM_CLASSES * counts.clamp(min=1).float())\n"
                        "    criterion = nn.CrossEntropyLoss(weight=weight.to(device))\n");
    else
        text_buf_put(t, "    criterion = nn.CrossEntropyLoss()\n");
    text_buf_put(t, "    for epoch in range(1, EPOCHS + 1):\n");
    if (r->has_plan) text_buf_put(t, "        set_stage(model, stage_at(epoch))\n");
    text_buf_put(t, "        for phase in (\"train\", \"valid\"):\n"
                    "            if phase == \"train\":\n                train_mode(model)\n"
                    "            else:\n                model.eval()\n"
                    "            total_loss, correct, seen = 0.0, 0, 0\n"
                    "            for x, y in loaders[phase]:\n"
                    "                x, y = x.to(device), y.to(device)\n"
                    "                with torch.set_grad_enabled(phase == \"train\"):\n"
                    "                    out = model(x)\n                    loss = criterion(out, y)\n"
                    "                if phase == \"train\":\n"
                    "                    optimizer.zero_grad()\n                    loss.backward()\n"
                    "                    optimizer.step()\n"
                    "                    if scheduler is not None:\n                        scheduler.step()\n"
                    "                total_loss += loss.item() * len(y)\n"
                    "                correct += (out.argmax(1) == y).sum().item()\n                seen += len(y)\n"
                    "            print(f\"epoch {epoch} {phase} Loss: {total_loss / seen:.4f} \"\n"
                    "                  f\"ACC: {correct / seen:.4f}\")\n"
                    "\n\nif __name__ == \"__main__\":\n    main()\n");
}

// ---------------------------------------------------------------------------------------------

char *torch_code(const torch_code_input *in, ft_model *m, char *err, size_t errlen) {
    const trainer_config *c = in->cfg;
    train_recipe r;
    if (train_recipe_set(&r, c->plan, c->schedule, c->block_lr, c->class_weights, err, errlen) != 0) return NULL;
    if (r.has_plan && c->trainable) {
        errmsg_set(err, errlen, "a plan of stages says what trains: a trainable list cannot come with it");
        return NULL;
    }
    // what trains at the run's start, as the trainer sets it: the list, or the plan's first stage
    unsigned char trains[TRANSFER_MAX_BLOCKS] = {0};
    char now[4096];
    if (r.has_plan) {
        if (train_recipe_plan_blocks(&r, m, trains, err, errlen) != 0 ||
            train_plan_trainable(&r.plan, 0, m, now, sizeof now, err, errlen) != 0 ||
            transfer_apply_trainable(m, now, err, errlen) != 0)
            return NULL;
    } else if (c->trainable) {
        if (transfer_apply_trainable(m, c->trainable, err, errlen) != 0) return NULL;
    } else {
        ft_status *s = transfer_freeze_all_but_head(m);
        if (s) {
            errmsg_set(err, errlen, "%s", ft_status_message(s));
            ft_status_free(s);
            return NULL;
        }
    }
    transfer_trainable_list(m, now, sizeof now);
    ft_optimizer *o = NULL;
    if (train_recipe_optimizer(&r, m, &c->opt, trains, &o, err, errlen) != 0) return NULL;
    int epochs;   // the schedule spans the course; the loop stops there
    trainer_run_epochs(c, &r, &epochs);

    text_buf t = {0};
    put_header(&t, in, &r, epochs);
    put_transforms(&t, &c->prep.tf);
    put_build(&t, in, m, now);
    int rc = r.has_plan ? put_stages(&t, &r, m, err, errlen) : 0;
    put_optimizer(&t, c, o);
    ft_optimizer_free(o);
    put_scheduler(&t, &r.schedule);
    put_train_mode(&t, c->bn_eval);
    put_loop(&t, c, &r);
    char *code = text_buf_take(&t);
    if (rc != 0) {
        free(code);
        return NULL;
    }
    if (!code) errmsg_set(err, errlen, "out of memory");
    return code;
}
