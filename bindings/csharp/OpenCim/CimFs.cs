// Operations on whole block files and volumes: seal, verification info, mounts, layer import.
using System;
using System.Collections.Generic;
using System.Text;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>Options of <see cref="CimFs.ImportLayer"/>.</summary>
public sealed record CimImportOptions
{
    /// <summary>Seal the block file and write &lt;dir&gt;/integrity_checksum.</summary>
    public bool Verified { get; init; }
    /// <summary>Append a 512-byte fixed VHD footer (after sealing).</summary>
    public bool VhdFooter { get; init; }
    /// <summary>Draw a progress bar on stderr when it is a terminal.</summary>
    public bool Progress { get; init; }
    /// <summary>CIM_LAYER_FORMAT_*: 0 auto, 1 Windows, 2 Linux.</summary>
    public uint LayerFormat { get; init; } = Native.CIM_LAYER_FORMAT_AUTO;
    /// <summary>Worker threads, 0 = number of CPUs.</summary>
    public uint Threads { get; init; }
    /// <summary>Refuse archives that expand beyond this, 0 = 1 TiB.</summary>
    public ulong MaxUncompressedBytes { get; init; }
    /// <summary>Parent layers, topmost first.</summary>
    public IReadOnlyList<CimImagePath> ParentLayers { get; init; } = [];
}

/// <summary>What <see cref="CimFs.ImportLayer"/> reports.</summary>
/// <param name="Entries">Tar entries applied.</param>
/// <param name="DataBytes">Bytes of regular file data.</param>
/// <param name="RootHash">Root hash when imported verified, else null.</param>
public sealed record CimImportResult(ulong Entries, ulong DataBytes, byte[]? RootHash);

/// <summary>Static CimFS operations that work on paths and volume GUIDs rather than handles.</summary>
public static unsafe class CimFs
{
    /// <summary>Seals a block file created with <see cref="CimCreateOptions.Verified"/> and
    /// returns its 32-byte root hash (a sealed file returns its existing hash).</summary>
    public static byte[] Seal(string blockPath)
    {
        byte[] hash = new byte[32];
        ulong hashSize = 0, headerSize = 0;
        fixed (byte* p = hash)
            CimError.ThrowIfFailed(Native.CimSealImage(blockPath, &hashSize, &headerSize, p));
        if (hashSize != 32) throw new CimException($"CimSealImage: {blockPath}: hash size {hashSize}, expected 32", HResults.Corrupt);
        return hash;
    }

    /// <summary>Reports whether a block file is sealed and, if so, its root hash.</summary>
    public static CimVerificationInfo GetVerificationInformation(string blockPath)
    {
        uint sealedFlag = 0;
        ulong hashSize = 0, signatureSize = 0, headerSize = 0;
        CimError.ThrowIfFailed(Native.CimGetVerificationInformation(blockPath, &sealedFlag, &hashSize, &signatureSize, &headerSize, null, null));
        if (sealedFlag == 0) return new CimVerificationInfo(false, null, headerSize);
        byte[] hash = new byte[checked((int)hashSize)];
        byte[] signature = new byte[checked((int)signatureSize)];
        fixed (byte* h = hash)
        fixed (byte* s = signature)
            CimError.ThrowIfFailed(Native.CimGetVerificationInformation(blockPath, &sealedFlag, &hashSize, &signatureSize, &headerSize,
                                                                        h, signatureSize == 0 ? null : s));
        return new CimVerificationInfo(sealedFlag != 0, hash, headerSize);
    }

    /// <summary>Appends a 512-byte fixed-VHD footer to a (sealed) block file so it attaches as a
    /// fixed VHD; the root hash is unchanged and appending twice is a no-op.</summary>
    public static void AppendVhdFooter(string blockPath) => CimError.ThrowIfFailed(Native.CimAppendVhdFooter(blockPath));

    /// <summary>Mounts an image read-only at <see cref="GetVolumeMountPath"/>(volumeId) through FUSE.
    /// Throws <see cref="PlatformNotSupportedException"/> where FUSE is unavailable.</summary>
    public static void Mount(string imageContainingPath, string imageName, Guid volumeId, CimMountOptions options = CimMountOptions.None)
    {
        CIMFS_GUID g = GuidConversion.ToNative(volumeId);
        CimError.ThrowIfFailed(Native.CimMountImage(imageContainingPath, imageName, (uint)options, &g));
    }

    /// <summary>Mounts a sealed block CIM verifying every read against <paramref name="rootHash"/>.</summary>
    public static void MountVerified(string blockPath, string cimName, Guid volumeId, ReadOnlySpan<byte> rootHash,
                                     CimMountOptions options = CimMountOptions.SingleFile)
    {
        CIMFS_GUID g = GuidConversion.ToNative(volumeId);
        fixed (byte* h = rootHash)
            CimError.ThrowIfFailed(Native.CimMountVerifiedImage(blockPath, cimName, (uint)(options | CimMountOptions.Verified), &g,
                                                                checked((ushort)rootHash.Length), h));
    }

