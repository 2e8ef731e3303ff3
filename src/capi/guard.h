// The exception firewall of the C ABI: every exported function runs its body through guard(),
// which clears this thread's last error, converts any exception into an HRESULT and records the
// message for CimGetLastErrorMessage().
#pragma once
#include <new>
#include <string>

#include "common/error.h"

namespace cim::capi {

void clearLastError() noexcept;
void setLastError(const char* op, const std::string& message) noexcept;

template <typename F>
hresult guard(const char* op, F&& body) noexcept {
    clearLastError();
    try {
        body();
        return hr::ok;
    } catch (const Error& e) {
        setLastError(op, e.what());
        return e.code();
    } catch (const std::bad_alloc&) {
        setLastError(op, "out of memory");
        return hr::outOfMemory;
    } catch (const std::exception& e) {
        setLastError(op, e.what());
        return hr::fail;
    } catch (...) {
        setLastError(op, "unknown internal error");
        return hr::fail;
    }
}

// Checks an output pointer / input string argument.
template <typename T>
T* required(T* p, const char* op, const char* what) {
    if (!p) fail(hr::invalidArg, "{}: {} is NULL", op, what);
    return p;
}

}  // namespace cim::capi
