#include "common/log.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace cim {

namespace {
std::mutex gMutex;
LogCallback gCallback = nullptr;
void* gContext = nullptr;
}  // namespace

void setLogCallback(LogCallback cb, void* context) {
    std::lock_guard lock(gMutex);
    gCallback = cb;
    gContext = context;
}

void logMessage(LogLevel level, const std::string& message) {
    std::lock_guard lock(gMutex);
    if (gCallback) {
        gCallback(gContext, static_cast<uint32_t>(level), message.c_str());
        return;
    }
    static const bool toStderr = [] {
        const char* e = std::getenv("OPENCIM_LOG");
        return e && *e && *e != '0';
    }();
    if (toStderr) {
        static const char* names[] = {"", "error", "warning", "info", "debug"};
        std::fprintf(stderr, "opencim %s: %s\n", names[static_cast<uint32_t>(level) <= 4 ? static_cast<uint32_t>(level) : 0],
                     message.c_str());
    }
}

}  // namespace cim
