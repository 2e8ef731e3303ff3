#include "capi/guard.h"

#include <cstring>

#include "opencim/cimfs.h"

namespace cim::capi {

namespace {
thread_local std::string tlsLastError;
}

void clearLastError() noexcept { tlsLastError.clear(); }

void setLastError(const char* op, const std::string& message) noexcept {
    try {
        // Messages from deep inside usually start with the operation already; add it otherwise.
        size_t n = std::strlen(op);
        if (message.compare(0, n, op) == 0) tlsLastError = message;
        else tlsLastError = std::string(op) + ": " + message;
    } catch (...) {
        tlsLastError.clear();
    }
}

}  // namespace cim::capi

extern "C" CIMFS_API const char* CimGetLastErrorMessage(void) { return cim::capi::tlsLastError.c_str(); }
