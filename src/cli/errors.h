// How the CLI reports failures: library calls that fail become cim::Error (exit 1, message from
// CimGetLastErrorMessage()); bad command lines become UsageError (exit 2).
#pragma once
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "opencim/cimfs.h"

namespace cim::cli {

// A command line that parses but makes no sense (conflicting options, missing image, ...).
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws cim::Error carrying `h` and this thread's last library message when `h` is a failure.
// `what` names the call, used only when the library left no message.
inline void check(HRESULT h, const char* what) {
    if (h >= 0) return;
    std::string msg = CimGetLastErrorMessage();
    if (msg.empty()) msg = fmt::format("{} failed with HRESULT {:#010x}", what, static_cast<uint32_t>(h));
    throw Error(h, msg);
}

}  // namespace cim::cli
