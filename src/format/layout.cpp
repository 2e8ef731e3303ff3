#include "format/layout.h"

namespace cim::format {

CommonHeader makeCommonHeader(FileType type, uint32_t headerLength, uint32_t major) {
    CommonHeader h{};
    std::memcpy(h.magic, kMagic, sizeof(kMagic));
    h.headerLength = headerLength;
    h.type = static_cast<uint8_t>(type);
    h.version = {major, 0};
    return h;
}

}  // namespace cim::format
