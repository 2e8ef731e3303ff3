// A thin RAII wrapper over the C ABI reader functions (CimOpenImage ... CimEnumerateAlternateStreams)
// so commands can use vectors and strings; every failure throws cim::Error with the library message.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "opencim/cimfs.h"

namespace cim::cli {

class Reader {
public:
    explicit Reader(CIMFS_READER_HANDLE h) : h_(h) {}
    ~Reader() { CimCloseReader(h_); }
    Reader(Reader&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
    Reader& operator=(Reader&&) = delete;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    CIMFS_READER_HANDLE handle() const { return h_; }

    struct Entry {
        std::string name;
        CIMFS_FILE_INFO info{};
    };
    struct Stream {
        std::string name;
        uint64_t size = 0;
    };

    CIMFS_FILE_INFO stat(const std::string& path) const;
    // Children of a directory in stored order.
    std::vector<Entry> list(const std::string& dir) const;
    std::vector<std::byte> securityDescriptor(const std::string& path) const;
    std::vector<std::byte> extendedAttributes(const std::string& path) const;
    std::vector<std::byte> reparseData(const std::string& path) const;
    std::vector<Stream> alternateStreams(const std::string& path) const;
    // Reads into `out` at `offset`; returns the bytes read (short only at end of stream).
    uint32_t read(const std::string& path, uint64_t offset, std::span<std::byte> out) const;
    // Calls `sink` with successive chunks of up to `chunk` bytes of the stream; returns the total.
    uint64_t readAll(const std::string& path, const std::function<void(std::span<const std::byte>)>& sink,
                     uint32_t chunk = 1u << 20) const;

    // Visits `dir` and everything below it, depth first, parents before children, children in
    // stored order. `fn` gets the path (joined with '/') and the entry's stat.
    void walk(const std::string& dir, const std::function<void(const std::string& path, const Entry&)>& fn) const;

private:
    CIMFS_READER_HANDLE h_;
};

// "/a\\b/" -> "a/b": the form commands print and join children to (the library accepts both).
inline std::string normalizeImagePath(std::string p) {
    for (char& c : p) {
        if (c == '\\') c = '/';
    }
    std::string out;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '/' && (out.empty() || out.back() == '/')) continue;
        out.push_back(p[i]);
    }
    if (!out.empty() && out.back() == '/') out.pop_back();
    return out;
}

// Joins an image-relative directory path and a name ("" is the root).
inline std::string joinImagePath(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

inline CIMFS_FILE_INFO emptyInfo() {
    CIMFS_FILE_INFO i{};
    i.Size = sizeof(CIMFS_FILE_INFO);
    return i;
}

}  // namespace cim::cli
