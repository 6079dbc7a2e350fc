import java.io.File;
import java.util.ArrayList;
import java.util.Random;

/**
 * Allocation load for the gcscope ingestion benchmark (see bench/README.md).
 *
 * Usage: java [GC flags] -Xlog:gc*:file=LOG::filecount=0 BenchAlloc LOG TARGET_BYTES [MAX_SECONDS]
 *
 * Allocates short-lived arrays as fast as it can while retaining a small, churning live set
 * (so old-generation work, concurrent cycles and mixed/major collections show up in the log),
 * with an occasional humongous array and an occasional System.gc(). It watches the size of
 * its own GC log and exits through System.exit(0) once the log reaches TARGET_BYTES: a normal
 * VM exit flushes unified logging and writes the final gc,heap,exit lines, so the log's last
 * line is always complete.
 */
public final class BenchAlloc {
    private static final int RETAIN_MAX = 16_000;      // ~16 MB live at ~1 KB per kept array
    private static final long CHECK_EVERY_NS = 50_000_000L;   // stat the log every 50 ms
    private static final long SYSTEM_GC_EVERY_NS = 20_000_000_000L;  // one explicit GC per 20 s

    public static void main(String[] args) {
        File log = new File(args[0]);
        long target = Long.parseLong(args[1]);
        long maxNs = args.length > 2 ? Long.parseLong(args[2]) * 1_000_000_000L : Long.MAX_VALUE;

        ArrayList<byte[]> keep = new ArrayList<>();
        Random random = new Random(1);
        long sink = 0;
        long start = System.nanoTime();
        long nextCheck = start;
        long nextSystemGc = start + SYSTEM_GC_EVERY_NS;

        while (true) {
            try {
                for (int i = 0; i < 1000; i++) {
                    byte[] b = new byte[random.nextInt(2000) + 16];
                    sink += b.length;
                    if (random.nextInt(100) == 0) {
                        keep.add(b);
                        if (keep.size() > RETAIN_MAX) {
                            keep.subList(0, RETAIN_MAX / 2).clear();
                        }
                    }
                }
                if (random.nextInt(2000) == 0) {
                    sink += new byte[600 * 1024].length;   // humongous for G1's 1 MB regions
                }
            } catch (OutOfMemoryError e) {
                keep.clear();   // tiny heaps (e.g. ZGC at 64 MB) may run out: drop the live set
            }
            long now = System.nanoTime();
            if (now >= nextCheck) {
                nextCheck = now + CHECK_EVERY_NS;
                if (log.length() >= target || now - start >= maxNs) {
                    break;
                }
                if (now >= nextSystemGc) {
                    nextSystemGc = now + SYSTEM_GC_EVERY_NS;
                    System.gc();
                }
            }
        }
        System.out.println("allocated " + sink + " bytes, retained " + keep.size() + " arrays");
        System.exit(0);
    }
}
