// Writing a CIM back as an OCI layer tar (CimExportLayer), the importer's conventions in reverse,
// so tar -> CIM -> tar keeps names, types, modes, owners, link targets, xattrs, times and data:
//  - entries in stored order, parents before children; a file's second and later names become
//    hard links ('1') to its first name; merge links become hard links to their target;
//    tombstones become ".wh.<name>"; an opaque directory is followed by "<dir>/.wh..wh..opq";
//  - Windows: MSWINDOWS.fileattr, MSWINDOWS.rawsd (omitted for the null SD the importer supplies
//    when a tar has none), MSWINDOWS.xattr.<NAME>, symlinks/junctions from their reparse buffers
//    (print name, MSWINDOWS.mountpoint), alternate streams as "<file>:<stream>:$DATA" entries
//    (the spelling hcsshim's CIM importer requires), files 0644 / directories 0755, uid 0;
//  - Linux: uid/gid/mode/device from the $LX* EAs (defaults 0/0/0644 or 0755), symlinks, FIFOs
//    and devices from the WSL reparse tags, xattrs as SCHILY.xattr.<name> (LIBARCHIVE.xattr.* when
//    the name cannot be a PAX key); the root directory as "./" when it carries metadata. Sockets
//    cannot be stored in a tar and are skipped, as tar does;
//  - times: mtime = LastWriteTime; atime, ctime and LIBARCHIVE.creationtime only when they differ
//    from it (the importer fills them in with mtime when absent).
// The layer format defaults to the image's: Linux when its upcase table is the identity table.
// Output: `tarPath` "-" = stdout; otherwise written aside and renamed into place.
#pragma once
#include <optional>
#include <string>

#include "layer/layer_path.h"

namespace cim::layer {

void exportLayer(const std::string& imageContainingPath, const std::string& imageName, bool block,
                 std::optional<LayerFormat> format, const std::string& tarPath);

}  // namespace cim::layer
