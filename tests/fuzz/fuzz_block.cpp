// libFuzzer target: block containers on hostile files — header, directory, CIM descriptors,
// source records, seal records and dm-verity superblocks/trees — through every way opencim opens
// or touches one:
//   Container::open (plain, and verified against a root hash taken from the input: a seed that
//   carries the right root reaches the verified read path, a mutated one the mismatch paths),
//   openBlock on every CIM, openMerged over three containers (merged CIM + 2 sources),
//   verificationInfo, sealContainer on a writable copy, and a writer appending one more CIM to
//   the hostile container (createBlockImage on an existing file), then reading it back.
// Input: u8 mode, 32-byte root hash, then either one container (the rest) or, in merged mode,
// [u32 len][container 0][u32 len][container 1][container 2 = the rest].
//   mode bit 0: verified open with the root hash; bit 1: merged; bit 2: append a CIM;
//   bit 3: seal a copy then open it verified with the returned root; bit 4: writer flags verified.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "block/block_image.h"
#include "block/seal.h"
#include "common/error.h"
#include "common/path.h"
#include "fuzz_exercise.h"
#include "fuzz_util.h"
#include "opencim/cimfs.h"

using namespace cim;

namespace {

void openAll(const std::string& path, const block::Hash* root) {
    auto c = block::Container::open(path, root);
    size_t n = 0;
    for (const auto& e : c->cims()) {
        if (++n > 8) break;
        try {
            (void)c->descriptor(e);
            fuzzutil::exercise(*block::openBlock(c, e.name), 500);
        } catch (const Error&) {
        }
    }
}

std::string firstName(const std::string& path) {
    try {
        auto c = block::Container::open(path);
        if (!c->cims().empty()) return c->cims()[0].name;
    } catch (const Error&) {
    }
    return "x";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzzutil::Input in{data, size};
    uint8_t mode = in.take<uint8_t>();
    block::Hash root{};
    std::string r = in.bytes(32);
    std::memcpy(root.data(), r.data(), r.size());
    std::string dir = fuzzutil::freshDir("block");
    std::string p0 = dir + "/c0.bcim";
    try {
        if (mode & 2) {
            std::string c0 = in.bytes(in.take<uint32_t>());
            std::string c1 = in.bytes(in.take<uint32_t>());
            std::string c2 = in.rest();
            fuzzutil::writeFile(p0, reinterpret_cast<const uint8_t*>(c0.data()), c0.size());
            fuzzutil::writeFile(dir + "/c1.bcim", reinterpret_cast<const uint8_t*>(c1.data()), c1.size());
            fuzzutil::writeFile(dir + "/c2.bcim", reinterpret_cast<const uint8_t*>(c2.data()), c2.size());
            std::vector<std::pair<std::string, std::string>> paths;
            for (int i = 0; i < 3; ++i) {
                std::string p = dir + "/c" + std::to_string(i) + ".bcim";
                paths.emplace_back(p, firstName(p));
            }
            try {
                fuzzutil::exercise(*block::openMerged(paths, (mode & 1) ? &root : nullptr), 500);
            } catch (const Error&) {
            }
        } else {
            std::string c0 = in.rest();
            fuzzutil::writeFile(p0, reinterpret_cast<const uint8_t*>(c0.data()), c0.size());
        }
        try {
            openAll(p0, (mode & 1) ? &root : nullptr);
        } catch (const Error&) {
        }
        try {
            (void)block::verificationInfo(p0);
        } catch (const Error&) {
        }
        if (mode & 8) {
            try {
                block::Hash sealed = block::sealContainer(p0, 1);
                openAll(p0, &sealed);
            } catch (const Error&) {
            }
        }
        if (mode & 4) {
            uint32_t flags = CIM_CREATE_IMAGE_SINGLE_FILE_CIM | ((mode & 16) ? CIM_CREATE_IMAGE_VERIFIED_CIM : 0);
            try {
                auto w = block::createBlockImage(p0, nullptr, "appended.cim", flags);
                image::FileMetadata md;
                md.attributes = 0x20;
                md.fileSize = 3;
                uint64_t s = w->createFile(parseImagePath("new"), md);
                w->write(s, std::as_bytes(std::span("abc", 3)));
                w->closeStream(s);
                w->commit();
            } catch (const Error&) {
            }
            openAll(p0, nullptr);
        }
    } catch (const Error&) {
    } catch (const std::bad_alloc&) {
    }
    return 0;
}
