// A minimal, deterministic PAX tar writer. libarchive's writer cannot emit arbitrary PAX records
// (it has no API for vendor keys such as MSWINDOWS.*), so the exporter writes the format itself:
// a ustar header per entry, preceded by a PAX 'x' header when the entry needs one (long or
// non-ASCII names, large numbers, sub-second times, extra records). Output goes through a 1 MiB
// buffer to a file descriptor.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "layer/tar_entry.h"

namespace cim::layer {

struct TarHeader {
    std::string path;  // raw bytes; directories end in '/'
    char type = '0';
    uint64_t size = 0;
    uint32_t mode = 0644;
    uint64_t uid = 0, gid = 0;
    TarTime mtime;
    std::string linkPath;
    uint32_t devMajor = 0, devMinor = 0;
    std::vector<std::pair<std::string, std::string>> pax;  // extra records, written in this order
};

class TarWriter {
public:
    TarWriter(int fd, std::string name);
    void header(const TarHeader& h);
    void data(std::span<const std::byte> d);  // the entry's data, `size` bytes in total
    void finish();                            // end-of-archive blocks, flush

private:
    void put(std::span<const std::byte> d);
    void flush();
    void block(const TarHeader& h, const std::string& name, const std::string& prefix, char type, uint64_t size);

    int fd_;
    std::string name_;
    std::vector<std::byte> buf_;
    uint64_t remaining_ = 0, padding_ = 0;
};

}  // namespace cim::layer
