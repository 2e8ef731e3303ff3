/*
 * Per-call cost of CimStatPath from C, the baseline of bench/binding_overhead.sh. Prints one
 * line on stdout, "c <ns_per_call>" (best of 3 rounds after a warm-up); diagnostics on stderr.
 * Usage: stat_bench [--iterations N] [--raw] [--image BLOCKFILE CIMNAME PATH]
 *        stat_bench --create BLOCKFILE   (writes the benchmark image: CIM "layer.cim", "dir/file")
 *   --raw    accepted for symmetry with the other languages (C has no wrapper layer)
 *   --image  stat PATH in an existing single-file block CIM; by default a small one is created
 *            in a temporary directory and "dir/file" is stat'ed
 */
#define _POSIX_C_SOURCE 200809L
#include <opencim/cimfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void check(HRESULT hr, const char *what) {
    if (hr < 0) {
        fprintf(stderr, "stat_bench: %s: 0x%08x %s\n", what, (unsigned)hr, CimGetLastErrorMessage());
        exit(1);
    }
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile int64_t sink;

/* The benchmark image: single-file block CIM `name` with directory "dir" and 9-byte "dir/file". */
static void create_image(const char *block, const char *name) {
    CIMFS_IMAGE_HANDLE img;
    check(CimCreateImage2(block, CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM, NULL, name, &img),
          "create");
    CIMFS_FILE_METADATA md;
    memset(&md, 0, sizeof md);
    md.Attributes = 0x10;
    check(CimCreateFile(img, "dir", &md, NULL), "mkdir");
    md.Attributes = 0x20;
    md.FileSize = 9;
    CIMFS_STREAM_HANDLE s;
    check(CimCreateFile(img, "dir/file", &md, &s), "create file");
    check(CimWriteStream(s, "benchmark", 9), "write");
    check(CimCloseStream(s), "close stream");
    check(CimCommitImage(img), "commit");
    CimCloseImage(img);
}

static double loop(CIMFS_READER_HANDLE r, const char *path, long n) {
    CIMFS_FILE_INFO info;
    double t0 = now_ns();
    for (long i = 0; i < n; ++i) {
        info.Size = sizeof info;
        if (CimStatPath(r, path, &info) < 0) check(-1, "CimStatPath");
        sink += info.FileSize;
    }
    return now_ns() - t0;
}

int main(int argc, char **argv) {
    long iterations = 1000000;
    const char *block = NULL, *name = NULL, *path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
            iterations = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--create") && i + 1 < argc) {
            create_image(argv[i + 1], "layer.cim");
            return 0;
        } else if (!strcmp(argv[i], "--raw")) {
        } else if (!strcmp(argv[i], "--image") && i + 3 < argc) {
            block = argv[++i];
            name = argv[++i];
            path = argv[++i];
        } else {
            fprintf(stderr, "usage: stat_bench [--iterations N] [--raw] [--image BLOCKFILE CIMNAME PATH]\n");
            return 2;
        }
    }
    char tmpl[] = "/tmp/opencim-bench-c-XXXXXX", blockBuf[64];
    if (!block) {
        if (!mkdtemp(tmpl)) return 1;
        snprintf(blockBuf, sizeof blockBuf, "%s/bench.bcim", tmpl);
        block = blockBuf, name = "layer.cim", path = "dir/file";
        create_image(block, name);
    }
    CIMFS_READER_HANDLE r;
    check(CimOpenImage(block, name, CIM_MOUNT_SINGLE_FILE_CIM, &r), "open");
    loop(r, path, iterations / 10 > 10000 ? iterations / 10 : 10000);
    double best = 1e300;
    for (int round = 0; round < 3; ++round) {
        double t = loop(r, path, iterations);
        if (t < best) best = t;
    }
    CimCloseReader(r);
    fprintf(stderr, "c: %ld x CimStatPath(\"%s\"), best of 3\n", iterations, path);
    printf("c %.1f\n", best / (double)iterations);
    if (block == blockBuf) {
        unlink(blockBuf);
        rmdir(tmpl);
    }
    return 0;
}
