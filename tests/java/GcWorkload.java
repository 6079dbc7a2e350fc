import java.io.File;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A small, configurable allocation workload for producing GC logs.
 *
 * <p>Compile for every supported runtime with {@code javac --release 11 -d build/gcworkload
 * tests/java/GcWorkload.java} and run with {@code java [gc flags] -cp build/gcworkload GcWorkload
 * [options]}.
 *
 * <pre>
 *   --seconds S                   run time in seconds (default 5)
 *   --mode M                      steady | leak | oom | humongous | sysgc | classes
 *                                 (default steady); classes: a class-loader leak, each
 *                                 --classes-every-ms a new loader defines a class and is kept
 *   --classes-every-ms T          classes mode: interval between class definitions (default 2)
 *   --alloc-mb-per-s R            approximate allocation rate target (default: unthrottled)
 *   --retain-bytes-per-request N  leak mode: bytes kept forever per request (default 512)
 *   --cache-mb C                  size of the bounded cache of retained objects (default 8)
 *   --humongous-bytes B           humongous mode: size of each large array (default 1048576)
 *   --humongous-every-ms T        humongous mode: interval between large arrays (default 100)
 *   --oom-headroom-mb H           oom mode: stop leaking once less than H MB of the maximum heap
 *                                 is unused, then provoke the OutOfMemoryError with one array
 *                                 larger than the heap; for collectors that never free memory
 *                                 (Epsilon), so the report can still be printed (default 0: off)
 *   --seed N                      random seed (default 42)
 *   --stop-file F                 also stop (as at the end of --seconds) once file F exists,
 *                                 checked every 100 ms: lets a caller run it until its log
 *                                 holds enough evidence rather than for a fixed wall time
 * </pre>
 *
 * <p>Each "request" allocates about 16 KB of short-lived garbage and replaces one 1 KB entry of a
 * bounded cache, so some objects live long enough to be promoted and die later in the old
 * generation. In steady mode the post-GC heap floor stays level; leak mode additionally keeps
 * {@code --retain-bytes-per-request} bytes per request in a static list forever.
 *
 * <p>At exit (also after an OutOfMemoryError in oom mode, which exits with code 3) it prints one
 * {@code GCSCOPE-MXBEANS {json}} line with each GarbageCollectorMXBean's count and time, and one
 * {@code GCSCOPE-POOLS {json}} line with each MemoryPoolMXBean's usage. Both are read about 200 ms
 * after allocation stopped, so that they match the GC log as closely as possible.
 */
public final class GcWorkload {
    private static final int CACHE_ENTRY_BYTES = 1024;
    private static final List<byte[]> LEAK = new ArrayList<>();

    private final Map<String, String> opts;
    private final Random random;
    private final Object[] sink = new Object[64]; // makes garbage escape, so it is really allocated
    private final byte[][] cache;
    private final byte[][] humongous = new byte[4][];
    private long allocated;
    private long requests;

    private GcWorkload(Map<String, String> opts) {
        this.opts = opts;
        this.random = new Random(longOpt("seed", 42));
        this.cache = new byte[(int) (longOpt("cache-mb", 8) * 1024 * 1024 / CACHE_ENTRY_BYTES)][];
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("usage: GcWorkload [--key value]... (bad argument: " + args[i] + ")");
                System.exit(2);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        int exitCode = new GcWorkload(opts).run();
        System.exit(exitCode);
    }

    private long longOpt(String key, long dflt) {
        String v = opts.get(key);
        return v == null ? dflt : Long.parseLong(v);
    }

