// Value types of the safe API and their conversions to and from the C structs.
using System;
using System.IO;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>Options of <see cref="CimImage.CreateBlock"/>: the CIM_CREATE_IMAGE_* flags.</summary>
[Flags]
public enum CimCreateOptions : uint
{
    /// <summary>A single-file block CIM with default settings.</summary>
    None = Native.CIM_CREATE_IMAGE_NONE,
    /// <summary>Accepted for compatibility; opencim always stores plain data.</summary>
    DoNotExpandPeImages = Native.CIM_CREATE_IMAGE_DO_NOT_EXPAND_PE_IMAGES,
    /// <summary>Accepted for compatibility; no effect.</summary>
    FixedSizeChunks = Native.CIM_CREATE_IMAGE_FIXED_SIZE_CHUNKS,
    /// <summary>The path is a block device rather than a block file.</summary>
    BlockDevice = Native.CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM,
    /// <summary>The path is a block file (the default of CreateBlock).</summary>
    SingleFile = Native.CIM_CREATE_IMAGE_SINGLE_FILE_CIM,
    /// <summary>The same calls produce byte-identical output.</summary>
    Consistent = Native.CIM_CREATE_IMAGE_CONSISTENT_CIM,
    /// <summary>The block file is to be sealed with <see cref="CimFs.Seal"/> after commit.</summary>
    Verified = Native.CIM_CREATE_IMAGE_VERIFIED_CIM,
}

/// <summary>Flags of the mount functions (CIM_MOUNT_*).</summary>
[Flags]
public enum CimMountOptions : uint
{
    /// <summary>A standard CIM.</summary>
    None = Native.CIM_MOUNT_IMAGE_NONE,
    /// <summary>Accepted and ignored, as on current Windows.</summary>
    ChildOnly = Native.CIM_MOUNT_CHILD_ONLY,
    /// <summary>Accepted; no effect.</summary>
    EnableDax = Native.CIM_MOUNT_ENABLE_DAX,
    /// <summary>A block CIM on a block device.</summary>
    BlockDevice = Native.CIM_MOUNT_BLOCK_DEVICE_CIM,
    /// <summary>A block CIM in a block file.</summary>
    SingleFile = Native.CIM_MOUNT_SINGLE_FILE_CIM,
    /// <summary>A verified (sealed) block CIM.</summary>
    Verified = Native.CIM_MOUNT_VERIFIED_CIM,
}

/// <summary>Where a block CIM lives.</summary>
public enum CimBlockKind
{
    /// <summary>A regular block file (CIM_*_SINGLE_FILE).</summary>
    SingleFile,
    /// <summary>A block device (CIM_*_BLOCK_DEVICE).</summary>
    BlockDevice,
}

/// <summary>One image of a merged open or mount: for a block CIM the block file (or device) and
/// the CIM's name inside it; for a standard CIM its directory and .cim file name.</summary>
public sealed record CimImagePath(string ImageDir, string ImageName);

/// <summary>Metadata of a file or directory written with <see cref="CimImage.CreateFile"/>.
/// Times are UTC; the default, 1601-01-01, is FILETIME 0.</summary>
public sealed record CimFileMetadata
{
    /// <summary>FILETIME 0.</summary>
    public static readonly DateTime FileTimeEpoch = DateTime.FromFileTimeUtc(0);

    /// <summary>FILE_ATTRIBUTE_* bits: Directory (0x10) makes a directory, ReparsePoint (0x400) needs ReparseData.</summary>
    public FileAttributes Attributes { get; init; }
    /// <summary>Size of the primary stream: exactly this many bytes must be written.</summary>
    public long FileSize { get; init; }
    /// <summary>Creation time (UTC).</summary>
    public DateTime CreationTime { get; init; } = FileTimeEpoch;
    /// <summary>Last write time (UTC).</summary>
    public DateTime LastWriteTime { get; init; } = FileTimeEpoch;
    /// <summary>Change time (UTC).</summary>
    public DateTime ChangeTime { get; init; } = FileTimeEpoch;
    /// <summary>Last access time (UTC).</summary>
    public DateTime LastAccessTime { get; init; } = FileTimeEpoch;
    /// <summary>Self-relative security descriptor, or null.</summary>
    public byte[]? SecurityDescriptor { get; init; }
    /// <summary>A full REPARSE_DATA_BUFFER (tag, length, data), or null.</summary>
    public byte[]? ReparseData { get; init; }
    /// <summary>A FILE_FULL_EA_INFORMATION chain, or null.</summary>
    public byte[]? ExtendedAttributes { get; init; }

