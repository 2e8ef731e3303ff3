// Appends objects to one region being written. A region is a byte range of a file (its own
// region_* file for standard CIMs, an extent of the block file or a temporary file for block
// CIMs); it starts with a RegionHeader and grows by appending aligned objects.
#pragma once
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "format/layout.h"
#include "io/file.h"

namespace cim::image {

class RegionWriter {
public:
    // Writes the region header at `base` of `file`.
    RegionWriter(std::shared_ptr<io::File> file, uint64_t base, uint16_t index, format::RegionType type);

    format::RegionType type() const { return type_; }
    uint32_t alignment() const;
    uint64_t length() const { return length_; }  // bytes used, header included
    uint64_t base() const { return base_; }
    io::File& file() { return *file_; }
    const std::shared_ptr<io::File>& sharedFile() const { return file_; }

    // Pads to the region's alignment and returns the byte offset where the next object starts.
    uint64_t beginObject();
    // Appends bytes to the current object.
    void append(std::span<const std::byte> data);
    // Appends a whole object, returns its byte offset.
    uint64_t appendObject(std::span<const std::byte> data);
    // Drops everything from `offset` on (used when a streamed object turns out to be a duplicate).
    void rewind(uint64_t offset);
    // Writes buffered bytes to the file. Targets call it before they read, copy or truncate the
    // region's file.
    void flush();

private:
    // Small appends (object headers, padding, small files, tar-sized chunks) are gathered into
    // one pwrite per kBufferSize bytes; appends at least that large go straight to the file.
    static constexpr size_t kBufferSize = 1 << 20;

    std::shared_ptr<io::File> file_;
    uint64_t base_;
    format::RegionType type_;
    uint64_t length_ = 0;       // logical length, buffered bytes included
    uint64_t bufferStart_ = 0;  // region offset of buffer_[0]; bufferStart_ + buffer_.size() == length_
    std::vector<std::byte> buffer_;
};

}  // namespace cim::image
