// A GUID as stored on disk (Windows byte order) and its text form.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace cim::format {

struct Guid {
    std::array<uint8_t, 16> bytes{};  // Data1/2/3 little-endian, Data4 as bytes

    // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase, no braces (hcsshim's GUID.String()).
    std::string toString() const;
    static std::optional<Guid> parse(std::string_view text);  // accepts optional braces, any case
    static Guid random();
    // Name-based GUID from a digest of content (first 16 bytes of SHA-256, RFC 4122 v5-style bits).
    static Guid fromContent(const void* data, size_t size);
    bool operator==(const Guid&) const = default;
};

}  // namespace cim::format
