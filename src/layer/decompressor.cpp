#include "layer/decompressor.h"

#include <archive.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "layer/layer_error.h"

namespace cim::layer {

namespace {
constexpr size_t kInputBuffer = 1 << 20;
}

Decompressor::Decompressor(int fd, std::string name, uint64_t limit) : fd_(fd), name_(std::move(name)), limit_(limit) {
    inBuf_ = static_cast<std::byte*>(std::malloc(kInputBuffer));
    if (!inBuf_) throw std::bad_alloc();
    inCap_ = kInputBuffer;
    a_ = archive_read_new();
    if (!a_) throw std::bad_alloc();
    // Only filters libarchive implements in-process: "filter_all" would also enable filters that
    // run external programs (lrzip, lzop, grzip, ...) chosen by bytes of an untrusted archive.
    archive_read_support_filter_gzip(a_);
    archive_read_support_filter_bzip2(a_);
    archive_read_support_filter_xz(a_);
    archive_read_support_filter_lzma(a_);
    archive_read_support_filter_zstd(a_);
    archive_read_support_filter_lz4(a_);
    archive_read_support_format_raw(a_);
    if (archive_read_open(a_, this, nullptr, &Decompressor::readCallback, nullptr) != ARCHIVE_OK) {
        std::string msg = archive_error_string(a_) ? archive_error_string(a_) : "cannot open";
        int e = readErrno_;
        archive_read_free(a_);
        a_ = nullptr;
        std::free(inBuf_);
        if (e) failErrno(e, "read " + name_);
        failData("{}: {}", name_, msg);
    }
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(a_, &entry);
    if (r == ARCHIVE_EOF) {
        eof_ = true;  // empty input: the tar reader reports the missing end-of-archive marker
    } else if (r != ARCHIVE_OK) {
        std::string msg = archive_error_string(a_) ? archive_error_string(a_) : "unreadable";
        archive_read_free(a_);
        a_ = nullptr;
        std::free(inBuf_);
        if (readErrno_) failErrno(readErrno_, "read " + name_);
        failData("{}: {}", name_, msg);
    }
}

Decompressor::~Decompressor() {
    if (a_) archive_read_free(a_);
    std::free(inBuf_);
}

long Decompressor::readCallback(struct archive* a, void* p, const void** buf) {
    auto* self = static_cast<Decompressor*>(p);
    for (;;) {
        ssize_t n = ::read(self->fd_, self->inBuf_, self->inCap_);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            self->readErrno_ = errno;
            archive_set_error(a, errno, "read error");
            return -1;
        }
        self->inputBytes_ += uint64_t(n);
        *buf = self->inBuf_;
        return static_cast<long>(n);
    }
}

const char* Decompressor::filterName() const {
    if (!a_) return "none";
    const char* n = archive_filter_name(a_, 0);
    return n ? n : "none";
}

void Decompressor::refill() {
    if (eof_) return;
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
        int r = archive_read_data_block(a_, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) {
            eof_ = true;
            block_ = nullptr;
            blockLen_ = blockPos_ = 0;
            return;
        }
        if (r < ARCHIVE_WARN) {
            if (readErrno_) failErrno(readErrno_, "read " + name_);
            const char* m = archive_error_string(a_);
            failData("{}: corrupt compressed stream at decompressed offset {}: {}", name_, position_, m ? m : "error");
        }
        if (size == 0) continue;
        block_ = static_cast<const std::byte*>(buf);
        blockLen_ = size;
        blockPos_ = 0;
        return;
    }
}

std::span<const std::byte> Decompressor::next(size_t max) {
    if (blockPos_ == blockLen_) refill();
    if (eof_) return {};
    size_t n = std::min(max, blockLen_ - blockPos_);
    if (n > limit_ - std::min(limit_, position_)) {
        failData("{}: the archive expands beyond the limit of {} bytes (MaxUncompressedBytes); refusing a possible "
                 "decompression bomb",
                 name_, limit_);
    }
    std::span<const std::byte> out(block_ + blockPos_, n);
    blockPos_ += n;
    position_ += n;
    return out;
}

bool Decompressor::readExact(std::span<std::byte> out, size_t& got) {
    got = 0;
    while (got < out.size()) {
        auto s = next(out.size() - got);
        if (s.empty()) return false;
        std::memcpy(out.data() + got, s.data(), s.size());
        got += s.size();
    }
    return true;
}

}  // namespace cim::layer
