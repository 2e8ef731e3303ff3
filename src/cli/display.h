// Turning what the reader returns into text and JSON: hex, FILETIMEs, attributes, file types,
// reparse buffers and EA chains (decoding the $LX* values that `create` writes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "opencim/cimfs.h"

namespace cim::cli {

using Json = nlohmann::ordered_json;

std::string toHex(std::span<const std::byte> bytes);
std::string toHex(std::span<const uint8_t> bytes);
// Parses exactly `size` bytes of hex (case-insensitive); throws UsageError naming `what`.
std::vector<uint8_t> parseHex(const std::string& text, size_t size, const char* what);

// "2024-01-02T03:04:05.1234567Z" (UTC, full FILETIME precision); "-" for 0.
std::string filetimeIso(int64_t ft);
// "2024-01-02 03:04" (UTC), for `ls -l`.
std::string filetimeShort(int64_t ft);

// Six letters for ls -l: d=directory r=read-only h=hidden s=system a=archive L=reparse point.
std::string attributeLetters(uint32_t attributes);
// "DIRECTORY|ARCHIVE|REPARSE_POINT" (unknown bits as hex).
std::string attributeNames(uint32_t attributes);
// Name of a reparse tag ("LX_SYMLINK", "SYMLINK", ...) or its hex value.
std::string reparseTagName(uint32_t tag);
// "directory", "file", "symlink", "fifo", "socket", "chardev", "blockdev", "junction", "reparse".
std::string fileType(const CIMFS_FILE_INFO& info);

// Target of an LX symlink or a Windows symlink/junction buffer (print name), if it is one.
std::optional<std::string> symlinkTarget(std::span<const std::byte> reparse);

struct DecodedEa {
    std::string name;
    uint8_t flags = 0;
    std::vector<std::byte> value;
    std::string meaning;  // decoded $LX* value ("uid 1000", "mode 0100644", "dev 8:1"), else ""
};
std::vector<DecodedEa> decodeEas(std::span<const std::byte> chain);

// Pretty-printed JSON; bytes that are not UTF-8 (possible in names of foreign images) become U+FFFD
// instead of failing the whole command.
std::string dumpJson(const Json& j);

// One stat as JSON: the fields of CIMFS_FILE_INFO plus type and ISO times.
Json infoJson(const CIMFS_FILE_INFO& info);

}  // namespace cim::cli
