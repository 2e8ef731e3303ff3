package cimfs

import (
	"fmt"
	"path/filepath"
)

// BlockCIMType says where a block CIM is stored: a block-formatted single file or a raw block
// device. A block file or device can hold several CIMs, addressed by name.
type BlockCIMType uint32

// Block CIM types, with hcsshim's values.
const (
	BlockCIMTypeNone BlockCIMType = iota
	BlockCIMTypeSingleFile
	BlockCIMTypeDevice
)

// Flag values of include/opencim/cimfs.h (and Windows' cimfs.h), under hcsshim's names.
const (
	CimMountFlagNone       uint32 = 0x0
	CimMountFlagChildOnly  uint32 = 0x1 // accepted and ignored
	CimMountFlagEnableDax  uint32 = 0x2 // accepted, no effect
	CimMountBlockDeviceCim uint32 = 0x10
	CimMountSingleFileCim  uint32 = 0x20
	CimMountVerifiedCim    uint32 = 0x80

	CimCreateFlagNone                uint32 = 0x0
	CimCreateFlagDoNotExpandPEImages uint32 = 0x1
	CimCreateFlagFixedSizeChunks     uint32 = 0x2
	CimCreateFlagBlockDeviceCim      uint32 = 0x4
	CimCreateFlagSingleFileCim       uint32 = 0x8
	CimCreateFlagConsistentCim       uint32 = 0x10
	CimCreateFlagVerifiedCim         uint32 = 0x40

	CimMergeFlagNone        uint32 = 0x0
	CimMergeFlagSingleFile  uint32 = 0x1
	CimMergeFlagBlockDevice uint32 = 0x2
	CimMergeFlagVerifiedCim uint32 = 0x4
)

// FILE_ATTRIBUTE_* values used with FileBasicInfo.FileAttributes and FileInfo.Attributes.
const (
	FileAttributeReadonly     uint32 = 0x1
	FileAttributeHidden       uint32 = 0x2
	FileAttributeSystem       uint32 = 0x4
	FileAttributeDirectory    uint32 = 0x10
	FileAttributeArchive      uint32 = 0x20
	FileAttributeNormal       uint32 = 0x80
	FileAttributeSparseFile   uint32 = 0x200
	FileAttributeReparsePoint uint32 = 0x400
)

// cimHashSize is the size of a verified CIM's root hash (SHA-256).
const cimHashSize = 32

// BlockCIM names one CIM stored in a block file or on a block device.
type BlockCIM struct {
	Type BlockCIMType
	// BlockPath is the block file or block device holding the CIM.
	BlockPath string
	// CimName is the CIM's name inside the block file (e.g. "layer.cim").
	CimName string
}

// String returns BlockPath/CimName, the form CimAddFsToMergedImage takes.
func (b *BlockCIM) String() string { return filepath.Join(b.BlockPath, b.CimName) }

// mountFlag returns the CIM_MOUNT_* block type bit of b.
func (b *BlockCIM) mountFlag(op string) (uint32, error) {
	switch b.Type {
	case BlockCIMTypeSingleFile:
		return CimMountSingleFileCim, nil
	case BlockCIMTypeDevice:
		return CimMountBlockDeviceCim, nil
	}
	return 0, goError(op, b.String(), "", fmt.Errorf("invalid block CIM type %d: %w", b.Type, HRInvalidArg))
}

func (b *BlockCIM) validate(op string) error {
	if b == nil {
		return goError(op, "", "", fmt.Errorf("nil block CIM: %w", HRInvalidArg))
	}
	if b.BlockPath == "" || b.CimName == "" {
		return goError(op, b.String(), "", fmt.Errorf("both block path and CIM name must be non-empty: %w", HRInvalidArg))
	}
	_, err := b.mountFlag(op)
	return err
}

// validateMerge applies hcsshim's checks for merged CIMs: at least two sources, all of the
// merged CIM's type.
func validateMerge(op string, merged *BlockCIM, sources []*BlockCIM) error {
	if err := merged.validate(op); err != nil {
		return err
	}
	if len(sources) < 2 {
		return goError(op, merged.String(), "", fmt.Errorf("need at least 2 source CIMs, got %d: %w", len(sources), HRInvalidArg))
	}
	for _, s := range sources {
		if err := s.validate(op); err != nil {
			return err
		}
		if s.Type != merged.Type {
			return goError(op, s.String(), "", fmt.Errorf("source CIM type %d does not match merged CIM type %d: %w", s.Type, merged.Type, HRInvalidArg))
		}
	}
	return nil
}

// blockCIMConfig collects the options of CreateBlockCIMWithOptions and MergeBlockCIMsWithOpts.
type blockCIMConfig struct {
	consistentCIM bool
	dataIntegrity bool
}

// BlockCIMOpt is an option of CreateBlockCIMWithOptions and MergeBlockCIMsWithOpts.
type BlockCIMOpt func(*blockCIMConfig) error

// WithConsistentCIM makes the CIM byte-identical whenever it is written by the same calls
// (CIM_CREATE_IMAGE_CONSISTENT_CIM), as image layers need.
func WithConsistentCIM() BlockCIMOpt {
	return func(c *blockCIMConfig) error { c.consistentCIM = true; return nil }
}

// WithDataIntegrity makes a verified CIM (CIM_CREATE_IMAGE_VERIFIED_CIM): Close seals the block
// file, after which GetVerificationInfo returns its root hash.
func WithDataIntegrity() BlockCIMOpt {
	return func(c *blockCIMConfig) error { c.dataIntegrity = true; return nil }
}
