// Reading images in-process: stat, enumerate, read, metadata buffers.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>
/// An image open for reading (CIMFS_READER_HANDLE). Thread-safe: any number of threads may use
/// one reader at once. Paths inside the image accept '/' and '\'; the root is "".
/// </summary>
public sealed unsafe class CimReader : IDisposable
{
    private readonly ReaderHandle _handle;

    private CimReader(ReaderHandle handle) => _handle = handle;

    /// <summary>The native handle, for calls into <see cref="Native"/>.</summary>
    public ReaderHandle Handle => _handle;

    /// <summary>Opens standard CIM <paramref name="imageName"/> (e.g. "layer.cim") in <paramref name="directory"/>.</summary>
    public static CimReader Open(string directory, string imageName) =>
        Wrap(Native.CimOpenImage(directory, imageName, 0, out ReaderHandle h), h);

    /// <summary>Opens CIM <paramref name="cimName"/> of a block file or device. A sealed block CIM
    /// opened this way is read without verification.</summary>
    public static CimReader OpenBlock(string blockPath, string cimName, CimBlockKind kind = CimBlockKind.SingleFile) =>
        Wrap(Native.CimOpenImage(blockPath, cimName, MountFlag(kind), out ReaderHandle h), h);

    /// <summary>Opens a sealed block CIM verifying every read against <paramref name="rootHash"/>
    /// (32 bytes). A wrong hash throws <see cref="CimIntegrityException"/>.</summary>
    public static CimReader OpenVerified(string blockPath, string cimName, ReadOnlySpan<byte> rootHash,
                                         CimBlockKind kind = CimBlockKind.SingleFile)
    {
        fixed (byte* p = rootHash)
            return Wrap(Native.CimOpenVerifiedImage(blockPath, cimName, MountFlag(kind), checked((ushort)rootHash.Length), p,
                                                    out ReaderHandle h), h);
    }

    /// <summary>Opens a merged CIM: <paramref name="paths"/> = [merged, topmost source, ..., base source].</summary>
    public static CimReader OpenMerged(IReadOnlyList<CimImagePath> paths, CimBlockKind kind = CimBlockKind.SingleFile)
    {
        using var native = new NativeImagePaths(paths);
        fixed (CIMFS_IMAGE_PATH* p = native.Span)
            return Wrap(Native.CimOpenMergedImage(native.Count, p, MountFlag(kind), out ReaderHandle h), h);
    }

    /// <summary>Opens a verified merged CIM; <paramref name="rootHash"/> is the merged CIM's root
    /// hash and every source must be sealed.</summary>
    public static CimReader OpenMergedVerified(IReadOnlyList<CimImagePath> paths, ReadOnlySpan<byte> rootHash,
                                               CimBlockKind kind = CimBlockKind.SingleFile)
    {
        using var native = new NativeImagePaths(paths);
        fixed (CIMFS_IMAGE_PATH* p = native.Span)
        fixed (byte* hash = rootHash)
            return Wrap(Native.CimOpenMergedVerifiedImage(native.Count, p, MountFlag(kind), checked((ushort)rootHash.Length), hash,
                                                          out ReaderHandle h), h);
    }

