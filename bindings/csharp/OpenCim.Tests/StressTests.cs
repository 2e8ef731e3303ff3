// One reader shared by 8 threads: every read returns the right bytes and every error the right message.
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using static OpenCim.Tests.Layers;

namespace OpenCim.Tests;

public class StressTests
{
    private const int Threads = 8;
    private const int Files = 64;
    private const int Iterations = 300;

    private static byte[] Content(int i) => Enumerable.Range(0, 1000 + i * 97).Select(j => (byte)(j * 31 + i)).ToArray();

    [Fact]
    public void EightThreadsReadOneImage()
    {
        using var d = new TempDir();
        string block = d["stress.bcim"];
        WriteBlock(block, image =>
        {
            image.CreateDirectory("data");
            for (int i = 0; i < Files; i++) image.WriteFile($"data/f{i:D3}", Content(i));
        });

        using var reader = CimReader.OpenBlock(block, "layer.cim");
        var failures = new ConcurrentQueue<string>();
        using var start = new Barrier(Threads);
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            var rng = new Random(t);
            for (int n = 0; n < Iterations; n++)
            {
                try
                {
                    int i = rng.Next(Files);
                    string path = $"data/f{i:D3}";
                    byte[] expected = Content(i);
                    switch (n % 4)
                    {
                        case 0:
                            if (!reader.ReadAllBytes(path).AsSpan().SequenceEqual(expected)) failures.Enqueue($"{path}: wrong content");
                            break;
                        case 1:
                            using (Stream s = reader.OpenRead(path))
                            {
                                int off = rng.Next(expected.Length);
                                s.Position = off;
                                int b = s.ReadByte();
                                if (b != expected[off]) failures.Enqueue($"{path}@{off}: {b} != {expected[off]}");
                            }
                            break;
                        case 2:
                            if (reader.Stat(path).Size != expected.Length) failures.Enqueue($"{path}: wrong size");
                            if (n % 20 == 2 && reader.EnumerateDirectory("data").Count() != Files) failures.Enqueue("wrong directory count");
                            break;
                        default:
                            string missing = $"data/missing-{t}-{n}";
                            try
                            {
                                reader.Stat(missing);
                                failures.Enqueue($"{missing}: exists");
                            }
                            catch (FileNotFoundException e) when (e.Message.Contains(missing))
                            {
                                // Each thread sees the message of its own failed call.
                            }
                            break;
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue(e.ToString());
                }
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Empty(failures);
    }

    [Fact]
    public void DisposeWhileOtherThreadsReadNeverCrashes()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim"))
        {
            image.WriteFile("f", Content(1));
            image.Commit();
        }
        for (int round = 0; round < 20; round++)
        {
            var reader = CimReader.Open(d.Path, "i.cim");
            var unexpected = new ConcurrentQueue<Exception>();
            var readers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                for (int n = 0; n < 200; n++)
                {
                    try { reader.Stat("f"); }
                    catch (ObjectDisposedException) { return; }
                    catch (Exception e) { unexpected.Enqueue(e); return; }
                }
            })).ToList();
            readers.ForEach(t => t.Start());
            Thread.Sleep(1);
            reader.Dispose();
            readers.ForEach(t => t.Join());
            Assert.Empty(unexpected);
        }
    }
}
