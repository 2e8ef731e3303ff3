package cimfs

/*
#include "shim.h"
*/
import "C"

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// GUID is a volume GUID, laid out like a Windows GUID (and CIMFS_GUID).
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// NewGUID returns a random (version 4) GUID.
func NewGUID() (GUID, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return GUID{}, err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return GUID{
		Data1: binary.BigEndian.Uint32(b[0:4]),
		Data2: binary.BigEndian.Uint16(b[4:6]),
		Data3: binary.BigEndian.Uint16(b[6:8]),
		Data4: *(*[8]byte)(b[8:16]),
	}, nil
}

// String returns the lowercase form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (no braces).
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%s-%s", g.Data1, g.Data2, g.Data3, hex.EncodeToString(g.Data4[:2]), hex.EncodeToString(g.Data4[2:]))
}

// ParseGUID parses xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, with or without braces, any case.
func ParseGUID(s string) (GUID, error) {
	t := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var g GUID
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, fmt.Errorf("cimfs: invalid GUID %q: %w", s, HRInvalidArg)
	}
	b, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:])
	if err != nil {
		return g, fmt.Errorf("cimfs: invalid GUID %q: %w", s, HRInvalidArg)
	}
	g.Data1 = binary.BigEndian.Uint32(b[0:4])
	g.Data2 = binary.BigEndian.Uint16(b[4:6])
	g.Data3 = binary.BigEndian.Uint16(b[6:8])
	copy(g.Data4[:], b[8:])
	return g, nil
}

func (g GUID) c() C.CIMFS_GUID {
	var c C.CIMFS_GUID
	c.Data1 = C.uint32_t(g.Data1)
	c.Data2 = C.uint16_t(g.Data2)
	c.Data3 = C.uint16_t(g.Data3)
	for i, b := range g.Data4 {
		c.Data4[i] = C.uint8_t(b)
	}
	return c
}

// GetVolumeMountPath returns where volume g is (or would be) mounted:
// $OPENCIM_MOUNT_ROOT/<guid>, by default /run/opencim/volumes/<guid>.
func GetVolumeMountPath(g GUID) (string, error) {
	const op = "GetVolumeMountPath"
	cg := g.c()
	buf := make([]byte, 256)
	for {
		size := C.uint32_t(len(buf))
		res, msg := call(func() C.HRESULT {
			return C.CimGetVolumeMountPath(&cg, (*C.char)(bytesPtr(buf)), &size)
		})
		if res == HRInsufficientBuffer && int(size) > len(buf) {
			buf = make([]byte, size)
			continue
		}
		if err := newError(op, g.String(), "", res, msg); err != nil {
			return "", err
		}
		return string(buf[:size-1]), nil
	}
}

// mounted returns the mount path after a successful mount call.
func mounted(op, image string, g GUID, res HRESULT, msg string) (string, error) {
	if err := newError(op, image, "", res, msg); err != nil {
		return "", err
	}
	return GetVolumeMountPath(g)
}

// Mount mounts the CIM at cimPath read-only through FUSE under volume GUID volumeGUID and
// returns the mount path. cimPath is dir/name.cim for a standard CIM, or blockPath/cimName
// with CimMountSingleFileCim or CimMountBlockDeviceCim in mountFlags. hcsshim returns a
// \\?\Volume{GUID}\ path; on Linux the volume is a directory (see GetVolumeMountPath). Fails
// with an error matching HRNotSupported when the machine has no FUSE.
func Mount(cimPath string, volumeGUID GUID, mountFlags uint32) (string, error) {
	const op = "Mount"
	dir, err := newCstr(op, cimPath, filepath.Dir(cimPath))
	if err != nil {
		return "", err
	}
	name, err := newCstr(op, cimPath, filepath.Base(cimPath))
	if err != nil {
		return "", err
	}
	g := volumeGUID.c()
	res, msg := call(func() C.HRESULT { return C.CimMountImage(dir.p(), name.p(), C.uint32_t(mountFlags), &g) })
	return mounted(op, cimPath, volumeGUID, res, msg)
}

