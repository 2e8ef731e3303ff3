// Writing images: standard CIMs, block CIMs, forks and merged CIMs.
using System;
using System.IO;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>
/// An image being written (CIMFS_IMAGE_HANDLE). Nothing becomes visible until <see cref="Commit"/>;
/// disposing without a commit discards the image. Not meant for concurrent use by several threads
/// (the library serialises such use). Files are written through the write-only streams that
/// <see cref="CreateFile"/> and <see cref="CreateAlternateStream"/> return: only one may be open
/// at a time, and it must be disposed before the next one is created or the image committed.
/// </summary>
public sealed unsafe class CimImage : IDisposable
{
    private readonly ImageHandle _handle;
    private readonly CimCreateOptions _options;

    private CimImage(ImageHandle handle, CimCreateOptions options)
    {
        _handle = handle;
        _options = options;
    }

    /// <summary>The native handle, for calls into <see cref="Native"/>.</summary>
    public ImageHandle Handle => _handle;

    /// <summary>Starts a new standard CIM <paramref name="imageName"/> (e.g. "layer.cim") in
    /// <paramref name="directory"/>, which must exist.</summary>
    public static CimImage Create(string directory, string imageName) =>
        Wrap(Native.CimCreateImage(directory, null, imageName, out ImageHandle h), h, CimCreateOptions.None);

    /// <summary>Starts a fork: <paramref name="newImageName"/> begins with the content of the
    /// existing standard CIM <paramref name="existingImageName"/> in the same directory.</summary>
    public static CimImage Fork(string directory, string existingImageName, string newImageName)
    {
        ArgumentNullException.ThrowIfNull(existingImageName);
        return Wrap(Native.CimCreateImage(directory, existingImageName, newImageName, out ImageHandle h), h, CimCreateOptions.None);
    }

    /// <summary>Starts CIM <paramref name="cimName"/> in block file <paramref name="blockPath"/>
    /// (created if missing; an unsealed block file gets one more CIM). Add
    /// <see cref="CimCreateOptions.BlockDevice"/> for a device, <see cref="CimCreateOptions.Verified"/>
    /// to seal it later. A fresh block CIM with merge sources added becomes a merged CIM.</summary>
    public static CimImage CreateBlock(string blockPath, string cimName, CimCreateOptions options = CimCreateOptions.None)
    {
        if ((options & CimCreateOptions.BlockDevice) == 0) options |= CimCreateOptions.SingleFile;
        return Wrap(Native.CimCreateImage2(blockPath, (uint)options, null, cimName, out ImageHandle h), h, options);
    }

    private static CimImage Wrap(int hr, ImageHandle h, CimCreateOptions options)
    {
        if (hr < 0)
        {
            Exception e = CimError.ToException(hr, CimError.LastErrorMessage());
            h.Dispose();
            throw e;
        }
        return new CimImage(h, options);
    }

    /// <summary>Adds a file (or a directory when <see cref="CimFileMetadata.Attributes"/> has
    /// Directory) and returns a write-only stream that takes exactly
    /// <see cref="CimFileMetadata.FileSize"/> bytes. Dispose the stream when done: an incomplete
    /// write is reported there. An existing file at the path is replaced; parents must exist.</summary>
    public Stream CreateFile(string path, CimFileMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        CIMFS_FILE_METADATA m = default;
        m.Attributes = (uint)metadata.Attributes;
        m.FileSize = metadata.FileSize;
        m.CreationTime = FileTime.FromDateTime(metadata.CreationTime, nameof(metadata.CreationTime));
        m.LastWriteTime = FileTime.FromDateTime(metadata.LastWriteTime, nameof(metadata.LastWriteTime));
        m.ChangeTime = FileTime.FromDateTime(metadata.ChangeTime, nameof(metadata.ChangeTime));
        m.LastAccessTime = FileTime.FromDateTime(metadata.LastAccessTime, nameof(metadata.LastAccessTime));
        byte[]? sd = metadata.SecurityDescriptor, rp = metadata.ReparseData, ea = metadata.ExtendedAttributes;
        int hr;
        StreamHandle stream;
        fixed (byte* pSd = sd, pRp = rp, pEa = ea)
        {
            m.SecurityDescriptorBuffer = (nint)pSd;
            m.SecurityDescriptorSize = (uint)(sd?.Length ?? 0);
            m.ReparseDataBuffer = (nint)pRp;
            m.ReparseDataSize = (uint)(rp?.Length ?? 0);
            m.ExtendedAttributes = (nint)pEa;
            m.EACount = (uint)(ea?.Length ?? 0);
            hr = Native.CimCreateFile(_handle, path, &m, out stream);
        }
        return WrapStream(hr, stream, metadata.FileSize);
    }

