// Time from "rootfs mount" to the first file read for a 10-layer image with 100,000 entries:
// first container (merge included) and second container (merged CIM cached).
//   rootfs_bench DIR [LAYERS=10] [ENTRIES=100000]
#include <opencim/cimfs.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

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
    if (argc < 2) return 2;
    std::string dir = argv[1];
    int layers = argc > 2 ? std::atoi(argv[2]) : 10;
    int entries = argc > 3 ? std::atoi(argv[3]) : 100000;
    int perLayer = entries / layers;
    setenv("OPENCIM_MOUNT_ROOT", (dir + "/volumes").c_str(), 1);
    setenv("OPENCIM_STATE_DIR", (dir + "/state").c_str(), 1);
    std::string json = "{\"layers\": [";
    for (int l = layers - 1; l >= 0; --l) {  // topmost first
        std::string path = dir + "/layer" + std::to_string(l) + ".bcim";
        CIMFS_IMAGE_HANDLE img;
        check(CimCreateImage2(path.c_str(), CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM, nullptr,
                              "layer.cim", &img),
              "create");
        CIMFS_FILE_METADATA d{};
        d.Attributes = 0x10;
        for (int k = 0; k < 100; ++k) {
            CIMFS_STREAM_HANDLE s;
            check(CimCreateFile(img, ("dir" + std::to_string(k)).c_str(), &d, &s), "mkdir");
            CimCloseStream(s);
        }
        for (int i = 0; i < perLayer - 100; ++i) {
            CIMFS_FILE_METADATA f{};
            f.Attributes = 0x20;
            f.FileSize = 16;
            CIMFS_STREAM_HANDLE s;
            std::string p = "dir" + std::to_string(i % 100) + "/l" + std::to_string(l) + "_" + std::to_string(i);
            check(CimCreateFile(img, p.c_str(), &f, &s), "file");
            check(CimWriteStream(s, "0123456789abcdef", 16), "write");
            check(CimCloseStream(s), "close");
        }
        check(CimCommitImage(img), "commit");
        CimCloseImage(img);
        json += std::string(l == layers - 1 ? "" : ", ") + "{\"blockPath\": \"" + path + "\", \"cimName\": \"layer.cim\"}";
    }
    json += "], \"mergedCacheDir\": \"" + dir + "/cache\"}";
    std::printf("%d layers x %d entries\n", layers, perLayer);
    for (const char* id : {"bench-first", "bench-cached"}) {
        char path[1024];
        uint32_t size = sizeof path;
        auto t0 = std::chrono::steady_clock::now();
        check(CimMountContainerRootfs(id, json.c_str(), path, &size), "mount");
        std::ifstream in(std::string(path) + "/dir7/l0_7");
        std::string data((std::istreambuf_iterator<char>(in)), {});
        double t = since(t0);
        if (data != "0123456789abcdef") {
            std::fprintf(stderr, "unexpected content '%s'\n", data.c_str());
            return 1;
        }
        std::printf("%-13s mount -> first read: %.3f s\n", id, t);
    }
    check(CimCleanupContainerRootfs("bench-first"), "cleanup");
    check(CimCleanupContainerRootfs("bench-cached"), "cleanup");
    return 0;
}
