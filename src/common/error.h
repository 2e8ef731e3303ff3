// cim::Error: the one exception type of the library. It carries the HRESULT the C ABI returns and
// a complete human-readable message ("Op: image: path: reason"). Translated once, in src/capi/.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

#include "common/hresult.h"

namespace cim {

class Error : public std::runtime_error {
public:
    Error(hresult code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
    hresult code() const noexcept { return code_; }

private:
    hresult code_;
};

template <typename... Args>
[[noreturn]] void fail(hresult code, fmt::format_string<Args...> f, Args&&... args) {
    throw Error(code, fmt::format(f, std::forward<Args>(args)...));
}

// Throws Error(hresultFromErrno(errno), "<what>: <strerror>") for a failed system call.
[[noreturn]] void failErrno(int err, const std::string& what);

// Adds a prefix ("Op: image: path") to an error's message, keeping its code. Used at API
// boundaries so that errors raised deep inside name the operation and the object.
Error withContext(const Error& e, const std::string& prefix);

}  // namespace cim