    /// <summary>Adds a regular file with content <paramref name="data"/>; <paramref name="metadata"/>'s
    /// FileSize is replaced by the data's length.</summary>
    public void WriteFile(string path, ReadOnlySpan<byte> data, CimFileMetadata? metadata = null)
    {
        metadata = (metadata ?? CimFileMetadata.File(0)) with { FileSize = data.Length };
        using Stream s = CreateFile(path, metadata);
        s.Write(data);
    }

    /// <summary>Adds a directory (an existing one keeps its children and gets the new metadata).</summary>
    public void CreateDirectory(string path, CimFileMetadata? metadata = null)
    {
        metadata ??= CimFileMetadata.Directory();
        CreateFile(path, metadata with { Attributes = metadata.Attributes | FileAttributes.Directory, FileSize = 0 }).Dispose();
    }

    /// <summary>Adds alternate stream "file:stream" of <paramref name="size"/> bytes to an existing
    /// file or directory and returns a write-only stream for its content.</summary>
    public Stream CreateAlternateStream(string path, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        int hr = Native.CimCreateAlternateStream(_handle, path, (ulong)size, out StreamHandle stream);
        return WrapStream(hr, stream, size);
    }

    private static Stream WrapStream(int hr, StreamHandle stream, long size)
    {
        if (hr < 0)
        {
            Exception e = CimError.ToException(hr, CimError.LastErrorMessage());
            stream.Dispose();
            throw e;
        }
        if (stream.IsInvalid)
        {
            // Directories and empty files have no stream to write.
            stream.Dispose();
            return new CimWriteStream(null, 0);
        }
        return new CimWriteStream(stream, size);
    }

    /// <summary>Adds hard link <paramref name="path"/> to the existing file <paramref name="existingPath"/>.</summary>
    public void CreateHardLink(string path, string existingPath) =>
        CimError.ThrowIfFailed(Native.CimCreateHardLink(_handle, path, existingPath));

    /// <summary>Removes a file, link, alternate stream ("file:stream") or directory subtree.</summary>
    public void DeletePath(string path) => CimError.ThrowIfFailed(Native.CimDeletePath(_handle, path));

    /// <summary>Block CIMs: records that <paramref name="path"/> is deleted, hiding it in every
    /// source below this one when merged.</summary>
    public void Tombstone(string path) => CimError.ThrowIfFailed(Native.CimTombstoneFile(_handle, path));

    /// <summary>Block CIMs: a hard link resolved at merge time against the merged view.</summary>
    public void CreateMergeLink(string path, string existingPath) =>
        CimError.ThrowIfFailed(Native.CimCreateMergeLink(_handle, path, existingPath));

    /// <summary>Adds a source to this (fresh, empty) block CIM, making it a merged CIM. Add the
    /// topmost source first; at least two. The source's type flags follow this image's own
    /// (single file or block device, verified or not).</summary>
    public void AddMergeSource(string blockPath, string cimName)
    {
        ArgumentNullException.ThrowIfNull(blockPath);
        ArgumentNullException.ThrowIfNull(cimName);
        uint flags = (_options & CimCreateOptions.BlockDevice) != 0 ? Native.CIM_MERGE_BLOCK_DEVICE : Native.CIM_MERGE_SINGLE_FILE;
        if ((_options & CimCreateOptions.Verified) != 0) flags |= Native.CIM_MERGE_VERIFIED_CIM;
        CimError.ThrowIfFailed(Native.CimAddFsToMergedImage2(_handle, blockPath + "/" + cimName, flags));
    }

    /// <summary>Makes the image durable and visible under its name; for a merged CIM performs the
    /// merge. Afterwards the image accepts no more changes (dispose it).</summary>
    public void Commit() => CimError.ThrowIfFailed(Native.CimCommitImage(_handle));

    /// <summary>Closes the image; discards it when it was not committed. Safe to call twice.</summary>
    public void Dispose() => _handle.Dispose();
}
