#include "format/ea.h"

#include <cstring>

#include "common/error.h"

namespace cim::format {

std::vector<ExtendedAttribute> parseEaChain(std::span<const std::byte> b, int32_t code) {
    std::vector<ExtendedAttribute> out;
    size_t pos = 0;
    while (pos < b.size()) {
        if (b.size() - pos < 8) throw Error(code, fmt::format("EA entry at {} is truncated", pos));
        uint32_t next;
        std::memcpy(&next, b.data() + pos, 4);
        uint8_t flags = static_cast<uint8_t>(b[pos + 4]);
        uint8_t nameLen = static_cast<uint8_t>(b[pos + 5]);
        uint16_t valueLen;
        std::memcpy(&valueLen, b.data() + pos + 6, 2);
        size_t need = 8 + size_t(nameLen) + 1 + valueLen;
        if (need > b.size() - pos) throw Error(code, fmt::format("EA entry at {} ({} bytes) overruns the buffer", pos, need));
        if (nameLen == 0) throw Error(code, fmt::format("EA entry at {} has an empty name", pos));
        if (b[pos + 8 + nameLen] != std::byte{0}) throw Error(code, fmt::format("EA name at {} is not NUL-terminated", pos));
        ExtendedAttribute ea;
        ea.flags = flags;
        ea.name.assign(reinterpret_cast<const char*>(b.data() + pos + 8), nameLen);
        ea.value.assign(b.data() + pos + 9 + nameLen, b.data() + pos + 9 + nameLen + valueLen);
        out.push_back(std::move(ea));
        if (next == 0) break;
        if (next < need || next > b.size() - pos) throw Error(code, fmt::format("EA entry at {} has a bad next offset {}", pos, next));
        pos += next;
    }
    return out;
}

std::vector<std::byte> buildEaChain(const std::vector<ExtendedAttribute>& eas) {
    std::vector<std::byte> out;
    for (size_t i = 0; i < eas.size(); ++i) {
        const auto& ea = eas[i];
        if (ea.name.empty() || ea.name.size() > 254 || ea.value.size() > 0xFFFF) {
            fail(hr::invalidArg, "extended attribute '{}' has an invalid name or value size", ea.name);
        }
        size_t start = out.size();
        size_t len = 8 + ea.name.size() + 1 + ea.value.size();
        size_t padded = (len + 3) & ~size_t(3);
        out.resize(start + padded);
        uint32_t next = i + 1 < eas.size() ? static_cast<uint32_t>(padded) : 0;
        std::memcpy(out.data() + start, &next, 4);
        out[start + 4] = std::byte{ea.flags};
        out[start + 5] = static_cast<std::byte>(ea.name.size());
        uint16_t vl = static_cast<uint16_t>(ea.value.size());
        std::memcpy(out.data() + start + 6, &vl, 2);
        std::memcpy(out.data() + start + 8, ea.name.data(), ea.name.size());
        if (!ea.value.empty()) std::memcpy(out.data() + start + 9 + ea.name.size(), ea.value.data(), ea.value.size());
    }
    if (out.size() > 0xFFFF) fail(hr::invalidArg, "extended attributes of {} bytes exceed the 65535-byte limit", out.size());
    return out;
}

}  // namespace cim::format
