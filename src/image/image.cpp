#include "image/image.h"

#include <cstring>
#include <unordered_set>

#include "common/error.h"
#include "common/utf.h"
#include "format/link_table.h"

namespace cim::image {

using namespace cim::format;

Image::Image(std::string displayName, std::vector<std::shared_ptr<RegionSource>> regions, RegionOffset fsOffset)
    : name_(std::move(displayName)), regions_(std::move(regions)) {
    if (regions_.empty() || regions_.size() > kMaxRegions) {
        fail(hr::corrupt, "{}: {} regions (must be 1..{})", name_, regions_.size(), kMaxRegions);
    }
    fs_ = load<Filesystem>(readObject(fsOffset, sizeof(Filesystem)).data());
    if (fs_.fileTableDirectoryLength == 0 || fs_.fileTableDirectoryLength > (UINT32_MAX / kFilesPerTable)) {
        fail(hr::corrupt, "{}: file table directory length {} is invalid", name_, fs_.fileTableDirectoryLength);
    }
    auto dir = readObject(fs_.fileTableDirectoryOffset, size_t(fs_.fileTableDirectoryLength) * sizeof(FileTableDirectoryEntry));
    tables_.resize(fs_.fileTableDirectoryLength);
    std::memcpy(tables_.data(), dir.data(), dir.size());
    for (size_t t = 0; t < tables_.size(); ++t) {
        const auto& e = tables_[t];
        if (e.count > kFilesPerTable || e.entrySize == 0) {
            fail(hr::corrupt, "{}: file table {} has count {} entry size {}", name_, t, e.count, e.entrySize);
        }
        checkRange(e.offset, uint64_t(e.count) * e.entrySize, "file table");
        if (e.count) fileCount_ = static_cast<uint32_t>(t * kFilesPerTable + e.count);
    }
    auto up = readObject(fs_.upcaseTableOffset, kUpcaseTableBytes);
    upcase_ = std::make_unique<UpcaseTable>();
    std::memcpy(upcase_->data(), up.data(), kUpcaseTableBytes);
    FileNode root = file(fs_.rootDirectory);
    if (!root.isDirectory()) fail(hr::corrupt, "{}: root file {} is not a directory", name_, fs_.rootDirectory);
}

void Image::checkRange(RegionOffset off, uint64_t length, const char* what) const {
    uint32_t r = offsetRegion(off);
    uint64_t b = offsetBytes(off);
    if (off == kNullOffset || b == 0) fail(hr::corrupt, "{}: null offset for {}", name_, what);
    if (r >= regions_.size()) fail(hr::corrupt, "{}: {} in region {} but the image has {}", name_, what, r, regions_.size());
    uint64_t size = regions_[r]->size();
    if (b > size || length > size - b) {
        fail(hr::corrupt, "{}: {} of {} bytes at {:#x} in {} lies past its end ({} bytes)", name_, what, length, b,
             regions_[r]->describe(), size);
    }
}

std::vector<std::byte> Image::readObject(RegionOffset off, size_t length) const {
    checkRange(off, length, "object");
    std::vector<std::byte> out(length);
    regions_[offsetRegion(off)]->read(offsetBytes(off), out);
    return out;
}

const std::byte* Image::objectPointer(RegionOffset off, size_t length) const {
    checkRange(off, length, "object");
    const std::byte* m = regions_[offsetRegion(off)]->memory();
    return m ? m + offsetBytes(off) : nullptr;
}

FileNode Image::file(uint32_t id) const {
    if (id == 0) fail(hr::corrupt, "{}: file ID 0", name_);
    uint32_t t = (id - 1) / kFilesPerTable, slot = (id - 1) % kFilesPerTable;
    if (t >= tables_.size() || slot >= tables_[t].count) fail(hr::corrupt, "{}: file ID {} out of range", name_, id);
    const auto& e = tables_[t];
    size_t n = std::min<size_t>(e.entrySize, sizeof(File));
    FileNode node;
    node.id = id;
    // Records shorter than 96 bytes are zero-extended; longer ones have their tail ignored.
    RegionOffset at = e.offset + uint64_t(slot) * e.entrySize;
    if (const std::byte* p = objectPointer(at, n)) {
        std::memcpy(&node.rec, p, n);
    } else {
        auto bytes = readObject(at, n);
        std::memcpy(&node.rec, bytes.data(), n);
    }
    auto type = static_cast<uint8_t>(streamType(node.rec.defaultStream));
    if (type > 2) fail(hr::corrupt, "{}: file {} has stream type {}", name_, id, type);
    return node;
}

std::span<const std::byte> Image::linkTableBytes(RegionOffset off, uint64_t length, std::vector<std::byte>& buf) const {
    if (length > UINT32_MAX) fail(hr::corrupt, "{}: link table of {} bytes", name_, length);
    if (const std::byte* p = objectPointer(off, length)) return {p, static_cast<size_t>(length)};
    buf = readObject(off, static_cast<size_t>(length));
    return buf;
}

std::vector<DirEntry> Image::children(const FileNode& dir, bool includeHidden) const {
    if (!dir.isDirectory()) fail(hr::directory, "{}: file {} is not a directory", name_, dir.id);
    std::vector<DirEntry> out;
    uint64_t len = streamLength(dir.rec.defaultStream);
    if (len == 0) return out;
    std::vector<std::byte> buf;
    LinkTableView lt(linkTableBytes(dir.rec.defaultStream.dataOffset, len, buf), kDirectoryEntrySize);
    out.reserve(lt.count());
    for (uint32_t i = 0; i < lt.count(); ++i) {
        uint32_t id = lt.fileId(i);
        if (!includeHidden && file(id).isHidden()) continue;
        out.push_back({lt.name(i), id});
    }
    return out;
}

std::optional<uint32_t> Image::findChild(const FileNode& dir, std::u16string_view name, bool includeHidden) const {
    if (!dir.isDirectory()) fail(hr::directory, "{}: file {} is not a directory", name_, dir.id);
    uint64_t len = streamLength(dir.rec.defaultStream);
    if (len == 0) return std::nullopt;
    std::vector<std::byte> buf;
    LinkTableView lt(linkTableBytes(dir.rec.defaultStream.dataOffset, len, buf), kDirectoryEntrySize);
    uint32_t lo = 0, hi = lt.count();
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        auto c = compareNames(*upcase_, lt.name(mid), name);
        if (c == 0) {
            uint32_t id = lt.fileId(mid);
            if (!includeHidden && file(id).isHidden()) return std::nullopt;
            return id;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return std::nullopt;
}

Resolved Image::resolve(const ImagePath& path) const {
    FileNode cur = file(fs_.rootDirectory);
    for (size_t i = 0; i < path.components.size(); ++i) {
        if (!cur.isDirectory()) {
            fail(hr::directory, "{}: {}: a path component is not a directory", name_, displayPath(path.components));
        }
        auto id = findChild(cur, path.components[i]);
        if (!id) {
            bool leaf = i + 1 == path.components.size();
            fail(leaf ? hr::fileNotFound : hr::pathNotFound, "{}: {}: {}", name_, displayPath(path.components),
                 leaf ? "no such file or directory" : "parent directory does not exist");
        }
        cur = file(*id);
    }
    Resolved r{cur, std::nullopt};
    if (path.hasStream) {
        for (auto& s : alternateStreams(cur)) {
            if (compareNames(*upcase_, s.name, path.stream) == 0) {
                r.stream = std::move(s);
                return r;
            }
        }
        fail(hr::fileNotFound, "{}: {}:{}: no such alternate stream", name_, displayPath(path.components),
             utf16ToUtf8(path.stream));
    }
    return r;
}

Resolved Image::resolve(std::string_view utf8Path) const {
    if (utf8Path.find(':') == std::string_view::npos) return resolve(parseImagePath(utf8Path, StreamSyntax::none, true));
    try {
        return resolve(parseImagePath(utf8Path, StreamSyntax::none, true));  // a Linux name may contain ':'
    } catch (const Error& e) {
        // Not a file of that name; "file:stream" may still be valid where the whole last component
        // would be too long for a name (file name and stream name are limited separately).
        if (e.code() != hr::fileNotFound && e.code() != hr::invalidArg) throw;
    }
    return resolve(parseImagePath(utf8Path, StreamSyntax::optional, true));
}

std::vector<std::byte> Image::readCounted16(RegionOffset off, const char* what) const {
    checkRange(off, 2, what);
    std::byte lenBytes[2];
    regions_[offsetRegion(off)]->read(offsetBytes(off), lenBytes);
    auto len = load<uint16_t>(lenBytes);
    checkRange(off + 2, len, what);
    std::vector<std::byte> out(len);
    regions_[offsetRegion(off)]->read(offsetBytes(off) + 2, out);
    return out;
}

std::vector<std::byte> Image::securityDescriptor(const FileNode& f) const {
    if (f.rec.sdOffset == kNullOffset) return {};
    return readCounted16(f.rec.sdOffset, "security descriptor");
}

std::vector<std::byte> Image::extendedAttributes(const FileNode& f) const {
    if (f.rec.eaOffset == kNullOffset || f.rec.eaLength == 0) return {};
    return readObject(f.rec.eaOffset, f.rec.eaLength);
}

std::vector<std::byte> Image::reparseData(const FileNode& f) const {
    if (f.rec.reparseOffset == kNullOffset) return {};
    return readCounted16(f.rec.reparseOffset, "reparse buffer");
}

std::vector<AltStream> Image::alternateStreams(const FileNode& f) const {
    std::vector<AltStream> out;
    if (f.rec.streamTableOffset == kNullOffset) return out;
    auto head = readObject(f.rec.streamTableOffset, 8);
    uint32_t a = load<uint32_t>(head.data()), b = load<uint32_t>(head.data() + 4);
    RegionOffset at = f.rec.streamTableOffset;
    // opencim writes a plain link table. The 2021 reference reader expected a u32 size prefix
    // before the table (size == table Length); accept that form too.
    if (a == b && a >= sizeof(LinkTableHeader)) at += 4;
    auto len = load<uint32_t>(readObject(at, 4).data());
    std::vector<std::byte> buf;
    LinkTableView lt(linkTableBytes(at, len, buf), kStreamEntrySize);
    for (uint32_t i = 0; i < lt.count(); ++i) {
        Stream s = lt.stream(i);
        if (streamType(s) != StreamType::data) fail(hr::corrupt, "{}: alternate stream of type {}", name_, int(streamType(s)));
        out.push_back({lt.name(i), s});
    }
    return out;
}

size_t Image::readStream(const Stream& s, uint64_t offset, std::span<std::byte> out) const {
    uint64_t len = streamLength(s);
    if (offset >= len || out.empty()) return 0;
    size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), len - offset));
    out = out.first(n);
    if (streamSparse(s) || s.dataOffset == kNullOffset) {
        std::memset(out.data(), 0, n);
        return n;
    }
    switch (streamType(s)) {
    case StreamType::data:
        checkRange(s.dataOffset, len, "file data");
        regions_[offsetRegion(s.dataOffset)]->read(offsetBytes(s.dataOffset) + offset, out);
        return n;
    case StreamType::peImage: {
        auto pe = load<PeImage>(readObject(s.dataOffset, sizeof(PeImage)).data());
        auto mapBytes = readObject(s.dataOffset + sizeof(PeImage), size_t(pe.mappingCount) * sizeof(PeImageMapping));
        std::vector<PeImageMapping> maps(pe.mappingCount);
        if (!maps.empty()) std::memcpy(maps.data(), mapBytes.data(), mapBytes.size());
        uint64_t dataLen = pe.dataLength & ~(uint64_t(1) << 63);
        size_t done = 0;
        while (done < n) {
            uint64_t o = offset + done;
            uint32_t delta = 0;
            uint64_t segEnd = len;
            for (size_t m = 0; m < maps.size(); ++m) {
                if (maps[m].fileOffset <= o) {
                    delta = maps[m].delta;
                    segEnd = m + 1 < maps.size() ? maps[m + 1].fileOffset : len;
                } else {
                    segEnd = std::min<uint64_t>(segEnd, maps[m].fileOffset);
                    break;
                }
            }
            if (segEnd <= o) fail(hr::corrupt, "{}: PE image mapping table is not sorted", name_);
            size_t chunk = static_cast<size_t>(std::min<uint64_t>(n - done, segEnd - o));
            uint64_t src = o + delta;
            if (src > dataLen || chunk > dataLen - src) fail(hr::corrupt, "{}: PE image read past its data", name_);
            checkRange(pe.dataOffset + src, chunk, "PE image data");
            regions_[offsetRegion(pe.dataOffset)]->read(offsetBytes(pe.dataOffset) + src, out.subspan(done, chunk));
            done += chunk;
        }
        return n;
    }
    default:
        fail(hr::accessDenied, "{}: stream is a directory", name_);
    }
}

