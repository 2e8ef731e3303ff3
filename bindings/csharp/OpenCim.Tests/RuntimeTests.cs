// Container runtime helpers that need no FUSE: volume IDs and the log callback.
using System;
using System.Collections.Concurrent;

namespace OpenCim.Tests;

public class RuntimeTests
{
    [Fact]
    public void ContainerVolumeIdIsANameBasedUuid()
    {
        Guid a = CimRuntime.GetContainerVolumeId("container-a");
        Assert.Equal(a, CimRuntime.GetContainerVolumeId("container-a"));
        Assert.NotEqual(a, CimRuntime.GetContainerVolumeId("container-b"));
        Assert.Equal('5', a.ToString()[14]); // version nibble of a v5 UUID
        var e = Assert.Throws<ArgumentException>(() => CimRuntime.GetContainerVolumeId(""));
        Assert.Equal(HResults.InvalidArg, e.HResult);
    }

    [Fact]
    public void LogCallbackCanBeInstalledAndRemoved()
    {
        var lines = new ConcurrentQueue<string>();
        CimRuntime.SetLogCallback((level, message) => lines.Enqueue($"{level}: {message}"));
        try
        {
            // Cleaning up an unknown container succeeds and may log; it must not fail either way.
            CimRuntime.CleanupContainerRootfs("opencim-cs-test-unknown-container");
        }
        finally
        {
            CimRuntime.SetLogCallback(null);
        }
        Assert.All(lines, l => Assert.Matches(@"^[1-4]: ", l));
    }
}
