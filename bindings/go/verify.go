package cimfs

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"strings"
)

// SealBlockCIM seals a block file whose CIMs were created WithDataIntegrity: it appends a
// SHA-256 dm-verity hash tree and returns the 32-byte root hash. Sealing a sealed file returns
// its existing hash. (Close of a WithDataIntegrity writer calls this for you.)
func SealBlockCIM(blockPath string) ([]byte, error) {
	const op = "SealBlockCIM"
	blockPath = strings.TrimSuffix(blockPath, `\`)
	p, err := newCstr(op, blockPath, blockPath)
	if err != nil {
		return nil, err
	}
	var hashSize, fixedHeaderSize C.uint64_t
	hash := make([]byte, cimHashSize)
	res, msg := call(func() C.HRESULT {
		return C.CimSealImage(p.p(), &hashSize, &fixedHeaderSize, (*C.uint8_t)(bytesPtr(hash)))
	})
	if err := newError(op, blockPath, "", res, msg); err != nil {
		return nil, err
	}
	if hashSize != cimHashSize {
		return nil, goError(op, blockPath, "", fmt.Errorf("unexpected hash size %d", hashSize))
	}
	return hash, nil
}

// GetVerificationInfo returns the root hash of a sealed block file, as hcsshim does. An
// unsealed block file is an error ("cim is not sealed").
func GetVerificationInfo(blockPath string) ([]byte, error) {
	const op = "GetVerificationInfo"
	p, err := newCstr(op, blockPath, blockPath)
	if err != nil {
		return nil, err
	}
	var (
		isSealed                                 C.uint32_t
		hashSize, signatureSize, fixedHeaderSize C.uint64_t
		hash                                     = make([]byte, cimHashSize)
	)
	res, msg := call(func() C.HRESULT {
		return C.CimGetVerificationInformation(p.p(), &isSealed, &hashSize, &signatureSize, &fixedHeaderSize,
			(*C.uint8_t)(bytesPtr(hash)), nil)
	})
	if err := newError(op, blockPath, "", res, msg); err != nil {
		return nil, err
	}
	if isSealed == 0 {
		return nil, goError(op, blockPath, "", fmt.Errorf("cim is not sealed: %w", HRInvalidArg))
	}
	if hashSize != cimHashSize {
		return nil, goError(op, blockPath, "", fmt.Errorf("unexpected hash size %d", hashSize))
	}
	return hash, nil
}