    /// <summary>Mounts a merged CIM: <paramref name="paths"/> = [merged, topmost, ..., base].</summary>
    public static void MergeMount(IReadOnlyList<CimImagePath> paths, Guid volumeId, CimMountOptions options = CimMountOptions.SingleFile)
    {
        using var native = new NativeImagePaths(paths);
        CIMFS_GUID g = GuidConversion.ToNative(volumeId);
        fixed (CIMFS_IMAGE_PATH* p = native.Span)
            CimError.ThrowIfFailed(Native.CimMergeMountImage(native.Count, p, (uint)options, &g));
    }

    /// <summary>Verified merged mount; <paramref name="rootHash"/> is the merged CIM's root hash.</summary>
    public static void MergeMountVerified(IReadOnlyList<CimImagePath> paths, Guid volumeId, ReadOnlySpan<byte> rootHash,
                                          CimMountOptions options = CimMountOptions.SingleFile)
    {
        using var native = new NativeImagePaths(paths);
        CIMFS_GUID g = GuidConversion.ToNative(volumeId);
        fixed (CIMFS_IMAGE_PATH* p = native.Span)
        fixed (byte* h = rootHash)
            CimError.ThrowIfFailed(Native.CimMergeMountVerifiedImage(native.Count, p, (uint)(options | CimMountOptions.Verified), &g,
                                                                     checked((ushort)rootHash.Length), h));
    }

    /// <summary>Unmounts the volume and removes its mount directory.</summary>
    public static void Dismount(Guid volumeId)
    {
        CIMFS_GUID g = GuidConversion.ToNative(volumeId);
        CimError.ThrowIfFailed(Native.CimDismountImage(&g));
    }

    /// <summary>The mount path of a volume ($OPENCIM_MOUNT_ROOT/&lt;guid&gt;), mounted or not.</summary>
    public static string GetVolumeMountPath(Guid volumeId)
    {
        CIMFS_GUID g = GuidConversion.ToNative(volumeId);
        byte[] buffer = new byte[256];
        while (true)
        {
            uint size = (uint)buffer.Length;
            int hr;
            fixed (byte* p = buffer) hr = Native.CimGetVolumeMountPath(&g, p, &size);
            if (hr == HResults.InsufficientBuffer && size > buffer.Length) { buffer = new byte[size]; continue; }
            CimError.ThrowIfFailed(hr);
            return Encoding.UTF8.GetString(buffer, 0, (int)size - 1);
        }
    }

    /// <summary>Imports an OCI layer tar (plain, gzip, zstd or xz) into a new single-file block CIM
    /// <paramref name="cimName"/> in <paramref name="blockPath"/>.</summary>
    public static CimImportResult ImportLayer(string tarPath, string blockPath, string cimName, CimImportOptions? options = null)
    {
        options ??= new CimImportOptions();
        using var parents = new NativeImagePaths(options.ParentLayers);
        CIMFS_IMPORT_OPTIONS o = default;
        o.Size = (uint)sizeof(CIMFS_IMPORT_OPTIONS);
        o.Flags = (options.Verified ? Native.CIM_IMPORT_VERIFIED : 0) | (options.VhdFooter ? Native.CIM_IMPORT_VHD_FOOTER : 0)
                  | (options.Progress ? Native.CIM_IMPORT_PROGRESS : 0);
        o.LayerFormat = options.LayerFormat;
        o.Threads = options.Threads;
        o.MaxUncompressedBytes = options.MaxUncompressedBytes;
        o.NumParentLayers = parents.Count;
        CIMFS_IMPORT_RESULT r = default;
        r.Size = (uint)sizeof(CIMFS_IMPORT_RESULT);
        fixed (CIMFS_IMAGE_PATH* p = parents.Span)
        {
            o.ParentLayers = (nint)p;
            CimError.ThrowIfFailed(Native.CimImportLayer(tarPath, blockPath, cimName, &o, &r));
        }
        byte[]? hash = options.Verified ? new ReadOnlySpan<byte>(r.RootHash, 32).ToArray() : null;
        return new CimImportResult(r.Entries, r.DataBytes, hash);
    }

    /// <summary>Writes a CIM back as a PAX tar. <paramref name="flags"/> as for opening: None for a
    /// standard CIM, SingleFile or BlockDevice for a block CIM.</summary>
    public static void ExportLayer(string imageContainingPath, string imageName, string tarPath,
                                   CimMountOptions flags = CimMountOptions.None, uint layerFormat = Native.CIM_LAYER_FORMAT_AUTO) =>
        CimError.ThrowIfFailed(Native.CimExportLayer(imageContainingPath, imageName, (uint)flags, layerFormat, tarPath));
}
