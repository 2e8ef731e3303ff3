// PAX extended header records ("<len> <key>=<value>\n"), PAX times and the encodings used inside
// PAX values (base64, URL-encoding of LIBARCHIVE.xattr names). All parsers are bounds-checked and
// throw ERROR_INVALID_DATA with `what` in the message.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "layer/tar_entry.h"

namespace cim::layer {

// Splits a PAX extended header body into (key, value) records in order.
std::vector<std::pair<std::string, std::string>> parsePaxRecords(std::string_view body, const std::string& what);
// Formats one record (the length prefix counts itself).
std::string formatPaxRecord(std::string_view key, std::string_view value);

// "secs[.frac]", optionally negative; up to 9 fraction digits are significant, more are truncated.
TarTime parsePaxTime(std::string_view v, const std::string& what);
std::string formatPaxTime(const TarTime& t);
// A decimal unsigned number ("size", "uid", ...), at most `max`.
uint64_t parsePaxNumber(std::string_view v, uint64_t max, const std::string& what);

// Standard base64 with padding; whitespace is not allowed. Throws on malformed input.
std::string base64Decode(std::string_view v, const std::string& what);
std::string base64Encode(std::string_view bytes);
// %XX decoding (LIBARCHIVE.xattr.<name> keys) and the matching encoder (encodes '%', '=', controls,
// non-ASCII).
std::string urlDecode(std::string_view v, const std::string& what);
std::string urlEncode(std::string_view v);

}  // namespace cim::layer
