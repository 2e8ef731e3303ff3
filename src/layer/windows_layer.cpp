// Windows layer entries -> CIM operations, following hcsshim's block-CIM importer
// (shared/reference/windows-layer-tar.md):
//  - attributes from MSWINDOWS.fileattr (absent: 0), DIRECTORY forced on directories, REPARSE_POINT
//    set on symlinks and cleared everywhere else; a regular file claiming DIRECTORY is refused;
//  - security descriptor from MSWINDOWS.rawsd (base64, checked to be a self-relative SD); none:
//    hcsshim's null SD. MSWINDOWS.sd (SDDL text) alone is REFUSED with 0x80070032: converting SDDL
//    needs a Windows API, and ignoring it would silently turn a protected file into one with no
//    access control;
//  - EAs from MSWINDOWS.xattr.<NAME> (base64 values), sorted by name, flags 0;
//  - symlinks -> IO_REPARSE_TAG_SYMLINK, or IO_REPARSE_TAG_MOUNT_POINT with MSWINDOWS.mountpoint,
//    target with '/' turned into '\', size 0;
//  - times: mtime -> LastWriteTime; LIBARCHIVE.creationtime, atime and ctime, each falling back to
//    mtime when absent (hcsshim would use Go's zero time there);
//  - "<file>:<stream>[:$DATA]" entries are alternate streams (other stream types are refused);
//  - uid/gid/mode/uname are ignored, as hcsshim does. Device and FIFO entries are refused.
#include <strings.h>

#include <cstring>

#include "common/utf.h"
#include "format/ea.h"
#include "format/layout.h"
#include "layer/entry_mapper.h"
#include "layer/layer_error.h"
#include "layer/pax.h"
#include "layer/reparse.h"
#include "layer/whiteout.h"

