import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A long-running target for the live (JMX) tests: allocates garbage at a steady pace and, in leak
 * mode, keeps a {@link LeakedRecord} per request forever, so a class histogram diff has one class
 * that grows in every snapshot.
 *
 * <p>Compile with {@code javac --release 11 -d DIR tests/java/JmxTarget.java}; run with
 * {@code java [flags] -cp DIR JmxTarget [--mode steady|leak] [--seconds S] [--leak-kb-per-s K]
 * [--leak-max-mb M]}. It prints {@code READY} once running and exits after {@code --seconds}
 * (default 600). Leaking stops after {@code --leak-max-mb} (default: never), so a test can hold
 * the old generation nearly full without the JVM dying of OutOfMemoryError.
 */
public final class JmxTarget {
    /**
     * The class the leak retains: distinct, and holding its weight in its own fields (no array),
     * so that a histogram diff ranks this class, not byte[], first.
     */
    static final class LeakedRecord {
        static final int BYTES = 80; // 16-byte header + 8 longs
        final long a, b, c, d, e, f, g, stamp;

        LeakedRecord(long stamp) {
            this.a = stamp + 1;
            this.b = stamp + 2;
            this.c = stamp + 3;
            this.d = stamp + 4;
            this.e = stamp + 5;
            this.f = stamp + 6;
            this.g = stamp + 7;
            this.stamp = stamp;
        }
    }

    private static final List<LeakedRecord> LEAK = new ArrayList<>();
    private static final Object[] SINK = new Object[256];

    public static void main(String[] args) throws InterruptedException {
        String mode = "steady";
        double seconds = 600;
        long leakKbPerS = 2048;
        long leakMaxBytes = Long.MAX_VALUE;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--mode": mode = args[i + 1]; break;
                case "--seconds": seconds = Double.parseDouble(args[i + 1]); break;
                case "--leak-kb-per-s": leakKbPerS = Long.parseLong(args[i + 1]); break;
                case "--leak-max-mb": leakMaxBytes = Long.parseLong(args[i + 1]) << 20; break;
                default:
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
            }
        }
        Random random = new Random(7);
        boolean leak = mode.equals("leak");
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long leakedBytes = 0;
        System.out.println("READY");
        System.out.flush();
        // Every 10 ms: ~160 KB of short-lived garbage (16 MB/s) and, when leaking, a share of the
        // per-second leak kept forever in small records.
        while (System.nanoTime() < end) {
            for (int i = 0; i < 40; i++) {
                SINK[random.nextInt(SINK.length)] = new byte[4096];
            }
            if (leak) {
                double elapsed = (System.nanoTime() - start) / 1e9;
                while (leakedBytes < elapsed * leakKbPerS * 1024 && leakedBytes < leakMaxBytes) {
                    LEAK.add(new LeakedRecord(System.nanoTime()));
                    leakedBytes += LeakedRecord.BYTES + 4; // + its slot in the list
                }
            }
            Thread.sleep(10);
        }
    }
}
