#include "image/region_source.h"

#include <cstring>

#include "common/error.h"
#include "io/file.h"

namespace cim::image {

namespace {
class FileRegion final : public RegionSource {
public:
    FileRegion(std::shared_ptr<const io::File> f, uint64_t base, uint64_t length, std::string name)
        : file_(std::move(f)), base_(base), length_(length), name_(std::move(name)) {}
    uint64_t size() const override { return length_; }
    void read(uint64_t offset, std::span<std::byte> out) const override {
        if (offset > length_ || out.size() > length_ - offset) {
            fail(hr::corrupt, "{}: read of {} bytes at {} past region end {}", name_, out.size(), offset, length_);
        }
        file_->readExact(base_ + offset, out);
    }
    std::string describe() const override { return name_; }

private:
    std::shared_ptr<const io::File> file_;
    uint64_t base_, length_;
    std::string name_;
};

class MemoryRegion final : public RegionSource {
public:
    MemoryRegion(std::vector<std::byte> bytes, std::string name) : bytes_(std::move(bytes)), name_(std::move(name)) {}
    uint64_t size() const override { return bytes_.size(); }
    void read(uint64_t offset, std::span<std::byte> out) const override {
        if (offset > bytes_.size() || out.size() > bytes_.size() - offset) {
            fail(hr::corrupt, "{}: read of {} bytes at {} past region end {}", name_, out.size(), offset, bytes_.size());
        }
        if (out.empty()) return;  // an empty span's data() may be NULL, which memcpy must not get
        std::memcpy(out.data(), bytes_.data() + offset, out.size());
    }
    std::string describe() const override { return name_; }
    const std::byte* memory() const override { return bytes_.data(); }

private:
    std::vector<std::byte> bytes_;
    std::string name_;
};
}  // namespace

std::shared_ptr<RegionSource> fileRegion(std::shared_ptr<const io::File> file, uint64_t base, uint64_t length,
                                         std::string name) {
    return std::make_shared<FileRegion>(std::move(file), base, length, std::move(name));
}

std::shared_ptr<RegionSource> loadIntoMemory(const RegionSource& src) {
    std::vector<std::byte> bytes(src.size());
    src.read(0, bytes);
    return std::make_shared<MemoryRegion>(std::move(bytes), src.describe());
}

}  // namespace cim::image
