// UTF-8 (the ABI) <-> UTF-16LE (the disk) conversion.
#pragma once
#include <string>
#include <string_view>

namespace cim {

// Strict conversion: invalid UTF-8 throws Error(E_INVALIDARG). With `surrogateEscape`, each byte
// of an invalid sequence becomes the lone surrogate U+DC80+byte instead (Python's
// "surrogateescape"), so that Linux file names that are not UTF-8 survive a round trip.
std::u16string utf8ToUtf16(std::string_view s, bool surrogateEscape = false);

// Never fails: lone surrogates U+DC80..U+DCFF turn back into the raw byte they escaped; other
// lone surrogates are encoded as 3-byte WTF-8 sequences.
std::string utf16ToUtf8(std::u16string_view s);

}  // namespace cim
