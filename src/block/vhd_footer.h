// Fixed VHD footer: a fixed VHD is a raw disk image followed by one 512-byte big-endian footer
// (Microsoft "Virtual Hard Disk Image Format Specification"; shared/reference/verity-and-vhd.md,
// part B). hcsshim appends one to block CIMs and ext4 layers so Hyper-V can attach them as disks.
//
// opencim's footer is reproducible and readable by both Windows and qemu: timestamp 0, creator
// "win " (qemu then trusts Current Size instead of the CHS geometry), host OS "Wi2k", real CHS
// geometry, and a caller-chosen (e.g. content-derived) unique id. Append it last, after any hash
// tree or seal: it lies outside the data and hash areas, so it changes neither root hash.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace cim::block {

inline constexpr size_t kVhdFooterSize = 512;
inline constexpr uint64_t kVhdSectorSize = 512;

struct ChsGeometry {
    uint16_t cylinders = 0;
    uint8_t heads = 0;
    uint8_t sectorsPerTrack = 0;
    friend bool operator==(const ChsGeometry&, const ChsGeometry&) = default;
};

// CHS geometry for a disk of diskSize bytes (VHD spec appendix; capped at 65535/16/255).
ChsGeometry vhdChsGeometry(uint64_t diskSize);

// One's complement of the byte sum of the 512 footer bytes, with the checksum field (64..67)
// counted as zero.
uint32_t vhdFooterChecksum(const uint8_t* footer512);

// The footer of a fixed disk of diskSize bytes (original = current size). diskSize must be a
// multiple of 512 (hr::invalidArg otherwise; appendVhdFooter pads for you).
std::array<uint8_t, kVhdFooterSize> makeFixedVhdFooter(uint64_t diskSize, const uint8_t uniqueId[16]);

// True when the 512 bytes are a fixed-disk footer: cookie "conectix", a valid checksum and disk
// type 2. Safe on arbitrary bytes.
bool isFixedVhdFooter(const uint8_t* footer512);

// Turns the regular file open as `fd` into a fixed VHD: zero-pads it to a multiple of 512 (the
// padding becomes part of the disk, so the disk size is the padded size), then writes the footer
// after it. Returns the disk size. Throws cim::Error for a non-regular file or an I/O error. It
// does not check for an existing footer: call it once, when the image is otherwise complete.
uint64_t appendVhdFooter(int fd, const uint8_t uniqueId[16]);

}  // namespace cim::block
