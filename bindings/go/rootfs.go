package cimfs

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// RootfsLayer is one layer of a container's root filesystem (docs/rootfs.md).
type RootfsLayer struct {
	BlockPath string `json:"blockPath"`
	CimName   string `json:"cimName"`
	// RootHash is the layer's sealed root hash (32 bytes), or nil. All layers have one or none.
	RootHash []byte `json:"-"`
}

// LayerDescription lists a container's layers topmost first, and where merged CIMs are cached
// ("" = the library's default, $OPENCIM_CACHE_DIR or /var/lib/opencim/merged).
type LayerDescription struct {
	Layers         []RootfsLayer
	MergedCacheDir string
}

// JSON returns the description in the layout CimMountContainerRootfs reads.
func (d *LayerDescription) JSON() (string, error) {
	type layer struct {
		BlockPath string `json:"blockPath"`
		CimName   string `json:"cimName"`
		RootHash  string `json:"rootHash,omitempty"`
	}
	var v struct {
		Layers         []layer `json:"layers"`
		MergedCacheDir string  `json:"mergedCacheDir,omitempty"`
	}
	v.Layers = []layer{}
	for _, l := range d.Layers {
		v.Layers = append(v.Layers, layer{l.BlockPath, l.CimName, hex.EncodeToString(l.RootHash)})
	}
	v.MergedCacheDir = d.MergedCacheDir
	b, err := json.Marshal(v)
	return string(b), err
}

// ContainerVolumeID returns the volume GUID of a container: a version 5 UUID of the ID in
// opencim's fixed namespace, so the mount can be found again from the ID alone.
func ContainerVolumeID(containerID string) (GUID, error) {
	const op = "ContainerVolumeID"
	id, err := newCstr(op, containerID, containerID)
	if err != nil {
		return GUID{}, err
	}
	var g C.CIMFS_GUID
	res, msg := call(func() C.HRESULT { return C.CimGetContainerVolumeId(id.p(), &g) })
	if err := newError(op, containerID, "", res, msg); err != nil {
		return GUID{}, err
	}
	out := GUID{Data1: uint32(g.Data1), Data2: uint16(g.Data2), Data3: uint16(g.Data3)}
	for i := range out.Data4 {
		out.Data4[i] = byte(g.Data4[i])
	}
	return out, nil
}

// MountContainerRootfs prepares and mounts a container's root filesystem: one layer is mounted
// directly, several are merged once into a cached merged CIM and merge-mounted, verified layers
// give a verified mount. The mount is served by this process. Returns the mount path.
func MountContainerRootfs(containerID string, d *LayerDescription) (string, error) {
	const op = "MountContainerRootfs"
	text, err := d.JSON()
	if err != nil {
		return "", fmt.Errorf("cimfs: %s: %w", op, err)
	}
	id, err := newCstr(op, containerID, containerID)
	if err != nil {
		return "", err
	}
	js, err := newCstr(op, containerID, text)
	if err != nil {
		return "", err
	}
	res, msg := call(func() C.HRESULT { return C.CimMountContainerRootfs(id.p(), js.p(), nil, nil) })
	if err := newError(op, containerID, "", res, msg); err != nil {
		return "", err
	}
	g, err := ContainerVolumeID(containerID)
	if err != nil {
		return "", err
	}
	return GetVolumeMountPath(g)
}

// CleanupContainerRootfs unmounts a container's rootfs by ID (also a dead mount left by a killed
// process) and removes its state. Unknown IDs and repeated calls succeed.
func CleanupContainerRootfs(containerID string) error {
	const op = "CleanupContainerRootfs"
	id, err := newCstr(op, containerID, containerID)
	if err != nil {
		return err
	}
	res, msg := call(func() C.HRESULT { return C.CimCleanupContainerRootfs(id.p()) })
	return newError(op, containerID, "", res, msg)
}

// GarbageCollectMergedCims removes merged CIMs in cacheDir ("" = default) that no mounted
// container uses, and returns how many it removed.
func GarbageCollectMergedCims(cacheDir string) (int, error) {
	const op = "GarbageCollectMergedCims"
	var dir cstr
	if cacheDir != "" {
		var err error
		if dir, err = newCstr(op, cacheDir, cacheDir); err != nil {
			return 0, err
		}
	}
	var n C.uint32_t
	res, msg := call(func() C.HRESULT { return C.CimGarbageCollectMergedCims(dir.p(), &n) })
	if err := newError(op, cacheDir, "", res, msg); err != nil {
		return 0, err
	}
	return int(n), nil
}
