// HRESULT -> .NET exception mapping, in one place.
using System;
using System.IO;
using System.Runtime.InteropServices;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>HRESULT values of the C ABI that callers test for (docs/errors.md).</summary>
public static class HResults
{
    /// <summary>Success.</summary>
    public const int S_OK = 0;
    /// <summary>File, image, block file or CIM name not found.</summary>
    public const int FileNotFound = unchecked((int)0x80070002);
    /// <summary>A path's parent, or a path inside an image, not found.</summary>
    public const int PathNotFound = unchecked((int)0x80070003);
    /// <summary>Access denied (for example a hard link to a directory, or reading a directory).</summary>
    public const int AccessDenied = unchecked((int)0x80070005);
    /// <summary>Invalid, closed or foreign handle (E_HANDLE).</summary>
    public const int InvalidHandle = unchecked((int)0x80070006);
    /// <summary>Out of memory.</summary>
    public const int OutOfMemory = unchecked((int)0x8007000E);
    /// <summary>Invalid data (a hostile or corrupt archive).</summary>
    public const int InvalidData = unchecked((int)0x8007000D);
    /// <summary>No more entries in an enumeration.</summary>
    public const int NoMoreFiles = unchecked((int)0x80070012);
    /// <summary>Only one stream may be open per image.</summary>
    public const int SharingViolation = unchecked((int)0x80070020);
    /// <summary>Write past the declared size, or an incomplete write.</summary>
    public const int HandleEof = unchecked((int)0x80070026);
    /// <summary>Not supported on this platform or build (for example no FUSE).</summary>
    public const int NotSupported = unchecked((int)0x80070032);
    /// <summary>A file already exists.</summary>
    public const int FileExists = unchecked((int)0x80070050);
    /// <summary>Invalid argument.</summary>
    public const int InvalidArg = unchecked((int)0x80070057);
    /// <summary>Buffer too small.</summary>
    public const int InsufficientBuffer = unchecked((int)0x8007007A);
    /// <summary>Already exists (an image, a mounted volume GUID).</summary>
    public const int AlreadyExists = unchecked((int)0x800700B7);
    /// <summary>A path component is not a directory.</summary>
    public const int Directory = unchecked((int)0x8007010B);
    /// <summary>Integrity violation: data does not match a verified CIM's root hash.</summary>
    public const int IntegrityViolation = unchecked((int)0x80070143);
    /// <summary>Corrupt image, not a CIM, or an unsupported format version.</summary>
    public const int Corrupt = unchecked((int)0x80070570);
    /// <summary>Not implemented in this build.</summary>
    public const int NotImplemented = unchecked((int)0x80004001);
}

/// <summary>A failure of the opencim library without a more specific .NET exception type.
/// <see cref="Exception.HResult"/> is the library's HRESULT and the message is its
/// CimGetLastErrorMessage ("Operation: image: path: reason").</summary>
public class CimException : IOException
{
    /// <summary>Creates the exception for a failed call.</summary>
    public CimException(string message, int hresult) : base(message, hresult) { }
}

/// <summary>A verified CIM's data or root hash does not match (HRESULT 0x80070143).</summary>
public sealed class CimIntegrityException : CimException
{
    /// <summary>Creates the exception for a failed call.</summary>
    public CimIntegrityException(string message) : base(message, HResults.IntegrityViolation) { }
}

/// <summary>Turns failed HRESULTs into exceptions.</summary>
public static class CimError
{
    /// <summary>
    /// Throws for a failed HRESULT (negative), using this thread's CimGetLastErrorMessage, which
    /// must therefore be called on the thread that made the failed call, before it calls the
    /// library again. Every exception carries the code in <see cref="Exception.HResult"/>:
    /// 0x80070002 FileNotFoundException; 0x80070003 DirectoryNotFoundException;
    /// 0x80070057 ArgumentException; 0x80070006 ObjectDisposedException (an invalid, closed or
    /// foreign handle; it derives from InvalidOperationException); 0x80070570 InvalidDataException;
    /// 0x80070143 CimIntegrityException; 0x8007000E OutOfMemoryException; 0x80070032
    /// PlatformNotSupportedException; anything else CimException (an IOException).
    /// </summary>
    public static void ThrowIfFailed(int hresult)
    {
        if (hresult >= 0) return;
        throw ToException(hresult, LastErrorMessage());
    }

    /// <summary>This thread's message for its last failed call into the library, "" if none.</summary>
    public static unsafe string LastErrorMessage()
    {
        byte* p = Native.CimGetLastErrorMessage();
        return p == null ? "" : Marshal.PtrToStringUTF8((nint)p) ?? "";
    }

    /// <summary>The exception <see cref="ThrowIfFailed"/> throws for an HRESULT and message.</summary>
    public static Exception ToException(int hresult, string message)
    {
        if (string.IsNullOrEmpty(message)) message = $"opencim call failed with HRESULT 0x{hresult:X8}";
        Exception e = hresult switch
        {
            HResults.FileNotFound => new FileNotFoundException(message),
            HResults.PathNotFound => new DirectoryNotFoundException(message),
            HResults.InvalidArg => new ArgumentException(message),
            HResults.InvalidHandle => new ObjectDisposedException(null, message),
            HResults.Corrupt => new InvalidDataException(message),
            HResults.IntegrityViolation => new CimIntegrityException(message),
            HResults.OutOfMemory => new OutOfMemoryException(message),
            HResults.NotSupported => new PlatformNotSupportedException(message),
            _ => new CimException(message, hresult),
        };
        e.HResult = hresult;
        return e;
    }
}
