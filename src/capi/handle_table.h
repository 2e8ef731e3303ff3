// The live-handle registry behind every opaque handle of the C ABI. A handle value is a 64-bit
// serial number that is never reused; lookups of NULL, closed or foreign values find nothing and
// return E_HANDLE instead of touching memory.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/error.h"

namespace cim::capi {

enum class HandleKind : uint8_t { image = 1, stream = 2, reader = 3 };

class HandleTable {
public:
    static HandleTable& instance();

    uintptr_t add(HandleKind kind, std::shared_ptr<void> object);
    // Returns the object or throws Error(E_HANDLE) naming the operation.
    std::shared_ptr<void> get(uintptr_t handle, HandleKind kind, const char* op) const;
    // Removes and returns the object (nullptr if the handle was not live).
    std::shared_ptr<void> remove(uintptr_t handle, HandleKind kind);

    template <typename T>
    std::shared_ptr<T> getAs(const void* handle, HandleKind kind, const char* op) const {
        return std::static_pointer_cast<T>(get(reinterpret_cast<uintptr_t>(handle), kind, op));
    }

private:
    struct Entry {
        HandleKind kind;
        std::shared_ptr<void> object;
    };
    mutable std::mutex mutex_;
    std::unordered_map<uintptr_t, Entry> live_;
    uint64_t next_ = 1;
};

}  // namespace cim::capi