std::u16string Image::mergeLinkTarget(const FileNode& f) const {
    uint64_t len = streamLength(f.rec.defaultStream);
    if (len % 2 || len > kMaxPathUnits * 2) fail(hr::corrupt, "{}: merge link {} has a target of {} bytes", name_, f.id, len);
    std::u16string t(len / 2, u'\0');
    readStream(f.rec.defaultStream, 0, std::as_writable_bytes(std::span<char16_t>(t.data(), t.size())));
    return t;
}

void Image::walk(const std::function<void(const std::vector<std::u16string>&, const FileNode&)>& fn,
                 bool includeHidden) const {
    std::unordered_set<uint32_t> visitedDirs;
    std::vector<std::u16string> path;
    std::function<void(const FileNode&)> rec = [&](const FileNode& dir) {
        if (!visitedDirs.insert(dir.id).second) return;  // a directory linked twice: cycle or corruption
        for (auto& e : children(dir, includeHidden)) {
            FileNode child = file(e.id);
            path.push_back(std::move(e.name));
            fn(path, child);
            if (child.isDirectory() && path.size() < 4096) rec(child);
            path.pop_back();
        }
    };
    rec(file(fs_.rootDirectory));
}

uint32_t Image::linkCount(uint32_t id) const {
    std::call_once(linkCountOnce_, [&] {
        std::vector<uint32_t> counts(size_t(fileCount_) + 1, 0);
        walk([&](const std::vector<std::u16string>&, const FileNode& f) {
            if (f.id < counts.size()) ++counts[f.id];
        });
        if (fs_.rootDirectory < counts.size()) counts[fs_.rootDirectory] = 1;
        linkCounts_ = std::move(counts);
    });
    return id < linkCounts_.size() ? std::max<uint32_t>(linkCounts_[id], 1) : 1;
}

}  // namespace cim::image