    private int run() throws InterruptedException {
        String mode = opts.getOrDefault("mode", "steady");
        double seconds = Double.parseDouble(opts.getOrDefault("seconds", "5"));
        double mbPerS = Double.parseDouble(opts.getOrDefault("alloc-mb-per-s", "0"));
        long retain = longOpt("retain-bytes-per-request", 512);
        long humongousBytes = longOpt("humongous-bytes", 1 << 20);
        long humongousEveryNs = longOpt("humongous-every-ms", 100) * 1_000_000L;
        long headroom = longOpt("oom-headroom-mb", 0) * 1024 * 1024;
        long classesEveryNs = longOpt("classes-every-ms", 2) * 1_000_000L;
        if (!List.of("steady", "leak", "oom", "humongous", "sysgc", "classes").contains(mode)) {
            System.err.println("unknown --mode " + mode);
            return 2;
        }

        int exitCode = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long nextHumongous = start;
        long nextClass = start;
        long nextSystemGc = start + 1_000_000_000L;
        File stopFile = opts.containsKey("stop-file") ? new File(opts.get("stop-file")) : null;
        long nextStopCheck = start;
        try {
            for (long now = start; now < end; now = System.nanoTime()) {
                if (stopFile != null && now >= nextStopCheck) {
                    if (stopFile.exists()) {
                        break;
                    }
                    nextStopCheck = now + 100_000_000L;
                }
                if (mode.equals("oom")) {
                    leakFast(headroom);
                } else {
                    request();
                }
                if (mode.equals("leak")) {
                    LEAK.add(new byte[(int) retain]);
                    allocated += retain;
                } else if (mode.equals("humongous") && now >= nextHumongous) {
                    humongous[random.nextInt(humongous.length)] = new byte[(int) humongousBytes];
                    allocated += humongousBytes;
                    nextHumongous = now + humongousEveryNs;
                } else if (mode.equals("classes") && now >= nextClass) {
                    LEAKED_CLASSES.add(defineInNewLoader());
                    nextClass = now + classesEveryNs;
                } else if (mode.equals("sysgc") && now >= nextSystemGc) {
                    System.gc();
                    nextSystemGc += 1_000_000_000L;
                }
                throttle(start, now, mbPerS);
            }
        } catch (OutOfMemoryError e) {
            LEAK.clear(); // give the report some room (does not help Epsilon: see --oom-headroom-mb)
            System.out.println("GCSCOPE-OOM " + e + " after " + requests + " requests");
            exitCode = 3;
        }

        // Stop allocating and let the collectors settle before reading the counters: concurrent
        // ones (ZGC, Shenandoah) go on starting cycles for a while on the allocation rate they
        // measured, and a cycle running at the read would be in the log but not in the counts.
        // Read them once they have not moved for 500 ms (waiting 10 s at most).
        Thread.sleep(200);
        String beans = mxbeansJson();
        for (int settle = 0; settle < 20; settle++) {
            Thread.sleep(500);
            String again = mxbeansJson();
            if (again.equals(beans)) {
                break;
            }
            beans = again;
        }
        System.out.println("GCSCOPE-MXBEANS " + beans);
        System.out.println("GCSCOPE-POOLS " + poolsJson());
        return exitCode;
    }

    /** One simulated request: about 16 KB of short-lived garbage plus one cache replacement. */
    private void request() {
        for (int i = 0; i < 8; i++) {
            int size = 64 + random.nextInt(4032);
            sink[random.nextInt(sink.length)] = new byte[size];
            allocated += size;
        }
        if (cache.length > 0) {
            cache[random.nextInt(cache.length)] = new byte[CACHE_ENTRY_BYTES];
            allocated += CACHE_ENTRY_BYTES;
        }
        requests++;
    }

    private static final List<Class<?>> LEAKED_CLASSES = new ArrayList<>();

    /** A class the classes mode defines again and again, each time in a loader of its own. */
    public static final class Leaked {
        public int value;
    }

    /** classes mode: define {@link Leaked} in a fresh loader; keeping the class keeps its
     *  loader and its metadata, so metaspace only grows (a class-loader leak). */
    private static Class<?> defineInNewLoader() {
        final byte[] bytes;
        try (java.io.InputStream in = GcWorkload.class.getResourceAsStream("GcWorkload$Leaked.class")) {
            bytes = in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        // No parent but the bootstrap loader: the class is not found there, so this loader
        // defines its own copy.
        ClassLoader loader = new ClassLoader(null) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                if (!name.equals("GcWorkload$Leaked")) {
                    throw new ClassNotFoundException(name);
                }
                return defineClass(name, bytes, 0, bytes.length);
            }
        };
        try {
            return loader.loadClass("GcWorkload$Leaked");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** oom mode: keep 64 KB per step until the heap is exhausted. */
    private void leakFast(long headroom) {
        if (headroom > 0) {
            Runtime rt = Runtime.getRuntime();
            long unused = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            if (unused < headroom) {
                sink[0] = new long[(int) Math.min(Integer.MAX_VALUE - 16, rt.maxMemory() / 8 + 1)];
            }
        }
        LEAK.add(new byte[64 * 1024]);
        allocated += 64 * 1024;
        requests++;
    }

    /** Sleeps briefly whenever the allocation volume is ahead of the target rate. */
    private void throttle(long start, long now, double mbPerS) throws InterruptedException {
        if (mbPerS > 0 && allocated > mbPerS * 1e6 * ((now - start) / 1e9)) {
            Thread.sleep(1);
        }
    }

    private static String mxbeansJson() {
        StringBuilder sb = new StringBuilder("{");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(quote(gc.getName())).append(": {\"count\": ").append(gc.getCollectionCount())
                    .append(", \"time_ms\": ").append(gc.getCollectionTime()).append('}');
        }
        return sb.append('}').toString();
    }

    private static String poolsJson() {
        StringBuilder sb = new StringBuilder("{");
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage u = pool.getUsage();
            if (u == null) {
                continue; // pool no longer valid
            }
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(quote(pool.getName())).append(": {\"used\": ").append(u.getUsed())
                    .append(", \"committed\": ").append(u.getCommitted())
                    .append(", \"max\": ").append(u.getMax()).append('}');
        }
        return sb.append('}').toString();
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
