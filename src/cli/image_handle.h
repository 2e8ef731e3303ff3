// Owns a CIMFS_IMAGE_HANDLE: CimCloseImage on scope exit, which discards the image unless it was
// committed (so a failed `create` or `merge` leaves nothing behind).
#pragma once
#include "opencim/cimfs.h"

namespace cim::cli {

class ImageHandle {
public:
    ImageHandle() = default;
    ~ImageHandle() { CimCloseImage(h_); }
    ImageHandle(const ImageHandle&) = delete;
    ImageHandle& operator=(const ImageHandle&) = delete;
    CIMFS_IMAGE_HANDLE* out() { return &h_; }
    CIMFS_IMAGE_HANDLE get() const { return h_; }
    void close() {
        CimCloseImage(h_);
        h_ = nullptr;
    }

private:
    CIMFS_IMAGE_HANDLE h_ = nullptr;
};

}  // namespace cim::cli
