// What one tar entry means for the CIM, decided by the Windows or Linux mapper (in the reading
// thread) and applied to the image writer by the importer (in the writing thread).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/path.h"

namespace cim::layer {

enum class OpKind {
    file,       // regular file, directory, symlink or special file (CimCreateFile), `size` bytes follow
    altStream,  // alternate data stream of an existing file, `size` bytes follow
    hardLink,   // deferred to the end of the layer (CimCreateHardLink or CimCreateMergeLink)
    whiteout,   // CimTombstoneFile
    opaque,     // the directory hides everything below it in lower layers (tombstone on the directory)
};

struct LayerOp {
    OpKind kind = OpKind::file;
    ImagePath path;    // for altStream: the file's components plus the stream name
    ImagePath target;  // hardLink
    std::string what;  // "<archive>: entry '<name>' at offset N" for messages
    uint32_t attributes = 0;
    int64_t creationTime = 0, lastWriteTime = 0, changeTime = 0, lastAccessTime = 0;
    std::vector<std::byte> securityDescriptor, extendedAttributes, reparseData;
    uint64_t size = 0;               // data bytes of the primary/alternate stream
    bool regular = false;            // a regular file's data (counted in DataBytes)
    std::vector<std::byte> inlineData;  // small payloads travel with the op (size bytes when set)
    bool hasInline = false;
};

// hcsshim's null security descriptor (windows-layer-tar.md §11): SE_SELF_RELATIVE|SE_DACL_PRESENT
// with a NULL DACL, used whenever an entry carries none.
inline const std::vector<std::byte>& nullSecurityDescriptor() {
    static const std::vector<std::byte> sd = [] {
        std::vector<std::byte> b(20, std::byte{0});
        b[0] = std::byte{1};
        b[2] = std::byte{0x04};
        b[3] = std::byte{0x80};
        return b;
    }();
    return sd;
}

}  // namespace cim::layer
