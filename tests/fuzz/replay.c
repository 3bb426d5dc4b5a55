/* A main() for a fuzz target without libFuzzer: the plain build's test of
 * the committed corpus. Feeds the empty input, then every file named on the
 * command line or found (sorted, dotfiles skipped) in a folder named there,
 * through LLVMFuzzerTestOneInput once each. A property that fails aborts;
 * a file that cannot be read fails the run, and so does a missing path,
 * unless it follows --optional (a target's regressions, before it has any).
 *   fuzz_replay_url tests/fuzz/corpus/url --optional tests/fuzz/regressions/url */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static size_t replayed;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    /* an exact-size copy, so a read past the end is one AddressSanitizer sees */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    replayed++;
    return 0;
}

static int visible(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st)) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path);
    struct dirent **list = NULL;
    int n = scandir(path, &list, visible, alphasort);
    if (n < 0) {
        perror(path);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(list[i]->d_name) + 2;
        char *file = malloc(len);
        if (!file || (snprintf(file, len, "%s/%s", path, list[i]->d_name), replay_path(file)))
            rc = -1;
        free(file);
        free(list[i]);
    }
    free(list);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    replayed++;
    int optional = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (!strcmp(argv[i], "--optional"))
            optional = 1;
        else if (!(optional && stat(argv[i], &st)) && replay_path(argv[i]))
            rc = 1;
    }
    printf("%s: %zu inputs replayed%s\n", argv[0], replayed, rc ? ", some unreadable" : "");
    return rc;
}
