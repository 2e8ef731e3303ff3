// Container runtime helpers: diagnostics logging and container root filesystems (docs/rootfs.md).
using System;
using System.Runtime.InteropServices;
using System.Text;
using OpenCim.Interop;

namespace OpenCim;

/// <summary>Process-wide logging and container root filesystem operations.</summary>
public static unsafe class CimRuntime
{
    private static volatile Action<int, string>? s_log;

    /// <summary>
    /// Installs <paramref name="callback"/> (level 1 error, 2 warning, 3 info, 4 debug; message) as
    /// the library's process-wide log sink, or removes it when null. The callback runs on the
    /// thread doing the work and must not call into the library; an exception it throws is
    /// dropped, because it cannot cross back into native code.
    /// </summary>
    public static void SetLogCallback(Action<int, string>? callback)
    {
        if (callback is null)
        {
            CimError.ThrowIfFailed(Native.CimSetLogCallback(null, null));
            s_log = null;
            return;
        }
        s_log = callback;
        CimError.ThrowIfFailed(Native.CimSetLogCallback(&OnLog, null));
    }

    [UnmanagedCallersOnly]
    private static void OnLog(void* context, uint level, byte* message)
    {
        try
        {
            s_log?.Invoke((int)level, message == null ? "" : Marshal.PtrToStringUTF8((nint)message) ?? "");
        }
        catch (Exception)
        {
            // Letting it propagate would terminate the process (see SetLogCallback).
        }
    }

    /// <summary>The volume GUID of a container: a name-based (v5) UUID of its ID.</summary>
    public static Guid GetContainerVolumeId(string containerId)
    {
        CIMFS_GUID g;
        CimError.ThrowIfFailed(Native.CimGetContainerVolumeId(containerId, &g));
        return new Guid(new ReadOnlySpan<byte>(&g, sizeof(CIMFS_GUID)));
    }

    /// <summary>Mounts a container's root filesystem from a JSON layer description (layers topmost
    /// first) and returns the mount path. The mount is served by this process.</summary>
    public static string MountContainerRootfs(string containerId, string layerDescriptionJson)
    {
        byte[] buffer = new byte[512];
        while (true)
        {
            uint size = (uint)buffer.Length;
            int hr;
            fixed (byte* p = buffer) hr = Native.CimMountContainerRootfs(containerId, layerDescriptionJson, p, &size);
            if (hr == HResults.InsufficientBuffer && size > buffer.Length)
            {
                // The mount succeeded only if the library says so; a too-small buffer fails the
                // call, so it is safe to retry with the size it asked for.
                buffer = new byte[size];
                continue;
            }
            CimError.ThrowIfFailed(hr);
            return size == 0 ? "" : Encoding.UTF8.GetString(buffer, 0, (int)size - 1);
        }
    }

    /// <summary>Unmounts a container's rootfs and removes its state; succeeds for unknown IDs.</summary>
    public static void CleanupContainerRootfs(string containerId) =>
        CimError.ThrowIfFailed(Native.CimCleanupContainerRootfs(containerId));

    /// <summary>Removes cached merged CIMs no mounted container uses (null: the default cache);
    /// returns how many were removed.</summary>
    public static uint GarbageCollectMergedCims(string? mergedCacheDirectory = null)
    {
        uint removed = 0;
        CimError.ThrowIfFailed(Native.CimGarbageCollectMergedCims(mergedCacheDirectory, &removed));
        return removed;
    }
}
