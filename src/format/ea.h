// FILE_FULL_EA_INFORMATION chains (extended attributes as CimCreateFile receives and stores them).
//   u32 NextEntryOffset | u8 Flags | u8 EaNameLength | u16 EaValueLength | name | NUL | value
// Entries are padded to 4 bytes; NextEntryOffset is 0 in the last one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cim::format {

struct ExtendedAttribute {
    uint8_t flags = 0;
    std::string name;  // as stored (NTFS stores names upper-cased)
    std::vector<std::byte> value;
};

// Parses and validates a chain; throws Error(code) with a description of the first problem.
std::vector<ExtendedAttribute> parseEaChain(std::span<const std::byte> bytes, int32_t errorCode);
// Builds a chain (each entry padded to 4, the last one too, as go-winio does).
std::vector<std::byte> buildEaChain(const std::vector<ExtendedAttribute>& eas);

}  // namespace cim::format
