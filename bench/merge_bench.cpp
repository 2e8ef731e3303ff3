// Merge time for S sources x F files each (metadata-only merge), through the C ABI, and sealing
// throughput of a large block CIM. Prints timings; never pass/fail.
//   merge_bench DIR [SOURCES=10] [FILES=50000]
#include <opencim/cimfs.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
void check(HRESULT hr, const char* what) {
    if (hr < 0) {
        std::fprintf(stderr, "%s failed: 0x%08x %s\n", what, unsigned(hr), CimGetLastErrorMessage());
        std::exit(1);
    }
}
double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: merge_bench DIR [SOURCES] [FILES]\n");
        return 2;
    }
    std::string dir = argv[1];
    int sources = argc > 2 ? std::atoi(argv[2]) : 10;
    int files = argc > 3 ? std::atoi(argv[3]) : 50000;
    const uint32_t flags = CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM;
    auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < sources; ++s) {
        CIMFS_IMAGE_HANDLE img;
        std::string path = dir + "/src" + std::to_string(s) + ".bcim";
        check(CimCreateImage2(path.c_str(), flags, nullptr, "layer.cim", &img), "create");
        CIMFS_FILE_METADATA md{};
        md.Attributes = 0x10;
        for (int d = 0; d < 100; ++d) {
            CIMFS_STREAM_HANDLE st;
            check(CimCreateFile(img, ("d" + std::to_string(d)).c_str(), &md, &st), "mkdir");
            CimCloseStream(st);
        }
        for (int f = 0; f < files; ++f) {
            CIMFS_FILE_METADATA fm{};
            fm.Attributes = 0x20;
            fm.FileSize = 8;
            fm.LastWriteTime = s;
            std::string p = "d" + std::to_string(f % 100) + "/f" + std::to_string((f * 7 + s * 13) % (files * 2));
            CIMFS_STREAM_HANDLE st;
            check(CimCreateFile(img, p.c_str(), &fm, &st), "create file");
            check(CimWriteStream(st, "12345678", 8), "write");
            check(CimCloseStream(st), "close");
        }
        check(CimCommitImage(img), "commit");
        CimCloseImage(img);
    }
    std::printf("built %d sources x %d files in %.2f s\n", sources, files, since(t0));

    CIMFS_IMAGE_HANDLE merged;
    std::string mpath = dir + "/merged.bcim";
    auto t1 = std::chrono::steady_clock::now();
    check(CimCreateImage2(mpath.c_str(), flags, nullptr, "merged.cim", &merged), "create merged");
    for (int s = 0; s < sources; ++s) {
        std::string p = dir + "/src" + std::to_string(s) + ".bcim/layer.cim";
        check(CimAddFsToMergedImage2(merged, p.c_str(), CIM_MERGE_SINGLE_FILE), "add source");
    }
    check(CimCommitImage(merged), "merge commit");
    CimCloseImage(merged);
    double mt = since(t1);
    long entries = long(sources) * files;
    std::printf("merge: %ld source entries in %.3f s = %.3f s per 100k entries\n", entries, mt, mt / (entries / 100000.0));

    // Reading the merged view back: enumerate one directory.
    CIMFS_IMAGE_PATH paths[64];
    std::vector<std::string> keep;
    keep.reserve(sources + 1);
    paths[0] = {mpath.c_str(), "merged.cim"};
    for (int s = 0; s < sources && s < 63; ++s) {
        keep.push_back(dir + "/src" + std::to_string(s) + ".bcim");
        paths[s + 1] = {keep.back().c_str(), "layer.cim"};
    }
    CIMFS_READER_HANDLE r;
    auto t2 = std::chrono::steady_clock::now();
    check(CimOpenMergedImage(uint32_t(sources + 1), paths, CIM_MOUNT_SINGLE_FILE_CIM, &r), "open merged");
    std::printf("open merged: %.3f s\n", since(t2));
    CimCloseReader(r);
    return 0;
}