namespace cim::layer {

namespace {

void checkSecurityDescriptor(const std::string& sd, const std::string& what) {
    if (sd.size() < 20) failData("{}: MSWINDOWS.rawsd of {} bytes is too short for a security descriptor", what, sd.size());
    if (sd.size() > 0xFFFF) failData("{}: MSWINDOWS.rawsd of {} bytes exceeds 65535", what, sd.size());
    auto u8 = [&](size_t i) { return static_cast<uint8_t>(sd[i]); };
    if (u8(0) != 1) failData("{}: MSWINDOWS.rawsd has revision {} (expected 1)", what, u8(0));
    uint16_t control = uint16_t(u8(2) | (u8(3) << 8));
    if (!(control & 0x8000)) failData("{}: MSWINDOWS.rawsd is not a self-relative security descriptor", what);
    for (size_t off = 4; off < 20; off += 4) {
        uint32_t o;
        std::memcpy(&o, sd.data() + off, 4);
        if (o != 0 && (o < 20 || o >= sd.size())) failData("{}: MSWINDOWS.rawsd has an offset {} outside its {} bytes", what, o, sd.size());
    }
}

class WindowsMapper final : public EntryMapper {
public:
    LayerOp map(const TarEntry& e, const std::string& what) override {
        LayerOp op;
        op.what = what;
        auto comps = splitTarPath(e.path, LayerFormat::Windows, what);
        if (mapWhiteout(comps, LayerFormat::Windows, what, op)) return op;
        auto rec = [&](const char* k) -> const std::string* {
            auto it = e.pax.find(k);
            return it == e.pax.end() ? nullptr : &it->second;
        };

        // Alternate stream: "file:stream" or "file:stream:$DATA" as the last component.
        if (!comps.empty()) {
            std::string& last = comps.back();
            size_t colon = last.find(':');
            if (colon != std::string::npos) {
                if (e.type != EntryType::regular) failData("{}: an alternate stream entry must be a regular file", what);
                std::string stream = last.substr(colon + 1);
                if (stream.size() >= 6 && strcasecmp(stream.c_str() + stream.size() - 6, ":$DATA") == 0) stream.resize(stream.size() - 6);
                if (stream.find(':') != std::string::npos) {
                    failData("{}: stream types other than $DATA are not supported", what);
                }
                if (stream.empty()) failData("{}: alternate stream entry without a stream name", what);
                last.resize(colon);
                if (last.empty()) failData("{}: alternate stream entry without a file name", what);
                op.kind = OpKind::altStream;
                op.path = toImagePath(comps, LayerFormat::Windows, what);
                op.path.stream = toCimName(stream, LayerFormat::Windows, what);
                op.path.hasStream = true;
                op.size = e.size;
                return op;
            }
        }

        op.path = toImagePath(comps, LayerFormat::Windows, what);
        if (e.type == EntryType::hardLink) {
            if (comps.empty()) failData("{}: a hard link cannot replace the root directory", what);
            auto t = splitTarPath(e.linkPath, LayerFormat::Windows, what + ": link target");
            if (t.empty()) failData("{}: hard link to the root directory", what);
            op.kind = OpKind::hardLink;
            op.target = toImagePath(t, LayerFormat::Windows, what + ": link target");
            return op;
        }
        if (e.type == EntryType::charDevice || e.type == EntryType::blockDevice || e.type == EntryType::fifo) {
            failData("{}: device and FIFO entries cannot be stored in a Windows layer", what);
        }
        if (comps.empty() && e.type != EntryType::directory) failData("{}: the root must be a directory", what);

        op.kind = OpKind::file;
        uint32_t attr = rec("MSWINDOWS.fileattr") ? static_cast<uint32_t>(parsePaxNumber(*rec("MSWINDOWS.fileattr"), UINT32_MAX, what))
                                                  : 0;
        if (e.type == EntryType::directory) attr |= format::kAttrDirectory;
        if (e.type == EntryType::regular && (attr & format::kAttrDirectory)) {
            failData("{}: regular file entry with the DIRECTORY attribute", what);
        }
        attr &= ~format::kAttrReparsePoint;  // only symlinks may be reparse points (hcsshim)
        if (e.type == EntryType::symlink) {
            attr |= format::kAttrReparsePoint;
            std::u16string target = toTarget(e.linkPath, what);
            try {
                op.reparseData = windowsLinkReparse(target, rec("MSWINDOWS.mountpoint") != nullptr);
            } catch (const Error& x) {
                failData("{}: {}", what, x.what());
            }
        } else if (e.type == EntryType::regular) {
            op.size = e.size;
            op.regular = true;
        }
        op.attributes = attr;

        if (const auto* sd = rec("MSWINDOWS.rawsd")) {
            std::string b = base64Decode(*sd, what + ": MSWINDOWS.rawsd");
            checkSecurityDescriptor(b, what);
            auto p = reinterpret_cast<const std::byte*>(b.data());
            op.securityDescriptor.assign(p, p + b.size());
        } else if (rec("MSWINDOWS.sd")) {
            fail(hr::notSupported,
                 "{}: the security descriptor is SDDL text (MSWINDOWS.sd), which opencim cannot convert; "
                 "export the layer with MSWINDOWS.rawsd",
                 what);
        } else {
            op.securityDescriptor = nullSecurityDescriptor();
        }

        std::vector<format::ExtendedAttribute> eas;
        for (const auto& [k, v] : e.pax) {
            if (!k.starts_with("MSWINDOWS.xattr.")) continue;
            std::string name = k.substr(16);
            if (name.empty() || name.size() > 254) failData("{}: {}: invalid extended attribute name", what, printable(k));
            for (unsigned char c : name) {
                if (c < 0x20 || c >= 0x7F) failData("{}: {}: invalid extended attribute name", what, printable(k));
            }
            std::string value = base64Decode(v, what + ": " + k);
            if (value.size() > 0xFFFF) failData("{}: {}: value of {} bytes exceeds 65535", what, k, value.size());
            auto p = reinterpret_cast<const std::byte*>(value.data());
            eas.push_back({0, name, std::vector<std::byte>(p, p + value.size())});
        }
        if (!eas.empty()) {
            size_t total = 0;
            for (const auto& x : eas) total += (8 + x.name.size() + 1 + x.value.size() + 3) & ~size_t(3);
            if (total > 0xFFFF) failData("{}: extended attributes of {} bytes exceed 65535", what, total);
            op.extendedAttributes = format::buildEaChain(eas);  // std::map order: sorted by name
        }

        if (!e.mtime.present) failData("{}: entry without a modification time", what);
        op.lastWriteTime = toFiletime(e.mtime);
        op.creationTime = e.birthtime.present ? toFiletime(e.birthtime) : op.lastWriteTime;
        op.lastAccessTime = e.atime.present ? toFiletime(e.atime) : op.lastWriteTime;
        op.changeTime = e.ctime.present ? toFiletime(e.ctime) : op.lastWriteTime;
        return op;
    }

private:
    static std::u16string toTarget(const std::string& raw, const std::string& what) {
        if (raw.empty()) failData("{}: symlink without a target", what);
        for (unsigned char c : raw) {
            if (c < 0x20 || c == 0x7F) failData("{}: symlink target contains a control character", what);
        }
        std::u16string t;
        try {
            t = utf8ToUtf16(raw, false);
        } catch (const Error&) {
            failData("{}: symlink target is not valid UTF-8", what);
        }
        for (auto& c : t) {
            if (c == u'/') c = u'\\';
        }
        return t;
    }
};

}  // namespace

std::unique_ptr<EntryMapper> makeWindowsMapper() { return std::make_unique<WindowsMapper>(); }

}  // namespace cim::layer
