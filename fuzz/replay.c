// SPDX-License-Identifier: Apache-2.0
/*
 * A main for fuzz targets outside libFuzzer: feeds every file named on the
 * command line (folders are walked one level) to LLVMFuzzerTestOneInput, so
 * the regular test run replays each corpus under the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    uint8_t *data = NULL;
    long size;
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        perror(path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);

    /* An exact-size copy lets AddressSanitizer see any over-read. */
    data = malloc(size > 0 ? (size_t)size : 1);
    if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: cannot read\n", path);
        fclose(f);
        free(data);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    free(data);
    return 0;
}

int
main(int argc, char **argv)
{
    int files = 0;
    int bad = 0;
    int i;

    for (i = 1; i < argc; i++) {
        struct stat st;
        DIR *dir;
        struct dirent *e;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad += run_file(argv[i]);
            files++;
            continue;
        }
        dir = opendir(argv[i]);
        while (dir != NULL && (e = readdir(dir)) != NULL) {
            char path[4096];

            if (e->d_name[0] == '.') {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            bad += run_file(path);
            files++;
        }
        if (dir != NULL) {
            closedir(dir);
        }
    }
    printf("replayed %d inputs\n", files);
    return bad == 0 && files > 0 ? 0 : 1;
}
