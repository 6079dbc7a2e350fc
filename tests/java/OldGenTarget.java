import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A target for the live tests that fills its old generation and releases it on command, so that
 * an alert can start and clear (and start again) while a watch looks on.
 *
 * <p>Compile with {@code javac --release 11 -d DIR tests/java/OldGenTarget.java}; run with
 * {@code java [flags] -cp DIR OldGenTarget [--seconds S]}. It prints {@code READY}, then allocates
 * ~16 MB/s of short-lived garbage until {@code --seconds} (default 300) pass or its standard input
 * closes. Commands, one a line on standard input, each answered by one line on standard output
 * once done:
 *
 * <ul>
 *   <li>{@code fill MB}: keep MB more megabytes (256 KB arrays) reachable, then {@code
 *       System.gc()} so that an old collection sees them; answers {@code FILLED <MB held>};
 *   <li>{@code release}: drop everything kept, then {@code System.gc()}; answers {@code
 *       RELEASED};
 *   <li>{@code gc}: {@code System.gc()}; answers {@code GC};
 *   <li>{@code gcs N}: {@code System.gc()} N times in a row (a storm of collections, each with its
 *       GC notification); answers {@code GCS N}.
 * </ul>
 */
public final class OldGenTarget {
    private static final int CHUNK = 256 * 1024;
    private static volatile List<byte[]> held = new ArrayList<>();
    private static final Object[] SINK = new Object[256];

    public static void main(String[] args) throws InterruptedException {
        double seconds = 300;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--seconds")) {
                seconds = Double.parseDouble(args[i + 1]);
            } else {
                System.err.println("unknown option " + args[i]);
                System.exit(2);
            }
        }
        Thread commands = new Thread(OldGenTarget::commands, "commands");
        commands.setDaemon(true);
        commands.start();
        System.out.println("READY");
        System.out.flush();
        Random random = new Random(7);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end && commands.isAlive()) {
            for (int i = 0; i < 40; i++) {
                SINK[random.nextInt(SINK.length)] = new byte[4096];
            }
            Thread.sleep(10);
        }
    }

    private static void commands() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] words = line.trim().split("\\s+");
                switch (words[0]) {
                    case "fill": {
                        List<byte[]> next = new ArrayList<>(held);
                        long chunks = (Long.parseLong(words[1]) << 20) / CHUNK;
                        for (long i = 0; i < chunks; i++) {
                            next.add(new byte[CHUNK]);
                        }
                        held = next;
                        System.gc();
                        answer("FILLED " + ((long) next.size() * CHUNK >> 20));
                        break;
                    }
                    case "release":
                        held = new ArrayList<>();
                        System.gc();
                        answer("RELEASED");
                        break;
                    case "gc":
                        System.gc();
                        answer("GC");
                        break;
                    case "gcs": {
                        int n = Integer.parseInt(words[1]);
                        for (int i = 0; i < n; i++) {
                            System.gc();
                        }
                        answer("GCS " + n);
                        break;
                    }
                    default:
                        answer("UNKNOWN " + line);
                }
            }
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    private static void answer(String text) {
        System.out.println(text);
        System.out.flush();
    }
}
