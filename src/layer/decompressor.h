// The decompressed byte stream of a layer tar: libarchive's "raw" format over its decompression
// filters (gzip, bzip2, xz/lzma, zstd, lz4 or none, detected from the data), read from a file
// descriptor in one pass. The tar format itself is parsed by TarReader, not libarchive, because
// libarchive's tar reader drops PAX records it does not know (every MSWINDOWS.* record) and we need
// them. Every byte handed out is counted against a limit (decompression bombs).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

struct archive;

namespace cim::layer {

class Decompressor {
public:
    // Reads from `fd` (not closed). `name` is used in messages. `limit`: maximum decompressed bytes.
    Decompressor(int fd, std::string name, uint64_t limit);
    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

    // Up to `max` contiguous decompressed bytes, valid until the next call; empty at end of stream.
    std::span<const std::byte> next(size_t max);
    // Copies exactly out.size() bytes; false if the stream ended first (nothing partial is lost:
    // `got` receives how many were copied).
    bool readExact(std::span<std::byte> out, size_t& got);

    uint64_t position() const { return position_; }      // decompressed bytes consumed
    uint64_t inputBytes() const { return inputBytes_; }  // compressed bytes read from the fd
    const std::string& name() const { return name_; }
    const char* filterName() const;

private:
    static long readCallback(struct archive*, void* self, const void** buf);
    void refill();

    int fd_;
    std::string name_;
    uint64_t limit_;
    struct archive* a_ = nullptr;
    std::byte* inBuf_ = nullptr;
    size_t inCap_ = 0;
    const std::byte* block_ = nullptr;
    size_t blockLen_ = 0, blockPos_ = 0;
    bool eof_ = false;
    uint64_t position_ = 0;
    uint64_t inputBytes_ = 0;
    int readErrno_ = 0;
};

}  // namespace cim::layer