    /// <summary>A regular file of <paramref name="size"/> bytes with all four times set to <paramref name="time"/> (default: FILETIME 0).</summary>
    public static CimFileMetadata File(long size, DateTime? time = null) => new()
    {
        Attributes = FileAttributes.Archive,
        FileSize = size,
        CreationTime = time ?? FileTimeEpoch,
        LastWriteTime = time ?? FileTimeEpoch,
        ChangeTime = time ?? FileTimeEpoch,
        LastAccessTime = time ?? FileTimeEpoch,
    };

    /// <summary>A directory with all four times set to <paramref name="time"/> (default: FILETIME 0).</summary>
    public static CimFileMetadata Directory(DateTime? time = null) => File(0, time) with { Attributes = FileAttributes.Directory };
}

/// <summary>What <see cref="CimReader.Stat"/> reports for a file, directory or alternate stream.</summary>
/// <param name="FileId">Same for every hard link of a file.</param>
/// <param name="LinkCount">Number of names of the file in the image.</param>
/// <param name="Attributes">FILE_ATTRIBUTE_* as stored.</param>
/// <param name="Size">Size of the primary stream (of the alternate stream for "file:stream"); 0 for directories.</param>
/// <param name="CreationTime">Creation time (UTC).</param>
/// <param name="LastWriteTime">Last write time (UTC).</param>
/// <param name="ChangeTime">Change time (UTC).</param>
/// <param name="LastAccessTime">Last access time (UTC).</param>
/// <param name="ReparseTag">Reparse tag, 0 when not a reparse point.</param>
public sealed record CimFileInfo(
    ulong FileId, uint LinkCount, FileAttributes Attributes, long Size,
    DateTime CreationTime, DateTime LastWriteTime, DateTime ChangeTime, DateTime LastAccessTime, uint ReparseTag)
{
    /// <summary>True for a directory.</summary>
    public bool IsDirectory => (Attributes & FileAttributes.Directory) != 0;

    internal static CimFileInfo From(in CIMFS_FILE_INFO i) => new(
        i.FileId, i.LinkCount, (FileAttributes)i.Attributes, i.FileSize,
        FileTime.ToDateTime(i.CreationTime), FileTime.ToDateTime(i.LastWriteTime),
        FileTime.ToDateTime(i.ChangeTime), FileTime.ToDateTime(i.LastAccessTime), i.ReparseTag);
}

/// <summary>One entry of <see cref="CimReader.EnumerateDirectory"/>.</summary>
/// <param name="Name">The entry's name (not a path).</param>
/// <param name="Info">Its stat.</param>
public sealed record CimDirectoryEntry(string Name, CimFileInfo Info);

/// <summary>One alternate data stream of a file.</summary>
/// <param name="Name">Stream name without ':' and ':$DATA'.</param>
/// <param name="Size">Stream size in bytes.</param>
public sealed record CimStreamInfo(string Name, long Size);

/// <summary>What <see cref="CimFs.GetVerificationInformation"/> reports about a block file.</summary>
/// <param name="IsSealed">Whether the block file is sealed.</param>
/// <param name="RootHash">The 32-byte root hash when sealed, else null.</param>
/// <param name="FixedHeaderSize">Size of the block file's fixed header.</param>
public sealed record CimVerificationInfo(bool IsSealed, byte[]? RootHash, ulong FixedHeaderSize);

internal static class FileTime
{
    // Values outside DateTime's range (negative, or past year 9999) cannot come from a well-formed
    // writer; they are clamped rather than thrown so a Stat of an odd image still succeeds.
    public static DateTime ToDateTime(long fileTime) =>
        fileTime <= 0 ? CimFileMetadata.FileTimeEpoch
        : fileTime >= DateTime.MaxValue.ToFileTimeUtc() ? DateTime.MaxValue
        : DateTime.FromFileTimeUtc(fileTime);

    public static long FromDateTime(DateTime t, string name)
    {
        DateTime utc = t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t;
        if (utc < CimFileMetadata.FileTimeEpoch)
            throw new ArgumentOutOfRangeException(name, t, "times before 1601-01-01 UTC cannot be stored as FILETIME");
        return utc.Ticks - CimFileMetadata.FileTimeEpoch.Ticks;
    }
}

internal static class GuidConversion
{
    // CIMFS_GUID has the Windows GUID layout, which is exactly Guid's little-endian byte form.
    public static unsafe CIMFS_GUID ToNative(Guid g)
    {
        CIMFS_GUID n;
        if (!g.TryWriteBytes(new Span<byte>(&n, sizeof(CIMFS_GUID)))) throw new InvalidOperationException("GUID size mismatch");
        return n;
    }
}
