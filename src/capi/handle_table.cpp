#include "capi/handle_table.h"

namespace cim::capi {

HandleTable& HandleTable::instance() {
    static HandleTable* t = new HandleTable;  // never destroyed: handles may be closed during exit
    return *t;
}

uintptr_t HandleTable::add(HandleKind kind, std::shared_ptr<void> object) {
    std::lock_guard lock(mutex_);
    // Values look like small odd integers shifted up: never a valid heap pointer, never 0, and
    // the kind in the low bits lets a handle of the wrong type be told apart in messages.
    uintptr_t h = (static_cast<uintptr_t>(next_++) << 4) | static_cast<uintptr_t>(kind);
    live_.emplace(h, Entry{kind, std::move(object)});
    return h;
}

std::shared_ptr<void> HandleTable::get(uintptr_t handle, HandleKind kind, const char* op) const {
    if (handle == 0) fail(hr::invalidHandle, "{}: the handle is NULL", op);
    std::lock_guard lock(mutex_);
    auto it = live_.find(handle);
    if (it == live_.end() || it->second.kind != kind) {
        fail(hr::invalidHandle, "{}: handle {:#x} is not a live {} handle", op, handle,
             kind == HandleKind::image ? "image" : kind == HandleKind::stream ? "stream" : "reader");
    }
    return it->second.object;
}

std::shared_ptr<void> HandleTable::remove(uintptr_t handle, HandleKind kind) {
    std::lock_guard lock(mutex_);
    auto it = live_.find(handle);
    if (it == live_.end() || it->second.kind != kind) return nullptr;
    auto obj = std::move(it->second.object);
    live_.erase(it);
    return obj;
}

}  // namespace cim::capi
