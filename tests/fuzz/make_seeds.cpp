// Writes the seed corpus for fuzz_image from real images built by the writer (run by
// tests/fuzz/run.sh and by `make_fuzz_seeds <dir>`), so seeds always match the current format.
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "block/block_image.h"
#include "image/create.h"
#include "opencim/cimfs.h"

using namespace cim;

namespace {
std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void fill(image::Writer& w, int variant) {
    image::FileMetadata dir;
    dir.attributes = 0x10;
    w.closeStream(w.createFile(parseImagePath("d"), dir));
    for (int i = 0; i < 3 + variant; ++i) {
        std::string data(static_cast<size_t>(i * 700 + variant * 3000), char('a' + i));
        image::FileMetadata md;
        md.attributes = 0x20;
        md.fileSize = static_cast<int64_t>(data.size());
        static const unsigned char sd[20] = {1, 0, 4, 0x80};
        md.securityDescriptor = std::as_bytes(std::span(sd));
        auto s = w.createFile(parseImagePath("d/f" + std::to_string(i)), md);
        w.write(s, std::as_bytes(std::span(data.data(), data.size())));
        w.closeStream(s);
    }
    w.createHardLink(parseImagePath("link"), parseImagePath("d/f1"));
    auto s = w.createAlternateStream(parseImagePath("d/f0:ads", StreamSyntax::required), 4);
    w.write(s, std::as_bytes(std::span("abcd", 4)));
    w.closeStream(s);
    if (variant) {
        w.tombstone(parseImagePath("gone"));
        w.createMergeLink(parseImagePath("ml"), parseImagePath("d/f0"));
    }
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    std::string out = argv[1];
    std::filesystem::create_directories(out);
    char t[] = "/tmp/opencim-seeds-XXXXXX";
    std::string tmp = mkdtemp(t);
    for (int v = 0; v < 2; ++v) {
        std::string sub = tmp + "/s" + std::to_string(v);
        std::filesystem::create_directories(sub);
        {
            auto w = image::createStandardImage(sub, nullptr, "t.cim", 0x10);
            fill(*w, v);
            w->commit();
        }
        std::string fs = slurp(sub + "/t.cim");
        std::string seed(1, '\0');
        uint32_t lens[4] = {static_cast<uint32_t>(fs.size()), 0, 0, 0};
        std::string regions;
        std::string id = std::filesystem::path(fs.size() ? "" : "").string();
        for (auto& e : std::filesystem::directory_iterator(sub)) {
            std::string n = e.path().filename();
            if (n.rfind("region_", 0) == 0) {
                int i = n.back() - '0';
                lens[i + 1] = static_cast<uint32_t>(e.file_size());
            }
        }
        seed.append(reinterpret_cast<const char*>(lens), sizeof lens);
        seed += fs;
        for (int i = 0; i < 3; ++i) {
            for (auto& e : std::filesystem::directory_iterator(sub)) {
                std::string n = e.path().filename();
                if (n.rfind("region_", 0) == 0 && n.back() - '0' == i) seed += slurp(e.path());
            }
        }
        std::ofstream(out + "/standard-" + std::to_string(v), std::ios::binary) << seed;
        {
            auto w = block::createBlockImage(sub + "/b.bcim", nullptr, "layer.cim", CIM_CREATE_IMAGE_SINGLE_FILE_CIM | 0x10);
            fill(*w, v);
            w->commit();
        }
        std::ofstream(out + "/block-" + std::to_string(v), std::ios::binary) << std::string(1, '\1') + slurp(sub + "/b.bcim");
    }
    std::filesystem::remove_all(tmp);
    return 0;
}