// MountVerifiedBlockCIM mounts a sealed block CIM checking every read against rootHash (32
// bytes). A wrong root hash fails here with an error matching HRIntegrityViolation; tampered
// data later reads as EIO. The block type flag is added from bCIM.Type.
func MountVerifiedBlockCIM(bCIM *BlockCIM, mountFlags uint32, volumeGUID GUID, rootHash []byte) (string, error) {
	const op = "MountVerifiedBlockCIM"
	if err := bCIM.validate(op); err != nil {
		return "", err
	}
	if len(rootHash) != cimHashSize {
		return "", goError(op, bCIM.String(), "", fmt.Errorf("root hash of %d bytes, expected %d: %w", len(rootHash), cimHashSize, HRInvalidArg))
	}
	typeFlag, _ := bCIM.mountFlag(op)
	dir, err := newCstr(op, bCIM.String(), bCIM.BlockPath)
	if err != nil {
		return "", err
	}
	name, err := newCstr(op, bCIM.String(), bCIM.CimName)
	if err != nil {
		return "", err
	}
	g := volumeGUID.c()
	res, msg := call(func() C.HRESULT {
		return C.CimMountVerifiedImage(dir.p(), name.p(), C.uint32_t(mountFlags|typeFlag), &g, cimHashSize,
			(*C.uint8_t)(bytesPtr(rootHash)))
	})
	return mounted(op, bCIM.String(), volumeGUID, res, msg)
}

// MountMergedBlockCIMs mounts merged CIM mergedCIM over sourceCIMs, which must be the sources
// given to MergeBlockCIMs, in the same order (topmost first).
func MountMergedBlockCIMs(mergedCIM *BlockCIM, sourceCIMs []*BlockCIM, mountFlags uint32, volumeGUID GUID) (string, error) {
	return mountMerged("MountMergedBlockCIMs", mergedCIM, sourceCIMs, mountFlags, volumeGUID, nil)
}

// MountMergedVerifiedBlockCIMs mounts a verified merged CIM; rootHash is the merged CIM's.
func MountMergedVerifiedBlockCIMs(mergedCIM *BlockCIM, sourceCIMs []*BlockCIM, mountFlags uint32, volumeGUID GUID, rootHash []byte) (string, error) {
	if len(rootHash) != cimHashSize {
		return "", goError("MountMergedVerifiedBlockCIMs", mergedCIM.String(), "",
			fmt.Errorf("root hash of %d bytes, expected %d: %w", len(rootHash), cimHashSize, HRInvalidArg))
	}
	return mountMerged("MountMergedVerifiedBlockCIMs", mergedCIM, sourceCIMs, mountFlags, volumeGUID, rootHash)
}

func mountMerged(op string, mergedCIM *BlockCIM, sourceCIMs []*BlockCIM, mountFlags uint32, volumeGUID GUID, rootHash []byte) (string, error) {
	if err := validateMerge(op, mergedCIM, sourceCIMs); err != nil {
		return "", err
	}
	typeFlag, _ := mergedCIM.mountFlag(op)
	paths, err := newImagePaths(op, append([]*BlockCIM{mergedCIM}, sourceCIMs...))
	if err != nil {
		return "", err
	}
	defer paths.free()
	g := volumeGUID.c()
	res, msg := call(func() C.HRESULT {
		if rootHash == nil {
			return C.CimMergeMountImage(paths.n, paths.p, C.uint32_t(mountFlags|typeFlag), &g)
		}
		return C.CimMergeMountVerifiedImage(paths.n, paths.p, C.uint32_t(mountFlags|typeFlag), &g, cimHashSize,
			(*C.uint8_t)(bytesPtr(rootHash)))
	})
	return mounted(op, mergedCIM.String(), volumeGUID, res, msg)
}

// Unmount unmounts a volume. volumePath may be the mount path returned by Mount, a GUID
// ("xxxxxxxx-...", with or without braces) or a Windows volume path \\?\Volume{GUID}\.
func Unmount(volumePath string) error {
	const op = "Unmount"
	s := strings.TrimRight(volumePath, `\/`)
	s = strings.TrimPrefix(s, `\\?\Volume`)
	s = filepath.Base(s)
	g, err := ParseGUID(s)
	if err != nil {
		return goError(op, volumePath, "", err)
	}
	return UnmountGUID(g)
}

// UnmountGUID unmounts volume g. Not mounted: an error matching fs.ErrNotExist.
func UnmountGUID(g GUID) error {
	cg := g.c()
	res, msg := call(func() C.HRESULT { return C.CimDismountImage(&cg) })
	return newError("Unmount", g.String(), "", res, msg)
}
