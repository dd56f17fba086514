package org.captioner.testing;

import org.captioner.util.FaultPoint;

/**
 * The crash-safety and fault tests' side of {@link FaultPoint} (registered in the test classpath's
 * {@code META-INF/services}; inert unless a test sets one of the settings below):
 * <ul>
 *   <li>system property {@code captioner.faultpoint.pause=POINT} or {@code POINT:N}: announce the point on stderr and
 *       sleep, so the test can SIGKILL the process exactly there;</li>
 *   <li>Spark conf {@code spark.captioner.test.failOnce=throw|exit}: the first attempt of partition 0 fails once it has
 *       produced its first batch of rows, by throwing (a failed task) or by ending its JVM (a lost executor).</li>
 * </ul>
 */
public final class TestFaultPoints implements FaultPoint {
    public static final String PAUSE = "captioner.faultpoint.pause";
    public static final String SPARK_FAIL_ONCE = "spark.captioner.test.failOnce";

    @Override
    public void reached(String point, long n) {
        String pause = System.getProperty(PAUSE);
        if (pause != null && (pause.equals(point) || pause.equals(point + ":" + n))) {
            System.err.println("fault point reached: " + point + " " + n);
            System.err.flush();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (point.equals("spark.partition-batch") && n == 1) Spark.failOnce();
    }

    /** Apart, so that Spark's classes are loaded only inside a Spark task. */
    private static final class Spark {
        static void failOnce() {
            org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
            org.apache.spark.TaskContext ctx = org.apache.spark.TaskContext.get();
            String mode = env == null ? null : env.conf().get(SPARK_FAIL_ONCE, null);
            if (mode == null || ctx == null || ctx.partitionId() != 0 || ctx.attemptNumber() != 0) return;
            if (mode.equals("exit")) {
                System.err.println("fault injection: executor exits during task " + ctx.taskAttemptId());
                Runtime.getRuntime().halt(77);
            }
            throw new IllegalStateException("fault injection: task " + ctx.taskAttemptId() + " fails once");
        }
    }
}
