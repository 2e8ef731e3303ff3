/* Checks the exact struct layouts the ABI contract fixes (spec/c-abi.md). */
#include <opencim/cimfs.h>
#include <stddef.h>
#include <stdio.h>

static int failures = 0;
#define CHECK(expr)                                              \
    do {                                                         \
        if (!(expr)) {                                           \
            fprintf(stderr, "layout check failed: %s\n", #expr); \
            ++failures;                                          \
        }                                                        \
    } while (0)

int main(void) {
    CHECK(sizeof(CIMFS_FILE_METADATA) == 96);
    CHECK(offsetof(CIMFS_FILE_METADATA, Attributes) == 0);
    CHECK(offsetof(CIMFS_FILE_METADATA, FileSize) == 8);
    CHECK(offsetof(CIMFS_FILE_METADATA, CreationTime) == 16);
    CHECK(offsetof(CIMFS_FILE_METADATA, LastWriteTime) == 24);
    CHECK(offsetof(CIMFS_FILE_METADATA, ChangeTime) == 32);
    CHECK(offsetof(CIMFS_FILE_METADATA, LastAccessTime) == 40);
    CHECK(offsetof(CIMFS_FILE_METADATA, SecurityDescriptorBuffer) == 48);
    CHECK(offsetof(CIMFS_FILE_METADATA, SecurityDescriptorSize) == 56);
    CHECK(offsetof(CIMFS_FILE_METADATA, ReparseDataBuffer) == 64);
    CHECK(offsetof(CIMFS_FILE_METADATA, ReparseDataSize) == 72);
    CHECK(offsetof(CIMFS_FILE_METADATA, ExtendedAttributes) == 80);
    CHECK(offsetof(CIMFS_FILE_METADATA, EACount) == 88);
    CHECK(sizeof(CIMFS_GUID) == 16);
    CHECK(offsetof(CIMFS_GUID, Data2) == 4);
    CHECK(offsetof(CIMFS_GUID, Data3) == 6);
    CHECK(offsetof(CIMFS_GUID, Data4) == 8);
    CHECK(sizeof(CIMFS_IMAGE_PATH) == 16);
    CHECK(offsetof(CIMFS_IMAGE_PATH, ImageName) == 8);
    CHECK(sizeof(CIMFS_FILE_INFO) == 64);
    CHECK(offsetof(CIMFS_FILE_INFO, FileId) == 8);
    CHECK(offsetof(CIMFS_FILE_INFO, FileSize) == 16);
    CHECK(offsetof(CIMFS_FILE_INFO, LinkCount) == 56);
    CHECK(offsetof(CIMFS_FILE_INFO, ReparseTag) == 60);
    CHECK(sizeof(HRESULT) == 4);
    CHECK(sizeof(CIMFS_IMPORT_OPTIONS) == 40);
    CHECK(offsetof(CIMFS_IMPORT_OPTIONS, MaxUncompressedBytes) == 16);
    CHECK(offsetof(CIMFS_IMPORT_OPTIONS, NumParentLayers) == 24);
    CHECK(offsetof(CIMFS_IMPORT_OPTIONS, ParentLayers) == 32);
    CHECK(sizeof(CIMFS_IMPORT_RESULT) == 56);
    CHECK(offsetof(CIMFS_IMPORT_RESULT, Entries) == 8);
    CHECK(offsetof(CIMFS_IMPORT_RESULT, RootHash) == 24);
    printf("%d passed, %d failed\n", 32 - failures, failures);
    return failures != 0;
}
