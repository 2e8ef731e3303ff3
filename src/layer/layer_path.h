// Tar entry names -> CIM paths, and back.
//
// Rules (both layer formats): '/' separates components (Windows layers: '\' too); a leading
// separator is dropped (OCI layer paths are relative; tar strips it too); empty and "."
// components are skipped; ".." anywhere is refused, as are a drive letter ("C:") as the first
// component, NUL and control characters (U+0000-U+001F, U+007F), components over 255 UTF-16 units
// and paths over 32767 units.
// Windows layers: names must be valid UTF-8 and may not contain < > " | ? * (Windows forbids
// them); ':' is only legal as the alternate-stream separator of the last component.
// Linux layers: any other byte is allowed. Bytes that are not valid UTF-8 are kept reversibly as
// lone surrogates U+DC80+byte (cim::utf8ToUtf16 surrogate escape); '\' (the CIM path separator)
// is stored as U+F05C, the private-use character WSL's DrvFs uses for it; a name that already
// contains U+F05C is refused, so the mapping stays reversible.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "common/path.h"

namespace cim::layer {

enum class LayerFormat { Windows, Linux };

inline constexpr char16_t kEscapedBackslash = 0xF05C;

// Splits and validates a raw tar name into raw components (possibly empty = the root).
std::vector<std::string> splitTarPath(std::string_view raw, LayerFormat f, const std::string& what);
// One raw component -> its CIM name (validated as above).
std::u16string toCimName(std::string_view component, LayerFormat f, const std::string& what);
ImagePath toImagePath(const std::vector<std::string>& components, LayerFormat f, const std::string& what);
// A CIM name -> raw tar bytes (reverse mapping).
std::string fromCimName(std::u16string_view name, LayerFormat f);

}  // namespace cim::layer
