// Error helpers of the layer importer/exporter. Hostile or corrupt archives fail with
// ERROR_INVALID_DATA (0x8007000D) and a message naming the archive and the entry.
#pragma once
#include <string>

#include "common/error.h"

namespace cim::layer {

inline constexpr hresult kInvalidData = hrFromWin32(13);  // 0x8007000D ERROR_INVALID_DATA

template <typename... Args>
[[noreturn]] void failData(fmt::format_string<Args...> f, Args&&... args) {
    throw Error(kInvalidData, fmt::format(f, std::forward<Args>(args)...));
}

// Makes a printable form of raw tar bytes (names may hold control characters or invalid UTF-8).
std::string printable(std::string_view raw, size_t max = 200);

}  // namespace cim::layer
