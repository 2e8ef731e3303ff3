package cimfs

import (
	"context"
)

// MergeBlockCIMsWithOpts creates the merged block CIM mergedCIM from sourceCIMs, topmost first:
// a path present in sourceCIMs[0] shadows the same path in every later source. Only metadata
// is merged; reading or mounting the merged CIM needs the sources, in the same order. Options as
// for CreateBlockCIMWithOptions; WithDataIntegrity needs verified (sealed) sources and seals
// the merged CIM. hcsshim's checks apply: at least 2 sources, all of mergedCIM's type
// (otherwise an error matching fs.ErrInvalid).
func MergeBlockCIMsWithOpts(ctx context.Context, mergedCIM *BlockCIM, sourceCIMs []*BlockCIM, opts ...BlockCIMOpt) (err error) {
	const op = "MergeBlockCIMs"
	if err := validateMerge(op, mergedCIM, sourceCIMs); err != nil {
		return err
	}
	config := &blockCIMConfig{}
	for _, o := range opts {
		if err := o(config); err != nil {
			return goError(op, mergedCIM.String(), "", err)
		}
	}
	mergeFlags := CimMergeFlagSingleFile
	if mergedCIM.Type == BlockCIMTypeDevice {
		mergeFlags = CimMergeFlagBlockDevice
	}
	if config.dataIntegrity {
		mergeFlags |= CimMergeFlagVerifiedCim
	}
	w, err := CreateBlockCIMWithOptions(ctx, mergedCIM, opts...)
	if err != nil {
		return err
	}
	for _, s := range sourceCIMs {
		if err := w.addFsToMerged(s.String(), mergeFlags); err != nil {
			_ = w.Discard()
			return err
		}
	}
	// Close commits (which performs the merge) and seals a verified merged CIM.
	return w.Close()
}

// MergeBlockCIMs merges as MergeBlockCIMsWithOpts with WithConsistentCIM (hcsshim's default).
func MergeBlockCIMs(mergedCIM *BlockCIM, sourceCIMs []*BlockCIM) error {
	return MergeBlockCIMsWithOpts(context.Background(), mergedCIM, sourceCIMs, WithConsistentCIM())
}
