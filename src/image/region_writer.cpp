#include "image/region_writer.h"

#include <vector>

#include "common/error.h"

namespace cim::image {

using namespace cim::format;

RegionWriter::RegionWriter(std::shared_ptr<io::File> file, uint64_t base, uint16_t index, RegionType type)
    : file_(std::move(file)), base_(base), type_(type) {
    RegionHeader h{};
    h.common = makeCommonHeader(FileType::region, sizeof(RegionHeader));
    h.index = index;
    h.type = static_cast<uint8_t>(type);
    file_->writeExact(base_, std::as_bytes(std::span(&h, 1)));
    length_ = sizeof(RegionHeader);
    bufferStart_ = length_;
}

uint32_t RegionWriter::alignment() const { return type_ == RegionType::data ? kPageSize : 8; }

uint64_t RegionWriter::beginObject() {
    uint64_t a = alignment();
    uint64_t aligned = (length_ + a - 1) / a * a;
    if (aligned != length_) {
        static const std::vector<std::byte> zeros(kPageSize);
        append(std::span(zeros).first(aligned - length_));
    }
    if (length_ > kOffsetMask) fail(hr::diskFull, "region exceeds 2^48 bytes");
    return length_;
}

void RegionWriter::append(std::span<const std::byte> data) {
    if (buffer_.size() + data.size() > kBufferSize) flush();
    if (data.size() >= kBufferSize) {
        file_->writeExact(base_ + length_, data);
        length_ += data.size();
        bufferStart_ = length_;
        return;
    }
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    length_ += data.size();
}

void RegionWriter::flush() {
    if (buffer_.empty()) return;
    file_->writeExact(base_ + bufferStart_, buffer_);
    bufferStart_ += buffer_.size();
    buffer_.clear();
}

uint64_t RegionWriter::appendObject(std::span<const std::byte> data) {
    uint64_t off = beginObject();
    append(data);
    return off;
}

void RegionWriter::rewind(uint64_t offset) {
    if (offset < sizeof(RegionHeader) || offset > length_) fail(hr::fail, "internal: bad region rewind to {}", offset);
    if (offset >= bufferStart_) {
        buffer_.resize(offset - bufferStart_);
    } else {
        // Bytes already written past `offset` stay in the file until overwritten or truncated.
        buffer_.clear();
        bufferStart_ = offset;
    }
    length_ = offset;
}

}  // namespace cim::image
