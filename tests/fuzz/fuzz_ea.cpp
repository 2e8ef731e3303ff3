// libFuzzer target: extended-attribute chains (FILE_FULL_EA_INFORMATION) as stored in CIMs —
// cim::format::parseEaChain, the Linux metadata decoders built on it (the FUSE view's
// fuse::linuxMetadata, the exporter's layer::parseLinuxEas) and the $XATTR.* name decoding.
// Property: a chain that parses re-encodes (buildEaChain) to a chain that parses to the same EAs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "format/ea.h"
#include "fuse/posix_view.h"
#include "layer/linux_ea.h"

using namespace cim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const std::byte> b(reinterpret_cast<const std::byte*>(data), size);
    std::vector<format::ExtendedAttribute> eas;
    try {
        eas = format::parseEaChain(b, hr::corrupt);
    } catch (const Error& e) {
        if (e.code() != hr::corrupt) std::abort();  // the caller's code, always
        eas.clear();
    }
    if (!eas.empty()) {
        (void)fuse::linuxMetadata(eas);
        for (const auto& ea : eas) {
            (void)fuse::isLinuxMetadataEa(ea.name);
            try {
                (void)layer::decodeXattrEaName(ea.name);
            } catch (const Error&) {
            }
        }
        std::vector<std::byte> again;
        try {
            again = format::buildEaChain(eas);
        } catch (const Error&) {
            again.clear();  // e.g. a 255-byte name: readable, but not writable
        }
        if (!again.empty()) {
            auto re = format::parseEaChain(again, hr::corrupt);
            bool same = re.size() == eas.size();
            for (size_t i = 0; same && i < re.size(); ++i) {
                same = re[i].name == eas[i].name && re[i].value == eas[i].value && re[i].flags == eas[i].flags;
            }
            if (!same) {
                std::fprintf(stderr, "EA chain does not survive buildEaChain/parseEaChain\n");
                std::abort();
            }
        }
    }
    try {
        auto md = layer::parseLinuxEas(b, "fuzz");
        (void)md;
    } catch (const Error&) {
    }
    return 0;
}
