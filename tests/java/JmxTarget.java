import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A long-running target for the live (JMX) tests: allocates garbage at a steady pace and, in leak
 * mode, keeps a {@link LeakedRecord} per request forever, so a class histogram diff has one class
 * that grows in every snapshot.
 *
 * <p>Compile with {@code javac --release 11 -d DIR tests/java/JmxTarget.java}; run with
 * {@code java [flags] -cp DIR JmxTarget [--mode steady|leak] [--seconds S] [--leak-kb-per-s K]}.
 * It prints {@code READY} once running and exits after {@code --seconds} (default 600).
 */
public final class JmxTarget {
    /** The class the leak retains: distinct, so a histogram diff can name it. */
    static final class LeakedRecord {
        final byte[] payload;
        final long stamp;

        LeakedRecord(int bytes, long stamp) {
            this.payload = new byte[bytes];
            this.stamp = stamp;
        }
    }

    private static final List<LeakedRecord> LEAK = new ArrayList<>();
    private static final Object[] SINK = new Object[256];

    public static void main(String[] args) throws InterruptedException {
        String mode = "steady";
        double seconds = 600;
        long leakKbPerS = 2048;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--mode": mode = args[i + 1]; break;
                case "--seconds": seconds = Double.parseDouble(args[i + 1]); break;
                case "--leak-kb-per-s": leakKbPerS = Long.parseLong(args[i + 1]); break;
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
        // per-second leak kept forever in 4 KB records.
        while (System.nanoTime() < end) {
            for (int i = 0; i < 40; i++) {
                SINK[random.nextInt(SINK.length)] = new byte[4096];
            }
            if (leak) {
                double elapsed = (System.nanoTime() - start) / 1e9;
                while (leakedBytes < elapsed * leakKbPerS * 1024) {
                    LEAK.add(new LeakedRecord(4096, System.nanoTime()));
                    leakedBytes += 4096;
                }
            }
            Thread.sleep(10);
        }
    }
}
