// libFuzzer target: the image reader (standard v2 and block container) on hostile bytes.
// Input layout: byte 0 selects the form; the rest is either a whole block container, or a
// standard CIM split as [u32 fsLength][fs file][region 0][region 1]... with region lengths taken
// from the following u32s. Every API of the reader is exercised on whatever opens.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "common/error.h"
#include "format/guid.h"
#include "fuzz_exercise.h"
#include "fuzz_util.h"
#include "image/open.h"

namespace {

using fuzzutil::writeFile;
using fuzzutil::exercise;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    // A fresh directory per input: stale region files of earlier inputs must not be found.
    std::string dir = fuzzutil::freshDir("image");
    try {
        if (data[0] & 1) {
            writeFile(dir + "/c.bcim", data + 1, size - 1);
            auto c = cim::block::Container::open(dir + "/c.bcim");
            for (const auto& e : c->cims()) {
                try {
                    exercise(*cim::block::openBlock(c, e.name));
                } catch (const cim::Error&) {
                }
            }
        } else {
            // Standard CIM: fs file, then up to 3 regions named after the header's region set GUID.
            size_t pos = 1;
            auto take32 = [&]() -> uint32_t {
                if (size - pos < 4) return 0;
                uint32_t v;
                std::memcpy(&v, data + pos, 4);
                pos += 4;
                return v;
            };
            uint32_t lens[4];
            for (auto& l : lens) l = take32();
            if (size - pos < lens[0] || lens[0] < 72) return 0;
            const uint8_t* fs = data + pos;
            writeFile(dir + "/t.cim", fs, lens[0]);
            pos += lens[0];
            cim::format::Guid id;
            std::memcpy(id.bytes.data(), fs + 32, 16);
            for (int i = 0; i < 3; ++i) {
                size_t n = std::min<size_t>(lens[i + 1], size - pos);
                writeFile(dir + "/region_" + id.toString() + "_" + std::to_string(i), data + pos, n);
                pos += n;
            }
            exercise(*cim::image::openStandard(dir, "t.cim"));
        }
    } catch (const cim::Error&) {
    } catch (const std::bad_alloc&) {
    }
    return 0;
}
