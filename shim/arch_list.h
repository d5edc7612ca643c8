/* arch_list.h — the architectures frost builds, as one list read by the C++ shim (model_build.cpp,
 * how to build each) and by its C loader (torch_load.c: the names and families, answered without
 * loading libtorch, so that help, completions and option checks stay light).
 *
 * FROST_ARCH(name, family, config, batch_norm): config is VGG's index into torchvision's cfgs
 * ("A", "B", "D", "E") or ResNet's depth; batch_norm is for VGG only. */
#ifndef FROST_ARCH_LIST_H
#define FROST_ARCH_LIST_H

#define FROST_ARCHS(FROST_ARCH)                       \
    FROST_ARCH("vgg11", FT_FAMILY_VGG, 0, 0)          \
    FROST_ARCH("vgg11_bn", FT_FAMILY_VGG, 0, 1)       \
    FROST_ARCH("vgg13", FT_FAMILY_VGG, 1, 0)          \
    FROST_ARCH("vgg13_bn", FT_FAMILY_VGG, 1, 1)       \
    FROST_ARCH("vgg16", FT_FAMILY_VGG, 2, 0)          \
    FROST_ARCH("vgg16_bn", FT_FAMILY_VGG, 2, 1)       \
    FROST_ARCH("vgg19", FT_FAMILY_VGG, 3, 0)          \
    FROST_ARCH("vgg19_bn", FT_FAMILY_VGG, 3, 1)       \
    FROST_ARCH("resnet18", FT_FAMILY_RESNET, 18, 0)   \
    FROST_ARCH("resnet34", FT_FAMILY_RESNET, 34, 0)   \
    FROST_ARCH("resnet50", FT_FAMILY_RESNET, 50, 0)   \
    FROST_ARCH("resnet101", FT_FAMILY_RESNET, 101, 0) \
    FROST_ARCH("resnet152", FT_FAMILY_RESNET, 152, 0)

#endif
