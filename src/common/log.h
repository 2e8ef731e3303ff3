// Diagnostic log lines for runtimes (CimSetLogCallback): each step of a rootfs mount says which
// layers, merged CIM, volume and mount path it used. Without a callback, lines go to stderr when
// OPENCIM_LOG=1 is set, and nowhere otherwise.
#pragma once
#include <fmt/format.h>

#include <string>

namespace cim {

enum class LogLevel : uint32_t { error = 1, warning = 2, info = 3, debug = 4 };

using LogCallback = void (*)(void* context, uint32_t level, const char* message);
void setLogCallback(LogCallback cb, void* context);
void logMessage(LogLevel level, const std::string& message);

template <typename... Args>
void logInfo(fmt::format_string<Args...> f, Args&&... args) {
    logMessage(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void logWarning(fmt::format_string<Args...> f, Args&&... args) {
    logMessage(LogLevel::warning, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace cim
