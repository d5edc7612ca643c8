/*
 * path.h — file names put together and asked about, the same way everywhere in frost.
 */
#ifndef FROST_PATH_H
#define FROST_PATH_H

#include <stddef.h>

// dir + "/" + name, with dir's trailing slashes dropped first ("a/" + "b" is "a/b"; "/" + "b" is
// "/b"; "" + "b" is "b"). Allocated (free it); NULL when out of memory.
char *path_join(const char *dir, const char *name);

// path_join into out (len bytes): 0, or -1 when it does not fit (out then holds "").
int path_join_to(char *out, size_t len, const char *dir, const char *name);

// 1 when path names a folder (following symbolic links), else 0.
int path_is_dir(const char *path);

// The size of the regular file path names (following symbolic links), or -1 when it names none.
long long path_file_size(const char *path);

// The part after the last '/' (the whole string when there is none); points into path.
const char *path_base(const char *path);

// The folder holding path: what comes before its last '/' ("." when there is none, "/" for "/x").
// Allocated (free it); NULL when out of memory.
char *path_folder(const char *path);

// The first of the candidates (paths relative to the folder holding the running program, NULL-ended)
// for which accept(path) is 1, into out (len bytes): 0; -1 when none is (out then holds ""). How frost
// finds what is installed beside it: the themes, the translations.
int path_beside_program(char *out, size_t len, const char *const *candidates, int (*accept)(const char *path));

// Makes the folder and those above it that are missing (mkdir -p, mode 0755): 0, or -1 with errno.
int path_mkdirs(const char *dir);

#endif
