// A CIMFS_IMAGE_PATH array in native memory for the merged open/mount calls.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using OpenCim.Interop;

namespace OpenCim;

internal sealed unsafe class NativeImagePaths : IDisposable
{
    private readonly List<nint> _strings = [];
    private CIMFS_IMAGE_PATH[] _array;

    public NativeImagePaths(IReadOnlyList<CimImagePath> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _array = new CIMFS_IMAGE_PATH[paths.Count];
        try
        {
            for (int i = 0; i < paths.Count; i++)
            {
                CimImagePath p = paths[i] ?? throw new ArgumentException($"path {i} is null", nameof(paths));
                _array[i].ImageDir = Add(p.ImageDir);
                _array[i].ImageName = Add(p.ImageName);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public uint Count => (uint)_array.Length;

    /// <summary>Pins the array; the strings it points to live until Dispose.</summary>
    public Span<CIMFS_IMAGE_PATH> Span => _array;

    private nint Add(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        nint p = Marshal.StringToCoTaskMemUTF8(s);
        _strings.Add(p);
        return p;
    }

    public void Dispose()
    {
        foreach (nint p in _strings) Marshal.FreeCoTaskMem(p);
        _strings.Clear();
        _array = [];
    }
}
