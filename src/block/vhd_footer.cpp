#include "block/vhd_footer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace cim::block {

namespace {

// Field offsets (all big-endian).
constexpr size_t kCookie = 0, kFeatures = 8, kVersion = 12, kDataOffset = 16, kTimeStamp = 24, kCreatorApp = 28,
                 kCreatorVersion = 32, kCreatorHostOs = 36, kOriginalSize = 40, kCurrentSize = 48, kCylinders = 56,
                 kHeads = 58, kSectors = 59, kDiskType = 60, kChecksum = 64, kUniqueId = 68;

constexpr char kCookieValue[8] = {'c', 'o', 'n', 'e', 'c', 't', 'i', 'x'};
constexpr uint32_t kFeaturesReserved = 0x00000002;  // always set
constexpr uint32_t kFileFormatVersion = 0x00010000;
constexpr uint32_t kCreatorVersionValue = 0x000a0000;  // what hcsshim writes
constexpr uint32_t kDiskTypeFixed = 2;

void putBe16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void putBe32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void putBe64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint32_t getBe32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void pwriteAll(int fd, const uint8_t* data, size_t size, uint64_t offset) {
    size_t done = 0;
    while (done < size) {
        ssize_t r = ::pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) failErrno(errno, fmt::format("VHD footer: write at {}", offset + done));
        done += static_cast<size_t>(r);
    }
}

}  // namespace

ChsGeometry vhdChsGeometry(uint64_t diskSize) {
    // The spec's algorithm, verbatim apart from names; all divisions are integer divisions.
    uint64_t total = std::min<uint64_t>(diskSize / kVhdSectorSize, 65535ull * 16 * 255);
    uint64_t sectors, heads, cth;
    if (total >= 65535ull * 16 * 63) {
        sectors = 255;
        heads = 16;
        cth = total / sectors;
    } else {
        sectors = 17;
        cth = total / sectors;
        heads = std::max<uint64_t>(4, (cth + 1023) / 1024);
        if (cth >= heads * 1024 || heads > 16) {
            sectors = 31;
            heads = 16;
            cth = total / sectors;
        }
        if (cth >= heads * 1024) {
            sectors = 63;
            heads = 16;
            cth = total / sectors;
        }
    }
    // total is capped, so cylinders <= 65535 and the narrowing is exact.
    return ChsGeometry{static_cast<uint16_t>(cth / heads), static_cast<uint8_t>(heads), static_cast<uint8_t>(sectors)};
}

uint32_t vhdFooterChecksum(const uint8_t* footer512) {
    uint32_t sum = 0;
    for (size_t i = 0; i < kVhdFooterSize; ++i) {
        if (i < kChecksum || i >= kChecksum + 4) sum += footer512[i];
    }
    return ~sum;
}

std::array<uint8_t, kVhdFooterSize> makeFixedVhdFooter(uint64_t diskSize, const uint8_t uniqueId[16]) {
    if (diskSize % kVhdSectorSize != 0) {
        fail(hr::invalidArg, "VHD disk size {} is not a multiple of {} (pad the image first)", diskSize,
             kVhdSectorSize);
    }
    std::array<uint8_t, kVhdFooterSize> f{};  // saved state and reserved bytes stay zero
    uint8_t* p = f.data();
    std::memcpy(p + kCookie, kCookieValue, 8);
    putBe32(p + kFeatures, kFeaturesReserved);
    putBe32(p + kVersion, kFileFormatVersion);
    putBe64(p + kDataOffset, ~uint64_t{0});   // fixed disks have no dynamic header
    putBe32(p + kTimeStamp, 0);               // reproducible output: no creation time
    std::memcpy(p + kCreatorApp, "win ", 4);  // makes qemu use Current Size, not CHS
    putBe32(p + kCreatorVersion, kCreatorVersionValue);
    std::memcpy(p + kCreatorHostOs, "Wi2k", 4);
    putBe64(p + kOriginalSize, diskSize);
    putBe64(p + kCurrentSize, diskSize);
    ChsGeometry g = vhdChsGeometry(diskSize);
    putBe16(p + kCylinders, g.cylinders);
    p[kHeads] = g.heads;
    p[kSectors] = g.sectorsPerTrack;
    putBe32(p + kDiskType, kDiskTypeFixed);
    std::memcpy(p + kUniqueId, uniqueId, 16);
    putBe32(p + kChecksum, vhdFooterChecksum(p));
    return f;
}

bool isFixedVhdFooter(const uint8_t* p) {
    return std::memcmp(p + kCookie, kCookieValue, 8) == 0 && getBe32(p + kChecksum) == vhdFooterChecksum(p) &&
           getBe32(p + kDiskType) == kDiskTypeFixed;
}

uint64_t appendVhdFooter(int fd, const uint8_t uniqueId[16]) {
    struct stat st;
    if (::fstat(fd, &st) != 0) failErrno(errno, "VHD footer: fstat");
    if (!S_ISREG(st.st_mode)) fail(hr::notSupported, "VHD footer: only a regular file can get a footer");
    uint64_t size = static_cast<uint64_t>(st.st_size);
    // The disk is the file padded with zeros to whole sectors. Writing the footer past the end
    // zero-fills the gap, so the padding and the footer take a single write.
    uint64_t diskSize = (size + kVhdSectorSize - 1) / kVhdSectorSize * kVhdSectorSize;
    auto footer = makeFixedVhdFooter(diskSize, uniqueId);
    pwriteAll(fd, footer.data(), footer.size(), diskSize);
    return diskSize;
}

}  // namespace cim::block
