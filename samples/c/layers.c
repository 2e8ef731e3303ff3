/*
 * opencim C sample: write two block CIM layers, merge them, read the merged view back through
 * the reader API, then seal a verified layer and open it with its root hash.
 *
 *   cc -std=c99 layers.c -I<repo>/include -L<build> -lopencim -o layers && ./layers WORKDIR
 *
 * Every call returns an HRESULT (0 = success); on failure CimGetLastErrorMessage() says why.
 */
#include <opencim/cimfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stops the program with the library's message when a call fails. */
#define CHECK(call)                                                                             \
    do {                                                                                        \
        HRESULT hr_ = (call);                                                                   \
        if (hr_ < 0) {                                                                          \
            fprintf(stderr, "%s failed: 0x%08x: %s\n", #call, (unsigned)hr_, CimGetLastErrorMessage()); \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

#define FILE_ATTRIBUTE_DIRECTORY 0x10u
#define FILE_ATTRIBUTE_ARCHIVE 0x20u

static char work[4096];

static const char *in_work(const char *name) {
    static char buf[8][4200];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", work, name);
    return p;
}

static void add_dir(CIMFS_IMAGE_HANDLE img, const char *path) {
    CIMFS_FILE_METADATA md;
    memset(&md, 0, sizeof md);
    md.Attributes = FILE_ATTRIBUTE_DIRECTORY;
    CHECK(CimCreateFile(img, path, &md, NULL));
}

static void add_file(CIMFS_IMAGE_HANDLE img, const char *path, const char *text) {
    CIMFS_FILE_METADATA md;
    memset(&md, 0, sizeof md);
    md.Attributes = FILE_ATTRIBUTE_ARCHIVE;
    md.FileSize = (int64_t)strlen(text);
    md.LastWriteTime = 133000000000000000; /* a FILETIME: 100 ns ticks since 1601 */
    CIMFS_STREAM_HANDLE s = NULL;
    CHECK(CimCreateFile(img, path, &md, &s));
    CHECK(CimWriteStream(s, text, (uint32_t)strlen(text)));
    CHECK(CimCloseStream(s));
}

/* Creates single-file block CIM "layer.cim" in block file `block`. */
static CIMFS_IMAGE_HANDLE new_layer(const char *block, uint32_t extraFlags) {
    CIMFS_IMAGE_HANDLE img = NULL;
    CHECK(CimCreateImage2(block, CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM | extraFlags, NULL,
                          "layer.cim", &img));
    return img;
}

static void commit(CIMFS_IMAGE_HANDLE img) {
    CHECK(CimCommitImage(img));
    CimCloseImage(img);
}

static void print_file(const char *label, CIMFS_READER_HANDLE r, const char *path) {
    CIMFS_FILE_INFO info;
    memset(&info, 0, sizeof info);
    info.Size = sizeof info;
    HRESULT hr = CimStatPath(r, path, &info);
    if (hr < 0) {
        printf("%s %s: error 0x%08x\n", label, path, (unsigned)hr);
        return;
    }
    char buf[256];
    uint32_t n = 0;
    CHECK(CimReadFile(r, path, 0, buf, sizeof buf - 1, &n));
    buf[n] = '\0';
    printf("%s %s (%lld bytes): %s\n", label, path, (long long)info.FileSize, buf);
}

static void list_dir(CIMFS_READER_HANDLE r, const char *path) {
    printf("listing /%s:", path);
    for (uint32_t i = 0;; ++i) {
        char name[256];
        uint32_t size = sizeof name;
        CIMFS_FILE_INFO info;
        memset(&info, 0, sizeof info);
        info.Size = sizeof info;
        HRESULT hr = CimEnumerateDirectory(r, path, i, name, &size, &info);
        if (hr == (HRESULT)0x80070012) break; /* ERROR_NO_MORE_FILES */
        CHECK(hr);
        printf(" %s%s", name, (info.Attributes & FILE_ATTRIBUTE_DIRECTORY) ? "/" : "");
    }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
        return 2;
    }
    snprintf(work, sizeof work, "%s", argv[1]);

    /* 1. Two layers. The top layer overrides a file, deletes one (tombstone) and adds one. */
    CIMFS_IMAGE_HANDLE base = new_layer(in_work("base.bcim"), 0);
    add_file(base, "hello.txt", "hello from the base layer");
    add_dir(base, "etc");
    add_file(base, "etc/config", "setting=base");
    add_file(base, "old.txt", "deleted by the top layer");
    commit(base);

    CIMFS_IMAGE_HANDLE top = new_layer(in_work("top.bcim"), 0);
    add_dir(top, "etc");
    add_file(top, "etc/config", "setting=top");
    add_file(top, "new.txt", "added by the top layer");
    CHECK(CimTombstoneFile(top, "old.txt"));
    commit(top);
    printf("wrote layers base.bcim and top.bcim\n");

    /* 2. Merge: sources topmost first; the source string is "<block file>/<cim name>". */
    CIMFS_IMAGE_HANDLE merged = NULL;
    CHECK(CimCreateImage2(in_work("merged.bcim"), CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM, NULL,
                          "merged.cim", &merged));
    CHECK(CimAddFsToMergedImage2(merged, in_work("top.bcim/layer.cim"), CIM_MERGE_SINGLE_FILE));
    CHECK(CimAddFsToMergedImage2(merged, in_work("base.bcim/layer.cim"), CIM_MERGE_SINGLE_FILE));
    commit(merged);
    printf("merged 2 layers into merged.bcim\n");

    /* 3. Read the merged view: [merged, topmost, ..., base], in the order of the merge. */
    CIMFS_IMAGE_PATH paths[3] = {
        {in_work("merged.bcim"), "merged.cim"},
        {in_work("top.bcim"), "layer.cim"},
        {in_work("base.bcim"), "layer.cim"},
    };
    CIMFS_READER_HANDLE r = NULL;
    CHECK(CimOpenMergedImage(3, paths, CIM_MOUNT_SINGLE_FILE_CIM, &r));
    list_dir(r, "");
    print_file("merged", r, "hello.txt");
    print_file("merged", r, "etc/config");
    print_file("merged", r, "new.txt");
    CIMFS_FILE_INFO info;
    memset(&info, 0, sizeof info);
    info.Size = sizeof info;
    HRESULT hr = CimStatPath(r, "old.txt", &info);
    printf("merged old.txt: 0x%08x (%s)\n", (unsigned)hr, CimGetLastErrorMessage());
    CimCloseReader(r);

    /* 4. A verified layer: create with VERIFIED, commit, seal, open with the root hash. */
    CIMFS_IMAGE_HANDLE v = new_layer(in_work("verified.bcim"), CIM_CREATE_IMAGE_VERIFIED_CIM);
    add_file(v, "app.bin", "integrity-protected content");
    commit(v);
    uint8_t hash[32];
    uint64_t hashSize = 0, fixedHeader = 0;
    CHECK(CimSealImage(in_work("verified.bcim"), &hashSize, &fixedHeader, hash));
    printf("sealed verified.bcim, root hash ");
    for (int i = 0; i < 32; ++i) printf("%02x", hash[i]);
    printf("\n");

    CHECK(CimOpenVerifiedImage(in_work("verified.bcim"), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, hash, &r));
    print_file("verified", r, "app.bin");
    CimCloseReader(r);

    hash[0] ^= 0xff;
    hr = CimOpenVerifiedImage(in_work("verified.bcim"), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, hash, &r);
    printf("wrong root hash: 0x%08x (%s)\n", (unsigned)hr, CimGetLastErrorMessage());
    return hr == (HRESULT)0x80070143 ? 0 : 1;
}
