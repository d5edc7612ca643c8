/*
 * folder_walk.h — every image file below a folder, found the way torchvision's ImageFolder finds
 * them: sorted(os.walk(dir, followlinks=True)), each folder's file names sorted, a file kept when
 * its extension is one of torchvision's IMG_EXTENSIONS (any case).
 *
 * Sorting os.walk sorts the folders by their whole path string, which is not a depth-first order
 * ("cls/a b" < "cls/a/x" < "cls/a0"): every folder is collected with its files, the folders are
 * sorted by path with strcmp (Python's order for UTF-8 names), then their files are emitted.
 *
 * Where it differs from os.walk, on purpose: names starting with '.' are skipped (.ipynb_checkpoints,
 * macOS "._x.jpg"); a symbolic link loop (a folder that contains itself) is recorded and not
 * entered, where os.walk would recurse until the path is too long; so are broken links with an
 * image's name and folders that cannot be opened. Those go to `skipped` with the reason.
 */
#ifndef FROST_FOLDER_WALK_H
#define FROST_FOLDER_WALK_H

#include <stddef.h>

#include "badfiles.h"

#define FOLDER_WALK_EXTENSIONS ".jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp"

typedef struct {
    char **paths;   // dir + "/" + ..., allocated; the caller may take them (set the entry to NULL)
    size_t n;
} folder_files;

// Adds every image file below dir to *out (appending to what it holds). 0, or -1 when memory ran
// out (out keeps what it had gathered; free it with folder_files_free).
int folder_walk_images(const char *dir, badfile_list *skipped, folder_files *out);
void folder_files_free(folder_files *f);   // frees the paths still held; accepts a zeroed struct

// Does the name end in one of torchvision's image extensions (any case)?
int folder_is_image_name(const char *name);

#endif
