// SafeHandle owners of the three native handle types. The generated declarations take and
// return these types, so the marshaller keeps a handle alive for the length of each call and a
// closed handle fails with ObjectDisposedException before it reaches native code.
using System.Runtime.InteropServices;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>Owns a CIMFS_IMAGE_HANDLE (an image being written); released with CimCloseImage,
/// which discards the image unless it was committed.</summary>
public sealed class ImageHandle : SafeHandle
{
    /// <summary>An invalid handle, filled in by the marshaller.</summary>
    public ImageHandle() : base(0, ownsHandle: true) { }

    internal ImageHandle(nint value, bool ownsHandle) : base(0, ownsHandle) => SetHandle(value);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        Native.CimCloseImage(handle);
        return true;
    }
}

/// <summary>Owns a CIMFS_STREAM_HANDLE (one stream being written); released with CimCloseStream.
/// The close result is kept because closing is where an incomplete write is reported.</summary>
public sealed class StreamHandle : SafeHandle
{
    /// <summary>An invalid handle, filled in by the marshaller.</summary>
    public StreamHandle() : base(0, ownsHandle: true) { }

    internal StreamHandle(nint value, bool ownsHandle) : base(0, ownsHandle) => SetHandle(value);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>HRESULT of CimCloseStream once the handle was released (0 before).</summary>
    internal int CloseResult { get; private set; }

    /// <summary>The library's message for a failed close, read on the releasing thread.</summary>
    internal string CloseMessage { get; private set; } = "";

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        int hr = Native.CimCloseStream(handle);
        if (hr < 0)
        {
            CloseMessage = CimError.LastErrorMessage();
            CloseResult = hr;
        }
        // A failed close still frees the native handle (the contract says so), so the release
        // itself succeeded; the caller reports CloseResult.
        return true;
    }
}

/// <summary>Owns a CIMFS_READER_HANDLE (an image open for reading; thread-safe);
/// released with CimCloseReader.</summary>
public sealed class ReaderHandle : SafeHandle
{
    /// <summary>An invalid handle, filled in by the marshaller.</summary>
    public ReaderHandle() : base(0, ownsHandle: true) { }

    internal ReaderHandle(nint value, bool ownsHandle) : base(0, ownsHandle) => SetHandle(value);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        Native.CimCloseReader(handle);
        return true;
    }
}
