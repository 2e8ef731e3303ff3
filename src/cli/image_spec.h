// How every read command names the image it reads (printed by kImageHelp in --help):
//
//   DIR/NAME.cim                  standard CIM (the .cim file next to its region files)
//   BLOCKFILE:NAME                CIM NAME inside block file (or block device) BLOCKFILE
//   BLOCKFILE                     the only CIM inside BLOCKFILE
//   --block FILE --name NAME      same as FILE:NAME (no IMAGE argument then)
//   --merged BLOCKFILE:NAME --source BLOCKFILE:NAME ...
//                                 merged CIM with its sources, topmost first (no IMAGE argument)
//   --verify HEX                  open verified against a 64-hex-digit root hash (block/merged)
//
// A path that exists is taken whole (so block files whose names contain ':' still work); only
// otherwise is it split at its last ':'. Block devices are recognised by stat().
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/reader.h"

namespace cim::cli {

extern const char* const kImageHelp;

struct BlockRef {
    std::string path;  // block file or device
    std::string name;  // CIM name inside it
    bool device = false;
};

struct ImageSpec {
    // Options as parsed.
    std::string blockOpt, nameOpt, mergedOpt, verifyOpt;
    std::vector<std::string> sourceOpts;

    // Resolved by resolve().
    enum class Kind { standard, block, merged } kind = Kind::standard;
    std::string dir, file;          // standard: directory and .cim file name
    BlockRef block;                 // block: the CIM; merged: the merged CIM
    std::vector<BlockRef> sources;  // merged: topmost first
    std::optional<std::vector<uint8_t>> rootHash;

    // "dir/name.cim", "file:name" or "merged file:name".
    std::string describe() const;
};

// Adds --block, --name, --merged, --source and --verify to `cmd`.
void addImageOptions(CLI::App& cmd, ImageSpec& spec);

// Resolves the spec. Unless --block or --merged was given, args[0] is the IMAGE and is consumed.
// Returns the remaining positional arguments. Throws UsageError for inconsistent combinations.
std::vector<std::string> resolveImage(ImageSpec& spec, std::vector<std::string> args);

// Parses "BLOCKFILE:NAME" or "BLOCKFILE" (its only CIM) as described above.
BlockRef parseBlockRef(const std::string& text);

// Opens the resolved image with CimOpenImage / CimOpenVerifiedImage / CimOpenMerged(Verified)Image.
Reader openReader(const ImageSpec& spec);

// Names of the CIMs inside a block file (the ABI has no listing; this reads the container).
std::vector<std::string> blockCimNames(const std::string& path);
bool isBlockDevice(const std::string& path);
// What the first bytes of an existing file say it is (throws if it cannot be read).
enum class ImageFileKind { unknown, standard, block };
ImageFileKind detectImageFile(const std::string& path);

}  // namespace cim::cli
