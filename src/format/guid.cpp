#include "format/guid.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include "common/sha256.h"

#include <random>

namespace cim::format {

std::string Guid::toString() const {
    uint32_t d1;
    uint16_t d2, d3;
    std::memcpy(&d1, bytes.data(), 4);
    std::memcpy(&d2, bytes.data() + 4, 2);
    std::memcpy(&d3, bytes.data() + 6, 2);
    return fmt::format("{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", d1, d2, d3, bytes[8],
                       bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
}

std::optional<Guid> Guid::parse(std::string_view t) {
    if (t.size() == 38 && t.front() == '{' && t.back() == '}') t = t.substr(1, 36);
    if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    uint8_t raw[16];
    size_t k = 0;
    for (size_t i = 0; i < t.size();) {
        if (t[i] == '-') {
            ++i;
            continue;
        }
        int h = hex(t[i]), l = hex(t[i + 1]);
        if (h < 0 || l < 0) return std::nullopt;
        raw[k++] = static_cast<uint8_t>(h * 16 + l);
        i += 2;
    }
    // raw is big-endian text order; Data1..3 are stored little-endian.
    Guid g;
    const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; ++i) g.bytes[i] = raw[order[i]];
    return g;
}

Guid Guid::random() {
    Guid g;
    if (RAND_bytes(g.bytes.data(), 16) != 1) {
        std::random_device rd;
        for (auto& b : g.bytes) b = static_cast<uint8_t>(rd());
    }
    g.bytes[7] = static_cast<uint8_t>((g.bytes[7] & 0x0F) | 0x40);  // version 4 (Data3 high nibble)
    g.bytes[8] = static_cast<uint8_t>((g.bytes[8] & 0x3F) | 0x80);
    return g;
}

Guid Guid::fromContent(const void* data, size_t size) {
    auto digest = Sha256::of(data, size);
    Guid g;
    std::memcpy(g.bytes.data(), digest.data(), 16);
    g.bytes[7] = static_cast<uint8_t>((g.bytes[7] & 0x0F) | 0x50);  // version 5 style
    g.bytes[8] = static_cast<uint8_t>((g.bytes[8] & 0x3F) | 0x80);
    return g;
}

}  // namespace cim::format
