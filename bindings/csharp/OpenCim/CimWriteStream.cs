// The write-only Stream over CimWriteStream.
using System;
using System.IO;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>
/// Write-only, forward-only stream for one file stream of an image being written. Accepts at most
/// the declared size (more fails with a CimException, HRESULT 0x80070026). Dispose closes the
/// native stream; if fewer bytes than declared were written, Dispose throws that error
/// ("incomplete write"), since the library reports it only there.
/// </summary>
internal sealed unsafe class CimWriteStream : Stream
{
    private StreamHandle? _handle;
    private readonly long _size;
    private long _written;
    private bool _disposed;

    internal CimWriteStream(StreamHandle? handle, long size)
    {
        _handle = handle;
        _size = size;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_disposed;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty) return;
        if (_handle is null)
            throw CimError.ToException(HResults.HandleEof, $"write of {buffer.Length} bytes to a stream declared empty");
        fixed (byte* p = buffer)
        {
            CimError.ThrowIfFailed(Native.CimWriteStream(_handle, p, (uint)buffer.Length));
        }
        _written += buffer.Length;
    }

    public override void WriteByte(byte value) => Write(new ReadOnlySpan<byte>(in value));

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        StreamHandle? h = _handle;
        _handle = null;
        base.Dispose(disposing);
        if (h is null) return;
        h.Dispose();
        // Only an explicit Dispose reports; a finalizer must not throw.
        if (disposing && h.CloseResult < 0) throw CimError.ToException(h.CloseResult, h.CloseMessage);
    }

    public override string ToString() => $"CimWriteStream({_written}/{_size} bytes)";
}
