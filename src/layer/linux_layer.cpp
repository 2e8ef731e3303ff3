// Linux layer entries -> CIM operations (shared/reference/linux-metadata-conventions.md §4, and
// the same choices as `opencim create`'s directory import so both give alike images):
//  - every entry: EAs $LXUID/$LXGID/$LXMOD (+ $LXDEV for devices) then the xattr EAs
//    (linux_ea.h), hcsshim's null security descriptor;
//  - attributes: DIRECTORY for directories, ARCHIVE otherwise, plus REPARSE_POINT for symlinks,
//    FIFOs and devices, which get the WSL reparse buffers (LX_SYMLINK version 2 + UTF-8 target,
//    LX_FIFO, LX_CHR, LX_BLK) and size 0;
//  - $LXMOD is the tar's permission bits (07777) plus the type bits of the entry type;
//  - times: mtime -> LastWriteTime; CreationTime = LIBARCHIVE.creationtime or mtime; atime and ctime
//    -> LastAccessTime / ChangeTime, falling back to mtime;
//  - uname/gname are ignored (numeric ids only), POSIX ACL records (SCHILY.acl.*) are not carried.
#include "format/layout.h"
#include "layer/entry_mapper.h"
#include "layer/layer_error.h"
#include "layer/linux_ea.h"
#include "layer/reparse.h"
#include "layer/whiteout.h"

namespace cim::layer {

namespace {

constexpr uint32_t kIfReg = 0100000, kIfDir = 0040000, kIfLnk = 0120000, kIfChr = 0020000, kIfBlk = 0060000, kIfIfo = 0010000;

class LinuxMapper final : public EntryMapper {
public:
    LayerOp map(const TarEntry& e, const std::string& what) override {
        LayerOp op;
        op.what = what;
        auto comps = splitTarPath(e.path, LayerFormat::Linux, what);
        if (mapWhiteout(comps, LayerFormat::Linux, what, op)) return op;
        op.path = toImagePath(comps, LayerFormat::Linux, what);
        if (e.type == EntryType::hardLink) {
            if (comps.empty()) failData("{}: a hard link cannot replace the root directory", what);
            auto t = splitTarPath(e.linkPath, LayerFormat::Linux, what + ": link target");
            if (t.empty()) failData("{}: hard link to the root directory", what);
            op.kind = OpKind::hardLink;
            op.target = toImagePath(t, LayerFormat::Linux, what + ": link target");
            return op;
        }
        if (comps.empty() && e.type != EntryType::directory) failData("{}: the root must be a directory", what);

        op.kind = OpKind::file;
        LinuxMetadata md;
        md.uid = static_cast<uint32_t>(e.uid);
        md.gid = static_cast<uint32_t>(e.gid);
        md.xattrs = e.xattrs;
        uint32_t attr = format::kAttrArchive;
        switch (e.type) {
            case EntryType::regular:
                md.mode = kIfReg;
                op.size = e.size;
                op.regular = true;
                break;
            case EntryType::directory:
                md.mode = kIfDir;
                attr = format::kAttrDirectory;
                break;
            case EntryType::symlink:
                md.mode = kIfLnk;
                if (e.linkPath.find('\0') != std::string::npos) failData("{}: symlink target contains a NUL", what);
                op.reparseData = lxSymlinkReparse(e.linkPath);
                break;
            case EntryType::charDevice:
            case EntryType::blockDevice:
                md.mode = e.type == EntryType::charDevice ? kIfChr : kIfBlk;
                md.dev = std::make_pair(e.devMajor, e.devMinor);
                op.reparseData = emptyReparse(e.type == EntryType::charDevice ? kTagLxChr : kTagLxBlk);
                break;
            case EntryType::fifo:
                md.mode = kIfIfo;
                op.reparseData = emptyReparse(kTagLxFifo);
                break;
            case EntryType::hardLink: break;  // handled above
        }
        md.mode |= e.mode & 07777;
        if (!op.reparseData.empty()) attr |= format::kAttrReparsePoint;
        op.attributes = attr;
        op.extendedAttributes = buildLinuxEas(md, what);
        op.securityDescriptor = nullSecurityDescriptor();
        op.lastWriteTime = toFiletime(e.mtime);
        op.creationTime = e.birthtime.present ? toFiletime(e.birthtime) : op.lastWriteTime;
        op.lastAccessTime = e.atime.present ? toFiletime(e.atime) : op.lastWriteTime;
        op.changeTime = e.ctime.present ? toFiletime(e.ctime) : op.lastWriteTime;
        return op;
    }
};

}  // namespace

std::unique_ptr<EntryMapper> makeLinuxMapper() { return std::make_unique<LinuxMapper>(); }

}  // namespace cim::layer
