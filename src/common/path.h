// Parsing of image-relative paths as the ABI receives them.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cim {

inline constexpr size_t kMaxComponentUnits = 255;  // UTF-16 code units per name
inline constexpr size_t kMaxPathUnits = 32767;

struct ImagePath {
    std::vector<std::u16string> components;  // empty = the root
    std::u16string stream;                  // alternate stream name, empty if none
    bool hasStream = false;
};

enum class StreamSyntax {
    none,      // ':' is an ordinary character (Linux names); never a stream
    optional,  // "file:stream[:$DATA]" accepted
    required,  // as optional, but a stream name must be present
};

// Splits a UTF-8 path on '\' and '/' (runs and a leading/trailing separator are ignored) and
// validates every component: not "." or "..", at most 255 UTF-16 units, no control characters,
// valid UTF-8 (unless surrogateEscape). Throws Error(E_INVALIDARG) with the reason.
ImagePath parseImagePath(std::string_view utf8, StreamSyntax streams = StreamSyntax::none,
                         bool surrogateEscape = false);

// Joins components with '\' for messages and display.
std::string displayPath(const std::vector<std::u16string>& components);

}  // namespace cim