    private static uint MountFlag(CimBlockKind kind) => kind switch
    {
        CimBlockKind.SingleFile => Native.CIM_MOUNT_SINGLE_FILE_CIM,
        CimBlockKind.BlockDevice => Native.CIM_MOUNT_BLOCK_DEVICE_CIM,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static CimReader Wrap(int hr, ReaderHandle h)
    {
        if (hr < 0)
        {
            Exception e = CimError.ToException(hr, CimError.LastErrorMessage());
            h.Dispose();
            throw e;
        }
        return new CimReader(h);
    }

    /// <summary>Stats a file, directory, or "file:stream" alternate stream.</summary>
    public CimFileInfo Stat(string path)
    {
        CIMFS_FILE_INFO info = default;
        info.Size = (uint)sizeof(CIMFS_FILE_INFO);
        CimError.ThrowIfFailed(Native.CimStatPath(_handle, path, &info));
        return CimFileInfo.From(info);
    }

    /// <summary>Whether <paramref name="path"/> exists (false when it or a parent is missing).</summary>
    public bool Exists(string path)
    {
        CIMFS_FILE_INFO info = default;
        info.Size = (uint)sizeof(CIMFS_FILE_INFO);
        int hr = Native.CimStatPath(_handle, path, &info);
        if (hr is HResults.FileNotFound or HResults.PathNotFound) return false;
        CimError.ThrowIfFailed(hr);
        return true;
    }

    /// <summary>The entries of a directory, in stored order, each with its stat. Lazy: entries
    /// are fetched as the enumeration advances.</summary>
    public IEnumerable<CimDirectoryEntry> EnumerateDirectory(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return Enumerate(path);

        IEnumerable<CimDirectoryEntry> Enumerate(string dir)
        {
            byte[] name = new byte[256];
            for (uint index = 0; ; index++)
            {
                CimDirectoryEntry? entry = NextEntry(dir, index, ref name);
                if (entry is null) yield break;
                yield return entry;
            }
        }
    }

    private CimDirectoryEntry? NextEntry(string dir, uint index, ref byte[] name)
    {
        while (true)
        {
            CIMFS_FILE_INFO info = default;
            info.Size = (uint)sizeof(CIMFS_FILE_INFO);
            uint size = (uint)name.Length;
            int hr;
            fixed (byte* p = name) hr = Native.CimEnumerateDirectory(_handle, dir, index, p, &size, &info);
            if (hr == HResults.NoMoreFiles) return null;
            if (hr == HResults.InsufficientBuffer && size > name.Length) { name = new byte[size]; continue; }
            CimError.ThrowIfFailed(hr);
            return new CimDirectoryEntry(Encoding.UTF8.GetString(name, 0, (int)size - 1), CimFileInfo.From(info));
        }
    }

    /// <summary>The alternate data streams of a file.</summary>
    public IEnumerable<CimStreamInfo> EnumerateStreams(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return Enumerate(path);

        IEnumerable<CimStreamInfo> Enumerate(string file)
        {
            byte[] name = new byte[256];
            for (uint index = 0; ; index++)
            {
                CimStreamInfo? s = NextStream(file, index, ref name);
                if (s is null) yield break;
                yield return s;
            }
        }
    }

    private CimStreamInfo? NextStream(string file, uint index, ref byte[] name)
    {
        while (true)
        {
            uint size = (uint)name.Length;
            ulong length;
            int hr;
            fixed (byte* p = name) hr = Native.CimEnumerateAlternateStreams(_handle, file, index, p, &size, &length);
            if (hr == HResults.NoMoreFiles) return null;
            if (hr == HResults.InsufficientBuffer && size > name.Length) { name = new byte[size]; continue; }
            CimError.ThrowIfFailed(hr);
            return new CimStreamInfo(Encoding.UTF8.GetString(name, 0, (int)size - 1), checked((long)length));
        }
    }

    /// <summary>Opens a file's primary stream, or "file:stream", as a read-only seekable stream.
    /// The stream stays valid while this reader is open.</summary>
    public Stream OpenRead(string path)
    {
        CimFileInfo info = Stat(path);
        // A zero-byte read lets the library refuse what cannot be read (a directory: 0x80070005)
        // now rather than at the first Read.
        Read(path, 0, Span<byte>.Empty);
        return new CimReadStream(_handle, path, info.Size);
    }

    /// <summary>The whole content of a file's primary stream (or "file:stream").</summary>
    public byte[] ReadAllBytes(string path)
    {
        using Stream s = OpenRead(path);
        byte[] data = new byte[checked((int)s.Length)];
        s.ReadExactly(data);
        return data;
    }

    /// <summary>Reads at most <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>;
    /// returns the number read (fewer only at end of file).</summary>
    public int Read(string path, long offset, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        uint read;
        fixed (byte* p = buffer)
            CimError.ThrowIfFailed(Native.CimReadFile(_handle, path, (ulong)offset, p, (uint)buffer.Length, &read));
        return (int)read;
    }

    /// <summary>The file's self-relative security descriptor (empty if it has none).</summary>
    public byte[] GetSecurityDescriptor(string path) => GetBuffer(path, Native.CimGetSecurityDescriptor);

    /// <summary>The file's FILE_FULL_EA_INFORMATION chain (empty if it has none).</summary>
    public byte[] GetExtendedAttributes(string path) => GetBuffer(path, Native.CimGetExtendedAttributes);

    /// <summary>The file's REPARSE_DATA_BUFFER (empty if it is not a reparse point).</summary>
    public byte[] GetReparseData(string path) => GetBuffer(path, Native.CimGetReparseData);

    private delegate int BufferGetter(ReaderHandle handle, string? path, void* buffer, uint* size);

    private byte[] GetBuffer(string path, BufferGetter get)
    {
        byte[] buffer = new byte[256];
        while (true)
        {
            uint size = (uint)buffer.Length;
            int hr;
            fixed (byte* p = buffer) hr = get(_handle, path, p, &size);
            if (hr == HResults.InsufficientBuffer && size > buffer.Length) { buffer = new byte[size]; continue; }
            CimError.ThrowIfFailed(hr);
            return buffer.AsSpan(0, (int)size).ToArray();
        }
    }

    /// <summary>Closes the reader; streams opened from it fail afterwards. Safe to call twice.</summary>
    public void Dispose() => _handle.Dispose();
}
