// Helpers shared by the fuzz targets: a per-process scratch directory (on tmpfs when there is
// one, so that the writers' fsyncs cost nothing), whole-file writes, and a check that a directory
// holds exactly the expected names (used to assert "no partial output, no temp files left").
#pragma once
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

namespace fuzzutil {

inline std::string scratchDir() {
    static std::string dir = [] {
        struct stat st;
        std::string base = ::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        std::string t = base + "/opencim-fuzz-XXXXXX";
        if (!::mkdtemp(t.data())) std::abort();
        return t;
    }();
    return dir;
}

// A fresh, empty sub-directory of the scratch directory (removed and recreated each call).
inline std::string freshDir(const std::string& name) {
    std::string d = scratchDir() + "/" + name;
    if (DIR* dp = ::opendir(d.c_str())) {
        while (dirent* e = ::readdir(dp)) {
            if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) ::unlink((d + "/" + e->d_name).c_str());
        }
        ::closedir(dp);
    }
    ::mkdir(d.c_str(), 0755);
    return d;
}

inline void writeFile(const std::string& path, const uint8_t* data, size_t size) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    while (size) {
        ssize_t n = ::write(fd, data, size);
        if (n <= 0) break;
        data += n;
        size -= static_cast<size_t>(n);
    }
    ::close(fd);
}

inline std::set<std::string> listDir(const std::string& d) {
    std::set<std::string> out;
    if (DIR* dp = ::opendir(d.c_str())) {
        while (dirent* e = ::readdir(dp)) {
            if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.insert(e->d_name);
        }
        ::closedir(dp);
    }
    return out;
}

// Aborts (a finding for the fuzzer) when `d` does not hold exactly `expected`.
inline void requireDirIs(const std::string& d, const std::set<std::string>& expected, const char* why) {
    auto got = listDir(d);
    if (got == expected) return;
    std::fprintf(stderr, "fuzz invariant violated (%s): %s holds:", why, d.c_str());
    for (const auto& n : got) std::fprintf(stderr, " '%s'", n.c_str());
    std::fprintf(stderr, "\n");
    std::abort();
}

// A little-endian reader over the fuzz input that yields zeros once it runs out.
struct Input {
    const uint8_t* p;
    size_t n;
    template <typename T>
    T take() {
        T v{};
        size_t k = n < sizeof(T) ? n : sizeof(T);
        std::memcpy(&v, p, k);
        p += k;
        n -= k;
        return v;
    }
    // Up to `len` bytes (fewer when the input ends).
    std::string bytes(size_t len) {
        size_t k = n < len ? n : len;
        std::string s(reinterpret_cast<const char*>(p), k);
        p += k;
        n -= k;
        return s;
    }
    std::string rest() { return bytes(n); }
};

}  // namespace fuzzutil
