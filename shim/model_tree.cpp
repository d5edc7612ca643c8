// model_tree.cpp — walking a built model: the node table (what the tree view and `frost print`
// read), the state_dict table (PyTorch's names and order), and the forward interpreter.
//
// The forward pass is one switch over ModuleInfo::kind rather than a forward() per class, so the
// same code runs the model and, when asked, records every module's output shape (the summary's
// forward hooks). Like a PyTorch hook, a module called more than once (a block's shared ReLU)
// records its last call.
#include "head_name.hpp"
#include "shim_internal.hpp"

#include <stdexcept>

namespace frost {
namespace {

namespace nn = torch::nn;
using ModulePtr = std::shared_ptr<nn::Module>;

ModulePtr child(nn::Module &m, const char *name) {
    auto children = m.named_children();   // a dict by value: alive while its entry is read
    auto *p = children.find(name);
    if (!p) throw std::logic_error(std::string("module has no child '") + name + "'");
    return *p;
}

void walk(ft_model &m, const ModulePtr &mod, const std::string &path, const std::string &key, int depth) {
    const ModuleInfo &inf = m.info.at(mod.get());
    ft_node node{};
    node.depth = depth;
    node.n_children = static_cast<int>(mod->children().size());
    m.node_modules.push_back(mod);
    m.nodes.push_back(node);
    for (const std::string &s : {path, key, inf.type, inf.extra}) m.node_strings.push_back(s);

    std::string prefix = path.empty() ? "" : path + ".";
    for (const auto &p : mod->named_parameters(false)) {
        m.state_names.push_back(prefix + p.key());
        m.state_tensors.push_back(p.value());
        m.state_is_param.push_back(1);
    }
    for (const auto &b : mod->named_buffers(false)) {
        m.state_names.push_back(prefix + b.key());
        m.state_tensors.push_back(b.value());
        m.state_is_param.push_back(0);
    }
    for (const auto &c : mod->named_children()) walk(m, c.value(), prefix + c.key(), c.key(), depth + 1);
}

torch::Tensor run(ft_model &m, nn::Module &mod, torch::Tensor x, bool trace);

torch::Tensor run_child(ft_model &m, nn::Module &mod, const char *name, torch::Tensor x, bool trace) {
    return run(m, *child(mod, name), std::move(x), trace);
}

torch::Tensor run_block(ft_model &m, nn::Module &b, torch::Tensor x, bool trace, bool bottleneck) {
    torch::Tensor identity = x;
    torch::Tensor out = run_child(m, b, "conv1", x, trace);
    out = run_child(m, b, "bn1", out, trace);
    out = run_child(m, b, "relu", out, trace);
    out = run_child(m, b, "conv2", out, trace);
    out = run_child(m, b, "bn2", out, trace);
    if (bottleneck) {
        out = run_child(m, b, "relu", out, trace);
        out = run_child(m, b, "conv3", out, trace);
        out = run_child(m, b, "bn3", out, trace);
    }
    if (b.named_children().contains("downsample")) identity = run_child(m, b, "downsample", x, trace);
    out += identity;
    return run_child(m, b, "relu", out, trace);
}

torch::Tensor run(ft_model &m, nn::Module &mod, torch::Tensor x, bool trace) {
    const ModuleInfo &inf = m.info.at(&mod);
    torch::Tensor in = x;   // a leaf call's input, for ft_model_calls
    switch (inf.kind) {
    case Kind::Sequential:
        for (const auto &c : mod.children()) x = run(m, *c, x, trace);
        break;
    case Kind::VGG:
        x = run_child(m, mod, "features", x, trace);
        x = run_child(m, mod, "avgpool", x, trace);
        x = torch::flatten(x, 1);
        x = run_child(m, mod, "classifier", x, trace);
        break;
    case Kind::ResNet:
        for (const char *name : {"conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"})
            x = run_child(m, mod, name, x, trace);
        x = torch::flatten(x, 1);
        x = run_child(m, mod, "fc", x, trace);
        break;
    case Kind::Bottleneck: x = run_block(m, mod, x, trace, true); break;
    case Kind::BasicBlock: x = run_block(m, mod, x, trace, false); break;
    case Kind::Conv2d: x = frost::conv2d(*mod.as<nn::Conv2d>(), x); break;
    case Kind::BatchNorm2d: x = mod.as<nn::BatchNorm2d>()->forward(x); break;
    case Kind::ReLU: x = mod.as<nn::ReLU>()->forward(x); break;
    case Kind::MaxPool2d: x = mod.as<nn::MaxPool2d>()->forward(x); break;
    case Kind::AdaptiveAvgPool2d: x = mod.as<nn::AdaptiveAvgPool2d>()->forward(x); break;
    case Kind::Linear: x = mod.as<nn::Linear>()->forward(x); break;
    case Kind::Dropout:
        x = mod.as<nn::Dropout>()->forward(x);
        if (m.record_calls) x = x.clone();   // as in training, where its output is a new tensor
        break;
    }
    if (&mod == m.capture) {
        // Grad-CAM's activation: what comes before needs no gradient (the caller runs the forward
        // pass without recording), what comes after does; a module called twice (a block's shared
        // ReLU) is captured at its last call, as a PyTorch forward hook keeps the last
        m.captured = x.detach().requires_grad_(true);
        torch::autograd::GradMode::set_enabled(true);
        x = m.captured.clone();
    }
    if (trace) m.traced[&mod] = x.sizes().vec();
    bool leaf = inf.kind != Kind::Sequential && inf.kind != Kind::VGG && inf.kind != Kind::ResNet &&
                inf.kind != Kind::Bottleneck && inf.kind != Kind::BasicBlock;
    if (trace && leaf && m.record_calls) m.calls.push_back(Call{&mod, inf.kind, in, x});
    return x;
}

}   // namespace

// ---------------------------------------------------------------------------------------------

void rebuild_tables(ft_model &m) {
    m.call_table.clear();   // made from the modules being replaced
    m.call_modules.clear();
    m.call_size = 0;
    m.node_modules.clear();
    m.node_strings.clear();
    m.nodes.clear();
    m.state_names.clear();
    m.state_tensors.clear();
    m.state_is_param.clear();
    walk(m, m.root, "", "", 0);
    // node_strings no longer moves: point the nodes at it
    for (size_t i = 0; i < m.nodes.size(); i++) {
        m.nodes[i].path = m.node_strings[4 * i].c_str();
        m.nodes[i].key = m.node_strings[4 * i + 1].c_str();
        m.nodes[i].type = m.node_strings[4 * i + 2].c_str();
        m.nodes[i].extra = m.node_strings[4 * i + 3].c_str();
    }
}

torch::Tensor run_module(ft_model &m, nn::Module &mod, torch::Tensor x, bool trace) {
    return run(m, mod, std::move(x), trace);
}

torch::Tensor run_backbone(ft_model &m, torch::Tensor x) {
    nn::Module &root = *m.root;
    if (m.family == FT_FAMILY_VGG) {
        x = run_child(m, root, "features", x, false);
        x = run_child(m, root, "avgpool", x, false);
    } else {
        for (const char *name : {"conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"})
            x = run_child(m, root, name, x, false);
    }
    return torch::flatten(x, 1);
}

torch::Tensor run_head(ft_model &m, torch::Tensor features) {
    return run_child(m, *m.root, head_name(m.family), std::move(features), false);
}

std::shared_ptr<nn::Module> find_module(ft_model &m, const std::string &path) {
    ModulePtr cur = m.root;
    size_t start = 0;
    while (!path.empty() && start <= path.size()) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        // named_children() returns a dict by value: keep it alive while its entry is read (found by
        // AddressSanitizer: the temporary died at the end of the statement that found the entry)
        auto children = cur->named_children();
        auto *next = children.find(part);
        if (!next) return nullptr;
        ModulePtr child = *next;
        cur = child;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

}   // namespace frost
