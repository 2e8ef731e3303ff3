// The read-only seekable Stream over CimReadFile.
using System;
using System.IO;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>Read-only, seekable view of one file stream of an open image. Each read is one
/// CimReadFile call at the current position, so instances are cheap and independent.</summary>
internal sealed unsafe class CimReadStream : Stream
{
    private readonly ReaderHandle _reader;
    private readonly string _path;
    private readonly long _length;
    private long _position;
    private bool _disposed;

    internal CimReadStream(ReaderHandle reader, string path, long length)
    {
        _reader = reader;
        _path = path;
        _length = length;
    }

    public override bool CanRead => !_disposed;
    public override bool CanSeek => !_disposed;
    public override bool CanWrite => false;

    public override long Length
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _length;
        }
    }

    public override long Position
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _position;
        }
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _position >= _length) return 0;
        uint read;
        fixed (byte* p = buffer)
            CimError.ThrowIfFailed(Native.CimReadFile(_reader, _path, (ulong)_position, p, (uint)buffer.Length, &read));
        _position += read;
        return (int)read;
    }

    public override int ReadByte()
    {
        byte b = 0;
        return Read(new Span<byte>(ref b)) == 1 ? b : -1;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0) throw new IOException($"{_path}: seek before the beginning of the stream");
        _position = target;
        return target;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        // The reader handle belongs to the CimReader; the stream only stops using it.
        _disposed = true;
        base.Dispose(disposing);
    }
}
