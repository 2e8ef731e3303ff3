#include "fuse/mount_source.h"

#include <cstring>

#include "block/block_image.h"
#include "common/error.h"
#include "image/open.h"
#include "opencim/cimfs.h"

namespace cim::fuse {

namespace {
constexpr uint32_t kKnownFlags =
    CIM_MOUNT_CHILD_ONLY | CIM_MOUNT_ENABLE_DAX | CIM_MOUNT_BLOCK_DEVICE_CIM | CIM_MOUNT_SINGLE_FILE_CIM | CIM_MOUNT_VERIFIED_CIM;
constexpr uint32_t kBlockFlags = CIM_MOUNT_BLOCK_DEVICE_CIM | CIM_MOUNT_SINGLE_FILE_CIM;

// The root hash a block container was sealed with (for CIM_MOUNT_VERIFIED_CIM without a hash).
block::Hash sealedRootHash(const std::string& path) {
    auto c = block::Container::open(path);
    if (!c->seal()) {
        fail(hr::integrity, "{}: integrity violation: the block CIM is not sealed, so it cannot be mounted verified", path);
    }
    block::Hash h;
    std::memcpy(h.data(), c->seal()->rootHash, h.size());
    return h;
}
}  // namespace

void checkMountFlags(const char* op, const MountSource& src) {
    uint32_t f = src.flags;
    if (f & ~kKnownFlags) fail(hr::invalidArg, "{}: unknown mount flags {:#x}", op, f & ~kKnownFlags);
    if ((f & kBlockFlags) == kBlockFlags) fail(hr::invalidArg, "{}: the block device and single file flags are exclusive", op);
    bool block = f & kBlockFlags;
    if (src.merged && !block) fail(hr::invalidArg, "{}: merged CIMs are block CIMs: pass a block type flag (0x10 or 0x20)", op);
    if ((src.rootHash || (f & CIM_MOUNT_VERIFIED_CIM)) && !block) {
        fail(hr::invalidArg, "{}: only block CIMs can be verified: pass a block type flag (0x10 or 0x20)", op);
    }
    if (src.merged && src.paths.size() < 3) {
        fail(hr::invalidArg, "{}: {} paths: a merged mount needs the merged CIM and at least 2 sources", op, src.paths.size());
    }
    if (!src.merged && src.paths.size() != 1) fail(hr::invalidArg, "{}: exactly one image expected", op);
}

std::shared_ptr<const image::Image> openMountSource(const char* op, const MountSource& src) {
    checkMountFlags(op, src);
    const auto& [dir, name] = src.paths.front();
    std::string where = src.merged ? std::string(op) : fmt::format("{}: {}:{}", op, dir, name);
    try {
        bool block = src.flags & kBlockFlags;
        std::optional<block::Hash> hash = src.rootHash;
        if (!hash && (src.flags & CIM_MOUNT_VERIFIED_CIM)) hash = sealedRootHash(dir);
        if (src.merged) return block::openMerged(src.paths, hash ? &*hash : nullptr);
        if (block) return block::openBlock(dir, name, hash ? &*hash : nullptr);
        return image::openStandard(dir, name);
    } catch (const Error& e) {
        throw withContext(e, where);
    }
}

}  // namespace cim::fuse
