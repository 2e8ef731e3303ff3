#include "cli/reader.h"

#include "cli/errors.h"

namespace cim::cli {

namespace {
constexpr HRESULT kNoMoreFiles = static_cast<HRESULT>(0x80070012u);
constexpr HRESULT kBufferTooSmall = static_cast<HRESULT>(0x8007007Au);

using GetBuffer = HRESULT (*)(CIMFS_READER_HANDLE, const char*, void*, uint32_t*);

// Size query first, then the copy; loops in case the answer changes (it cannot for a read-only
// image, but a loop costs nothing and never trusts one answer blindly).
std::vector<std::byte> getBuffer(CIMFS_READER_HANDLE h, const std::string& path, GetBuffer fn, const char* what) {
    std::vector<std::byte> buf;
    for (;;) {
        uint32_t size = static_cast<uint32_t>(buf.size());
        HRESULT r = fn(h, path.c_str(), buf.empty() ? nullptr : buf.data(), &size);
        if (r == kBufferTooSmall && size > buf.size()) {
            buf.resize(size);
            continue;
        }
        check(r, what);
        buf.resize(size);
        return buf;
    }
}
}  // namespace

CIMFS_FILE_INFO Reader::stat(const std::string& path) const {
    CIMFS_FILE_INFO info = emptyInfo();
    check(CimStatPath(h_, path.c_str(), &info), "CimStatPath");
    return info;
}

std::vector<Reader::Entry> Reader::list(const std::string& dir) const {
    std::vector<Entry> out;
    std::vector<char> name(1024);
    for (uint32_t i = 0;; ++i) {
        Entry e;
        e.info = emptyInfo();
        uint32_t size = static_cast<uint32_t>(name.size());
        HRESULT r = CimEnumerateDirectory(h_, dir.c_str(), i, name.data(), &size, &e.info);
        if (r == kNoMoreFiles) break;
        if (r == kBufferTooSmall && size > name.size()) {
            name.resize(size);
            --i;
            continue;
        }
        check(r, "CimEnumerateDirectory");
        e.name.assign(name.data());
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<std::byte> Reader::securityDescriptor(const std::string& path) const {
    return getBuffer(h_, path, CimGetSecurityDescriptor, "CimGetSecurityDescriptor");
}

std::vector<std::byte> Reader::extendedAttributes(const std::string& path) const {
    return getBuffer(h_, path, CimGetExtendedAttributes, "CimGetExtendedAttributes");
}

std::vector<std::byte> Reader::reparseData(const std::string& path) const {
    return getBuffer(h_, path, CimGetReparseData, "CimGetReparseData");
}

std::vector<Reader::Stream> Reader::alternateStreams(const std::string& path) const {
    std::vector<Stream> out;
    std::vector<char> name(1024);
    for (uint32_t i = 0;; ++i) {
        Stream s;
        uint32_t size = static_cast<uint32_t>(name.size());
        HRESULT r = CimEnumerateAlternateStreams(h_, path.c_str(), i, name.data(), &size, &s.size);
        if (r == kNoMoreFiles) break;
        if (r == kBufferTooSmall && size > name.size()) {
            name.resize(size);
            --i;
            continue;
        }
        check(r, "CimEnumerateAlternateStreams");
        s.name.assign(name.data());
        out.push_back(std::move(s));
    }
    return out;
}

uint32_t Reader::read(const std::string& path, uint64_t offset, std::span<std::byte> out) const {
    uint32_t got = 0;
    check(CimReadFile(h_, path.c_str(), offset, out.data(), static_cast<uint32_t>(out.size()), &got), "CimReadFile");
    return got;
}

uint64_t Reader::readAll(const std::string& path, const std::function<void(std::span<const std::byte>)>& sink,
                         uint32_t chunk) const {
    std::vector<std::byte> buf(chunk);
    uint64_t offset = 0;
    for (;;) {
        uint32_t got = read(path, offset, buf);
        if (got > 0) sink(std::span<const std::byte>(buf.data(), got));
        offset += got;
        if (got < chunk) return offset;
    }
}

namespace {
// A corrupt image could link a directory into its own subtree; the ancestors' file IDs stop that.
void walkBelow(const Reader& r, const std::string& dir, std::vector<uint64_t>& ancestors,
               const std::function<void(const std::string&, const Reader::Entry&)>& fn) {
    for (const Reader::Entry& e : r.list(dir)) {
        std::string path = joinImagePath(dir, e.name);
        fn(path, e);
        if (!(e.info.Attributes & 0x10)) continue;
        for (uint64_t a : ancestors) {
            if (a == e.info.FileId) {
                throw Error(static_cast<int32_t>(0x80070570u),
                            fmt::format("{}: directory cycle (file ID {} is its own ancestor)", path, a));
            }
        }
        ancestors.push_back(e.info.FileId);
        walkBelow(r, path, ancestors, fn);
        ancestors.pop_back();
    }
}
}  // namespace

void Reader::walk(const std::string& dir, const std::function<void(const std::string&, const Entry&)>& fn) const {
    std::vector<uint64_t> ancestors{stat(dir).FileId};
    walkBelow(*this, dir, ancestors, fn);
}

}  // namespace cim::cli
